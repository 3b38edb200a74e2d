/**
 * The candidate rule (DESIGN §6.2) at its boundaries, on the polled-feeds model: entries are
 * stored per feed with storeFeedEntries, topics subscribe to feeds, and "first seen" is the
 * topic's own (issue 13.6). Real Postgres.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { selectCandidates, type Topic } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';
import { addFeed, addTopic, addWindow, entry, follow, HOUR, MINUTE, see } from './support.js';

const START = new Date('2024-03-04T10:00:00Z');
const END = new Date(START.getTime() + HOUR);
const LOOKBACK = 48 * HOUR;
const at = (ms: number) => new Date(START.getTime() + ms);

describe('selectCandidates', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 4 });
  });
  after(async () => database.drop());
  beforeEach(async () => {
    await database.sql`TRUNCATE topics, feeds, items, windows, digests RESTART IDENTITY CASCADE`;
  });

  async function candidates(topic: Topic, start = START, end = END) {
    const rows = await selectCandidates(database.db, { topicId: topic.id, windowStart: start, windowEnd: end, lookbackMs: LOOKBACK });
    return new Map(rows.map((r) => [r.title, r]));
  }

  it('takes an item whose effective time is exactly the window start, and not one exactly at its end', async () => {
    const topic = await addTopic(database, 't', at(-72 * HOUR));
    const feed = await follow(database, topic, 'https://a.example/rss', at(-72 * HOUR));
    await see(database, feed, entry('at-start', START), at(10 * MINUTE));
    await see(database, feed, entry('before-end', at(HOUR - 1)), at(HOUR + MINUTE));
    await see(database, feed, entry('at-end', END), at(HOUR + MINUTE));
    await see(database, feed, entry('undated-at-end', null), END);
    await see(database, feed, entry('undated-inside', null), at(30 * MINUTE));
    const got = await candidates(topic);
    assert.deepEqual([...got.keys()].sort(), ['at-start', 'before-end', 'undated-inside']);
    assert.equal(got.get('at-start')?.effective_at.getTime(), START.getTime());
  });

  it('uses the seen time for an item published after it was first seen (a future date)', async () => {
    const topic = await addTopic(database, 't', at(-72 * HOUR));
    const feed = await follow(database, topic, 'https://a.example/rss', at(-72 * HOUR));
    await see(database, feed, entry('future', at(5 * HOUR)), at(20 * MINUTE));
    const got = await candidates(topic);
    assert.equal(got.get('future')?.effective_at.getTime(), at(20 * MINUTE).getTime());
  });

  it('leaves out items the topic claimed for another window', async () => {
    const topic = await addTopic(database, 't', at(-72 * HOUR));
    const feed = await follow(database, topic, 'https://a.example/rss', at(-72 * HOUR));
    const claimed = await see(database, feed, entry('claimed', at(5 * MINUTE)), at(6 * MINUTE));
    await see(database, feed, entry('free', at(5 * MINUTE)), at(6 * MINUTE));
    const other = await addWindow(database, topic.id, at(-HOUR), START, 'succeeded');
    await database.sql`INSERT INTO topic_item_claims (topic_id, item_id, window_id) VALUES (${topic.id}, ${claimed}, ${other.id})`;
    assert.deepEqual([...(await candidates(topic)).keys()], ['free']);
    // Another topic's claim does not count.
    const second = await addTopic(database, 'u', at(-72 * HOUR));
    await follow(database, second, 'https://a.example/rss', at(-72 * HOUR));
    assert.deepEqual([...(await candidates(second)).keys()].sort(), ['claimed', 'free']);
  });

  it('reaches back exactly the lookback before the window start, and no further', async () => {
    const topic = await addTopic(database, 't', at(-96 * HOUR));
    const feed = await follow(database, topic, 'https://a.example/rss', at(-96 * HOUR));
    await see(database, feed, entry('at-lookback', at(-LOOKBACK)), at(MINUTE));
    await see(database, feed, entry('too-old', at(-LOOKBACK - 1)), at(MINUTE));
    await see(database, feed, entry('late-straggler', at(-3 * HOUR)), at(2 * MINUTE));
    assert.deepEqual([...(await candidates(topic)).keys()].sort(), ['at-lookback', 'late-straggler']);
  });

  it("counts an undated item from the topic's own subscription, not from when another topic's feed first showed it", async () => {
    const a = await addTopic(database, 'a', at(-72 * HOUR));
    const b = await addTopic(database, 'b', at(-72 * HOUR));
    const feed = await follow(database, a, 'https://shared.example/rss', at(-72 * HOUR));
    await see(database, feed, entry('undated', null), at(-2 * HOUR));
    // B follows the same feed later: for B the item is new when B subscribed.
    await follow(database, b, 'https://shared.example/rss', at(15 * MINUTE));
    const forA = await candidates(a, at(-3 * HOUR), at(-HOUR));
    assert.equal(forA.get('undated')?.effective_at.getTime(), at(-2 * HOUR).getTime());
    assert.deepEqual([...(await candidates(b, at(-3 * HOUR), START)).keys()], [], "not in B's windows before B subscribed");
    const forB = await candidates(b);
    assert.equal(forB.get('undated')?.seen_at.getTime(), at(15 * MINUTE).getTime());
    assert.equal(forB.get('undated')?.effective_at.getTime(), at(15 * MINUTE).getTime());
  });

  it("counts an undated item first seen in another feed from the topic's own feed's entry", async () => {
    const a = await addTopic(database, 'a', at(-72 * HOUR));
    const own = await follow(database, a, 'https://own.example/rss', at(-72 * HOUR));
    const elsewhere = await addFeed(database, 'https://elsewhere.example/rss');
    const url = 'https://story.example/1';
    const first = await see(database, elsewhere, entry('elsewhere-1', null, url), at(-5 * HOUR));
    const again = await see(database, own, entry('own-1', null, url), at(40 * MINUTE));
    assert.equal(first, again, 'one story in two feeds is one item');
    const forA = await candidates(a);
    assert.equal(forA.get('elsewhere-1')?.effective_at.getTime(), at(40 * MINUTE).getTime());
    assert.deepEqual([...(await candidates(a, at(-6 * HOUR), START)).keys()], [], "not in A's windows before A's feed showed it");
  });
});
