import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { parse } from 'yaml';
import { VARIABLES, readDashboardConfig, readSchedulerConfig, readWorkerConfig, type EnvProcess } from '@aharadar/config';

/**
 * The Compose files, read as YAML (CI has no Docker; test/docker/run.sh checks them with the real
 * `docker compose config`). Interpolation is done here with the same rules Compose applies to
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`.
 */
const repo = new URL('../../', import.meta.url);
const text = (file: string) => readFileSync(new URL(file, repo), 'utf8');

type Env = Record<string, string | undefined>;
interface Service {
  environment?: Record<string, unknown>;
  volumes?: string[];
  stop_grace_period?: string;
  [key: string]: unknown;
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
}

function load(file: string): ComposeFile {
  return parse(text(file), { merge: true }) as ComposeFile;
}

/** Compose's interpolation of one value, `env` being the shell + `.env`. */
function interpolate(value: unknown, env: Env): string {
  return String(value).replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g, (match, name?: string, colon?: string, fallback?: string) => {
    if (match === '$$') return '$';
    const set = env[name!];
    if (fallback === undefined) return set ?? '';
    return (colon ? set !== undefined && set !== '' : set !== undefined) ? set! : fallback;
  });
}

/** `docker compose -f a -f b`: services merged; environment by key, volumes appended, the rest replaced. */
function merge(...files: ComposeFile[]): ComposeFile {
  const out: ComposeFile = { services: {} };
  for (const file of files) {
    if (file.name !== undefined) out.name = file.name;
    for (const [name, service] of Object.entries(file.services)) {
      const before = out.services[name] ?? {};
      out.services[name] = {
        ...before,
        ...service,
        environment: { ...before.environment, ...service.environment },
        volumes: [...(before.volumes ?? []), ...(service.volumes ?? [])],
      };
    }
  }
  return out;
}

/** The environment a service's processes get, interpolated. */
function environmentOf(compose: ComposeFile, service: string, env: Env = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(compose.services[service]?.environment ?? {})) out[key] = interpolate(value, env);
  return out;
}

function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration.trim());
  assert.ok(m && duration.trim() !== '', `unsupported duration "${duration}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

const production = load('docker-compose.yml');
const dev = load('docker-compose.dev.yml');
const e2e = load('test/docker/compose.test.yml');
const STACKS: [string, ComposeFile][] = [
  ['docker-compose.yml', production],
  ['docker-compose.yml + docker-compose.dev.yml', merge(production, dev)],
  ['docker-compose.yml + test/docker/compose.test.yml', merge(production, e2e)],
];

/** Which processes run in which service: radar runs in the worker containers and as `migrate`. */
const SERVICE_PROCESSES: Record<string, EnvProcess[]> = {
  scheduler: ['scheduler'],
  worker: ['worker', 'cli'],
  migrate: ['cli'],
  dashboard: ['dashboard'],
};
const APP_SERVICES = Object.keys(SERVICE_PROCESSES);
const byName = new Map(VARIABLES.map((v) => [v.name, v]));

describe('Compose: every variable reaches every service that reads it', () => {
  for (const [label, compose] of STACKS) {
    for (const [service, processes] of Object.entries(SERVICE_PROCESSES)) {
      it(`${label}: ${service} (${processes.join(' + ')}) gets every variable they read, and only known ones`, () => {
        const keys = Object.keys(compose.services[service]?.environment ?? {});
        const wanted = VARIABLES.filter((v) => v.readBy.some((p) => processes.includes(p))).map((v) => v.name);
        assert.deepEqual(wanted.filter((name) => !keys.includes(name)), [], `${service} lacks these`);
        assert.deepEqual(keys.filter((key) => !byName.get(key)?.readBy.some((p) => processes.includes(p))), [], `${service} gets variables none of its processes read`);
      });
    }
  }

  it('a setting is `${NAME:-default}` with the documented default; a fixed one never comes from .env', () => {
    for (const service of APP_SERVICES) {
      for (const [key, raw] of Object.entries(production.services[service]!.environment!)) {
        const v = byName.get(key)!;
        if (v.compose === 'passed') {
          assert.equal(raw, `\${${key}:-${v.default}}`, `${service}.${key}`);
        } else {
          assert.ok(!String(raw).includes(`\${${key}`), `${service}.${key} is set by the stack, not from .env: ${String(raw)}`);
        }
      }
    }
  });

  it('with an empty .env (but the required DASHBOARD_PASSWORD), each process reads its config from its service', () => {
    const readers: Record<string, (env: Record<string, string>) => unknown> = {
      scheduler: readSchedulerConfig,
      worker: readWorkerConfig,
      migrate: readWorkerConfig,
      dashboard: readDashboardConfig,
    };
    for (const [service, read] of Object.entries(readers)) {
      assert.doesNotThrow(() => read(environmentOf(production, service, { DASHBOARD_PASSWORD: 'x' })), service);
    }
  });
});

describe('Compose: the database password', () => {
  for (const password of ['p@ss/w#rd', '12/ab@c', 'q?r%s t:u']) {
    it(`POSTGRES_PASSWORD=${JSON.stringify(password)} reaches the driver whole, host and database intact, and no URL holds it`, async () => {
      for (const service of APP_SERVICES) {
        const env = environmentOf(production, service, { POSTGRES_PASSWORD: password, DASHBOARD_PASSWORD: 'x' });
        assert.ok(!env.DATABASE_URL!.includes(password), `${service}: DATABASE_URL holds the password`);
        const config = service === 'dashboard' ? readDashboardConfig(env) : service === 'scheduler' ? readSchedulerConfig(env) : readWorkerConfig(env);
        const sql = postgres(config.databaseUrl);
        try {
          assert.equal(sql.options.pass, password, service);
          assert.deepEqual(sql.options.host, ['postgres'], service);
          assert.equal(sql.options.database, 'aharadar', service);
        } finally {
          await sql.end();
        }
      }
      assert.equal(interpolate(production.services.postgres!.environment!.POSTGRES_PASSWORD, { POSTGRES_PASSWORD: password }), password);
    });
  }
});

describe('Compose: production and development are separate stacks', () => {
  it('no override file: a plain `docker compose` is the production stack alone', () => {
    for (const file of ['docker-compose.override.yml', 'docker-compose.override.yaml', 'compose.override.yml', 'compose.override.yaml', 'compose.yml', 'compose.yaml']) {
      assert.ok(!existsSync(new URL(file, repo)), `${file} would be merged into (or replace) the production stack`);
    }
  });

  it('the dev stack has its own project name, and the pnpm scripts name it and both files', () => {
    assert.equal(production.name, 'aharadar');
    assert.equal(dev.name, 'aharadar-dev');
    const scripts = (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts;
    const composeScripts = Object.entries(scripts).filter(([, command]) => /\bdocker compose\b/.test(command));
    assert.ok(composeScripts.length >= 3);
    for (const [name, command] of composeScripts) {
      if (command.includes('docker-compose.dev.yml') || name.startsWith('dev:')) {
        assert.ok(command.startsWith('docker compose -p aharadar-dev -f docker-compose.yml -f docker-compose.dev.yml'), `${name}: ${command}`);
      }
    }
    for (const name of ['dev:services', 'dev:stack', 'dev:compose']) assert.ok(scripts[name], name);
  });

  it('the dev stack publishes only loopback ports; production publishes none but the dashboard on 127.0.0.1', () => {
    for (const [name, service] of Object.entries(production.services)) {
      const ports = (service.ports as string[] | undefined) ?? [];
      if (name === 'dashboard') assert.deepEqual(ports, ['127.0.0.1:${DASHBOARD_PORT:-3000}:3000']);
      else assert.deepEqual(ports, [], name);
      assert.equal(service.container_name, undefined, name);
    }
    for (const service of Object.values(dev.services)) for (const port of (service.ports as string[] | undefined) ?? []) assert.match(port, /^127\.0\.0\.1:/);
  });
});

describe('Compose: development mounts', () => {
  const libs = readdirSync(new URL('libs/', repo), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(new URL(`libs/${d.name}/src`, repo)))
    .map((d) => d.name);
  const APPS: Record<string, string[]> = { scheduler: ['scheduler'], worker: ['worker', 'cli'], migrate: ['cli'], dashboard: ['cli'] };

  it('finds the libs', () => assert.ok(libs.length >= 8 && libs.includes('alerts'), libs.join(',')));

  for (const [service, apps] of Object.entries(APPS)) {
    it(`${service}: every libs/*/src and ${apps.map((a) => `apps/${a}/src`).join(', ')} mounted read-only, each from an existing folder`, () => {
      const volumes = dev.services[service]?.volumes ?? [];
      for (const lib of libs) assert.ok(volumes.includes(`./libs/${lib}/src:/app/libs/${lib}/src:ro`), `${service} does not mount libs/${lib}/src`);
      for (const app of apps) assert.ok(volumes.includes(`./apps/${app}/src:/app/apps/${app}/src:ro`), `${service} does not mount apps/${app}/src`);
      for (const volume of volumes) assert.ok(existsSync(new URL(volume.split(':')[0]!, repo)), `${service}: ${volume} mounts a missing folder`);
    });
  }
});

describe('Compose: a worker can finish its runs before it is killed', () => {
  for (const [label, compose] of STACKS) {
    for (const env of [{}, { WORKER_SHUTDOWN_TIMEOUT_MS: '80000', WORKER_STOP_GRACE_PERIOD: '2m' }] as Env[]) {
      it(`${label}${Object.keys(env).length ? ' (both set in .env)' : ''}: stop_grace_period > WORKER_SHUTDOWN_TIMEOUT_MS`, () => {
        const worker = compose.services.worker!;
        const grace = seconds(interpolate(worker.stop_grace_period ?? '10s', env));
        const timeoutMs = Number(environmentOf(compose, 'worker', env).WORKER_SHUTDOWN_TIMEOUT_MS);
        assert.ok(Number.isFinite(timeoutMs), 'WORKER_SHUTDOWN_TIMEOUT_MS');
        assert.ok(grace * 1000 > timeoutMs, `stop_grace_period ${grace} s <= WORKER_SHUTDOWN_TIMEOUT_MS ${timeoutMs} ms`);
      });
    }
  }
});
