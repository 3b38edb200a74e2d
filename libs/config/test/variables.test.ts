import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import {
  DASHBOARD_DEFAULTS,
  DEFAULTS,
  VARIABLES,
  readAlertConfig,
  readCliConfig,
  readDashboardConfig,
  readSchedulerConfig,
  readWorkerConfig,
  type EnvProcess,
  type EnvVariable,
} from '../src/index.js';

/**
 * VARIABLES (libs/config/src/variables.ts) is the one list of the environment: checked here
 * against the code that reads it, `.env.example`, the README and turbo.json; the Compose files
 * are checked against it in test/docker/compose-files.test.ts.
 */
const repo = new URL('../../../', import.meta.url);
const read = (file: string) => readFile(new URL(file, repo), 'utf8');

/** What each process reads, as the processes call it. */
const READERS: Record<EnvProcess, (env: Record<string, string>) => unknown> = {
  scheduler: readSchedulerConfig,
  worker: readWorkerConfig,
  // `radar`, including `radar alerts` (the same ALERT_* thresholds as the scheduler's monitor)
  cli: (env) => ({ cli: readCliConfig(env), alerts: readAlertConfig(env) }),
  dashboard: readDashboardConfig,
};
const PROCESSES = Object.keys(READERS) as EnvProcess[];

/** Values that change what a reader returns (or make it throw) for every variable we have. */
const PROBES = ['7', '0', 'true', 'x', 'a:b', '0.0.0.0', 'http://probe.example/', 'postgres://u@probe.example/db', 'redis://probe.example:1'];

function outcome(reader: (env: Record<string, string>) => unknown, env: Record<string, string>): string {
  try {
    return JSON.stringify(reader(env));
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
}

/** The processes whose configuration depends on a variable, found by trying values. */
function observedReaders(name: string): EnvProcess[] {
  return PROCESSES.filter((process) => {
    const baseline = outcome(READERS[process], {});
    return PROBES.some((value) => outcome(READERS[process], { [name]: value }) !== baseline);
  });
}

const processVariables = VARIABLES.filter((v) => v.compose !== 'compose-only');

describe('VARIABLES, the list of every environment variable', () => {
  it('names each variable once; compose-only ones have no readers, the others have some', () => {
    const names = VARIABLES.map((v) => v.name);
    assert.deepEqual(names, [...new Set(names)]);
    for (const v of VARIABLES) {
      assert.equal(v.readBy.length === 0, v.compose === 'compose-only', v.name);
      assert.match(v.name, /^[A-Z][A-Z0-9_]*$/);
    }
  });

  it('holds every default of the readers, with the same value', () => {
    for (const [name, value] of Object.entries({ ...DEFAULTS, ...DASHBOARD_DEFAULTS })) {
      const v = VARIABLES.find((x) => x.name === name);
      assert.ok(v, `${name} is missing from VARIABLES`);
      assert.equal(v.default, String(value), name);
    }
  });

  it('holds every variable the code reads (names in libs/config and the CLI config)', async () => {
    const files = (await readdir(new URL('libs/config/src/', repo))).map((f) => `libs/config/src/${f}`);
    files.push('apps/cli/src/config.ts');
    const read_ = /\.(?:string|url|optionalUrl|number|boolean|oneOf)\(\s*'([A-Z][A-Z0-9_]*)'/g;
    const inCode = new Set<string>();
    for (const file of files) for (const m of (await read(file)).matchAll(read_)) inCode.add(m[1]!);
    assert.ok(inCode.size > 30, `found only ${inCode.size} names`);
    assert.deepEqual([...inCode].filter((name) => !VARIABLES.some((v) => v.name === name)), []);
    assert.deepEqual(processVariables.filter((v) => !inCode.has(v.name)).map((v) => v.name), []);
  });

  for (const v of processVariables) {
    it(`${v.name}: read by exactly ${v.readBy.join(', ')}`, () => {
      assert.deepEqual(observedReaders(v.name), PROCESSES.filter((p) => v.readBy.includes(p)));
    });
  }
});

describe('.env.example', () => {
  it('lists every variable with its default (Compose-only ones commented out), and nothing else', async () => {
    const example = await read('.env.example');
    for (const v of VARIABLES) {
      const line = v.compose === 'compose-only' ? `\n# ${v.name}=${v.default}` : `\n${v.name}=${v.default}\n`;
      assert.ok(example.includes(line), `.env.example lacks ${line.trim()}`);
    }
    const assigned = [...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    assert.deepEqual(assigned.filter((name) => !VARIABLES.some((v) => v.name === name)), []);
    assert.deepEqual(assigned, VARIABLES.map((v) => v.name), '.env.example follows the order of VARIABLES');
  });
});

/** The README's "used by" column for a variable. */
function usedBy(v: EnvVariable): string {
  if (v.readBy.length === 0) return 'Docker Compose';
  if (v.readBy.length === PROCESSES.length) return 'all';
  return v.readBy.join(', ');
}

describe('README', () => {
  it('has a row per variable with its default and the processes that read it', async () => {
    const readme = await read('README.md');
    for (const v of VARIABLES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
      assert.ok(row, `the README's tables lack ${v.name}`);
      const [, defaultCell, usedByCell] = row.split(' | ').map((cell) => cell.trim());
      assert.equal(defaultCell, v.default === '' ? '*(none)*' : `\`${v.default}\``, `${v.name}: default column`);
      assert.equal(usedByCell, usedBy(v), `${v.name}: "used by" column`);
    }
  });
});

describe('turbo.json', () => {
  it('passes every variable a process reads through to `pnpm start` / `pnpm dev:*` (strict env mode), and no unknown one', async () => {
    const turbo = JSON.parse(await read('turbo.json')) as { globalPassThroughEnv: string[]; globalEnv?: string[] };
    const passed = turbo.globalPassThroughEnv;
    const covers = (pattern: string, name: string) =>
      pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
    for (const v of processVariables) {
      assert.ok(passed.some((pattern) => covers(pattern, v.name)), `turbo.json globalPassThroughEnv lacks ${v.name}`);
    }
    const unknown = passed.filter((p) => !p.startsWith('TEST_') && !VARIABLES.some((v) => covers(p, v.name)));
    assert.deepEqual(unknown, []);
  });
});
