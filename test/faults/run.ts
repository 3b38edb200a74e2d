/**
 * `pnpm test:faults` — the fault suite: proves DESIGN §5's exactly-once invariants under faults
 * against real Postgres and Redis and the real scheduler and worker processes, and prints one
 * line of figures per scenario, then `N passed, N failed`. Exits 1 when a scenario failed.
 *
 *   node --conditions=source --import tsx test/faults/run.ts [--only 1,3] [--verbose]
 *
 * It starts its OWN throwaway Postgres cluster and redis-server on free loopback ports (the
 * scenarios stop, restart and FLUSHALL them) and removes them at the end; the shared
 * instances on 5432/6379 are never touched. Needs `redis-server` on PATH and the PostgreSQL
 * server binaries (/usr/lib/postgresql/<v>/bin, or FAULTS_PG_BIN); as root, initdb runs as
 * the `postgres` user. See test/faults/README.md.
 */
import { loadChaos } from './s1-load-chaos.js';
import { redisFlush } from './s2-redis-flush.js';
import { postgresDown } from './s3-postgres-down.js';
import { gracefulShutdown } from './s4-graceful-shutdown.js';
import { hostileFeeds } from './s5-hostile-feeds.js';
import { badInput } from './s6-bad-input.js';
import { pollingCoverage } from './s7-polling-coverage.js';
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from './support/infra.js';
import { Outcome, type Scenario } from './support/scenario.js';

const SCENARIOS: Scenario[] = [loadChaos, redisFlush, postgresDown, gracefulShutdown, hostileFeeds, badInput, pollingCoverage];

function parseArgs(argv: string[]): { only: Set<number> | null; verbose: boolean } {
  let only: Set<number> | null = null;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') continue;
    if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const ids = (value ?? '').split(',').map((s) => Number(s.trim()));
      if (ids.length === 0 || ids.some((n) => !SCENARIOS.some((s) => s.id === n))) {
        process.stderr.write(`test:faults: --only expects scenario numbers from ${SCENARIOS.map((s) => s.id).join(',')}, got "${value ?? ''}"\n`);
        process.exit(2);
      }
      only = new Set(ids);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: run.ts [--only 1,3] [--verbose]\n${SCENARIOS.map((s) => `  ${s.id}  ${s.title}`).join('\n')}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`test:faults: unknown argument "${arg}" (try --help)\n`);
      process.exit(2);
    }
  }
  return { only, verbose };
}

function formatLine(s: Scenario, outcome: Outcome, ms: number): string {
  const status = outcome.failures.length === 0 ? 'PASS' : 'FAIL';
  const figures = outcome.figures.map(([k, v]) => `${k}=${v}`).join(' ');
  return `[${s.id}] ${status} ${s.title} (${(ms / 1000).toFixed(0)}s): ${figures}`;
}

async function main(): Promise<number> {
  const { only, verbose } = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => only === null || only.has(s.id));
  const note = (message: string) => {
    if (verbose) process.stderr.write(`  … ${new Date().toISOString().slice(11, 19)} ${message}\n`);
  };
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let passed = 0;
  let failed = 0;
  const cleanup = async () => {
    await redis?.stop().catch(() => undefined);
    await pg?.destroy().catch(() => undefined);
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    note('starting a private Postgres cluster and redis-server');
    pg = await startPrivatePostgres();
    redis = await startPrivateRedis();
    note(`private postgres on 127.0.0.1:${pg.port}, redis on 127.0.0.1:${redis.port}`);
    for (const scenario of selected) {
      const outcome = new Outcome();
      const started = Date.now();
      note(`scenario ${scenario.id}: ${scenario.title}`);
      try {
        await scenario.run({ infra: { pg, redis }, note }, outcome);
      } catch (error) {
        outcome.fail(`crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      process.stdout.write(`${formatLine(scenario, outcome, Date.now() - started)}\n`);
      for (const f of outcome.failures) process.stdout.write(`    ✗ ${f}\n`);
      if (outcome.failures.length === 0) passed++;
      else failed++;
    }
  } finally {
    await cleanup();
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`test:faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.stdout.write(`0 passed, 1 failed\n`);
    process.exit(1);
  },
);
