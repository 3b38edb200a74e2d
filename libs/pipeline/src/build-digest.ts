import {
  enabledSources,
  insertManualWindow,
  persistDigest,
  selectCandidates,
  topicSchedule,
  type Topic,
  type WindowRow,
} from '@aharadar/db';
import { windowContaining } from '@aharadar/scheduling';
import { ingestSources, type IngestDeps } from './ingest.js';
import { rankCandidates } from './rank.js';

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
  itemsFound: number;
  itemsNew: number;
  durationMs: number;
}

/**
 * Runs one window end to end (DESIGN §6): ingest every source, select the window's
 * candidates, rank them, and persist the digest with its items in one transaction.
 * Safe to call again for the same window: ingest is idempotent and the persist step
 * writes nothing for a window that has already finished.
 */
export async function buildDigest(deps: IngestDeps, topic: Topic, window: WindowRow): Promise<DigestBuild> {
  const started = performance.now();
  const sources = await enabledSources(deps.db, topic.id);
  const ingest = await ingestSources(deps, sources, window.id);
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
    sourcesTotal: sources.length,
    sourcesFailed: ingest.failed,
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
    sourcesTotal: sources.length,
    sourcesFailed: ingest.failed,
    itemsFound: ingest.itemsFound,
    itemsNew: ingest.itemsNew,
    durationMs,
  };
}

/**
 * `radar run TOPIC`: an ad-hoc digest now, over the time since the last scheduled window
 * ended (DESIGN §4). It is a preview: a `manual` ledger row outside the unique constraint,
 * no watermark change, and no item claims, so the items still reach their scheduled window.
 */
export async function buildManualDigest(deps: IngestDeps, topic: Topic): Promise<DigestBuild & { window: WindowRow }> {
  const now = deps.now();
  const start = topic.watermark ?? windowContaining(topicSchedule(topic), topic.created_at).start;
  const end = now.getTime() > start.getTime() ? now : new Date(start.getTime() + 1000);
  const window = await insertManualWindow(deps.db, topic.id, { start, end }, now);
  const build = await buildDigest(deps, topic, window);
  return { ...build, window };
}
