import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { PIPELINE_QUEUE, POLL_QUEUE, SCHEDULER_QUEUE } from './names.js';
import type { PollFeedPayload, PrunePayload, RunWindowPayload, TickPayload } from './payloads.js';

export type SchedulerQueue = Queue<TickPayload>;
export type PipelineQueue = Queue<RunWindowPayload>;
export type PollQueue = Queue<PollFeedPayload | PrunePayload>;

export interface Queues {
  scheduler: SchedulerQueue;
  pipeline: PipelineQueue;
  poll: PollQueue;
  close(): Promise<void>;
}

/** First retry of a failed run after 5 s, then 10, 20, 40 … (BullMQ exponential backoff). */
export const RUN_WINDOW_BACKOFF_MS = 5_000;
/** Finished jobs are kept a day for the dashboard; the ledger in Postgres is the real history. */
export const COMPLETED_JOB_RETENTION_S = 24 * 3600;
export const FAILED_JOB_RETENTION_S = 7 * 24 * 3600;
/** A failed tick (Postgres down) is retried a few times before the next scheduled one. */
export const TICK_ATTEMPTS = 3;
export const TICK_BACKOFF_MS = 2_000;

export function runWindowJobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: RUN_WINDOW_BACKOFF_MS },
    removeOnComplete: { age: COMPLETED_JOB_RETENTION_S, count: 10_000 },
    removeOnFail: { age: FAILED_JOB_RETENTION_S },
  };
}

/**
 * A poll job only fails when our own database does (a feed's failure is an outcome, recorded
 * and backed off); a few quick retries, then reconcile re-enqueues it from its claim.
 */
export const POLL_ATTEMPTS = 3;
export const POLL_BACKOFF_MS = 2_000;
export const pollJobOptions = {
  attempts: POLL_ATTEMPTS,
  backoff: { type: 'exponential', delay: POLL_BACKOFF_MS },
  // Thousands of polls an hour: keep little history in Redis (fetch_results is the history).
  removeOnComplete: { age: 3600, count: 1_000 },
  removeOnFail: { age: FAILED_JOB_RETENTION_S, count: 10_000 },
} as const satisfies JobsOptions;

export const tickJobOptions = {
  attempts: TICK_ATTEMPTS,
  backoff: { type: 'exponential', delay: TICK_BACKOFF_MS },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} as const satisfies JobsOptions;

/** The queues on one shared connection (producers only; workers open their own). */
export function createQueues(connection: Redis, prefix: string): Queues {
  const scheduler: SchedulerQueue = new Queue<TickPayload>(SCHEDULER_QUEUE, { connection, prefix });
  const pipeline: PipelineQueue = new Queue<RunWindowPayload>(PIPELINE_QUEUE, { connection, prefix });
  const poll: PollQueue = new Queue<PollFeedPayload | PrunePayload>(POLL_QUEUE, { connection, prefix });
  return {
    scheduler,
    pipeline,
    poll,
    async close() {
      await Promise.all([scheduler.close(), pipeline.close(), poll.close()]);
    },
  };
}
