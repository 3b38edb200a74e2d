import { claimDuePolls, findPlannedPolls, type Database } from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import { enqueuePolls, enqueuePrune, pollJobId, probeJobs, tickIntervalMs, type PollQueue } from '@aharadar/queue';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';

/** Polls claimed per statement; a tick claims at most {@link MAX_POLL_BATCHES_PER_TICK} batches. */
export const POLL_BATCH_SIZE = 2_000;
/** 100,000 planned polls per tick at most; the rest are claimed by the next tick. */
export const MAX_POLL_BATCHES_PER_TICK = 50;
/**
 * Claims younger than this may sit between their commit and their addBulk: not lost yet. Short
 * on purpose (windows wait 15 s): a busy feed turns over in seconds, so after Redis lost its
 * data every second without the poll loses items (found by fault scenario 7), and adding a
 * claim's job early is harmless — the job id comes from the claim, so the late addBulk of the
 * same claim is a no-op.
 */
export const POLL_RECONCILE_GRACE_MS = 2_000;
/** Planned polls checked per tick for a lost job. */
export const POLL_RECONCILE_LIMIT = 10_000;

export interface PollPlanningDeps {
  db: Kysely<Database>;
  redis: Redis;
  poll: PollQueue;
  tickMinutes: number;
  log: Logger;
}

export interface PollPlanningReport {
  pollsPlanned: number;
  pollsReenqueued: number;
}

/**
 * The tick's polling step (DESIGN §6.1): claim every poll due before the NEXT tick (so none
 * waits a whole tick interval) and enqueue each as a delayed job at its own due time — load
 * spreads over the interval instead of bursting at each tick. Claims are compare-and-set in
 * Postgres and job ids come from them, so duplicated ticks plan each poll once. Then
 * reconcile: claims whose job Redis lost are enqueued again under the same id. Retention is
 * planned here too, once an hour (the hour is its job id).
 */
export async function planPolls(deps: PollPlanningDeps, now: Date): Promise<PollPlanningReport> {
  const horizon = new Date(now.getTime() + tickIntervalMs(deps.tickMinutes));
  let pollsPlanned = 0;
  for (let batch = 0; batch < MAX_POLL_BATCHES_PER_TICK; batch++) {
    const claimed = await claimDuePolls(deps.db, { horizon, now, limit: POLL_BATCH_SIZE });
    await enqueuePolls(deps.poll, claimed, now);
    pollsPlanned += claimed.length;
    if (claimed.length < POLL_BATCH_SIZE) break;
  }
  const pollsReenqueued = await reconcilePolls(deps, now);
  await enqueuePrune(deps.poll, now);
  return { pollsPlanned, pollsReenqueued };
}

async function reconcilePolls(deps: PollPlanningDeps, now: Date): Promise<number> {
  const planned = await findPlannedPolls(deps.db, { olderThan: new Date(now.getTime() - POLL_RECONCILE_GRACE_MS), limit: POLL_RECONCILE_LIMIT });
  if (planned.length === 0) return 0;
  const presence = await probeJobs(deps.redis, deps.poll, planned, (p) => pollJobId(p.feedId, p.seq));
  for (const p of presence.finished) await deps.poll.remove(pollJobId(p.feedId, p.seq));
  const lost = [...presence.missing, ...presence.finished];
  if (lost.length > 0) {
    deps.log.warn({ polls: lost.length, missing: presence.missing.length, finished: presence.finished.length }, 'reconcile: re-enqueueing planned polls whose job was lost');
    await enqueuePolls(deps.poll, lost, now);
  }
  return lost.length;
}
