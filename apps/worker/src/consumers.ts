import {
  PIPELINE_QUEUE,
  POLL_FEED_JOB,
  POLL_QUEUE,
  PRUNE_JOB,
  SCHEDULER_QUEUE,
  parseTickPayload,
  type PollFeedPayload,
  type PrunePayload,
  type RunWindowPayload,
  type TickPayload,
} from '@aharadar/queue';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { processPollFeed, type PollFeedDeps } from './poll-feed.js';
import { processPrune, type PruneDeps } from './prune.js';
import { processRunWindow, type RunWindowDeps } from './run-window.js';
import { runTick, type TickDeps } from './tick.js';

/** Stalls tolerated before BullMQ fails a job; chaos (repeated kills) must not fail a window. */
export const MAX_STALLED_COUNT = 5;

/**
 * TTL of a feed's poll lock in a worker (a live poll extends it every third of it). It must
 * lapse no later than BullMQ hands a dead worker's poll job over: the job lock (`jobLockMs`,
 * renewed every half of it) can lapse as soon as `jobLockMs / 2` after the kill, and the
 * handed-over job that finds the feed lock still held skips its poll (`being_polled`: it
 * takes the lock for another poll in progress, which would plan the next one). With a fixed
 * 30 s TTL a killed poll left its feed unpolled for up to 30 s (fault scenario 7: feeds that
 * turn over in seconds missed items after each kill).
 */
export function feedLockTtlMs(jobLockMs: number): number {
  return Math.max(300, Math.floor(jobLockMs / 2));
}

/**
 * Lease of a per-host fetch slot (renewed by its holder every third of it): how long a killed
 * worker's slot stays blocked. Half the job lock, like the feed lock, at least 2 s (a renewal
 * may be late under load; a lapsed live lease lets one extra request in), and never more than
 * the unrenewed lease it replaced (the whole-request timeout + 5 s).
 */
export function hostLeaseMs(jobLockMs: number, fetchTimeoutMs: number): number {
  return Math.min(fetchTimeoutMs + 5_000, Math.max(2_000, Math.floor(jobLockMs / 2)));
}

export interface Consumers {
  tick: Worker<TickPayload>;
  pipeline: Worker<RunWindowPayload>;
  poll: Worker<PollFeedPayload | PrunePayload>;
}

/**
 * The consumers whose BullMQ run loop has ended (`isRunning()` false), by name: a consumer that
 * stopped takes no more jobs of its queue, though the others go on. /readyz names them, so an
 * unhealthy worker says which queue it no longer consumes.
 */
export function stoppedConsumers(consumers: Consumers): Array<keyof Consumers> {
  return (Object.keys(consumers) as Array<keyof Consumers>).filter((name) => !consumers[name].isRunning());
}

/** Starts the consumers of a worker process: ticks (one at a time), window runs, and feed polls with retention. */
export function startConsumers(options: {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /**
   * BullMQ's job lock: a worker that dies (SIGKILL) stops renewing it, and after about this
   * long its active jobs are "stalled" and handed to another worker (invariant 4).
   */
  jobLockMs: number;
  /** Poll jobs at once in this process (I/O-bound; the per-host gate still applies). */
  pollConcurrency: number;
  tick: TickDeps;
  run: RunWindowDeps;
  poll: PollFeedDeps;
  prune: PruneDeps;
}): Consumers {
  const common = { connection: options.connection, prefix: options.prefix, lockDuration: options.jobLockMs, stalledInterval: options.jobLockMs, maxStalledCount: MAX_STALLED_COUNT };
  const tick = new Worker<TickPayload>(
    SCHEDULER_QUEUE,
    async (job) => runTick(options.tick, parseTickPayload(job.data).manual ? 'manual' : 'scheduled'),
    { ...common, concurrency: 1 },
  );
  const pipeline = new Worker<RunWindowPayload>(PIPELINE_QUEUE, async (job, token) => processRunWindow(options.run, job, token), {
    ...common,
    concurrency: options.concurrency,
  });
  const poll = new Worker<PollFeedPayload | PrunePayload>(
    POLL_QUEUE,
    async (job) => {
      if (job.name === POLL_FEED_JOB) return processPollFeed(options.poll, job as Job<PollFeedPayload>);
      if (job.name === PRUNE_JOB) return processPrune(options.prune);
      throw new Error(`unknown job "${job.name}" on queue ${POLL_QUEUE}`);
    },
    { ...common, concurrency: options.pollConcurrency },
  );
  return { tick, pipeline, poll };
}
