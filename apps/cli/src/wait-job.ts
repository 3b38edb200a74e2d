import type { Job, Queue } from 'bullmq';

export type WaitOutcome =
  | { state: 'completed'; job: Job }
  | { state: 'failed'; job: Job }
  /** Still not finished at the deadline; `state` is BullMQ's (waiting, active, delayed, ...). */
  | { state: 'timeout'; lastState: string; job: Job | undefined };

/**
 * Polls one job until it finishes or the deadline passes. Polling (a GET every 250 ms)
 * instead of QueueEvents: QueueEvents needs a blocking Redis connection of its own, and a
 * short-lived CLI waiting on a single job gains nothing from a stream subscription.
 */
export async function waitForJob(queue: Queue, jobId: string, timeoutMs: number, pollMs = 250): Promise<WaitOutcome> {
  const deadline = Date.now() + timeoutMs;
  let lastState = 'unknown';
  let job: Job | undefined;
  for (;;) {
    job = await queue.getJob(jobId);
    if (job) {
      lastState = await job.getState();
      if (lastState === 'completed') return { state: 'completed', job };
      if (lastState === 'failed') return { state: 'failed', job };
    }
    if (Date.now() >= deadline) return { state: 'timeout', lastState, job };
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}
