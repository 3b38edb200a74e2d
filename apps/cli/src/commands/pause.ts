import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * `radar pause` / `radar resume`: the global pause (DESIGN §4). The flag is written to
 * Postgres first — it is the truth, and each tick re-applies it to the queue, which matters
 * if Redis loses its data — then the BullMQ pipeline queue is paused or resumed right away
 * so the effect does not wait for the next tick.
 */
export function registerPauseCommands(program: Command, ctx: CliContext): void {
  program
    .command('pause')
    .description('pause everything: no new windows are fanned out and no queued runs start (nothing is lost)')
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const wasPaused = await setGlobalPause(ctx, true);
      if (options.json) return ctx.out.json({ paused: true, wasPaused });
      ctx.out.line(wasPaused ? 'already paused (re-applied to the pipeline queue)' : 'paused: ticks schedule nothing and queued runs wait');
      ctx.out.line('runs already in flight finish normally; queued runs stay queued and due windows are scheduled by the first tick after `radar resume` — nothing is lost');
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

/** Writes the flag, then makes the pipeline queue follow it; returns the previous state. */
async function setGlobalPause(ctx: CliContext, paused: boolean): Promise<boolean> {
  const db = await ctx.db();
  const queues = await ctx.queues();
  const { readGlobalPause, writeGlobalPause } = await import('@aharadar/db');
  const before = await readGlobalPause(db);
  await writeGlobalPause(db, paused, ctx.now());
  if (paused) await queues.pipeline.pause();
  else await queues.pipeline.resume();
  return before.paused;
}
