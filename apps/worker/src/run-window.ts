import {
  findNextUnfinishedWindow,
  findTopicById,
  findWindow,
  persistFailedDigest,
  recordWindowError,
  startWindowRun,
} from '@aharadar/db';
import { buildDigest, type DigestDeps } from '@aharadar/pipeline';
import { lockKey, parseRunWindowPayload, tryAcquireLock, windowJobId, type PipelineQueue, type RunWindowPayload } from '@aharadar/queue';
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerMetrics } from './metrics.js';

/** A run whose predecessor is unfinished (or whose topic is busy) waits this long, plus jitter. */
export const ORDER_WAIT_MS = 2_000;
const ORDER_WAIT_JITTER_MS = 1_000;

export interface RunWindowDeps extends DigestDeps {
  redis: Redis;
  pipeline: PipelineQueue;
  prefix: string;
  /** Per-topic run lock TTL (the job lock duration); kept alive every third of it while the run lasts. */
  topicLockTtlMs: number;
  metrics?: WorkerMetrics;
}

export type RunWindowResult =
  | { outcome: 'built'; digestId: number | null; status: string; items: number; candidates: number; sourcesFailed: number }
  | { outcome: 'finished_already' | 'gone' };

/**
 * Processes one `run_window` job.
 *
 * Order (invariant 3): runs of one topic must not overlap and must finish in window order.
 * A per-topic Redis lock keeps two runs of a topic apart; a run whose earlier window is still
 * unfinished goes back to `delayed` (BullMQ's DelayedError, which costs no attempt) instead of
 * running. Runs of different topics share nothing and use every worker.
 *
 * Exactly one digest (invariant 2): the digest and the ledger's end state are written in one
 * transaction that first checks the row is still unfinished, so a duplicate delivery or a
 * retry after a crash writes nothing twice. On the last attempt a failure is recorded as a
 * `failed` digest with its reason.
 */
export async function processRunWindow(deps: RunWindowDeps, job: Job<RunWindowPayload>, token: string | undefined): Promise<RunWindowResult> {
  const payload = parseRunWindowPayload(job.data);
  const window = await findWindow(deps.db, payload.windowId);
  if (!window) return { outcome: 'gone' };
  if (window.status !== 'queued' && window.status !== 'running') return { outcome: 'finished_already' };

  const lock = await tryAcquireLock(deps.redis, lockKey(deps.prefix, `topic-${window.topic_id}`), deps.topicLockTtlMs);
  if (!lock) return waitYourTurn(job, token);
  const keepAlive = setInterval(() => void lock.extend().catch(() => false), deps.topicLockTtlMs / 3);
  const started = performance.now();
  try {
    const start = await startWindowRun(deps.db, window, deps.now());
    if (start.outcome === 'predecessor_unfinished') return await waitYourTurn(job, token);
    if (start.outcome === 'finished') return { outcome: 'finished_already' };
    const running = start.window;
    const topic = await findTopicById(deps.db, window.topic_id);
    if (!topic) return { outcome: 'gone' };

    deps.log.info({ windowId: window.id, topicId: topic.id, start: window.window_start, end: window.window_end, attempt: running.attempts }, 'run started');
    const build = await buildDigest({ ...deps, log: deps.log.child({ windowId: window.id }) }, topic, running);
    const seconds = (performance.now() - started) / 1000;
    deps.metrics?.runs(1, { status: build.status });
    deps.metrics?.runDuration(seconds);
    deps.metrics?.itemsIngested(build.itemsNew);
    deps.metrics?.sourceErrors(build.sourcesFailed);
    deps.log.info(
      { windowId: window.id, topicId: topic.id, status: build.status, digestId: build.digestId, items: build.items, candidates: build.candidates, itemsNew: build.itemsNew, sourcesFailed: build.sourcesFailed, durationMs: Math.round(seconds * 1000) },
      'run finished',
    );
    await wakeSuccessor(deps, running);
    return { outcome: 'built', digestId: build.digestId, status: build.status, items: build.items, candidates: build.candidates, sourcesFailed: build.sourcesFailed };
  } catch (error) {
    if (error instanceof DelayedError) throw error;
    await recordFailure(deps, job, window, error);
    throw error;
  } finally {
    clearInterval(keepAlive);
    await lock.release().catch(() => false);
  }
}

async function waitYourTurn(job: Job<RunWindowPayload>, token: string | undefined): Promise<never> {
  await job.moveToDelayed(Date.now() + ORDER_WAIT_MS + Math.floor(Math.random() * ORDER_WAIT_JITTER_MS), token);
  throw new DelayedError();
}

/** Last attempt: the window ends `failed` with a failed digest. Earlier: the error is noted and BullMQ retries. */
async function recordFailure(deps: RunWindowDeps, job: Job<RunWindowPayload>, window: Parameters<typeof persistFailedDigest>[1], error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const attempts = job.opts.attempts ?? 1;
  const finalAttempt = job.attemptsMade + 1 >= attempts;
  try {
    if (finalAttempt) {
      await persistFailedDigest(deps.db, window, `after ${attempts} attempts: ${message}`.slice(0, 2_000), deps.now());
      deps.metrics?.runs(1, { status: 'failed' });
      deps.log.error({ windowId: window.id, err: message, attempts }, 'run failed for good');
    } else {
      await recordWindowError(deps.db, window.id, message.slice(0, 2_000));
      deps.log.warn({ windowId: window.id, err: message, attempt: job.attemptsMade + 1, of: attempts }, 'run failed; will retry');
    }
  } catch (secondary) {
    // Postgres is down too: the job fails in BullMQ and the tick's reconcile re-enqueues the
    // still-unfinished ledger row once Postgres is back (DESIGN invariant 6).
    deps.log.error({ windowId: window.id, err: message, recordErr: secondary instanceof Error ? secondary.message : String(secondary) }, 'run failed and could not be recorded');
  }
}

/** The next window of the topic may be waiting in `delayed` for this one: start it now. */
async function wakeSuccessor(deps: RunWindowDeps, window: Parameters<typeof findNextUnfinishedWindow>[1]): Promise<void> {
  try {
    const next = await findNextUnfinishedWindow(deps.db, window);
    if (!next) return;
    const job = await deps.pipeline.getJob(windowJobId(next.id));
    if (job && (await job.isDelayed())) await job.promote();
  } catch {
    // Only an optimisation: the delayed job starts by itself a moment later.
  }
}
