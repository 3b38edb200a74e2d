import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';

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

/**
 * Stores a source's items in ONE statement whatever their number: an upsert into `items`
 * keyed by URL hash (refreshing engagement counts of known stories) and the insert of the
 * item↔source links, chained as data-modifying CTEs — one round trip, and atomic: an item is
 * never stored without its link. Re-running it with the same input changes nothing but the
 * counts: runs are retried, and a retry must not duplicate anything.
 */
export async function upsertItems(db: Executor, sourceId: number, items: ItemInput[]): Promise<UpsertOutcome> {
  const unique = dedupeByHash(items);
  if (unique.length === 0) return { found: 0, inserted: 0 };
  const col = <T>(pick: (i: ItemInput) => T): T[] => unique.map(pick);
  const result = await sql<{ inserted: number }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${col((i) => i.url)}::text[], ${col((i) => i.canonicalUrl)}::text[], ${col((i) => i.urlHash)}::text[],
        ${col((i) => i.title)}::text[], ${col((i) => i.summary)}::text[], ${col((i) => i.author)}::text[],
        ${col((i) => i.publishedAt?.toISOString() ?? null)}::timestamptz[],
        ${col((i) => i.points)}::int[], ${col((i) => i.comments)}::int[], ${col((i) => i.externalId)}::text[])
        AS v(url, canonical_url, url_hash, title, summary, author, published_at, points, comments, external_id)
    ), upserted AS (
      INSERT INTO items (url, canonical_url, url_hash, title, summary, author, published_at, points, comments)
      SELECT url, canonical_url, url_hash, title, summary, author, published_at, points, comments FROM input
      ON CONFLICT (url_hash) WHERE url_hash IS NOT NULL
      DO UPDATE SET points = COALESCE(EXCLUDED.points, items.points),
                    comments = COALESCE(EXCLUDED.comments, items.comments)
      RETURNING id, url_hash, (xmax = 0) AS inserted
    ), linked AS (
      INSERT INTO item_sources (item_id, source_id, external_id)
      SELECT u.id, ${sourceId}, i.external_id FROM upserted u JOIN input i ON i.url_hash = u.url_hash
      ON CONFLICT DO NOTHING
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted FROM upserted`.execute(db);
  return { found: unique.length, inserted: result.rows[0]?.inserted ?? 0 };
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
  const result = await sql<CandidateRow>`
    WITH linked AS (
      SELECT i.id, i.url, i.title, i.summary, i.author, i.published_at, i.first_seen_at, i.points, i.comments,
             CASE WHEN i.published_at IS NOT NULL AND i.published_at <= i.first_seen_at
                  THEN i.published_at ELSE i.first_seen_at END AS effective_at,
             array_agg(s.id ORDER BY s.id) AS source_ids,
             array_agg(s.name ORDER BY s.id) AS source_names,
             max(s.weight)::float8 AS source_weight
        FROM items i
        JOIN item_sources l ON l.item_id = i.id
        JOIN sources s ON s.id = l.source_id
       WHERE s.topic_id = ${q.topicId}
         -- effective_at >= earliest implies first_seen_at >= earliest: lets the index narrow it.
         AND i.first_seen_at >= ${earliest}
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
