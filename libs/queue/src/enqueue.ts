import type { Redis } from 'ioredis';
import { windowJobId } from './job-ids.js';
import { RUN_WINDOW_JOB } from './names.js';
import { runWindowJobOptions, type PipelineQueue } from './queues.js';

export interface EnqueueableWindow {
  id: number;
  topic_id: number;
}

/** addBulk is one MULTI per call; chunks keep a huge catch-up from building one giant reply. */
const ADD_BULK_CHUNK = 2_000;

/**
 * Adds one `run_window` job per ledger row with `addBulk`. The job id comes from the row, so a
 * window enqueued twice (a retried tick, a reconcile racing a fan-out) is one job.
 */
export async function enqueueWindows(queue: PipelineQueue, windows: readonly EnqueueableWindow[], attempts: number): Promise<number> {
  const options = runWindowJobOptions(attempts);
  for (let i = 0; i < windows.length; i += ADD_BULK_CHUNK) {
    const chunk = windows.slice(i, i + ADD_BULK_CHUNK);
    await queue.addBulk(
      chunk.map((w) => ({
        name: RUN_WINDOW_JOB,
        data: { windowId: w.id, topicId: w.topic_id },
        opts: { ...options, jobId: windowJobId(w.id) },
      })),
    );
  }
  return windows.length;
}

export interface JobPresence {
  /** No job with that id in Redis (lost to FLUSHALL, or never added after a crash). */
  missing: number[];
  /** A job exists but has finished (failed for good, or completed) while the ledger says it has not. */
  finished: number[];
}

/**
 * Checks in one round trip which ledger rows have lost their job. Used by the tick's
 * reconcile step (DESIGN §5): `EXISTS` on each job hash plus its score in the failed and
 * completed sets, all pipelined.
 */
export async function probeWindowJobs(redis: Redis, queue: PipelineQueue, windowIds: readonly number[]): Promise<JobPresence> {
  if (windowIds.length === 0) return { missing: [], finished: [] };
  const failedKey = queue.toKey('failed');
  const completedKey = queue.toKey('completed');
  const pipeline = redis.pipeline();
  for (const id of windowIds) {
    const jobId = windowJobId(id);
    pipeline.exists(queue.toKey(jobId));
    pipeline.zscore(failedKey, jobId);
    pipeline.zscore(completedKey, jobId);
  }
  const replies = (await pipeline.exec()) ?? [];
  const missing: number[] = [];
  const finished: number[] = [];
  windowIds.forEach((id, index) => {
    const [existsErr, exists] = replies[index * 3] ?? [null, 0];
    const [, failedScore] = replies[index * 3 + 1] ?? [null, null];
    const [, completedScore] = replies[index * 3 + 2] ?? [null, null];
    if (existsErr) throw existsErr;
    if (exists === 0) missing.push(id);
    else if (failedScore !== null || completedScore !== null) finished.push(id);
  });
  return { missing, finished };
}

/** Removes finished jobs so their windows can be enqueued again under the same id. */
export async function removeWindowJobs(queue: PipelineQueue, windowIds: readonly number[]): Promise<void> {
  for (const id of windowIds) await queue.remove(windowJobId(id));
}
