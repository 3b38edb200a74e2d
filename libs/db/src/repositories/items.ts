import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** An item as a source delivered it, normalised by the pipeline. */
export interface ItemInput {
  externalId: string;
  url: string | null;
  canonicalUrl: string | null;
  /**
   * The dedupe key: sha256 of the canonical URL, so one story seen in two feeds is one row.
   * Items without a URL get a key derived from (feed, external id) instead.
   */
  urlHash: string;
  title: string;
  summary: string | null;
  author: string | null;
  publishedAt: Date | null;
  points: number | null;
  comments: number | null;
}

/** What one poll stored: entries in the document, entries the feed had not shown before, new item rows. */
export interface StoredEntries {
  found: number;
  /** Entries (feed + external id) seen for the first time: what the poll cadence counts as new. */
  newEntries: number;
  /** Item rows created (a new entry whose story another feed already brought is not a new item). */
  newItems: number;
}

/** The JSON record each item travels in to `jsonb_to_recordset`: named fields, not positions. */
interface ItemRecord {
  ord: number;
  external_id: string;
  url: string | null;
  canonical_url: string | null;
  url_hash: string;
  title: string;
  summary: string | null;
  author: string | null;
  published_at: string | null;
  points: number | null;
  comments: number | null;
}

function toRecords(items: readonly ItemInput[]): ItemRecord[] {
  // One entry per external id: a document listing an entry twice is one entry (the first wins).
  const seen = new Set<string>();
  const records: ItemRecord[] = [];
  items.forEach((i, ord) => {
    if (seen.has(i.externalId)) return;
    seen.add(i.externalId);
    records.push({
      ord,
      external_id: i.externalId,
      url: i.url,
      canonical_url: i.canonicalUrl,
      url_hash: i.urlHash,
      title: i.title,
      summary: i.summary,
      author: i.author,
      published_at: i.publishedAt?.toISOString() ?? null,
      points: i.points,
      comments: i.comments,
    });
  });
  return records;
}

/** One feed's entries in a batch: what one poll delivered, and when it was fetched. */
export interface FeedEntriesInput {
  feedId: number;
  items: readonly ItemInput[];
  at: Date;
}

/** A record of {@link storeFeedEntriesBatch}: an entry, the feed that showed it and the poll's time. */
interface BatchItemRecord extends ItemRecord {
  /** The feed's position in the batch: the first feed to bring a story makes its item. */
  b: number;
  feed_id: number;
  at: string;
}

/** The record type of {@link BatchItemRecord} as SQL reads it; a field missing here is NULL, never shifted. */
const BATCH_ITEM_RECORD_COLUMNS = sql.raw(
  'b int, feed_id int, at timestamptz, ord int, external_id text, url text, canonical_url text, url_hash text, title text, summary text, author text, published_at timestamptz, points int, comments int',
);

/**
 * Stores the entries one poll of one feed found: {@link storeFeedEntriesBatch} with a batch of one.
 */
export async function storeFeedEntries(db: Executor, feedId: number, items: readonly ItemInput[], at: Date): Promise<StoredEntries> {
  const [stored] = await storeFeedEntriesBatch(db, [{ feedId, items, at }]);
  return stored ?? { found: 0, newEntries: 0, newItems: 0 };
}

/**
 * Stores the entries several polls found — one per feed, the polls a worker's group commit
 * gathered — in ONE statement (one round trip, the records sent once as named JSON fields);
 * the result is per input, in input order:
 *
 * 1. **New entries** — (feed, external id) not seen before: their items are upserted by URL
 *    hash (the same story from two feeds is one item, linked to both — also when both feeds
 *    are in this batch: the first of them makes the item and counts it as new) and linked to
 *    the feed. Rows are written in URL-hash order, so concurrent writers lock items in the
 *    same order.
 * 2. **Known entries** — one entry is one item (issue 13.5: a guid whose URL changed used to
 *    make a new item on every fetch and inflate the counts): the item follows the entry's new
 *    URL (unless another item already holds it, or another item of this batch moves there
 *    too), and engagement keeps the highest value reached (an HN story is ranked by the points
 *    it reached while on the list).
 *
 * A statement may not modify one row twice, so the two parts are kept apart: the upsert
 * touches each URL hash once (deduplicated across the whole batch), and the known-entry update
 * leaves alone every item whose URL hash a new entry of ANY feed in the batch carries (that
 * row is the upsert's), never moves an item onto such a hash, and refreshes each item once
 * even when several feeds of the batch know it. Running it again with the same input adds
 * nothing: polls are retried, and a retry must not duplicate anything. Each poll's `at` stamps
 * first-seen times (items and entries).
 *
 * A feed must appear at most once in a batch (its counts would be ambiguous): callers with
 * two polls of one feed write them in two batches ({@link recordFeedPollsBatch} does).
 */
export async function storeFeedEntriesBatch(db: Executor, batch: readonly FeedEntriesInput[]): Promise<StoredEntries[]> {
  const feedIds = new Set<number>();
  const records: BatchItemRecord[] = [];
  const found = batch.map((entry, b) => {
    if (feedIds.has(entry.feedId)) throw new Error(`storeFeedEntriesBatch: feed ${entry.feedId} appears twice in one batch`);
    feedIds.add(entry.feedId);
    const own = toRecords(entry.items);
    const at = entry.at.toISOString();
    for (const r of own) records.push({ ...r, b, feed_id: entry.feedId, at });
    return own.length;
  });
  if (records.length === 0) return found.map(() => ({ found: 0, newEntries: 0, newItems: 0 }));
  const result = await sql<{ b: number; new_items: number; new_entries: number }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${records as object}::jsonb) AS x(${BATCH_ITEM_RECORD_COLUMNS})
    ), seen AS (
      SELECT i.*, fi.item_id FROM input i
        JOIN feed_items fi ON fi.feed_id = i.feed_id AND fi.external_id = i.external_id
    ), fresh AS (
      -- An anti-join, not "item_id IS NULL" on an outer join: the planner then expects about
      -- as many fresh rows as input rows, and joins them to the upserted rows by hashing
      -- (with an estimate of 1 it picked a nested loop, quadratic in the batch's size).
      SELECT i.* FROM input i
       WHERE NOT EXISTS (SELECT 1 FROM feed_items fi WHERE fi.feed_id = i.feed_id AND fi.external_id = i.external_id)
    ), upserted AS (
      INSERT INTO items (url, canonical_url, url_hash, title, summary, author, published_at, points, comments, first_seen_at)
      SELECT url, canonical_url, url_hash, title, summary, author, published_at, points, comments, at
        FROM (SELECT DISTINCT ON (url_hash) * FROM fresh ORDER BY url_hash, b, ord) AS chosen
       ORDER BY url_hash
      ON CONFLICT (url_hash) WHERE url_hash IS NOT NULL
      DO UPDATE SET points = GREATEST(EXCLUDED.points, items.points), comments = GREATEST(EXCLUDED.comments, items.comments)
      RETURNING id, url_hash, (xmax = 0) AS inserted
    ), links AS (
      -- The first entry of the batch to carry a URL (lowest b, then ord) is the one whose item
      -- the upsert made: that feed counts the item as new.
      SELECT f.b, f.feed_id, f.external_id, f.at, u.id AS item_id,
             u.inserted AND row_number() OVER (PARTITION BY f.url_hash ORDER BY f.b, f.ord) = 1 AS made_item
        FROM fresh f JOIN upserted u ON u.url_hash = f.url_hash
    ), linked AS (
      INSERT INTO feed_items (feed_id, external_id, item_id, first_seen_at)
      SELECT feed_id, external_id, item_id, at FROM links
      ON CONFLICT DO NOTHING
      RETURNING feed_id
    ), known_any AS (
      SELECT DISTINCT ON (s.item_id) s.item_id, s.url, s.canonical_url, s.url_hash, s.points, s.comments,
             (s.url IS NOT NULL AND s.url_hash <> it.url_hash
              AND NOT EXISTS (SELECT 1 FROM items o WHERE o.url_hash = s.url_hash)
              AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.url_hash = s.url_hash)) AS may_move
        FROM seen s JOIN items it ON it.id = s.item_id
       WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.url_hash = it.url_hash)
       ORDER BY s.item_id, s.b, s.ord
    ), known AS (
      -- Two items may not move onto one URL: the lowest id does, the others keep theirs.
      SELECT k.*, k.may_move AND row_number() OVER (PARTITION BY k.may_move, k.url_hash ORDER BY k.item_id) = 1 AS moved
        FROM known_any k
    ), refreshed AS (
      UPDATE items it
         SET url = CASE WHEN k.moved THEN k.url ELSE it.url END,
             canonical_url = CASE WHEN k.moved THEN k.canonical_url ELSE it.canonical_url END,
             url_hash = CASE WHEN k.moved THEN k.url_hash ELSE it.url_hash END,
             points = GREATEST(k.points, it.points),
             comments = GREATEST(k.comments, it.comments)
        FROM known k
       WHERE it.id = k.item_id
         AND (k.moved OR k.points > COALESCE(it.points, -1) OR k.comments > COALESCE(it.comments, -1))
    ), new_items AS (
      SELECT b, count(*)::int AS n FROM links WHERE made_item GROUP BY b
    ), new_entries AS (
      SELECT feed_id, count(*)::int AS n FROM linked GROUP BY feed_id
    )
    SELECT b.b, COALESCE(ni.n, 0) AS new_items, COALESCE(ne.n, 0) AS new_entries
      FROM (SELECT DISTINCT b, feed_id FROM input) b
      LEFT JOIN new_items ni ON ni.b = b.b
      LEFT JOIN new_entries ne ON ne.feed_id = b.feed_id`.execute(db);
  const counts = new Map(result.rows.map((r) => [r.b, r]));
  return found.map((n, b) => ({ found: n, newEntries: counts.get(b)?.new_entries ?? 0, newItems: counts.get(b)?.new_items ?? 0 }));
}

/** How much earlier than its item an entry may be stamped (transactions overlapping in time). */
const ENTRY_SEEN_MARGIN_MS = 3_600_000;

/** A candidate item for a window, with what ranking needs to know about it. */
export interface CandidateRow {
  id: number;
  url: string | null;
  title: string;
  summary: string | null;
  author: string | null;
  published_at: Date | null;
  /** When this topic's feeds first showed it (not before the subscription): see selectCandidates. */
  seen_at: Date;
  /** publish time, or `seen_at` when there is none or it lies after `seen_at`. */
  effective_at: Date;
  points: number | null;
  comments: number | null;
  /** The topic's subscriptions (source ids) whose feeds carry the item. */
  source_ids: number[];
  source_names: string[];
  /** Highest weight among those subscriptions. */
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
 * The candidate rule (DESIGN §6.2), as one query. An item is a candidate for a window of a
 * topic when its effective time is before the window's end, not older than the lookback, and
 * the topic has not claimed it for another window yet. Because a topic's windows run in order
 * and claims are written with each digest, an item whose own window was already built when it
 * first appeared lands in the next window not yet built — and in no other.
 *
 * "First seen" is this topic's (issue 13.6): the earliest time one of the topic's feeds showed
 * the entry, and never before the topic subscribed to that feed. With the global first-seen
 * time, a topic that subscribed after another topic's feeds had seen an undated item would
 * place it before its own windows and never get it.
 */
export async function selectCandidates(db: Executor, q: CandidateQuery): Promise<CandidateRow[]> {
  const earliest = new Date(q.windowStart.getTime() - q.lookbackMs);
  // effective_at >= earliest implies the entry was seen at or after `earliest`, minus the
  // length of a concurrent transaction (the margin). So the topic's entries seen since then
  // (index feed_items_feed_seen_idx) lead to every candidate, and only their items are read,
  // by primary key: the cost follows the topic's own volume, never the whole system's.
  // MATERIALIZED, and no range condition on items, keep the planner from starting at `items`
  // instead — which it does when its statistics lag behind a busy ingest.
  const entriesSince = new Date(earliest.getTime() - ENTRY_SEEN_MARGIN_MS);
  const result = await sql<CandidateRow>`
    WITH topic_entries AS MATERIALIZED (
      SELECT fi.item_id, s.id AS source_id, s.name AS source_name, s.weight,
             GREATEST(fi.first_seen_at, s.created_at) AS seen_at
        FROM sources s
        JOIN feed_items fi ON fi.feed_id = s.feed_id
       WHERE s.topic_id = ${q.topicId}
         AND fi.first_seen_at >= ${entriesSince}
    ), linked AS (
      SELECT i.id, i.url, i.title, i.summary, i.author, i.published_at, i.points, i.comments,
             min(te.seen_at) AS seen_at,
             array_agg(DISTINCT te.source_id ORDER BY te.source_id) AS source_ids,
             max(te.weight)::float8 AS source_weight
        FROM topic_entries te
        JOIN items i ON i.id = te.item_id
       GROUP BY i.id
    ), timed AS (
      SELECT linked.*,
             CASE WHEN published_at IS NOT NULL AND published_at <= seen_at THEN published_at ELSE seen_at END AS effective_at
        FROM linked
    )
    SELECT timed.*,
           ARRAY(SELECT s.name FROM sources s WHERE s.id = ANY (timed.source_ids) ORDER BY s.id) AS source_names
      FROM timed
     WHERE effective_at < ${q.windowEnd}
       AND effective_at >= ${earliest}
       AND NOT EXISTS (SELECT 1 FROM topic_item_claims c WHERE c.topic_id = ${q.topicId} AND c.item_id = timed.id)
     ORDER BY timed.id`.execute(db);
  return result.rows;
}
