import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/**
 * `radar pause` / `radar resume`: the global pause (DESIGN §4). The flag is written to
 * Postgres first — it is the truth, and each tick re-applies it to the queue, which matters
 * if Redis loses its data — then the BullMQ pipeline queue is paused or resumed right away
 * so the effect does not wait for the next tick. Both steps run under the tick lock, so no
 * tick can interleave with them.
 */
export function registerPauseCommands(program: Command, ctx: CliContext): void {
  program
    .command('pause')
    .description('pause everything: no new windows are fanned out and no queued runs start (feeds are still polled)')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const wasPaused = await setGlobalPause(ctx, true);
      if (options.json) return ctx.out.json({ paused: true, wasPaused });
      ctx.out.line(wasPaused ? 'already paused (re-applied to the pipeline queue)' : 'paused: ticks schedule nothing and queued runs wait');
      ctx.out.line('runs already in flight finish normally; queued runs stay queued and feeds are still polled, and on `radar resume` the newest SCHEDULER_MAX_CATCHUP_WINDOWS missed windows per topic run; older ones are recorded skipped (their items go to the next window)');
    });

  program
    .command('resume')
    .description('end a global pause: scheduling and runs continue where they stopped')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const wasPaused = await setGlobalPause(ctx, false);
      if (options.json) return ctx.out.json({ paused: false, wasPaused });
      ctx.out.line(wasPaused ? 'resumed: queued runs start now; the next tick schedules the windows that became due meanwhile' : 'not paused (nothing to resume)');
    });
}

/** How long `radar pause/resume` waits for a running tick (a running tick renews the lock; a dead holder's lock lapses within its 15 s TTL). */
export const PAUSE_LOCK_WAIT_MS = 70_000;
/** The CLI's hold on the tick lock: writing a flag and pausing a queue take milliseconds. */
const PAUSE_LOCK_TTL_MS = 30_000;
const PAUSE_LOCK_RETRY_MS = 100;

/**
 * Writes the flag, then makes the pipeline queue follow it; returns the previous state. Both
 * happen under the tick's own lock (`<prefix>:lock:tick`): a tick reads the flag and then sets
 * the queue's state under that lock, so without it a tick between our two steps would apply
 * the flag it read before ours and undo `radar pause` (or `resume`) until the next tick.
 */
async function setGlobalPause(ctx: CliContext, paused: boolean): Promise<boolean> {
  const db = await ctx.db();
  const queues = await ctx.queues();
  const redis = await ctx.redis();
  const { readGlobalPause, writeGlobalPause } = await import('@aharadar/db');
  const { lockKey, tryAcquireLock } = await import('@aharadar/queue');
  const key = lockKey(ctx.config().queuePrefix, 'tick');
  const deadline = Date.now() + PAUSE_LOCK_WAIT_MS;
  let lock = await tryAcquireLock(redis, key, PAUSE_LOCK_TTL_MS);
  if (!lock) ctx.out.note('waiting for the running tick to finish...');
  while (!lock) {
    if (Date.now() > deadline) throw new CliError(`a tick has held ${key} for over ${PAUSE_LOCK_WAIT_MS / 1000} s; nothing was changed — try again`);
    await new Promise((r) => setTimeout(r, PAUSE_LOCK_RETRY_MS));
    lock = await tryAcquireLock(redis, key, PAUSE_LOCK_TTL_MS);
  }
  try {
    const before = await readGlobalPause(db);
    await writeGlobalPause(db, paused, ctx.now());
    if (paused) await queues.pipeline.pause();
    else await queues.pipeline.resume();
    return before.paused;
  } finally {
    await lock.release().catch(() => false);
  }
}
