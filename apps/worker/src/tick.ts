import type { SchedulingConfig } from '@aharadar/config';
import {
  applyDuePlans,
  expireManualRuns,
  findDueTopics,
  findUnfinishedWindows,
  listScheduleErrors,
  readGlobalPause,
  recordScheduleErrors,
  topicSchedule,
  type Database,
  type DueTopic,
  type PlannedTopic,
  type ScheduleFailure,
} from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import {
  enqueueWindows,
  lockKey,
  probeWindowJobs,
  removeWindowJobs,
  tryAcquireLock,
  type PipelineQueue,
  type PollQueue,
} from '@aharadar/queue';
import { planDueWindows } from '@aharadar/scheduling';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { WorkerMetrics } from './metrics.js';
import { planPolls } from './plan-polls.js';

/** Due topics planned and recorded per transaction: large enough to amortise, small enough to keep locks short. */
export const TICK_BATCH_SIZE = 1_000;
/** A tick stops after this many batches (100,000 topics) and leaves the rest to the next tick. */
export const MAX_BATCHES_PER_TICK = 100;
/** The fan-out lock outlives a stuck tick by at most this; it is extended after every batch. */
export const TICK_LOCK_TTL_MS = 15_000;
/**
 * The holder renews the fan-out lock this often while its tick runs, so the TTL can stay short:
 * a worker killed mid-tick (SIGKILL) blocks the next ticks for at most one TTL, not a minute
 * (found by the fault suite: with kills every few seconds, a 60 s lock let no tick run at all).
 */
export const TICK_LOCK_RENEW_MS = 5_000;
/** Ledger rows younger than this may sit between their commit and their addBulk: not lost yet. */
export const RECONCILE_GRACE_MS = 15_000;
/** Unfinished rows checked per tick; a bigger backlog is worked through over several ticks. */
export const RECONCILE_LIMIT = 10_000;
/**
 * A manual run (`radar run`) still `running` after this long has lost its process (a preview
 * builds in seconds): the tick ends its ledger row `failed`.
 */
export const MANUAL_RUN_EXPIRY_MS = 30 * 60_000;
/** Topics named in the schedule-errors state the alert monitor reads. */
const SCHEDULE_ERRORS_LISTED = 20;

/**
 * The Redis key the tick overwrites with the topics whose schedule cannot be planned, for the
 * alert monitor (which reads only Redis): `@aharadar/alerts` reads the same key
 * (`scheduleErrorsKey`; apps/worker/test/schedule-errors.test.ts checks the two agree).
 */
export function scheduleErrorsKey(prefix: string): string {
  return `${prefix}:state:schedule-errors`;
}

export interface TickDeps {
  db: Kysely<Database>;
  /** A connection for our locks and the reconcile probe. */
  redis: Redis;
  pipeline: PipelineQueue;
  poll: PollQueue;
  prefix: string;
  scheduling: SchedulingConfig;
  pipelineAttempts: number;
  log: Logger;
  metrics?: WorkerMetrics;
  now?: () => Date;
}

export interface TickReport {
  outcome: 'done' | 'locked' | 'paused';
  dueTopics: number;
  windowsScheduled: number;
  skipped: number;
  reenqueued: number;
  conflicts: number;
  /** Feed polls claimed and enqueued (delayed to their due time) by this tick. */
  pollsPlanned: number;
  /** Planned polls whose job Redis had lost, enqueued again. */
  pollsReenqueued: number;
  /** Due topics whose schedule could not be planned (recorded on the topic; the others went on). */
  scheduleErrors: number;
  durationMs: number;
}

/**
 * One tick (DESIGN §5): under a Redis lock so only one fan-out runs at a time, find due topics
 * with one indexed query per batch, record their windows in the ledger (insert + watermark
 * compare-and-set in one transaction), enqueue exactly the rows inserted, then reconcile rows
 * whose job is missing from Redis. Every step is idempotent, so a tick that dies half-way, a
 * duplicated tick or a lost lock cost time, never a duplicate or a lost window.
 */
export async function runTick(deps: TickDeps, trigger: 'scheduled' | 'manual' = 'scheduled'): Promise<TickReport> {
  const started = performance.now();
  const now = deps.now ?? (() => new Date());
  const report: TickReport = {
    outcome: 'done',
    dueTopics: 0,
    windowsScheduled: 0,
    skipped: 0,
    reenqueued: 0,
    conflicts: 0,
    pollsPlanned: 0,
    pollsReenqueued: 0,
    scheduleErrors: 0,
    durationMs: 0,
  };
  const lock = await tryAcquireLock(deps.redis, lockKey(deps.prefix, 'tick'), TICK_LOCK_TTL_MS);
  if (!lock) {
    report.outcome = 'locked';
  } else {
    const renew = setInterval(() => void lock.extend().catch(() => false), TICK_LOCK_RENEW_MS);
    try {
      const paused = await syncGlobalPause(deps);
      if (paused) {
        report.outcome = 'paused';
      } else {
        await fanOut(deps, now, report, () => lock.extend());
        report.reenqueued = await reconcile(deps, now());
      }
    } finally {
      clearInterval(renew);
      await lock.release().catch(() => false);
    }
  }
  // Polls are planned by every tick, with or without the fan-out lock: their claims are
  // compare-and-set in Postgres and their job ids come from them, so two ticks planning at
  // once plan each poll once — and a tick stuck behind a dead holder's lock still keeps the
  // feeds polled. Polling also goes on during a global pause: pausing stops digests, not
  // coverage, so the windows built after `radar resume` have everything their feeds published.
  const polls = await planPolls({ db: deps.db, redis: deps.redis, poll: deps.poll, tickMinutes: deps.scheduling.tickMinutes, log: deps.log }, now());
  report.pollsPlanned = polls.pollsPlanned;
  report.pollsReenqueued = polls.pollsReenqueued;
  report.durationMs = Math.round(performance.now() - started);
  deps.metrics?.ticks(1, { outcome: report.outcome });
  deps.metrics?.windowsScheduled(report.windowsScheduled);
  deps.metrics?.windowsReenqueued(report.reenqueued);
  deps.metrics?.windowsSkipped(report.skipped);
  deps.log.info({ trigger, ...report }, 'Scheduler tick');
  return report;
}

async function fanOut(deps: TickDeps, now: () => Date, report: TickReport, keepLock: () => Promise<boolean>): Promise<void> {
  await expireAbandonedManualRuns(deps, now());
  try {
    await planDueTopics(deps, now, report, keepLock);
  } finally {
    await publishScheduleErrors(deps, now());
  }
}

async function planDueTopics(deps: TickDeps, now: () => Date, report: TickReport, keepLock: () => Promise<boolean>): Promise<void> {
  const { lagSeconds, maxCatchupWindows } = deps.scheduling;
  let after: DueTopic | undefined;
  for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
    const at = now();
    const due = await findDueTopics(deps.db, { now: at, lagSeconds, limit: TICK_BATCH_SIZE, ...(after ? { after } : {}) });
    if (due.length === 0) return;
    after = due[due.length - 1];
    // Each topic is planned on its own: one whose schedule cannot be planned (a time zone this
    // runtime's ICU lacks, an unusable cron) is recorded on the topic and the others go on.
    const planned: PlannedTopic[] = [];
    const failures: (ScheduleFailure & { name: string })[] = [];
    for (const topic of due) {
      try {
        const plan = planDueWindows({
          schedule: topicSchedule(topic),
          watermark: topic.watermark,
          createdAt: topic.created_at,
          now: at,
          lagSeconds,
          maxCatchupWindows,
        });
        planned.push({ topic, plan });
      } catch (error) {
        failures.push({ id: topic.id, name: topic.name, error: (error instanceof Error ? error.message : String(error)).slice(0, 500) });
      }
    }
    if (failures.length > 0) {
      await recordScheduleErrors(deps.db, failures, at);
      deps.log.warn({ topics: failures.slice(0, SCHEDULE_ERRORS_LISTED).map((f) => ({ topic: f.name, error: f.error })), count: failures.length }, 'tick: topics whose schedule cannot be planned were skipped');
    }
    const applied = await applyDuePlans(deps.db, planned, at);
    await enqueueWindows(deps.pipeline, inCatchUpOrder(applied.queued), deps.pipelineAttempts);
    report.dueTopics += due.length;
    report.windowsScheduled += applied.queued.length;
    report.skipped += applied.skipped;
    report.conflicts += applied.conflicts;
    report.scheduleErrors += failures.length;
    if (!(await keepLock())) {
      deps.log.warn('tick lock expired during fan-out; stopping this tick early (the next one continues)');
      return;
    }
    if (due.length < TICK_BATCH_SIZE) return;
  }
}

/**
 * Writes the topics whose schedule cannot be planned to Redis for the alert monitor (overwritten
 * at every tick that fans out). Postgres is the record (`topics.schedule_error`); this copy only
 * lets an alert fire without Postgres, so failing to write it never fails the tick.
 */
async function publishScheduleErrors(deps: TickDeps, at: Date): Promise<void> {
  try {
    const { total, topics } = await listScheduleErrors(deps.db, SCHEDULE_ERRORS_LISTED);
    const state = { updatedAt: at.toISOString(), count: total, topics: topics.map((t) => ({ name: t.name, error: t.error, since: t.since.toISOString() })) };
    await deps.redis.set(scheduleErrorsKey(deps.prefix), JSON.stringify(state));
  } catch (error) {
    deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'tick: could not publish the schedule errors for the alert monitor');
  }
}

/** Ends the ledger rows of manual runs whose `radar run` process is gone (see MANUAL_RUN_EXPIRY_MS). */
async function expireAbandonedManualRuns(deps: TickDeps, at: Date): Promise<void> {
  const expired = await expireManualRuns(deps.db, {
    startedBefore: new Date(at.getTime() - MANUAL_RUN_EXPIRY_MS),
    now: at,
    reason: `abandoned: the manual run was still running after ${MANUAL_RUN_EXPIRY_MS / 60_000} min (its radar run process ended without finishing it)`,
  });
  if (expired.length > 0) deps.log.warn({ windows: expired.map((w) => w.id) }, 'tick: ended abandoned manual runs as failed');
}

/**
 * The order windows are enqueued in: every topic's oldest due window first, then every topic's
 * second one, and so on (by window end). The pipeline queue is FIFO and a topic's windows must
 * run one after the other (invariant 3). Enqueued topic by topic — the order the ledger insert
 * returns them — a topic's later windows sit right behind its first, are picked up alongside
 * it, find it unfinished and go back to `delayed`, and from there to the END of the queue:
 * a catch-up backlog of k windows per topic then needs k full passes over the queue (found by
 * the fault suite: 1,400 windows drained at ~7/s). By window end, a topic's next window is a
 * whole round of topics behind its predecessor, which has usually finished by then.
 */
export function inCatchUpOrder<T extends { id: number; topic_id: number; window_end: Date }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => a.window_end.getTime() - b.window_end.getTime() || a.topic_id - b.topic_id || a.id - b.id);
}

/**
 * Unfinished ledger rows whose job Redis no longer has (FLUSHALL, a restart without AOF, a
 * crash between commit and addBulk), or whose job ended while the ledger could not be written
 * (Postgres down): enqueue them again under the same job id (invariant 5).
 */
async function reconcile(deps: TickDeps, now: Date): Promise<number> {
  const rows = await findUnfinishedWindows(deps.db, { olderThan: new Date(now.getTime() - RECONCILE_GRACE_MS), limit: RECONCILE_LIMIT });
  if (rows.length === 0) return 0;
  const presence = await probeWindowJobs(deps.redis, deps.pipeline, rows.map((r) => r.id));
  if (presence.finished.length > 0) await removeWindowJobs(deps.pipeline, presence.finished);
  const lost = new Set([...presence.missing, ...presence.finished]);
  const toEnqueue = rows.filter((r) => lost.has(r.id));
  if (toEnqueue.length > 0) {
    deps.log.warn({ windows: toEnqueue.length, missing: presence.missing.length, finished: presence.finished.length }, 'reconcile: re-enqueueing windows whose job was lost');
    await enqueueWindows(deps.pipeline, toEnqueue, deps.pipelineAttempts);
  }
  return toEnqueue.length;
}

/**
 * The global pause is kept in Postgres; the pipeline queue's BullMQ pause follows it, so a
 * Redis that lost its data is paused again by the next tick.
 */
async function syncGlobalPause(deps: TickDeps): Promise<boolean> {
  const { paused } = await readGlobalPause(deps.db);
  const queuePaused = await deps.pipeline.isPaused();
  if (paused && !queuePaused) await deps.pipeline.pause();
  if (!paused && queuePaused) await deps.pipeline.resume();
  return paused;
}
