/**
 * `pnpm bench`: performance of the scheduler and pipeline on the real local Postgres and Redis,
 * each figure next to its comparison measured in the same run (the machine is shared and noisy).
 *
 *   pnpm bench                              every scenario (about 15 minutes on 2 cores)
 *   pnpm bench -- --only idle-tick,fanout   a subset (idle-tick, fanout, ingest, poll-planning,
 *                                           polling-scale, e2e-latency, scale-out; `memory` =
 *                                           the two window-worker scenarios)
 *   pnpm bench -- --quick                   small sizes, one round: checks the bench itself
 *   pnpm bench -- --cpu-prof                CPU profiles (ingest, worker processes) into bench/profiles/
 *   BENCH_AUTO_EXPLAIN_MS=20 pnpm bench ... the worker scenarios log EXPLAIN ANALYZE of every
 *                                           statement slower than that to the Postgres server log
 *
 * Every scenario uses its own database (radar_test_*) and Redis key prefix and removes them,
 * also on Ctrl-C. Prints a table and writes every figure to bench/results.json (gitignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fanout } from './fanout.js';
import { idleTick } from './idle-tick.js';
import { ingest } from './ingest.js';
import { pollPlanning } from './poll-planning.js';
import { pollingAtScale } from './polling-scale.js';
import { formatTable, runCleanups, type BenchContext, type Row, type Scenario } from './support.js';
import { e2eLatency, scaleOut } from './workers.js';

const SCENARIOS: Record<string, Scenario> = {
  'idle-tick': idleTick,
  fanout,
  ingest,
  'poll-planning': pollPlanning,
  'polling-scale': pollingAtScale,
  'e2e-latency': e2eLatency,
  'scale-out': scaleOut,
};

const USAGE = `usage: pnpm bench [-- --only ${Object.keys(SCENARIOS).join(',')}] [--quick] [--cpu-prof] [--out FILE]`;

interface Args {
  only: string[];
  quick: boolean;
  cpuProf: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: Object.keys(SCENARIOS), quick: false, cpuProf: false, out: fileURLToPath(new URL('./results.json', import.meta.url)) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!v) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--') continue;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const names = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // `memory` is measured by the two worker scenarios.
      const expanded = names.flatMap((n) => (n === 'memory' ? ['e2e-latency', 'scale-out'] : [n]));
      const unknown = expanded.filter((n) => !(n in SCENARIOS));
      if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
      args.only = Object.keys(SCENARIOS).filter((n) => expanded.includes(n));
    } else if (arg === '--quick') args.quick = true;
    else if (arg === '--cpu-prof') args.cpuProf = true;
    else if (arg === '--out' || arg.startsWith('--out=')) args.out = value();
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const cpuProfDir = args.cpuProf ? fileURLToPath(new URL('./profiles/', import.meta.url)) : null;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const ctx: BenchContext = {
    quick: args.quick,
    cpuProfDir,
    log: (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    ctx.log(`${signal}: cleaning up (databases, Redis keys, worker processes)…`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  const scenarios: Record<string, unknown> = {};
  let failed = false;
  for (const name of args.only) {
    ctx.log(`${name}: starting`);
    const t0 = Date.now();
    try {
      const result = await SCENARIOS[name]!(ctx);
      rows.push(...result.rows);
      scenarios[name] = { ...result.figures, rows: result.rows, seconds: Math.round((Date.now() - t0) / 1000) };
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      ctx.log(`${name}: FAILED: ${message}`);
      scenarios[name] = { error: message };
      await runCleanups();
    }
    ctx.log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  const results = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    quick: args.quick,
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    rows,
    scenarios,
  };
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${args.out}\n`);
  // Exit explicitly: a leftover handle (a pool being torn down, a child's pipe) must not keep a
  // finished benchmark hanging.
  process.exit(failed ? 1 : 0);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  await runCleanups();
  process.exit(2);
});
