/**
 * Helpers of the db tests: topics, feeds, subscriptions, entries and ledger rows written with
 * the repositories (or plain SQL where a test needs a row in a given state), and a probe of
 * pg_stat_activity to line up concurrent statements deterministically.
 */
import { createHash } from 'node:crypto';
import { defaultAnchor } from '@aharadar/scheduling';
import { sql } from 'kysely';
import { insertTopic, storeFeedEntries, subscribe, type ItemInput, type Topic, type WindowRow, type WindowStatus, type WindowTrigger } from '../src/index.js';
import type { TestDatabase } from '../../../test/support/services.js';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export async function addTopic(database: TestDatabase, name: string, createdAt: Date): Promise<Topic> {
  return insertTopic(database.db, {
    name,
    schedule: { kind: 'every', everySeconds: 3600, anchor: defaultAnchor(createdAt, 'UTC') },
    timeZone: 'UTC',
    keywords: [],
    excludeKeywords: [],
    digestSize: 20,
    maxPerSource: 20,
    createdAt,
  });
}

/** Subscribes the topic to the feed `key` (created if new), as of `subscribedAt`. Returns the feed id. */
export async function follow(database: TestDatabase, topic: Topic, url: string, subscribedAt: Date): Promise<number> {
  const { source, feed } = await subscribe(database.db, { topicId: topic.id, feed: { type: 'feed', key: `feed:${url}`, config: { url } }, name: url, weight: 1 }, topic.name);
  await sql`UPDATE sources SET created_at = ${subscribedAt} WHERE id = ${source.id}`.execute(database.db);
  return feed.id;
}

/** A feed no topic of the test follows (another topic's, say). */
export async function addFeed(database: TestDatabase, url: string): Promise<number> {
  const row = await database.db.insertInto('feeds').values({ type: 'feed', key: `feed:${url}`, config: { url } }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export function entry(externalId: string, publishedAt: Date | null, url = `https://news.example/${externalId}`): ItemInput {
  return {
    externalId,
    url,
    canonicalUrl: url,
    urlHash: createHash('sha256').update(url).digest('hex'),
    title: externalId,
    summary: null,
    author: null,
    publishedAt,
    points: null,
    comments: null,
  };
}

/** Stores one entry in a feed as first seen at `seenAt`; returns the item id. */
export async function see(database: TestDatabase, feedId: number, item: ItemInput, seenAt: Date): Promise<number> {
  await storeFeedEntries(database.db, feedId, [item], seenAt);
  const row = await database.db.selectFrom('feed_items').select('item_id').where('feed_id', '=', feedId).where('external_id', '=', item.externalId).executeTakeFirstOrThrow();
  return row.item_id;
}

export async function addWindow(
  database: TestDatabase,
  topicId: number,
  start: Date,
  end: Date,
  status: WindowStatus = 'queued',
  trigger: WindowTrigger = 'scheduled',
): Promise<WindowRow> {
  return database.db
    .insertInto('windows')
    .values({
      topic_id: topicId,
      window_start: start,
      window_end: end,
      trigger,
      status,
      skip_reason: status === 'skipped' ? 'test' : null,
      finished_at: status === 'succeeded' || status === 'failed' || status === 'skipped' ? end : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Waits until `count` backends of this test's database wait for a lock: the concurrent
 * statements a test started are then lined up behind the lock the test holds. A deadline, not
 * a sleep: it fails only when they never get there.
 */
export async function waitForLockWaiters(database: TestDatabase, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(database.db);
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} statements to wait for a lock (saw ${rows[0]?.n ?? 0})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `hold` in a transaction on its own connection and keeps it open until the returned
 * `release` is called: the locks `hold` takes are held meanwhile.
 */
export async function holdLocks(database: TestDatabase, hold: (tx: Parameters<Parameters<TestDatabase['sql']['begin']>[0]>[0]) => Promise<unknown>): Promise<{ release(): Promise<void> }> {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (held = resolve));
  const done = database.sql.begin(async (tx) => {
    await hold(tx);
    held();
    await gate;
  });
  await Promise.race([ready, done]);
  return {
    async release() {
      release();
      await done;
    },
  };
}
