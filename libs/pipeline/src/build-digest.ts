import {
  insertManualWindow,
  topicFeeds,
  persistDigest,
  selectCandidates,
  topicSchedule,
  type Topic,
  type WindowRow,
} from '@aharadar/db';
import { windowContaining } from '@aharadar/scheduling';
import { mapWithConcurrency } from './concurrency.js';
import { ensureFresh, type FreshnessDeps } from './freshness.js';
import { rankCandidates } from './rank.js';

/** What building a digest needs: polling (for freshness polls) plus how many feeds to refresh at once. */
export interface DigestDeps extends FreshnessDeps {
  sourceConcurrency: number;
}

/**
 * How far before a window a late item may come from: an item published in a window whose
 * digest was built before it appeared goes to the next window not yet built, if it is no
 * older than this. Older stragglers are not news any more.
 */
export const LATE_ITEM_LOOKBACK_MS = 48 * 3600 * 1000;

export interface DigestBuild {
  persisted: boolean;
  digestId: number | null;
  status: 'complete' | 'empty' | 'already_finished';
  items: number;
  candidates: number;
  excluded: number;
  sourcesTotal: number;
  sourcesFailed: number;
  /** Feeds polled first because they had not been polled since the window ended. */
  freshnessPolls: number;
  itemsFound: number;
  itemsNew: number;
  durationMs: number;
}

/**
 * Builds one window's digest from what polling stored (DESIGN §6.2): first every subscribed
 * feed not polled since the window ended is polled (shared with every other run that needs
 * it; a failing feed never fails the run), then the window's candidates are selected, ranked,
 * and the digest is persisted with its items and claims in one transaction.
 * Safe to call again for the same window: polls are idempotent and the persist step writes
 * nothing for a window that has already finished.
 */
export async function buildDigest(deps: DigestDeps, topic: Topic, window: WindowRow): Promise<DigestBuild> {
  const started = performance.now();
  const subscribed = await topicFeeds(deps.db, topic.id);
  const refreshed = await mapWithConcurrency(subscribed, deps.sourceConcurrency, ({ feed }) => ensureFresh(deps, feed, window.window_end, window.id));
  const polls = refreshed.flatMap((r) => (r.polled ? [r.polled] : []));
  // Health after the freshness polls: a feed that failed (or is disabled) counts as failed.
  const health = await topicFeeds(deps.db, topic.id);
  const sourcesFailed = health.filter(({ feed }) => !feed.enabled || feed.last_status === 'error').length;
  const candidates = await selectCandidates(deps.db, {
    topicId: topic.id,
    windowStart: window.window_start,
    windowEnd: window.window_end,
    lookbackMs: LATE_ITEM_LOOKBACK_MS,
  });
  const ranking = rankCandidates(
    candidates.map((c) => ({
      id: c.id,
      title: c.title,
      summary: c.summary,
      effectiveAt: c.effective_at,
      points: c.points,
      comments: c.comments,
      sourceIds: c.source_ids,
      sourceWeight: c.source_weight,
    })),
    {
      windowStart: window.window_start,
      windowEnd: window.window_end,
      keywords: topic.keywords,
      excludeKeywords: topic.exclude_keywords,
      digestSize: topic.digest_size,
      maxPerSource: topic.max_per_source,
    },
  );
  const status = ranking.ranked.length > 0 ? 'complete' : 'empty';
  const durationMs = performance.now() - started;
  const outcome = await persistDigest(deps.db, {
    window,
    status,
    items: ranking.ranked.map((r) => ({ itemId: r.id, rank: r.rank, score: r.score, breakdown: r.breakdown })),
    candidateIds: candidates.map((c) => c.id),
    sourcesTotal: subscribed.length,
    sourcesFailed,
    durationMs,
    finishedAt: deps.now(),
  });
  return {
    persisted: outcome.persisted,
    digestId: outcome.persisted ? outcome.digestId : null,
    status: outcome.persisted ? status : 'already_finished',
    items: ranking.ranked.length,
    candidates: candidates.length,
    excluded: ranking.excluded,
    sourcesTotal: subscribed.length,
    sourcesFailed,
    freshnessPolls: polls.length,
    itemsFound: polls.reduce((n, p) => n + p.itemsFound, 0),
    itemsNew: polls.reduce((n, p) => n + p.newItems, 0),
    durationMs,
  };
}

/**
 * `radar run TOPIC`: an ad-hoc digest now, over the time since the last scheduled window
 * ended (DESIGN §4). It is a preview: a `manual` ledger row outside the unique constraint,
 * no watermark change, and no item claims, so the items still reach their scheduled window.
 */
export async function buildManualDigest(deps: DigestDeps, topic: Topic): Promise<DigestBuild & { window: WindowRow }> {
  const now = deps.now();
  const start = topic.watermark ?? windowContaining(topicSchedule(topic), topic.created_at).start;
  const end = now.getTime() > start.getTime() ? now : new Date(start.getTime() + 1000);
  const window = await insertManualWindow(deps.db, topic.id, { start, end }, now);
  const build = await buildDigest(deps, topic, window);
  return { ...build, window };
}
