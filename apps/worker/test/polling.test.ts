/**
 * Polling (DESIGN §6.1) on the real Postgres, Redis and local HTTP servers: one feed for many
 * topics, each planned poll once, politeness (per-host limit, Retry-After, backoff, 304, 301,
 * 410), recovery from a Redis that lost its data, and retention.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createSafeFetcher } from '@aharadar/connectors';
import { findFeed, pruneBatch } from '@aharadar/db';
import { ensureFresh, pollFeed } from '@aharadar/pipeline';
import { createHostGate, POLL_QUEUE, type PollFeedPayload } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { rss, startFeedServer, type FeedItem, type FeedServer } from '../../../test/support/feed-server.js';
import { deleteKeys, TEST_REDIS_URL } from '../../../test/support/services.js';
import { processPollFeed, type PollFeedDeps } from '../src/poll-feed.js';
import { runTick } from '../src/tick.js';
import { waitFor } from '../../../test/support/processes.js';
import { addEveryTopic, addFeedSource, createHarness, feedOf, type Harness } from './harness.js';

const MINUTE = 60_000;


function items(n: number, prefix: string, newest = Date.now()): FeedItem[] {
  return Array.from({ length: n }, (_, i) => ({ guid: `${prefix}-${i}`, title: `${prefix} ${i}`, link: `https://p.example/${prefix}/${i}`, pubDate: new Date(newest - i * 1000) }));
}

describe('polling', () => {
  let h: Harness;
  let feeds: FeedServer;

  before(async () => {
    h = await createHarness({ scheduling: { lagSeconds: 1, tickMinutes: 0.05 }, fetchTimeoutMs: 5_000 });
    feeds = await startFeedServer();
  });
  after(async () => {
    await feeds.close();
    await h.close();
  });

  function pollDeps(overrides: Partial<PollFeedDeps> = {}): PollFeedDeps {
    return { ...h.runDeps(), ...overrides };
  }

  /** BullMQ workers consuming the poll queue, as worker processes would. */
  function startPollWorkers(count: number, deps: () => PollFeedDeps) {
    const connections: Redis[] = [];
    const workers = Array.from({ length: count }, () => {
      const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      connections.push(connection);
      return new Worker<PollFeedPayload>(POLL_QUEUE, async (job) => processPollFeed(deps(), job), { connection, prefix: h.redis.prefix, concurrency: 8 });
    });
    return {
      async close() {
        await Promise.all(workers.map((w) => w.close()));
        for (const c of connections) c.disconnect();
      },
    };
  }

  it('polls one URL followed by 50 topics with one request, however many ticks plan it at once', async () => {
    const url = feeds.url('/shared.xml');
    feeds.route('/shared.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('shared', items(5, 'shared'))));
    const created = new Date(Date.now() - 10 * MINUTE);
    for (let i = 0; i < 50; i++) {
      const topic = await addEveryTopic(h, `shared-${i}`, 3600, created);
      await addFeedSource(h, topic.id, url);
    }
    assert.equal((await h.database.sql`SELECT 1 FROM feeds WHERE key = ${`feed:${url}`}`).length, 1, 'one feed for 50 subscriptions');
    // Three "workers" tick at once, twice: each planned poll is claimed once.
    const reports = await Promise.all([1, 2, 3, 4, 5, 6].map(() => runTick(h.tickDeps())));
    assert.equal(reports.reduce((n, r) => n + r.pollsPlanned, 0), 1);
    const pool = startPollWorkers(3, () => pollDeps());
    try {
      await waitFor('the poll', async () => (await h.database.sql`SELECT 1 FROM fetch_results`).length === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(feeds.hits('/shared.xml'), 1);
    } finally {
      await pool.close();
    }
  });

  it('shares the freshness poll: 21 runs whose windows end together make one request', async () => {
    const path = '/fresh.xml';
    feeds.route(path, (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('fresh', items(3, 'fresh'))));
    const topic = await addEveryTopic(h, 'fresh-owner', 3600, new Date());
    const feed = await findFeed(h.database.db, await feedOf(h, await addFeedSource(h, topic.id, feeds.url(path))));
    assert.ok(feed);
    const windowEnd = new Date();
    const outcomes = await Promise.all(Array.from({ length: 21 }, () => ensureFresh(pollDeps(), feed, windowEnd, null)));
    assert.equal(feeds.hits(path), 1);
    assert.equal(outcomes.filter((o) => o.polled !== null).length, 1);
  });

  it('never has more than FETCH_PER_HOST_CONCURRENCY requests to one host at once across three workers', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss(req.url ?? '', items(2, req.url ?? 'x')));
      }, 40);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const topic = await addEveryTopic(h, 'one-host', 3600, new Date());
    for (let i = 0; i < 30; i++) await addFeedSource(h, topic.id, `http://127.0.0.1:${port}/f${i}.xml`);
    // Each worker has its own fetcher and Redis connection, gated by the same Redis semaphore.
    const gated = () => {
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      const fetcher = createSafeFetcher({ timeoutMs: 10_000, maxBytes: 1 << 20, maxRedirects: 3, allowPrivate: true, hostGate: createHostGate(redis, { prefix: h.redis.prefix, limit: 2, leaseMs: 15_000 }) });
      return { redis, fetcher };
    };
    const perWorker = [gated(), gated(), gated()];
    let next = 0;
    await runTick(h.tickDeps());
    const pool = startPollWorkers(3, () => pollDeps({ fetcher: perWorker[next++ % 3]!.fetcher }));
    try {
      await waitFor('30 polls', async () => (await h.database.sql`SELECT 1 FROM feeds f JOIN sources s ON s.feed_id = f.id WHERE s.topic_id = ${topic.id} AND f.last_status = 'ok'`).length === 30);
      assert.ok(maxInFlight <= 2, `at most 2 at once, saw ${maxInFlight}`);
      assert.equal(maxInFlight, 2, 'the limit is reached (the gate does not serialise to one)');
    } finally {
      await pool.close();
      for (const w of perWorker) {
        await w.fetcher.close();
        w.redis.disconnect();
      }
      server.closeAllConnections();
      server.close();
    }
  });

  it('makes no request before Retry-After, backs off after 5xx, and recovers', async () => {
    let mode: '429' | '503' | 'ok' = '429';
    const path = '/polite.xml';
    feeds.route(path, (_q, res) => {
      if (mode === '429') return void res.writeHead(429, { 'retry-after': '120' }).end();
      if (mode === '503') return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('polite', items(3, 'polite')));
    });
    const topic = await addEveryTopic(h, 'polite', 3600, new Date());
    const feedId = await feedOf(h, await addFeedSource(h, topic.id, feeds.url(path)));
    const deps = pollDeps();
    const poll = async () => pollFeed(deps, (await findFeed(h.database.db, feedId))!, { kind: 'scheduled', claimSeq: null, windowId: null, lagMs: null });

    const limited = await poll();
    assert.equal(limited.status, 'error');
    const afterLimit = (await findFeed(h.database.db, feedId))!;
    assert.ok(afterLimit.not_before && afterLimit.not_before.getTime() >= Date.now() + 110_000, 'not before Retry-After');
    assert.ok(afterLimit.next_poll_at.getTime() >= afterLimit.not_before.getTime());
    // A window ending now would like the feed fresh, but the publisher asked us to wait.
    await ensureFresh(deps, afterLimit, new Date(), null);
    assert.equal(feeds.hits(path), 1, 'no request before Retry-After, not even a freshness poll');

    mode = '503';
    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = Date.now();
      const r = await poll();
      assert.equal(r.status, 'error');
      gaps.push(r.nextPollAt.getTime() - before);
    }
    assert.ok(gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!, `backoff grows: ${gaps.join(', ')} ms`);
    assert.equal((await findFeed(h.database.db, feedId))!.consecutive_failures, 4);

    mode = 'ok';
    const recovered = await poll();
    assert.equal(recovered.status, 'ok');
    const healthy = (await findFeed(h.database.db, feedId))!;
    assert.equal(healthy.consecutive_failures, 0);
    assert.equal(healthy.not_before, null);
  });

  it('sends validators and stores nothing new on 304; follows a 301 for good; disables on 410', async () => {
    const path = '/cached.xml';
    let conditional = 0;
    feeds.route(path, (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        conditional++;
        return void res.writeHead(304).end();
      }
      res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"' }).end(rss('cached', items(4, 'cached')));
    });
    feeds.route('/old.xml', (_q, res) => void res.writeHead(301, { location: feeds.url('/new.xml') }).end());
    feeds.route('/new.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('new', items(2, 'moved'))));
    feeds.route('/gone.xml', (_q, res) => void res.writeHead(410).end());
    const topic = await addEveryTopic(h, 'http-semantics', 3600, new Date());
    const cached = await feedOf(h, await addFeedSource(h, topic.id, feeds.url(path)));
    const moved = await feedOf(h, await addFeedSource(h, topic.id, feeds.url('/old.xml')));
    const gone = await feedOf(h, await addFeedSource(h, topic.id, feeds.url('/gone.xml')));
    const deps = pollDeps();
    const poll = async (id: number) => pollFeed(deps, (await findFeed(h.database.db, id))!, { kind: 'scheduled', claimSeq: null, windowId: null, lagMs: null });

    assert.equal((await poll(cached)).newEntries, 4);
    const second = await poll(cached);
    assert.equal(second.status, 'not_modified');
    assert.equal(second.itemsFound, 0);
    assert.equal(conditional, 1);

    await poll(moved);
    const movedFeed = (await findFeed(h.database.db, moved))!;
    assert.equal((movedFeed.config as { url: string }).url, feeds.url('/new.xml'));
    await poll(moved);
    assert.equal(feeds.hits('/old.xml'), 1, 'the old URL is not asked again');

    const goneResult = await poll(gone);
    assert.equal(goneResult.errorCode, 'gone');
    const goneFeed = (await findFeed(h.database.db, gone))!;
    assert.equal(goneFeed.enabled, false);
    assert.match(goneFeed.disabled_reason ?? '', /410/);
    assert.equal((await runTick(h.tickDeps())).outcome, 'done');
    assert.equal((await h.database.sql`SELECT 1 FROM feeds WHERE id = ${gone} AND poll_queued_at IS NOT NULL`).length, 0, 'a disabled feed is never planned');
  });

  it('keeps one item per entry when its URL changes, and counts it as new once', async () => {
    let link = 'https://orphan.example/first';
    feeds.route('/orphan.xml', (_q, res) =>
      void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('o', [{ guid: 'stable-guid', title: 'Moving', link, pubDate: new Date() }])),
    );
    const topic = await addEveryTopic(h, 'orphans', 3600, new Date());
    const feedId = await feedOf(h, await addFeedSource(h, topic.id, feeds.url('/orphan.xml')));
    const deps = pollDeps();
    const poll = async () => pollFeed(deps, (await findFeed(h.database.db, feedId))!, { kind: 'scheduled', claimSeq: null, windowId: null, lagMs: null });
    assert.equal((await poll()).newItems, 1);
    link = 'https://orphan.example/second';
    const again = await poll();
    assert.equal(again.newItems, 0);
    assert.equal(again.newEntries, 0);
    const rows = await h.database.sql<{ url: string }[]>`SELECT i.url FROM items i JOIN feed_items fi ON fi.item_id = i.id WHERE fi.feed_id = ${feedId}`;
    assert.deepEqual(rows.map((r) => r.url), ['https://orphan.example/second']);
  });

  it('re-derives planned polls from Postgres after Redis lost its data', async () => {
    feeds.route('/flush.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss('f', items(1, 'flush'))));
    const topic = await addEveryTopic(h, 'flush', 3600, new Date());
    const feedId = await feedOf(h, await addFeedSource(h, topic.id, feeds.url('/flush.xml')));
    const now = Date.now();
    await runTick({ ...h.tickDeps(), now: () => new Date(now) });
    const claim = (await findFeed(h.database.db, feedId))!;
    assert.ok(claim.poll_queued_at, 'planned');
    await deleteKeys(h.redis.redis, `${h.redis.prefix}:${POLL_QUEUE}:*`);
    // Past the reconcile grace period, the next tick finds the claim without its job.
    const report = await runTick({ ...h.tickDeps(), now: () => new Date(now + 20_000) });
    assert.ok(report.pollsReenqueued >= 1);
    const job = await h.queues.poll.getJob(`poll-${feedId}-${claim.poll_seq}`);
    assert.ok(job, 'the same job id is back');
  });

  it('prunes old fetch history and items in no digest, never a digest item', async () => {
    const db = h.database.db;
    const old = new Date(Date.now() - 40 * 86_400_000);
    const [kept] = await h.database.sql<{ id: number }[]>`INSERT INTO items (title, url_hash, first_seen_at) VALUES ('in a digest', 'prune-kept', ${old}) RETURNING id`;
    const [dropped] = await h.database.sql<{ id: number }[]>`INSERT INTO items (title, url_hash, first_seen_at) VALUES ('in no digest', 'prune-dropped', ${old}) RETURNING id`;
    const topic = await addEveryTopic(h, 'prune', 3600, old);
    const [w] = await h.database.sql<{ id: number }[]>`INSERT INTO windows (topic_id, window_start, window_end, trigger, status) VALUES (${topic.id}, ${old}, ${new Date(old.getTime() + 3_600_000)}, 'backfill', 'succeeded') RETURNING id`;
    const [d] = await h.database.sql<{ id: number }[]>`INSERT INTO digests (window_id, topic_id, window_start, window_end, trigger, status) VALUES (${w!.id}, ${topic.id}, ${old}, ${new Date(old.getTime() + 3_600_000)}, 'backfill', 'complete') RETURNING id`;
    await h.database.sql`INSERT INTO digest_items (digest_id, item_id, rank, score, breakdown) VALUES (${d!.id}, ${kept!.id}, 1, 1, '{}')`;
    const cutoff = new Date(Date.now() - 30 * 86_400_000);
    let total = 0;
    for (;;) {
      const pruned = await pruneBatch(db, { cutoff, batchSize: 1 });
      total += pruned.items;
      if (pruned.items === 0 && pruned.fetchResults === 0) break;
    }
    assert.ok(total >= 1);
    assert.equal((await h.database.sql`SELECT 1 FROM items WHERE id = ${dropped!.id}`).length, 0);
    assert.equal((await h.database.sql`SELECT 1 FROM items WHERE id = ${kept!.id}`).length, 1, 'a digest item stays');
    assert.equal((await h.database.sql`SELECT 1 FROM digest_items WHERE item_id = ${kept!.id}`).length, 1);
  });
});
