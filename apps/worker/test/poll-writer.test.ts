/**
 * The worker's group commit of polls (`PollWriter`, libs/pipeline) on the real Postgres: a
 * lone poll is written at once, polls queued while a write is in flight go together in the
 * next one, each gets its own result, and a failed batch fails every poll in it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FeedPollRecord, ItemInput, StoredPoll } from '@aharadar/db';
import { PollWriter } from '@aharadar/pipeline';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';

const AT = new Date('2024-05-06T12:00:00Z');

function item(externalId: string): ItemInput {
  const url = `https://news.example/${externalId}`;
  return {
    externalId,
    url,
    canonicalUrl: url,
    urlHash: createHash('sha256').update(url).digest('hex'),
    title: externalId,
    summary: null,
    author: null,
    publishedAt: null,
    points: null,
    comments: null,
  };
}

function poll(feedId: number, items: ItemInput[]): FeedPollRecord {
  return {
    feedId,
    kind: 'scheduled',
    claimSeq: null,
    windowId: null,
    status: 'ok',
    items,
    httpStatus: 200,
    errorCode: null,
    error: null,
    warning: null,
    durationMs: 5,
    bytes: 100,
    lagMs: null,
    schedule: (stored) => ({ nextPollAt: new Date(AT.getTime() + 600_000), intervalMs: 600_000, notBefore: null, reason: `new ${stored.newEntries}` }),
    movedTo: null,
    disabledReason: null,
    at: AT,
  };
}

describe('PollWriter (group commit of polls)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 4 });
  });
  after(async () => database.drop());
  beforeEach(async () => {
    await database.sql`TRUNCATE topics, feeds, items, windows, digests, fetch_results RESTART IDENTITY CASCADE`;
  });

  async function feeds(n: number): Promise<number[]> {
    const rows = await database.sql<{ id: number }[]>`
      INSERT INTO feeds (type, key, config) SELECT 'feed', 'feed:https://f' || g || '.example/rss', jsonb_build_object('url', 'https://f' || g || '.example/rss')
        FROM generate_series(1, ${n}::int) AS g ORDER BY g RETURNING id`;
    return rows.map((r) => r.id);
  }

  it('resolves each poll with its own result, the polls queued during a write going together in the next', async () => {
    const ids = await feeds(4);
    const writer = new PollWriter(database.db);
    // The first write starts at once with the first poll; the other three queue behind it.
    const results = await Promise.all(ids.map((id, i) => writer.write(poll(id, Array.from({ length: i + 1 }, (_, k) => item(`f${id}-${k}`))))));
    assert.deepEqual(
      results.map((r: StoredPoll) => [r.found, r.newEntries, r.newItems]),
      [
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
        [4, 4, 4],
      ],
    );
    const history = await database.sql<{ feed_id: number; items_new: number }[]>`SELECT feed_id, items_new FROM fetch_results ORDER BY feed_id`;
    assert.deepEqual(
      history.map((h) => [h.feed_id, h.items_new]),
      ids.map((id, i) => [id, i + 1]),
    );
    // Idle again: a lone poll is written at once.
    const lone = await writer.write(poll(ids[0]!, [item('lone')]));
    assert.equal(lone.newEntries, 1);
  });

  it('rejects every poll of a failed batch, stores none of its entries, and keeps writing after it', async () => {
    const [a, b, c] = await feeds(3);
    const writer = new PollWriter(database.db);
    const first = writer.write(poll(a!, [item('a1')]));
    // Queued while the first write is in flight: one batch, which a poll of a feed that does
    // not exist (removed meanwhile) makes fail.
    const batch = [writer.write(poll(b!, [item('b1')])), writer.write(poll(999_999, [item('gone1')])), writer.write(poll(c!, [item('c1')]))];
    assert.equal((await first).newEntries, 1);
    const outcomes = await Promise.allSettled(batch);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    const stored = await database.sql<{ url: string }[]>`SELECT url FROM items ORDER BY url`;
    assert.deepEqual(
      stored.map((r) => r.url),
      ['https://news.example/a1'],
    );
    // The writer carries on: a retry of the good polls stores them.
    const retried = await Promise.all([writer.write(poll(b!, [item('b1')])), writer.write(poll(c!, [item('c1')]))]);
    assert.deepEqual(
      retried.map((r) => r.newEntries),
      [1, 1],
    );
  });
});
