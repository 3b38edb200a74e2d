/**
 * Runs `radar` as a real child process against the real local Postgres and Redis, each test
 * file with its own database and queue prefix (see test/support/services.ts).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createQueues, type Queues } from '@aharadar/queue';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../../../test/support/services.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = 'apps/cli/src/main.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Variables of the developer's shell that would change what `radar` does; tests set their own. */
const SCRUBBED = ['LOG_LEVEL', 'FETCH_ALLOW_PRIVATE', 'PIPELINE_ATTEMPTS', 'SCHEDULER_LAG_SECONDS', 'SCHEDULER_TICK_MINUTES', 'QUEUE_PREFIX', 'DATABASE_URL', 'REDIS_URL'];

export function runRadar(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of SCRUBBED) delete base[key];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`radar ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export interface CliFixture {
  database: TestDatabase;
  redis: TestRedis;
  env: Record<string, string>;
  /** Runs radar and fails the test (with its output) unless it exits 0. */
  ok(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** Runs radar --json and parses stdout. */
  json<T = unknown>(args: readonly string[], extraEnv?: Record<string, string>): Promise<T>;
  run(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function createCliFixture(): Promise<CliFixture> {
  const database = await createTestDatabase({ maxConnections: 2 });
  const redis = await createTestRedis();
  const env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix };
  const run = (args: readonly string[], extraEnv: Record<string, string> = {}) => runRadar(args, { ...env, ...extraEnv });
  const ok = async (args: readonly string[], extraEnv: Record<string, string> = {}) => {
    const result = await run(args, extraEnv);
    if (result.code !== 0) {
      throw new Error(`radar ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result;
  };
  return {
    database,
    redis,
    env,
    run,
    ok,
    async json<T>(args: readonly string[], extraEnv: Record<string, string> = {}) {
      const result = await ok([...args, '--json'], extraEnv);
      return JSON.parse(result.stdout) as T;
    },
    async cleanup() {
      await redis.cleanup();
      await database.drop();
    },
  };
}

/** A CLI fixture plus the BullMQ queues on its prefix, for tests that feed or inspect them. */
export interface CliQueueFixture extends CliFixture {
  queues: Queues;
}

export async function createCliQueueFixture(): Promise<CliQueueFixture> {
  const cli = await createCliFixture();
  const queues = createQueues(cli.redis.redis, cli.redis.prefix);
  return {
    ...cli,
    queues,
    async cleanup() {
      await queues.close();
      await cli.cleanup();
    },
  };
}

/**
 * Every table's row count plus a hash of its contents: equal before and after a command
 * means the command wrote nothing (no insert, no update, no delete).
 */
export async function databaseFingerprint(database: TestDatabase): Promise<Record<string, string>> {
  const tables = await database.sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  const out: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const [row] = await database.sql<{ n: number; digest: string | null }[]>`
      SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${database.sql(table)} t`;
    out[table] = `${row?.n ?? 0}:${row?.digest ?? ''}`;
  }
  return out;
}

/** Runs tasks with at most `limit` at a time: spawning tsx costs about a second of CPU each. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
