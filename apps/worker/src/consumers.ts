import { PIPELINE_QUEUE, SCHEDULER_QUEUE, type RunWindowPayload, type TickPayload, parseTickPayload } from '@aharadar/queue';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { processRunWindow, type RunWindowDeps } from './run-window.js';
import { runTick, type TickDeps } from './tick.js';

/** Stalls tolerated before BullMQ fails a job; chaos (repeated kills) must not fail a window. */
export const MAX_STALLED_COUNT = 5;

export interface Consumers {
  tick: Worker<TickPayload>;
  pipeline: Worker<RunWindowPayload>;
}

/** Starts the two consumers of a worker process: ticks (one at a time) and window runs. */
export function startConsumers(options: {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /**
   * BullMQ's job lock: a worker that dies (SIGKILL) stops renewing it, and after about this
   * long its active jobs are "stalled" and handed to another worker (invariant 4).
   */
  jobLockMs: number;
  tick: TickDeps;
  run: RunWindowDeps;
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
  return { tick, pipeline };
}
