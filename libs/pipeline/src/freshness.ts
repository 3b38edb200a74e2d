import { findFeed, type Feed } from '@aharadar/db';
import { pollFeed, type PollDeps, type PollResult } from './poll-feed.js';

/**
 * One poll of a feed at a time, across every worker and the CLI: a Redis lock per feed,
 * kept alive while the poll lasts. `run` returns `{ ran: false }` at once when another process
 * holds it. (Wired from libs/queue; an interface here so the pipeline depends on no Redis.)
 */
export interface FeedLocks {
  run<T>(feedId: number, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
}

export interface FreshnessDeps extends PollDeps {
  feedLocks: FeedLocks;
}

/** A run waits at most this long for another process's poll of the same feed, then uses what is stored. */
export const FRESHNESS_WAIT_MS = 60_000;
/** How often a waiting run looks whether the other poll has finished. */
export const FRESHNESS_RECHECK_MS = 100;

/** Whether a window ending at `since` needs this feed polled first (and may poll it now). */
export function needsFreshnessPoll(feed: Pick<Feed, 'enabled' | 'last_polled_at' | 'not_before'>, since: Date, now: Date): boolean {
  if (!feed.enabled) return false;
  if (feed.last_polled_at !== null && feed.last_polled_at.getTime() >= since.getTime()) return false;
  // The publisher asked us to wait (Retry-After, max-age, ttl) or the feed is backing off
  // after failures: the window is built from what is stored rather than break that promise.
  return feed.not_before === null || feed.not_before.getTime() <= now.getTime();
}

export type FreshnessOutcome = { polled: PollResult } | { polled: null; reason: 'fresh' | 'polled_by_another' | 'waited_too_long' | 'gone' };

/**
 * Makes sure a feed has been polled since `since` (a window's end) before the window's digest
 * is built from the store (DESIGN §6.2 step 1): no window is built from data older than its
 * end. The poll is shared: every run that needs it tries the feed's lock; the first polls,
 * the others wait for it and find the feed fresh — so 21 topics whose windows end together
 * cause one request, not 21. A failing feed is recorded by the poll and never fails the run.
 */
export async function ensureFresh(deps: FreshnessDeps, feed: Feed, since: Date, windowId: number | null): Promise<FreshnessOutcome> {
  if (!needsFreshnessPoll(feed, since, deps.now())) return { polled: null, reason: 'fresh' };
  const deadline = Date.now() + FRESHNESS_WAIT_MS;
  for (let waited = false; ; waited = true) {
    const attempt = await deps.feedLocks.run(feed.id, async () => {
      const current = await findFeed(deps.db, feed.id);
      if (!current) return null;
      if (!needsFreshnessPoll(current, since, deps.now())) return null;
      return pollFeed(deps, current, { kind: 'freshness', claimSeq: null, windowId, lagMs: null });
    });
    if (attempt.ran) return attempt.value ? { polled: attempt.value } : { polled: null, reason: waited ? 'polled_by_another' : 'fresh' };
    if (Date.now() >= deadline) return { polled: null, reason: 'waited_too_long' };
    await new Promise((resolve) => setTimeout(resolve, FRESHNESS_RECHECK_MS));
    const current = await findFeed(deps.db, feed.id);
    if (!current) return { polled: null, reason: 'gone' };
    if (!needsFreshnessPoll(current, since, deps.now())) return { polled: null, reason: 'polled_by_another' };
  }
}
