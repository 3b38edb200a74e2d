import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Feed, Source } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A source is a topic's SUBSCRIPTION to a feed (DESIGN §6.1): its id is what `radar source
 * list/rm/poll` take, its name and weight are the topic's own, and the feed behind it is
 * shared with every other topic that follows the same URL (or HN list).
 */
export interface NewSubscriptionInput {
  topicId: number;
  /** The feed's identity: type + canonical configuration (see libs/pipeline feed-identity). */
  feed: { type: string; key: string; config: object };
  name: string;
  weight: number;
}

/** Thrown when the topic already follows that feed; the CLI prints it as is. */
export class SubscriptionExistsError extends Error {
  override readonly name = 'SubscriptionExistsError';
  constructor(
    readonly topicName: string,
    readonly sourceId: number,
  ) {
    super(`topic "${topicName}" already follows this feed (source #${sourceId})`);
  }
}

export interface Subscription {
  source: Source;
  feed: Feed;
  /** False when the topic subscribed to a feed another topic already polls. */
  feedCreated: boolean;
}

/**
 * Subscribes a topic to a feed, creating the feed when no topic follows it yet — in one
 * transaction, so two `source add` of the same URL at once still make one feed. A new feed is
 * due at once: its first poll happens at the next tick (or the first window's freshness poll).
 */
export async function subscribe(db: Kysely<Database>, input: NewSubscriptionInput, topicName: string): Promise<Subscription> {
  return db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('feeds')
      .values({ type: input.feed.type, key: input.feed.key, config: input.feed.config })
      .onConflict((oc) => oc.column('key').doNothing())
      .returningAll()
      .executeTakeFirst();
    const feed = inserted ?? (await tx.selectFrom('feeds').selectAll().where('key', '=', input.feed.key).executeTakeFirstOrThrow());
    const existing = await tx.selectFrom('sources').select('id').where('topic_id', '=', input.topicId).where('feed_id', '=', feed.id).executeTakeFirst();
    if (existing) throw new SubscriptionExistsError(topicName, existing.id);
    const source = await tx
      .insertInto('sources')
      .values({ topic_id: input.topicId, feed_id: feed.id, name: input.name, weight: input.weight })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { source, feed, feedCreated: inserted !== undefined };
  });
}

export async function findSource(db: Executor, id: number): Promise<Source | undefined> {
  return db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Removes a subscription. A feed no topic follows any more is deleted with it (its entries
 * and history go; the items stay while a digest shows them, and retention prunes the rest).
 */
export async function deleteSource(db: Kysely<Database>, id: number): Promise<{ removed: boolean; feedDeleted: boolean }> {
  return db.transaction().execute(async (tx) => {
    const removed = await tx.deleteFrom('sources').where('id', '=', id).returning('feed_id').executeTakeFirst();
    if (!removed) return { removed: false, feedDeleted: false };
    const orphan = await tx
      .deleteFrom('feeds')
      .where('id', '=', removed.feed_id)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('sources').select('id').whereRef('sources.feed_id', '=', 'feeds.id'))))
      .executeTakeFirst();
    return { removed: true, feedDeleted: Number(orphan.numDeletedRows) > 0 };
  });
}

/** The feeds a topic follows, with the subscription's name and weight. */
export interface TopicFeed {
  source: Source;
  feed: Feed;
}

export async function topicFeeds(db: Executor, topicId: number): Promise<TopicFeed[]> {
  const sources = await db.selectFrom('sources').selectAll().where('topic_id', '=', topicId).orderBy('id').execute();
  if (sources.length === 0) return [];
  const feeds = await db.selectFrom('feeds').selectAll().where('id', 'in', sources.map((s) => s.feed_id)).execute();
  const byId = new Map(feeds.map((f) => [f.id, f]));
  return sources.flatMap((source) => {
    const feed = byId.get(source.feed_id);
    return feed ? [{ source, feed }] : [];
  });
}

/** One row of `radar source list`: the subscription, its feed's health and cadence, and its figures. */
export interface SourceListing extends Source {
  topic_name: string;
  feed: Feed;
  /** Names of every topic that follows the same feed. */
  feed_topics: string[];
  /** Polls in the last 24 h, and how many of them were answered 304 Not Modified. */
  polls_24h: number;
  not_modified_24h: number;
  /** Entries first seen in the last 24 h. */
  items_24h: number;
}

export async function listSources(db: Executor, options: { topicId?: number; sourceId?: number; now?: Date } = {}): Promise<SourceListing[]> {
  let query = db
    .selectFrom('sources')
    .innerJoin('topics', 'topics.id', 'sources.topic_id')
    .selectAll('sources')
    .select('topics.name as topic_name')
    .orderBy('topics.name')
    .orderBy('sources.id');
  if (options.topicId !== undefined) query = query.where('sources.topic_id', '=', options.topicId);
  if (options.sourceId !== undefined) query = query.where('sources.id', '=', options.sourceId);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const feedIds = [...new Set(rows.map((r) => r.feed_id))];
  const since = new Date((options.now ?? new Date()).getTime() - 24 * 3600_000);
  const [feeds, stats] = await Promise.all([
    db.selectFrom('feeds').selectAll().where('id', 'in', feedIds).execute(),
    sql<{ feed_id: number; topics: string[]; polls: number; not_modified: number; items: number }>`
      SELECT f.id AS feed_id,
             ARRAY(SELECT t.name FROM sources s JOIN topics t ON t.id = s.topic_id WHERE s.feed_id = f.id ORDER BY t.name) AS topics,
             (SELECT count(*) FROM fetch_results r WHERE r.feed_id = f.id AND r.fetched_at >= ${since})::int AS polls,
             (SELECT count(*) FROM fetch_results r WHERE r.feed_id = f.id AND r.fetched_at >= ${since} AND r.status = 'not_modified')::int AS not_modified,
             (SELECT count(*) FROM feed_items fi WHERE fi.feed_id = f.id AND fi.first_seen_at >= ${since})::int AS items
        FROM unnest(${feedIds}::int[]) AS f(id)`.execute(db),
  ]);
  const feedById = new Map(feeds.map((f) => [f.id, f]));
  const statsById = new Map(stats.rows.map((s) => [s.feed_id, s]));
  return rows.flatMap((row) => {
    const feed = feedById.get(row.feed_id);
    if (!feed) return [];
    const s = statsById.get(row.feed_id);
    return [{ ...row, feed, feed_topics: s?.topics ?? [], polls_24h: s?.polls ?? 0, not_modified_24h: s?.not_modified ?? 0, items_24h: s?.items ?? 0 }];
  });
}

/** Feeds whose last poll failed (or that are disabled), worst first: for `radar status`. */
export async function failingFeeds(db: Executor, limit = 20): Promise<(Feed & { topics: string[] })[]> {
  const feeds = await db
    .selectFrom('feeds')
    .selectAll()
    .where((eb) => eb.or([eb('last_status', '=', 'error'), eb('enabled', '=', false), eb('warning', 'is not', null)]))
    .orderBy('enabled')
    .orderBy('consecutive_failures', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (feeds.length === 0) return [];
  const topics = await db
    .selectFrom('sources')
    .innerJoin('topics', 'topics.id', 'sources.topic_id')
    .select(['sources.feed_id', 'topics.name'])
    .where('sources.feed_id', 'in', feeds.map((f) => f.id))
    .orderBy('topics.name')
    .execute();
  return feeds.map((f) => ({ ...f, topics: topics.filter((t) => t.feed_id === f.id).map((t) => t.name) }));
}
