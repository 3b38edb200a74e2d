/**
 * Private, throwaway Postgres and Redis servers for the fault suite. The chaos scenarios stop,
 * restart and FLUSHALL them, so they must never be the shared instances on 5432/6379: each run
 * of the suite starts its own cluster (initdb into a temp dir) and its own redis-server, on free
 * loopback ports, and removes both at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDatabase, migrateToLatest, type DatabaseHandle } from '@aharadar/db';
import { Redis } from 'ioredis';
import postgres from 'postgres';

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Redis

export interface PrivateRedis {
  port: number;
  url: string;
  /** The server process, while running. */
  pid(): number | undefined;
  /**
   * SIGTERM (Redis fsyncs its AOF on a clean shutdown), wait, start again on the same files —
   * or, with `wipe`, on none: a restart without persistence, every key gone.
   */
  restart(downMs?: number, options?: { wipe?: boolean }): Promise<{ downMs: number }>;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = Number(process.env.FAULTS_REDIS_PORT ?? (await freePort()));
  const dir = mkdtempSync(join(tmpdir(), 'radar-faults-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    // AOF with fsync on every write: "restart with data kept" keeps everything acknowledged.
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--maxmemory-policy', 'noeviction', '--logfile', join(dir, 'redis.log')],
      { stdio: 'ignore' },
    );
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch {
          probe.disconnect();
          await sleep(100);
        }
      }
      throw new Error(`private redis on ${port} did not start (log: ${dir}/redis.log)`);
    } finally {
      probe.disconnect();
    }
  };

  const halt = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    await exited;
    child = undefined;
  };

  await launch();
  return {
    port,
    url,
    pid: () => child?.pid,
    async restart(downMs = 1_000, options = {}) {
      const started = Date.now();
      await halt();
      if (options.wipe) {
        // What a redis-server without persistence comes back with: nothing.
        for (const entry of readdirSync(dir)) if (entry !== 'redis.log') rmSync(join(dir, entry), { recursive: true, force: true });
      }
      await sleep(downMs);
      await launch();
      return { downMs: Date.now() - started };
    },
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Postgres

export interface PrivateDatabase extends DatabaseHandle {
  url: string;
  name: string;
}

export interface PrivatePostgres {
  port: number;
  adminUrl: string;
  /** Stops the server (fast: active connections are terminated). */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<{ downMs: number }>;
  /** A fresh migrated database for one scenario. */
  createDatabase(prefix: string, maxConnections?: number): Promise<PrivateDatabase>;
  /** `pg_dump --data-only` of a database: equal dumps mean nothing was written. */
  dump(name: string): string;
  destroy(): Promise<void>;
}

function findPgBin(): string {
  const explicit = process.env.FAULTS_PG_BIN;
  if (explicit) return explicit;
  const out = spawnSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1'], { encoding: 'utf8' });
  const bin = out.stdout.trim();
  if (!bin) throw new Error('no PostgreSQL binaries found under /usr/lib/postgresql/*/bin (set FAULTS_PG_BIN)');
  return bin;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = findPgBin();
  const port = Number(process.env.FAULTS_PG_PORT ?? (await freePort()));
  const dir = mkdtempSync(join(tmpdir(), 'radar-faults-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // initdb refuses to run as root: the cluster belongs to the `postgres` user.
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0) throw new Error('running as root but there is no "postgres" user to run initdb as');
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  const run = (args: string[], allowFail = false): string => {
    const command = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
    const result = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', cwd: dir });
    if (result.status !== 0 && !allowFail) {
      throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
    return result.stdout;
  };
  run([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  // fsync off: a throwaway cluster; crash safety of the disk is not what is under test.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const log = join(dir, 'postgres.log');
  const start = async (): Promise<void> => {
    run([join(bin, 'pg_ctl'), '-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
  };
  const stop = async (): Promise<void> => {
    run([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'], true);
  };
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;

  return {
    port,
    adminUrl,
    stop,
    start,
    async restart() {
      const t = Date.now();
      run([join(bin, 'pg_ctl'), '-D', data, '-o', options, '-l', log, '-m', 'fast', '-w', '-t', '60', 'restart']);
      return { downMs: Date.now() - t };
    },
    async createDatabase(prefix, maxConnections = 10) {
      const name = `${prefix}_${randomBytes(3).toString('hex')}`;
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const handle = createDatabase({ url: urlFor(name), maxConnections, applicationName: 'radar-faults' });
      await migrateToLatest(handle.db);
      return { ...handle, url: urlFor(name), name };
    },
    dump(name) {
      const result = spawnSync(join(bin, 'pg_dump'), ['--data-only', '--no-owner', '--no-privileges', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      if (result.status !== 0) throw new Error(`pg_dump failed: ${result.stderr}`);
      // Recent pg_dump brackets the script with \restrict / \unrestrict and a random key: drop
      // those two lines, everything else is deterministic for unchanged data.
      return result.stdout
        .split('\n')
        .filter((line) => !/^\\(un)?restrict /.test(line))
        .join('\n');
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
