import { findFeed, releasePollClaim } from '@aharadar/db';
import { pollFeed, type FreshnessDeps, type PollResult } from '@aharadar/pipeline';
import { parsePollFeedPayload, type PollFeedPayload } from '@aharadar/queue';
import type { Job } from 'bullmq';
import type { WorkerMetrics } from './metrics.js';

export interface PollFeedDeps extends FreshnessDeps {
  metrics?: WorkerMetrics;
}

export type PollFeedJobResult =
  | { outcome: 'polled'; status: PollResult['status']; newEntries: number; nextPollAt: string }
  /** The claim is no longer this job's (a later claim, a removed or disabled feed). */
  | { outcome: 'stale' }
  /** The feed was polled since this poll was planned (a window's freshness poll), or is being polled now. */
  | { outcome: 'skipped'; reason: 'polled_meanwhile' | 'being_polled' };

/**
 * Processes one `poll_feed` job: the planned poll `seq` of a feed (DESIGN §6.1).
 *
 * The claim in Postgres is the truth, the job only points at it: a job whose claim is gone
 * (a duplicate, a feed removed or disabled) does nothing. A feed that a run's freshness poll
 * polled after this poll was planned has a later `next_poll_at`: polling again now would only
 * be impolite, so the claim is released and the next tick plans the new time. Otherwise the
 * feed is polled under its lock and the poll's transaction releases the claim.
 */
export async function processPollFeed(deps: PollFeedDeps, job: Job<PollFeedPayload>): Promise<PollFeedJobResult> {
  const payload = parsePollFeedPayload(job.data);
  const feed = await findFeed(deps.db, payload.feedId);
  if (!feed || feed.poll_seq !== payload.seq || feed.poll_queued_at === null) return stale(deps);
  if (!feed.enabled) {
    await releasePollClaim(deps.db, feed.id, payload.seq);
    return stale(deps);
  }
  if (feed.poll_due_at !== null && feed.next_poll_at.getTime() > feed.poll_due_at.getTime()) {
    await releasePollClaim(deps.db, feed.id, payload.seq);
    deps.metrics?.polls(1, { status: 'skipped' });
    return { outcome: 'skipped', reason: 'polled_meanwhile' };
  }
  const lagMs = Math.max(0, deps.now().getTime() - payload.dueAt);
  const attempt = await deps.feedLocks.run(feed.id, async () => {
    const current = await findFeed(deps.db, feed.id);
    if (!current || current.poll_seq !== payload.seq || current.poll_queued_at === null) return null;
    return pollFeed(deps, current, { kind: 'scheduled', claimSeq: payload.seq, windowId: null, lagMs });
  });
  if (!attempt.ran) {
    // Another process is polling this feed right now (a freshness poll): it plans the next poll.
    await releasePollClaim(deps.db, feed.id, payload.seq);
    deps.metrics?.polls(1, { status: 'skipped' });
    deps.log.info({ feedId: feed.id, seq: payload.seq, attempt: job.attemptsMade, lagMs }, 'planned poll skipped: the feed lock is held (another poll in progress)');
    return { outcome: 'skipped', reason: 'being_polled' };
  }
  const result = attempt.value;
  if (!result) return stale(deps);
  deps.metrics?.polls(1, { status: result.status });
  deps.metrics?.pollLagSeconds(lagMs / 1000);
  deps.metrics?.pollBytes(result.bytes);
  deps.metrics?.itemsIngested(result.newItems);
  if (result.status === 'error') deps.metrics?.sourceErrors(1);
  deps.log.debug({ feedId: feed.id, status: result.status, newEntries: result.newEntries, lagMs, nextPollAt: result.nextPollAt, reason: result.reason }, 'feed polled');
  return { outcome: 'polled', status: result.status, newEntries: result.newEntries, nextPollAt: result.nextPollAt.toISOString() };
}

function stale(deps: PollFeedDeps): PollFeedJobResult {
  deps.metrics?.polls(1, { status: 'skipped' });
  return { outcome: 'stale' };
}
