/**
 * Scenario 6 — bad operator input. Every `radar` command with missing and with malformed
 * arguments, and every environment variable with a bad value for each process that reads it
 * (worker, scheduler, radar): one clear error line, a non-zero exit, and nothing written —
 * a `pg_dump --data-only` of the database and the Redis keyspace are identical before and
 * after.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DEFAULTS } from '@aharadar/config';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../support/processes.js';
import type { Scenario } from './support/scenario.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(app: 'worker' | 'scheduler' | 'cli', args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `apps/${app}/src/main.ts`, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i] as T);
      }
    }),
  );
  return results;
}

interface ArgCase {
  args: string[];
  /** What the one error line must say. */
  error: RegExp;
}

const PAST = ['--from', '2024-01-01', '--to', '2024-01-02'];

/** Every command, with missing and with malformed arguments. */
const ARG_CASES: ArgCase[] = [
  // migrate
  { args: ['migrate', 'now'], error: /too many arguments for 'migrate'/ },
  { args: ['migrate', '--force'], error: /unknown option '--force'/ },
  // topic add
  { args: ['topic', 'add'], error: /missing required argument 'name'/ },
  { args: ['topic', 'add', 'x'], error: /a schedule is required/ },
  { args: ['topic', 'add', 'x', '--every'], error: /option '--every <duration>' argument missing/ },
  { args: ['topic', 'add', 'x', '--every', 'often'], error: /invalid duration "often"/ },
  { args: ['topic', 'add', 'x', '--every', '10s'], error: /too short/ },
  { args: ['topic', 'add', 'x', '--every', '-5m'], error: /duration/ },
  { args: ['topic', 'add', 'x', '--cron', '* * *'], error: /invalid cron expression/ },
  { args: ['topic', 'add', 'x', '--cron', '0 25 * * *'], error: /invalid cron expression/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--cron', '0 * * * *'], error: /cannot be used together/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--tz', 'Europe/Atlantis'], error: /unknown time zone/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--size', '0'], error: /'--size <n>' argument '0' is invalid/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--size', '9999'], error: /'--size <n>' argument '9999' is invalid/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--max-per-source', 'all'], error: /'--max-per-source <n>' argument 'all' is invalid/ },
  { args: ['topic', 'add', 'seeded', '--every', '1h'], error: /already exists/ },
  { args: ['topic', 'add', '', '--every', '1h'], error: /must not be empty/ },
  { args: ['topic', 'add', 'x'.repeat(201), '--every', '1h'], error: /name/ },
  // topic list / rm / pause / resume
  { args: ['topic', 'list', 'everything'], error: /too many arguments/ },
  { args: ['topic', 'rm'], error: /missing required argument 'name'/ },
  { args: ['topic', 'rm', 'nope'], error: /no topic named "nope"/ },
  { args: ['topic', 'pause'], error: /missing required argument 'name'/ },
  { args: ['topic', 'pause', 'nope'], error: /no topic named "nope"/ },
  { args: ['topic', 'resume'], error: /missing required argument 'name'/ },
  { args: ['topic', 'resume', 'nope'], error: /no topic named "nope"/ },
  { args: ['topic', 'frob'], error: /unknown command 'frob'/ },
  // source add / list / rm
  { args: ['source', 'add'], error: /required option '--topic <name>' not specified/ },
  { args: ['source', 'add', '--topic', 'seeded'], error: /required option '--type <type>' not specified/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'feed'], error: /feed sources need --url/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'feed', '--url', 'feed.xml'], error: /url/i },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'feed', '--url', 'file:///etc/passwd'], error: /http or https/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'atom', '--url', 'https://example.com/a'], error: /unknown source type "atom"/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'hackernews', '--list', 'ask'], error: /"list" must be one of/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'hackernews', '--limit', '1000'], error: /'--limit <n>' argument '1000' is invalid/ },
  { args: ['source', 'add', '--topic', 'seeded', '--type', 'feed', '--url', 'https://example.com/b', '--weight', 'heavy'], error: /'--weight <w>' argument 'heavy' is invalid/ },
  { args: ['source', 'add', '--topic', 'nope', '--type', 'feed', '--url', 'https://example.com/c'], error: /no topic named "nope"/ },
  { args: ['source', 'list', '--topic'], error: /option '--topic <name>' argument missing/ },
  { args: ['source', 'list', '--topic', 'nope'], error: /no topic named "nope"/ },
  { args: ['source', 'rm'], error: /missing required argument 'id'/ },
  { args: ['source', 'rm', 'first'], error: /'first' is invalid for argument 'id'/ },
  { args: ['source', 'rm', '-1'], error: /unknown option '-1'|'-1' is invalid for argument 'id'/ },
  { args: ['source', 'rm', '999999'], error: /no source with id 999999/ },
  // run
  { args: ['run'], error: /missing required argument 'topic'/ },
  { args: ['run', 'nope'], error: /no topic named "nope"/ },
  { args: ['run', 'empty'], error: /has no sources/ },
  // backfill
  { args: ['backfill'], error: /required option '--from <iso>' not specified|missing required argument 'topic'/ },
  { args: ['backfill', 'seeded', '--to', '2024-01-02'], error: /required option '--from <iso>' not specified/ },
  { args: ['backfill', 'seeded', '--from', '2024-01-01'], error: /required option '--to <iso>' not specified/ },
  { args: ['backfill', 'seeded', '--from', 'last week', '--to', '2024-01-02'], error: /argument 'last week' is invalid/ },
  { args: ['backfill', 'seeded', '--from', '2023-02-29', '--to', '2023-03-02'], error: /argument '2023-02-29' is invalid/ },
  { args: ['backfill', 'seeded', '--from', '2024-01-02', '--to', '2024-01-01'], error: /must be before --to/ },
  { args: ['backfill', 'seeded', '--from', '2999-01-01', '--to', '2999-01-02'], error: /not in the past/ },
  { args: ['backfill', 'seeded', '--from', '1990-01-01', '--to', '2024-01-01'], error: /more than 10,000 windows/ },
  { args: ['backfill', 'nope', ...PAST], error: /no topic named "nope"/ },
  // tick
  { args: ['tick', 'now'], error: /too many arguments for 'tick'/ },
  { args: ['tick', '--timeout', '0'], error: /'--timeout <seconds>' argument '0' is invalid/ },
  { args: ['tick', '--timeout', 'soon'], error: /'--timeout <seconds>' argument 'soon' is invalid/ },
  // digests / digest show
  { args: ['digests', '--limit', '0'], error: /'--limit <n>' argument '0' is invalid/ },
  { args: ['digests', '--limit', 'lots'], error: /'--limit <n>' argument 'lots' is invalid/ },
  { args: ['digests', '--topic', 'nope'], error: /no topic named "nope"/ },
  { args: ['digest', 'show'], error: /missing required argument 'id'/ },
  { args: ['digest', 'show', 'latest'], error: /'latest' is invalid for argument 'id'/ },
  { args: ['digest', 'show', '0'], error: /'0' is invalid for argument 'id'/ },
  { args: ['digest', 'show', '424242'], error: /no digest with id 424242/ },
  // status / pause / resume
  { args: ['status', 'all'], error: /too many arguments for 'status'/ },
  { args: ['status', '--verbose'], error: /unknown option '--verbose'/ },
  { args: ['pause', 'everything'], error: /too many arguments for 'pause'/ },
  { args: ['resume', 'everything'], error: /too many arguments for 'resume'/ },
  // the program
  { args: ['frobnicate'], error: /unknown command 'frobnicate'/ },
  { args: ['--colour'], error: /unknown option '--colour'/ },
  // A bare command group is a usage error like any other: one line naming the choices.
  { args: ['topic'], error: /missing command: radar topic add\|list\|rm\|pause\|resume/ },
  { args: ['source'], error: /missing command: radar source add\|list\|rm/ },
  { args: ['digest'], error: /missing command: radar digest show/ },
  { args: ['topic', 'frob'], error: /unknown command 'frob': radar topic / },
];


/** Bad values per variable, and which processes read the variable. */
const ENV_CASES: { variable: keyof typeof DEFAULTS; value: string; apps: ('worker' | 'scheduler' | 'cli')[] }[] = [
  { variable: 'DATABASE_URL', value: 'mysql://root:s3cret@db/radar', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'REDIS_URL', value: 'http://127.0.0.1:6379', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'QUEUE_PREFIX', value: 'radar:prod', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'LOG_LEVEL', value: 'loud', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'SCHEDULER_TICK_MINUTES', value: '0', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'SCHEDULER_LAG_SECONDS', value: '-5', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'SCHEDULER_MAX_CATCHUP_WINDOWS', value: 'all', apps: ['worker', 'scheduler', 'cli'] },
  { variable: 'WORKER_CONCURRENCY', value: '1.5', apps: ['worker'] },
  { variable: 'PIPELINE_ATTEMPTS', value: '0', apps: ['worker', 'cli'] },
  { variable: 'WORKER_SHUTDOWN_TIMEOUT_MS', value: 'forever', apps: ['worker'] },
  { variable: 'WORKER_LOCK_DURATION_MS', value: '10', apps: ['worker'] },
  { variable: 'HEALTH_PORT', value: '70000', apps: ['worker'] },
  { variable: 'SCHEDULER_HEALTH_PORT', value: 'http', apps: ['scheduler'] },
  { variable: 'FETCH_TIMEOUT_MS', value: '15s', apps: ['worker', 'cli'] },
  { variable: 'FETCH_MAX_BYTES', value: '5MB', apps: ['worker', 'cli'] },
  { variable: 'FETCH_MAX_REDIRECTS', value: '100', apps: ['worker', 'cli'] },
  { variable: 'FETCH_ALLOW_PRIVATE', value: 'maybe', apps: ['worker', 'cli'] },
  { variable: 'FETCH_SOURCE_CONCURRENCY', value: '0', apps: ['worker', 'cli'] },
  { variable: 'HN_API_URL', value: 'ftp://hn.example/v0', apps: ['worker', 'cli'] },
  { variable: 'FETCH_PER_HOST_CONCURRENCY', value: '0', apps: ['worker', 'cli'] },
  { variable: 'FETCH_USER_AGENT', value: 'x'.repeat(301), apps: ['worker', 'cli'] },
  { variable: 'POLL_MIN_INTERVAL_SECONDS', value: '0', apps: ['worker', 'cli'] },
  { variable: 'POLL_MAX_INTERVAL_SECONDS', value: '1', apps: ['worker', 'cli'] },
  { variable: 'POLL_CONCURRENCY', value: 'many', apps: ['worker', 'cli'] },
  { variable: 'RETENTION_DAYS', value: '0', apps: ['worker', 'cli'] },
  { variable: 'ALERT_CHECK_SECONDS', value: '0.5', apps: ['scheduler', 'cli'] },
  { variable: 'ALERT_QUEUE_DEPTH', value: 'lots', apps: ['scheduler', 'cli'] },
  { variable: 'ALERT_OLDEST_WAITING_SECONDS', value: '-1', apps: ['scheduler', 'cli'] },
  { variable: 'ALERT_STUCK_JOB_MINUTES', value: '30m', apps: ['scheduler', 'cli'] },
  { variable: 'ALERT_WEBHOOK_URL', value: 'hooks.example/alert', apps: ['scheduler', 'cli'] },
  { variable: 'ALERT_POLL_LAG_SECONDS', value: '5m', apps: ['scheduler', 'cli'] },
];

/** The `radar` command that reads a variable: the alert thresholds only `radar alerts`, the rest every command. */
function cliCommandReading(variable: string): string[] {
  return variable.startsWith('ALERT_') ? ['alerts'] : ['topic', 'list'];
}

/** The first lines that differ between two dumps. */
function dumpDiff(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const removed = [...a].filter((l) => !b.has(l)).slice(0, 3).map((l) => `- ${l.slice(0, 160)}`);
  const added = [...b].filter((l) => !a.has(l)).slice(0, 3).map((l) => `+ ${l.slice(0, 160)}`);
  return [...removed, ...added].join(' | ');
}

async function redisKeys(redis: Redis): Promise<string[]> {
  return (await redis.keys('*')).sort();
}

export const badInput: Scenario = {
  id: 6,
  title: 'bad operator input (every CLI command, every env variable)',
  async run(ctx, outcome) {
    const db = await ctx.infra.pg.createDatabase('faults_s6', 2);
    const prefix = `faults-s6-${randomBytes(3).toString('hex')}`;
    const env = { DATABASE_URL: db.url, REDIS_URL: ctx.infra.redis.url, QUEUE_PREFIX: prefix, HEALTH_PORT: '0', SCHEDULER_HEALTH_PORT: '0' };
    const redis = new Redis(ctx.infra.redis.url, { maxRetriesPerRequest: 1 });
    // The private Redis is ours: start from an empty one, so keys that earlier scenarios left
    // to expire do not change the comparison below.
    await ctx.infra.redis.flushAll();
    try {
      for (const args of [
        ['topic', 'add', 'seeded', '--every', '30m'],
        ['topic', 'add', 'empty', '--every', '1h'],
        ['source', 'add', '--topic', 'seeded', '--type', 'feed', '--url', 'https://example.com/feed.xml'],
      ]) {
        const r = await run('cli', args, env);
        if (r.code !== 0) throw new Error(`seeding failed: radar ${args.join(' ')}: ${r.stderr}`);
      }
      const dumpBefore = ctx.infra.pg.dump(db.name);
      const keysBefore = await redisKeys(redis);
      ctx.note(`${ARG_CASES.length} argument cases, ${ENV_CASES.reduce((n, c) => n + c.apps.length, 0)} environment cases`);

      const problems: string[] = [];
      const oneErrorLine = (label: string, r: Run, mustMatch: RegExp | null, prefixRe: RegExp) => {
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        const problem =
          r.code === 0 ? 'exited 0' :
          r.code === null ? 'did not exit (killed after 60 s)' :
          lines.length !== 1 ? `printed ${lines.length} stderr lines: ${r.stderr.slice(0, 300)}` :
          !prefixRe.test(lines[0] ?? '') ? `stderr is not one clear error line: ${lines[0]}` :
          mustMatch && !mustMatch.test(lines[0] ?? '') ? `stderr does not match ${mustMatch}: ${lines[0]}` :
          r.stdout.trim() !== '' ? `printed to stdout: ${r.stdout.slice(0, 200)}` :
          /s3cret/.test(r.stderr) ? 'leaked a password' : null;
        if (problem) problems.push(`${label}: ${problem}`);
      };

      const argRuns = await mapLimit(ARG_CASES, 3, async (c) => ({ c, r: await run('cli', c.args, env) }));
      for (const { c, r } of argRuns) oneErrorLine(`radar ${c.args.join(' ')}`, r, c.error, /^radar: error: /);

      const covered = new Set(ENV_CASES.map((c) => c.variable));
      for (const variable of Object.keys(DEFAULTS)) if (!covered.has(variable as keyof typeof DEFAULTS)) problems.push(`${variable}: no bad-value case (add one to ENV_CASES)`);
      const envJobs = ENV_CASES.flatMap((c) => c.apps.map((app) => ({ ...c, app })));
      const envRuns = await mapLimit(envJobs, 2, async (j) => ({ j, r: await run(j.app, j.app === 'cli' ? cliCommandReading(j.variable) : [], { ...env, [j.variable]: j.value }) }));
      let slowest = 0;
      for (const { j, r } of envRuns) {
        slowest = Math.max(slowest, r.ms);
        const name = j.app === 'cli' ? 'radar' : j.app;
        oneErrorLine(`${j.variable}=${j.value} ${name}`, r, new RegExp(`\\b${j.variable}\\b`), new RegExp(`^(radar: error: invalid configuration|${j.app}: invalid configuration): `));
      }

      const dumpAfter = ctx.infra.pg.dump(db.name);
      const keysAfter = await redisKeys(redis);
      const dbUnchanged = dumpAfter === dumpBefore;
      const redisUnchanged = JSON.stringify(keysAfter) === JSON.stringify(keysBefore);

      outcome.figure('cli-cases', ARG_CASES.length);
      outcome.figure('env-cases', envJobs.length);
      outcome.figure('rejected-cleanly', `${ARG_CASES.length + envJobs.length - problems.length}/${ARG_CASES.length + envJobs.length}`);
      outcome.figure('db-dump-unchanged', dbUnchanged ? 'yes' : 'NO');
      outcome.figure('redis-unchanged', redisUnchanged ? 'yes' : 'NO');
      outcome.figure('slowest-exit', `${(slowest / 1000).toFixed(1)}s`);
      for (const p of problems) outcome.fail(p);
      if (!dbUnchanged) {
        // Find the culprit: run every case again, one at a time, with a dump after each.
        let previous = dumpAfter;
        for (const c of ARG_CASES) {
          await run('cli', c.args, env);
          const now = ctx.infra.pg.dump(db.name);
          if (now !== previous) outcome.fail(`radar ${c.args.join(' ')} wrote to the database: ${dumpDiff(previous, now)}`);
          previous = now;
        }
      }
      outcome.check(dbUnchanged, 'the database dump changed');
      outcome.check(
        redisUnchanged,
        `Redis keys changed: +${JSON.stringify(keysAfter.filter((k) => !keysBefore.includes(k)).slice(0, 10))} -${JSON.stringify(keysBefore.filter((k) => !keysAfter.includes(k)).slice(0, 10))}`,
      );
    } finally {
      redis.disconnect();
      await db.close();
    }
  },
};
