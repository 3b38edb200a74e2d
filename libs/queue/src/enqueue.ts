import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { pollJobId, pruneJobId, windowJobId } from './job-ids.js';
import { POLL_FEED_JOB, PRUNE_JOB, RUN_WINDOW_JOB } from './names.js';
import { pollJobOptions, runWindowJobOptions, type PipelineQueue, type PollQueue } from './queues.js';

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

export interface EnqueueablePoll {
  feedId: number;
  seq: number;
  dueAt: Date;
}

/**
 * Adds one delayed `poll_feed` job per planned poll, due at its planned time, so polls due
 * within the next tick interval spread over it instead of bursting at each tick. The job id
 * comes from the claim in Postgres, so a poll enqueued twice is one job.
 */
export async function enqueuePolls(queue: PollQueue, polls: readonly EnqueueablePoll[], now: Date): Promise<number> {
  for (let i = 0; i < polls.length; i += ADD_BULK_CHUNK) {
    const chunk = polls.slice(i, i + ADD_BULK_CHUNK);
    await queue.addBulk(
      chunk.map((p) => ({
        name: POLL_FEED_JOB,
        data: { feedId: p.feedId, seq: p.seq, dueAt: p.dueAt.getTime() },
        opts: { ...pollJobOptions, jobId: pollJobId(p.feedId, p.seq), delay: Math.max(0, p.dueAt.getTime() - now.getTime()) },
      })),
    );
  }
  return polls.length;
}

/** Adds this hour's retention job (a no-op when a tick of the same hour already did). */
export async function enqueuePrune(queue: PollQueue, now: Date): Promise<void> {
  await queue.add(PRUNE_JOB, {}, { ...pollJobOptions, jobId: pruneJobId(now) });
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
  return probeJobs(redis, queue, windowIds, windowJobId);
}

/** {@link probeWindowJobs} for any queue and job-id scheme (planned polls use it too). */
export async function probeJobs<K>(redis: Redis, queue: Queue, keys: readonly K[], jobIdOf: (key: K) => string): Promise<{ missing: K[]; finished: K[] }> {
  if (keys.length === 0) return { missing: [], finished: [] };
  const failedKey = queue.toKey('failed');
  const completedKey = queue.toKey('completed');
  const pipeline = redis.pipeline();
  for (const key of keys) {
    const jobId = jobIdOf(key);
    pipeline.exists(queue.toKey(jobId));
    pipeline.zscore(failedKey, jobId);
    pipeline.zscore(completedKey, jobId);
  }
  const replies = (await pipeline.exec()) ?? [];
  const missing: K[] = [];
  const finished: K[] = [];
  keys.forEach((key, index) => {
    const [existsErr, exists] = replies[index * 3] ?? [null, 0];
    const [, failedScore] = replies[index * 3 + 1] ?? [null, null];
    const [, completedScore] = replies[index * 3 + 2] ?? [null, null];
    if (existsErr) throw existsErr;
    if (exists === 0) missing.push(key);
    else if (failedScore !== null || completedScore !== null) finished.push(key);
  });
  return { missing, finished };
}

/** Removes finished jobs so their windows can be enqueued again under the same id. */
export async function removeWindowJobs(queue: PipelineQueue, windowIds: readonly number[]): Promise<void> {
  for (const id of windowIds) await queue.remove(windowJobId(id));
}
