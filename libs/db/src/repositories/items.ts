import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, SourceFetchStatus } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** An item as a source delivered it, normalised by the pipeline. */
export interface ItemInput {
  externalId: string;
  url: string | null;
  canonicalUrl: string | null;
  /**
   * The dedupe key: sha256 of the canonical URL, so one story seen in two sources is one row.
   * Items without a URL get a key derived from (source, external id) instead.
   */
  urlHash: string;
  title: string;
  summary: string | null;
  author: string | null;
  publishedAt: Date | null;
  points: number | null;
  comments: number | null;
}

export interface UpsertOutcome {
  found: number;
  inserted: number;
}

/** One fetch of one source, as ingest hands it over for storage. */
export interface SourceFetchInput {
  sourceId: number;
  windowId: number | null;
  status: SourceFetchStatus;
  /** What the fetch delivered, normalised (empty for errors and 304s). */
  items: ItemInput[];
  httpStatus: number | null;
  errorCode: string | null;
  error: string | null;
  durationMs: number;
  bytes: number;
  /** New cache validators; undefined keeps the stored ones (e.g. after an error). */
  validators?: { etag: string | null; lastModified: string | null };
  at: Date;
}

/**
 * Stores the fetches of several sources in ONE statement (data-modifying CTEs, so one round
 * trip and one atomic commit for the whole batch):
 * - the items, upserted by URL hash (refreshing engagement counts of known stories), and every
 *   item↔source link — the same story from two sources is one item linked to both;
 * - one `fetch_results` history row per fetch, with its found/new counts;
 * - each source's current health (status, error, failure streak, cache validators).
 * Items are written in URL-hash order, so concurrent writers lock them in the same order.
 * Re-running it with the same input adds history rows but no duplicate items or links: runs are
 * retried, and a retry must not duplicate anything. A new item counts as new for the first
 * source (in input order) that carried it. Returns one outcome per input, in order.
 */
export async function storeSourceFetches(db: Executor, fetches: readonly SourceFetchInput[]): Promise<UpsertOutcome[]> {
  if (fetches.length === 0) return [];
  const perSource = fetches.map((f) => dedupeByHash(f.items));
  const firstSource = new Map<string, { item: ItemInput; sourceId: number }>();
  const linkHashes: string[] = [];
  const linkSources: number[] = [];
  const linkExternalIds: string[] = [];
  perSource.forEach((items, index) => {
    const sourceId = fetches[index]!.sourceId;
    for (const item of items) {
      if (!firstSource.has(item.urlHash)) firstSource.set(item.urlHash, { item, sourceId });
      linkHashes.push(item.urlHash);
      linkSources.push(sourceId);
      linkExternalIds.push(item.externalId);
    }
  });
  const unique = [...firstSource.values()].sort((a, b) => (a.item.urlHash < b.item.urlHash ? -1 : a.item.urlHash > b.item.urlHash ? 1 : 0));
  const item = <T>(pick: (i: ItemInput) => T): T[] => unique.map((u) => pick(u.item));
  const fetch = <T>(pick: (f: SourceFetchInput, index: number) => T): T[] => fetches.map(pick);
  const result = await sql<{ source_id: number; new_items: number }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${item((i) => i.url)}::text[], ${item((i) => i.canonicalUrl)}::text[], ${item((i) => i.urlHash)}::text[],
        ${item((i) => i.title)}::text[], ${item((i) => i.summary)}::text[], ${item((i) => i.author)}::text[],
        ${item((i) => i.publishedAt?.toISOString() ?? null)}::timestamptz[],
        ${item((i) => i.points)}::int[], ${item((i) => i.comments)}::int[], ${unique.map((u) => u.sourceId)}::int[])
        AS v(url, canonical_url, url_hash, title, summary, author, published_at, points, comments, first_source)
    ), links AS (
      SELECT * FROM unnest(${linkHashes}::text[], ${linkSources}::int[], ${linkExternalIds}::text[]) AS l(url_hash, source_id, external_id)
    ), upserted AS (
      INSERT INTO items (url, canonical_url, url_hash, title, summary, author, published_at, points, comments)
      SELECT url, canonical_url, url_hash, title, summary, author, published_at, points, comments FROM input
      ON CONFLICT (url_hash) WHERE url_hash IS NOT NULL
      DO UPDATE SET points = COALESCE(EXCLUDED.points, items.points),
                    comments = COALESCE(EXCLUDED.comments, items.comments)
      RETURNING id, url_hash, (xmax = 0) AS inserted
    ), linked AS (
      INSERT INTO item_sources (item_id, source_id, external_id)
      SELECT u.id, l.source_id, l.external_id FROM upserted u JOIN links l ON l.url_hash = u.url_hash
      ON CONFLICT DO NOTHING
    ), new_items AS (
      SELECT i.first_source AS source_id, count(*)::int AS n
        FROM upserted u JOIN input i ON i.url_hash = u.url_hash
       WHERE u.inserted
       GROUP BY i.first_source
    ), fetched AS (
      SELECT * FROM unnest(
        ${fetch((f) => f.sourceId)}::int[], ${fetch((f) => f.windowId)}::int[], ${fetch((f) => f.status)}::text[],
        ${fetch((f) => f.httpStatus)}::int[], ${fetch((f) => f.errorCode)}::text[], ${fetch((f) => f.error)}::text[],
        ${fetch((f) => Math.round(f.durationMs))}::int[], ${fetch((f) => f.bytes)}::int[], ${fetch((_f, i) => perSource[i]!.length)}::int[],
        ${fetch((f) => f.at.toISOString())}::timestamptz[],
        ${fetch((f) => (f.validators ? 1 : 0))}::int[], ${fetch((f) => f.validators?.etag ?? null)}::text[],
        ${fetch((f) => f.validators?.lastModified ?? null)}::text[])
        AS v(source_id, window_id, status, http_status, error_code, error, duration_ms, bytes, items_found, at,
             new_validators, etag, last_modified)
    ), history AS (
      INSERT INTO fetch_results (source_id, window_id, status, http_status, error_code, error, duration_ms, bytes, items_found, items_new, fetched_at)
      SELECT f.source_id, f.window_id, f.status, f.http_status, f.error_code, f.error, f.duration_ms, f.bytes, f.items_found,
             COALESCE(n.n, 0), f.at
        FROM fetched f LEFT JOIN new_items n ON n.source_id = f.source_id
    ), health AS (
      UPDATE sources AS s
         SET last_fetched_at = f.at,
             last_status = f.status,
             last_error = f.error,
             last_http_status = f.http_status,
             consecutive_failures = CASE WHEN f.status = 'error' THEN s.consecutive_failures + 1 ELSE 0 END,
             etag = CASE WHEN f.new_validators = 1 THEN f.etag ELSE s.etag END,
             last_modified = CASE WHEN f.new_validators = 1 THEN f.last_modified ELSE s.last_modified END
        FROM fetched AS f
       WHERE s.id = f.source_id
    )
    SELECT source_id, n AS new_items FROM new_items`.execute(db);

  const created = new Map(result.rows.map((r) => [r.source_id, r.new_items]));
  return perSource.map((items, index) => ({ found: items.length, inserted: created.get(fetches[index]!.sourceId) ?? 0 }));
}

/** `ON CONFLICT DO UPDATE` may not touch a row twice in one statement: keep the first of each hash. */
function dedupeByHash(items: ItemInput[]): ItemInput[] {
  const seen = new Set<string>();
  const out: ItemInput[] = [];
  for (const item of items) {
    if (seen.has(item.urlHash)) continue;
    seen.add(item.urlHash);
    out.push(item);
  }
  return out;
}

/** How much earlier than its item a link may be stamped (transactions overlapping in time). */
const LINK_SEEN_MARGIN_MS = 3_600_000;

/** A candidate item for a window, with what ranking needs to know about it. */
export interface CandidateRow {
  id: number;
  url: string | null;
  title: string;
  summary: string | null;
  author: string | null;
  published_at: Date | null;
  first_seen_at: Date;
  /** publish time, or first-seen time when there is none or it lies in the future. */
  effective_at: Date;
  points: number | null;
  comments: number | null;
  source_ids: number[];
  source_names: string[];
  /** Highest weight among the topic's sources that carry the item. */
  source_weight: number;
}

export interface CandidateQuery {
  topicId: number;
  windowStart: Date;
  windowEnd: Date;
  /** How far before the window a late item may come from (its window was built before it arrived). */
  lookbackMs: number;
}

/**
 * The candidate rule (DESIGN §6.3), as one query. An item is a candidate for a window of a
 * topic when its effective time is before the window's end, not older than the lookback, and
 * the topic has not claimed it for another window yet. Because a topic's windows run in order
 * and claims are written with each digest, an item whose own window was already built when it
 * first appeared lands in the next window not yet built — and in no other.
 */
export async function selectCandidates(db: Executor, q: CandidateQuery): Promise<CandidateRow[]> {
  const earliest = new Date(q.windowStart.getTime() - q.lookbackMs);
  // effective_at >= earliest implies the item was first seen at or after `earliest`, and a link
  // is created with or after its item (minus the length of a concurrent transaction: the
  // margin). So the topic's links seen since then (index item_sources_source_seen_idx) lead to
  // every candidate, and only their items are read, by primary key: the cost follows the
  // topic's own volume, never the whole system's. MATERIALIZED, and no range condition on
  // items, keep the planner from starting at `items` instead — which it does when its
  // statistics lag behind a busy ingest and it believes few items are recent.
  const linksSince = new Date(earliest.getTime() - LINK_SEEN_MARGIN_MS);
  const result = await sql<CandidateRow>`
    WITH topic_links AS MATERIALIZED (
      SELECT l.item_id, s.id AS source_id, s.name AS source_name, s.weight
        FROM sources s
        JOIN item_sources l ON l.source_id = s.id
       WHERE s.topic_id = ${q.topicId}
         AND l.first_seen_at >= ${linksSince}
    ), linked AS (
      SELECT i.id, i.url, i.title, i.summary, i.author, i.published_at, i.first_seen_at, i.points, i.comments,
             CASE WHEN i.published_at IS NOT NULL AND i.published_at <= i.first_seen_at
                  THEN i.published_at ELSE i.first_seen_at END AS effective_at,
             array_agg(tl.source_id ORDER BY tl.source_id) AS source_ids,
             array_agg(tl.source_name ORDER BY tl.source_id) AS source_names,
             max(tl.weight)::float8 AS source_weight
        FROM topic_links tl
        JOIN items i ON i.id = tl.item_id
       GROUP BY i.id
    )
    SELECT linked.*
      FROM linked
     WHERE effective_at < ${q.windowEnd}
       AND effective_at >= ${earliest}
       AND NOT EXISTS (SELECT 1 FROM topic_item_claims c WHERE c.topic_id = ${q.topicId} AND c.item_id = linked.id)
     ORDER BY linked.id`.execute(db);
  return result.rows;
}
