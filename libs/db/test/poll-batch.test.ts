/**
 * The group-committed poll write (`recordFeedPollsBatch`, `storeFeedEntriesBatch`): many
 * feeds' polls in one pair of statements, on the real Postgres — per-feed counts, one item for
 * a story two feeds of the batch carry, and the cross-feed cases where one statement could
 * otherwise modify one row twice.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { recordFeedPoll, recordFeedPollsBatch, storeFeedEntriesBatch, type FeedPollRecord, type ItemInput, type PollSchedule, type StoredEntries } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';
import { addFeed, entry, HOUR, see } from './support.js';

const AT = new Date('2024-05-06T12:00:00Z');

function pollRecord(feedId: number, items: ItemInput[], overrides: Partial<FeedPollRecord> = {}): FeedPollRecord & { planned: StoredEntries[] } {
  const planned: StoredEntries[] = [];
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
    durationMs: 12.4,
    bytes: 1_000,
    lagMs: null,
    validators: { etag: `"${feedId}"`, lastModified: null },
    schedule: (stored: StoredEntries): PollSchedule => {
      planned.push(stored);
      return { nextPollAt: new Date(AT.getTime() + (stored.newEntries + 1) * 60_000), intervalMs: 600_000, notBefore: null, reason: `new ${stored.newEntries}` };
    },
    movedTo: null,
    disabledReason: null,
    at: AT,
    planned,
    ...overrides,
  };
}

describe('group-committed poll writes', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 4 });
  });
  after(async () => database.drop());
  beforeEach(async () => {
    await database.sql`TRUNCATE topics, feeds, items, windows, digests, fetch_results RESTART IDENTITY CASCADE`;
  });

  const count = async (query: string): Promise<number> => (await database.sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${query}`))[0]?.n ?? 0;

  it('stores several feeds in one batch with each feed its own counts, history row, schedule and claim release', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const b = await addFeed(database, 'https://b.example/rss');
    const c = await addFeed(database, 'https://c.example/rss');
    await see(database, b, entry('b-old', null), new Date(AT.getTime() - HOUR));
    // b's claim 7 is current: released; c's claim 3 was superseded by claim 4: kept.
    await database.sql`UPDATE feeds SET poll_seq = 7, poll_queued_at = ${AT}, poll_due_at = ${AT} WHERE id = ${b}`;
    await database.sql`UPDATE feeds SET poll_seq = 4, poll_queued_at = ${AT}, poll_due_at = ${AT} WHERE id = ${c}`;
    const polls = [
      pollRecord(a, [entry('a1', null), entry('a2', null), entry('a3', null)]),
      pollRecord(b, [entry('b-old', null), entry('b1', null)], { claimSeq: 7 }),
      pollRecord(c, [], { status: 'not_modified', httpStatus: 304, validators: undefined, claimSeq: 3 }),
    ];
    const stored = await recordFeedPollsBatch(database.db, polls);
    assert.deepEqual(stored, [
      { found: 3, newEntries: 3, newItems: 3, moved: false },
      { found: 2, newEntries: 1, newItems: 1, moved: false },
      { found: 0, newEntries: 0, newItems: 0, moved: false },
    ]);
    assert.deepEqual(
      polls.map((p) => p.planned),
      [[{ found: 3, newEntries: 3, newItems: 3 }], [{ found: 2, newEntries: 1, newItems: 1 }], [{ found: 0, newEntries: 0, newItems: 0 }]],
    );
    const history = await database.sql<{ feed_id: number; items_found: number; items_new: number; status: string }[]>`
      SELECT feed_id, items_found, items_new, status FROM fetch_results ORDER BY feed_id`;
    assert.deepEqual(
      history.map((h) => ({ ...h })),
      [
        { feed_id: a, items_found: 3, items_new: 3, status: 'ok' },
        { feed_id: b, items_found: 2, items_new: 1, status: 'ok' },
        { feed_id: c, items_found: 0, items_new: 0, status: 'not_modified' },
      ],
    );
    const feeds = await database.sql<{ id: number; etag: string | null; next_poll_at: Date; schedule_reason: string; poll_queued_at: Date | null; last_status: string }[]>`
      SELECT id, etag, next_poll_at, schedule_reason, poll_queued_at, last_status FROM feeds ORDER BY id`;
    assert.deepEqual(
      feeds.map((f) => [f.id, f.etag, f.next_poll_at.getTime() - AT.getTime(), f.schedule_reason, f.poll_queued_at === null, f.last_status]),
      [
        [a, `"${a}"`, 4 * 60_000, 'new 3', true, 'ok'],
        [b, `"${b}"`, 2 * 60_000, 'new 1', true, 'ok'],
        [c, null, 60_000, 'new 0', false, 'not_modified'],
      ],
    );
    // Idempotent: the same batch again stores no new entry or item.
    const again = await recordFeedPollsBatch(database.db, polls);
    assert.deepEqual(
      again.map((s) => [s.newEntries, s.newItems]),
      [
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    );
    assert.equal(await count('items'), 5);
  });

  it('makes one item, linked to both feeds, of a URL two feeds of the batch carry (counted new for the first)', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const b = await addFeed(database, 'https://b.example/rss');
    const shared = 'https://news.example/shared';
    const stored = await storeFeedEntriesBatch(database.db, [
      { feedId: a, items: [entry('a-shared', null, shared), entry('a1', null)], at: AT },
      { feedId: b, items: [entry('b-shared', null, shared), entry('b1', null)], at: AT },
    ]);
    assert.deepEqual(stored, [
      { found: 2, newEntries: 2, newItems: 2 },
      { found: 2, newEntries: 2, newItems: 1 },
    ]);
    const links = await database.sql<{ feed_id: number; external_id: string; url: string }[]>`
      SELECT fi.feed_id, fi.external_id, i.url FROM feed_items fi JOIN items i ON i.id = fi.item_id WHERE i.url = ${shared} ORDER BY fi.feed_id`;
    assert.deepEqual(
      links.map((l) => [l.feed_id, l.external_id]),
      [
        [a, 'a-shared'],
        [b, 'b-shared'],
      ],
    );
    assert.equal(await count('items'), 3);
  });

  it('does not fail when a known entry moves to a URL that a new entry of another feed in the batch brings', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const b = await addFeed(database, 'https://b.example/rss');
    const known = await see(database, a, entry('a-guid', null, 'https://news.example/before'), new Date(AT.getTime() - HOUR));
    const after = 'https://news.example/after';
    const stored = await recordFeedPollsBatch(database.db, [
      pollRecord(a, [{ ...entry('a-guid', null, after), points: 50 }]),
      pollRecord(b, [entry('b-new', null, after)]),
    ]);
    assert.deepEqual(
      stored.map((s) => [s.found, s.newEntries, s.newItems]),
      [
        [1, 0, 0],
        [1, 1, 1],
      ],
    );
    // The new entry's item holds the URL; the known one keeps its own row (its engagement refreshed).
    const rows = await database.sql<{ id: number; url: string; points: number | null }[]>`SELECT id, url, points FROM items ORDER BY id`;
    assert.deepEqual(
      rows.map((r) => [r.id === known, r.url, r.points]),
      [
        [true, 'https://news.example/before', 50],
        [false, after, null],
      ],
    );
  });

  it('moves only one of two known entries of two feeds that both move to one URL nobody holds', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const b = await addFeed(database, 'https://b.example/rss');
    const first = await see(database, a, entry('a-guid', null, 'https://news.example/a-before'), new Date(AT.getTime() - HOUR));
    await see(database, b, entry('b-guid', null, 'https://news.example/b-before'), new Date(AT.getTime() - HOUR));
    const target = 'https://news.example/same';
    await storeFeedEntriesBatch(database.db, [
      { feedId: a, items: [entry('a-guid', null, target)], at: AT },
      { feedId: b, items: [entry('b-guid', null, target)], at: AT },
    ]);
    const rows = await database.sql<{ id: number; url: string }[]>`SELECT id, url FROM items ORDER BY id`;
    assert.deepEqual(
      rows.map((r) => [r.id === first, r.url]),
      [
        [true, target],
        [false, 'https://news.example/b-before'],
      ],
    );
  });

  it('writes two polls of one feed in one call in order, as two batches', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const stored = await recordFeedPollsBatch(database.db, [pollRecord(a, [entry('a1', null)]), pollRecord(a, [entry('a1', null), entry('a2', null)])]);
    assert.deepEqual(
      stored.map((s) => s.newEntries),
      [1, 1],
    );
    assert.equal(await count('fetch_results'), 2);
  });

  it('keeps the single-poll recordFeedPoll: a move to a free URL is applied', async () => {
    const a = await addFeed(database, 'https://a.example/rss');
    const moved = await recordFeedPoll(database.db, pollRecord(a, [], { movedTo: { config: { url: 'https://a.example/new' }, key: 'feed:https://a.example/new' } }));
    assert.equal(moved.moved, true);
    const [row] = await database.sql<{ key: string }[]>`SELECT key FROM feeds WHERE id = ${a}`;
    assert.equal(row?.key, 'feed:https://a.example/new');
  });
});
