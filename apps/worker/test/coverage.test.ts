/**
 * The reason polling exists (issue 9): a feed that publishes faster than it shows loses items
 * when it is fetched only as a window ends (measured before: 2 of 23). Here the real tick,
 * poll and run consumers run on the real clock for one `--every 1m` window while a local feed
 * publishes an item every 2 s and shows only its newest 5: every item published inside the
 * window must be in the window's digest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PIPELINE_QUEUE, POLL_QUEUE, type PollFeedPayload, type RunWindowPayload } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { rss, startFeedServer, type FeedItem, type FeedServer } from '../../../test/support/feed-server.js';
import { TEST_REDIS_URL } from '../../../test/support/services.js';
import { processPollFeed } from '../src/poll-feed.js';
import { processRunWindow } from '../src/run-window.js';
import { runTick } from '../src/tick.js';
import { addEveryTopic, addFeedSource, createHarness, type Harness } from './harness.js';

const MINUTE = 60_000;
const PUBLISH_EVERY_MS = 2_000;
const VISIBLE = 5;
/** With less than this left in the current minute, the test waits for the next one (more items to lose). */
const MIN_WINDOW_LEFT_MS = 30_000;

describe('coverage', () => {
  let h: Harness;
  let feeds: FeedServer;
  before(async () => {
    h = await createHarness({ scheduling: { lagSeconds: 1, tickMinutes: 0.02 } });
    feeds = await startFeedServer();
  });
  after(async () => {
    await feeds.close();
    await h.close();
  });

  it('puts every item a fast-rotating feed published in a 1-minute window into its digest', { timeout: 150_000 }, async () => {
    const left = MINUTE - (Date.now() % MINUTE);
    if (left < MIN_WINDOW_LEFT_MS) await new Promise((resolve) => setTimeout(resolve, left + 200));
    const published: FeedItem[] = [];
    let n = 0;
    const publish = () => {
      n++;
      published.unshift({ guid: `fast-${n}`, title: `Fast ${n}`, link: `https://fast.example/${n}`, pubDate: new Date() });
    };
    publish();
    const publisher = setInterval(publish, PUBLISH_EVERY_MS);
    feeds.route('/fast.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('fast', published.slice(0, VISIBLE))));

    const topic = await addEveryTopic(h, 'fast', 60, new Date(), { digestSize: 200 });
    await addFeedSource(h, topic.id, feeds.url('/fast.xml'));
    const connections: Redis[] = [];
    const connection = () => {
      const c = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      connections.push(c);
      return c;
    };
    const polls = new Worker<PollFeedPayload>(POLL_QUEUE, async (job) => processPollFeed(h.runDeps(), job), { connection: connection(), prefix: h.redis.prefix, concurrency: 4 });
    const runs = new Worker<RunWindowPayload>(PIPELINE_QUEUE, async (job, token) => processRunWindow(h.runDeps(), job, token), { connection: connection(), prefix: h.redis.prefix, concurrency: 2 });
    let ticking = true;
    const ticks = (async () => {
      while (ticking) {
        await runTick(h.tickDeps());
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    })();
    try {
      const digest = await waitForDigest(h, 130_000);
      clearInterval(publisher);
      const inWindow = published.filter((i) => i.pubDate && i.pubDate >= digest.window_start && i.pubDate < digest.window_end).map((i) => i.title).sort();
      const rows = await h.database.sql<{ title: string }[]>`SELECT i.title FROM digest_items di JOIN items i ON i.id = di.item_id WHERE di.digest_id = ${digest.id} ORDER BY i.title`;
      const got = rows.map((r) => r.title);
      assert.ok(inWindow.length >= 10, `the window saw ${inWindow.length} items published`);
      assert.deepEqual(inWindow.filter((t) => !got.includes(t)), [], `missed items (${got.length} of ${inWindow.length} in the digest)`);
    } finally {
      clearInterval(publisher);
      ticking = false;
      await ticks;
      await Promise.all([polls.close(), runs.close()]);
      for (const c of connections) c.disconnect();
    }
  });
});

async function waitForDigest(h: Harness, timeoutMs: number): Promise<{ id: number; window_start: Date; window_end: Date }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await h.database.sql<{ id: number; window_start: Date; window_end: Date }[]>`SELECT id, window_start, window_end FROM digests WHERE trigger = 'scheduled' ORDER BY window_end LIMIT 1`;
    if (row) return row;
    if (Date.now() > deadline) throw new Error('no digest in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
