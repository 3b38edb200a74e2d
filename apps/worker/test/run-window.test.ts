/**
 * Window runs on the real Postgres and Redis with real BullMQ workers and a real feed server:
 * digests with their items (invariant 2), bad sources recorded without failing the run,
 * per-topic order (invariant 3), duplicate deliveries, and failures recorded as digests.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { findFeed } from '@aharadar/db';
import { pollFeed } from '@aharadar/pipeline';
import { enqueueWindows, PIPELINE_QUEUE, RUN_WINDOW_JOB, type RunWindowPayload } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { liveFeed, startFeedServer, staticFeed, type FeedServer } from '../../../test/support/feed-server.js';
import { deleteKeys, TEST_REDIS_URL } from '../../../test/support/services.js';
import { processRunWindow } from '../src/run-window.js';
import { runTick } from '../src/tick.js';
import { addEveryTopic, addFeedSource, createHarness, feedOf, oneDueMinute, type Harness } from './harness.js';

const MINUTE = 60_000;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startWorkers(h: Harness, count: number, concurrency: number): { workers: Worker<RunWindowPayload>[]; close(): Promise<void> } {
  const connections: Redis[] = [];
  const workers = Array.from({ length: count }, () => {
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(connection);
    return new Worker<RunWindowPayload>(PIPELINE_QUEUE, (job, token) => processRunWindow(h.runDeps(), job, token), {
      connection,
      prefix: h.redis.prefix,
      concurrency,
    });
  });
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      for (const c of connections) c.disconnect();
    },
  };
}

describe('window runs', () => {
  let h: Harness;
  let feeds: FeedServer;
  before(async () => {
    h = await createHarness({ scheduling: { lagSeconds: 1, maxCatchupWindows: 6 }, fetchTimeoutMs: 1_500, maxBytes: 256 * 1024 });
    feeds = await startFeedServer();
  });
  after(async () => {
    await feeds.close();
    await h.close();
  });
  beforeEach(async () => {
    await h.database.sql`TRUNCATE topics, windows, digests, items RESTART IDENTITY CASCADE`;
    await deleteKeys(h.redis.redis, `${h.redis.prefix}:*`);
  });

  it('builds a complete digest from the good feed while every bad source is recorded', async () => {
    // Exactly one due window, whatever the second hand says (two would count each failure twice).
    const { createdAt, now } = oneDueMinute();
    feeds.route('/good.xml', liveFeed('good', { slotSeconds: 5, slots: 40 }));
    feeds.route('/malformed.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<<<\u0000 this is not XML >>> & <'));
    // Truncated XML: the parser recovers what it can (like feedparser's "bozo"), never throws.
    feeds.route('/truncated.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<rss><channel><item><title>broken'));
    feeds.route('/html', (_q, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body><h1>Not a feed</h1></body></html>'));
    feeds.route('/slow.xml', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    });
    feeds.route('/huge.xml', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.end(`<rss><channel>${'<item><title>x</title></item>'.repeat(20_000)}</channel></rss>`);
    });
    // Compressed once: the server shares this process with the worker under test, and 20 MB of
    // gzip per request would starve the fetches whose timeouts the test checks.
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 32));
    feeds.route('/bomb.xml', (_q, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' }).end(bomb));
    const topic = await addEveryTopic(h, 'mixed', 60, createdAt);
    const good = await addFeedSource(h, topic.id, feeds.url('/good.xml'), 'good');
    const truncated = await addFeedSource(h, topic.id, feeds.url('/truncated.xml'), 'truncated');
    const bad = {
      malformed: await addFeedSource(h, topic.id, feeds.url('/malformed.xml'), 'malformed'),
      html: await addFeedSource(h, topic.id, feeds.url('/html'), 'html'),
      missing: await addFeedSource(h, topic.id, feeds.url('/missing.xml'), 'missing'),
      slow: await addFeedSource(h, topic.id, feeds.url('/slow.xml'), 'slow'),
      huge: await addFeedSource(h, topic.id, feeds.url('/huge.xml'), 'huge'),
      bomb: await addFeedSource(h, topic.id, feeds.url('/bomb.xml'), 'bomb'),
      unreachable: await addFeedSource(h, topic.id, 'http://127.0.0.1:1/feed.xml', 'unreachable'),
    };
    await runTick({ ...h.tickDeps(), now: () => now });
    const pool = startWorkers(h, 1, 2);
    try {
      const digest = await waitFor('a digest', async () => (await h.database.sql<{ id: number; status: string; item_count: number; sources_failed: number; sources_total: number }[]>`SELECT * FROM digests`)[0]);
      assert.equal(digest.status, 'complete');
      assert.ok(digest.item_count > 0);
      assert.equal(digest.sources_total, 9);
      const results = await h.database.sql<{ source_id: number; status: string; error_code: string | null; http_status: number | null; error: string | null }[]>`
        SELECT s.id AS source_id, r.status, r.error_code, r.http_status, r.error FROM fetch_results r JOIN sources s ON s.feed_id = r.feed_id`;
      const bySource = new Map(results.map((r) => [r.source_id, r]));
      assert.equal(bySource.get(good)?.status, 'ok');
      assert.ok(['ok', 'error'].includes(bySource.get(truncated)?.status ?? ''), 'truncated XML is recorded either way');
      const expectedCodes: Record<keyof typeof bad, string[]> = {
        malformed: ['parse'],
        html: ['not_a_feed'],
        missing: ['http_status'],
        slow: ['timeout'],
        huge: ['too_large'],
        bomb: ['too_large'],
        unreachable: ['connection'],
      };
      for (const [name, id] of Object.entries(bad) as [keyof typeof bad, number][]) {
        const r = bySource.get(id);
        assert.equal(r?.status, 'error', `${name} should be recorded as an error`);
        assert.ok(expectedCodes[name].includes(r?.error_code ?? ''), `${name}: code ${r?.error_code} (${r?.error})`);
        assert.ok((r?.error ?? '').length > 0, `${name} has a message`);
      }
      assert.equal(bySource.get(bad.missing)?.http_status, 404);
      assert.equal(digest.sources_failed - (bySource.get(truncated)?.status === 'error' ? 1 : 0), 7);
      const health = await h.database.sql<{ consecutive_failures: number }[]>`SELECT f.consecutive_failures FROM feeds f JOIN sources s ON s.feed_id = f.id WHERE s.id = ${bad.missing}`;
      assert.equal(health[0]?.consecutive_failures, 1);
    } finally {
      await pool.close();
    }
  });

  it('runs the windows of one topic in order and never two at once, across three workers', async () => {
    const now = new Date();
    let active = 0;
    let overlaps = 0;
    // A slow feed (150 ms): overlapping runs of the topic would be caught here.
    feeds.route('/ordered.xml', async (req, res) => {
      active++;
      if (active > 1) overlaps++;
      await new Promise((r) => setTimeout(r, 150));
      active--;
      await liveFeed('ordered')(req, res);
    });
    // 6.5 minutes back: 6 or 7 windows have ended depending on the second hand; the catch-up
    // bound (6) runs the newest 6 and records an older one as skipped, which never runs.
    const topic = await addEveryTopic(h, 'ordered', 60, new Date(now.getTime() - 6.5 * MINUTE));
    await addFeedSource(h, topic.id, feeds.url('/ordered.xml'));
    const report = await runTick({ ...h.tickDeps(), now: () => now });
    assert.equal(report.windowsScheduled, 6);
    const pool = startWorkers(h, 3, 4);
    try {
      const rows = await waitFor('all windows finished', async () => {
        const r = await h.database.sql<{ id: number; status: string; window_start: Date; started_at: Date; finished_at: Date }[]>`
          SELECT id, status, window_start, started_at, finished_at FROM windows WHERE topic_id = ${topic.id} AND status <> 'skipped' ORDER BY window_start`;
        return r.every((w) => w.status === 'succeeded') ? r : undefined;
      }, 60_000);
      assert.equal(overlaps, 0, 'two runs of one topic overlapped');
      for (let i = 1; i < rows.length; i++) {
        const prev = rows[i - 1]!;
        const cur = rows[i]!;
        assert.ok(cur.started_at.getTime() >= prev.finished_at.getTime(), `window ${i} started before window ${i - 1} finished`);
      }
      const digests = await h.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests`;
      assert.equal(digests[0]?.n, 6);
    } finally {
      await pool.close();
    }
  });

  it('writes one digest when the same window is delivered twice', async () => {
    const { createdAt, now } = oneDueMinute();
    feeds.route('/dup.xml', liveFeed('dup'));
    const topic = await addEveryTopic(h, 'dup', 60, createdAt);
    await addFeedSource(h, topic.id, feeds.url('/dup.xml'));
    await runTick({ ...h.tickDeps(), now: () => now });
    const [row] = await h.database.sql<{ id: number; topic_id: number }[]>`SELECT id, topic_id FROM windows`;
    assert.ok(row);
    // A second job for the same window under another id: what a duplicated delivery looks like.
    await h.queues.pipeline.add(RUN_WINDOW_JOB, { windowId: row.id, topicId: row.topic_id }, { jobId: `dup-${row.id}` });
    await enqueueWindows(h.queues.pipeline, [row], 3); // and a repeated enqueue, a no-op by job id
    const pool = startWorkers(h, 2, 2);
    try {
      await waitFor('both jobs done', async () => (await h.queues.pipeline.getJobCounts('completed')).completed === 2);
      const digests = await h.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digests WHERE window_id = ${row.id}`;
      assert.equal(digests[0]?.n, 1);
      const items = await h.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digest_items`;
      const claims = await h.database.sql<{ n: number }[]>`SELECT count(DISTINCT item_id)::int AS n FROM topic_item_claims`;
      assert.ok((items[0]?.n ?? 0) > 0);
      assert.ok((claims[0]?.n ?? 0) >= (items[0]?.n ?? 0));
    } finally {
      await pool.close();
    }
  });

  it('retries a failing run and ends it with a failed digest carrying the reason', async () => {
    const { createdAt, now } = oneDueMinute();
    feeds.route('/fail.xml', liveFeed('fail'));
    const topic = await addEveryTopic(h, 'failing', 60, createdAt);
    await addFeedSource(h, topic.id, feeds.url('/fail.xml'));
    // Make persisting the digest items impossible: the run fails at its last step, every time.
    await h.database.sql`ALTER TABLE digest_items ADD CONSTRAINT test_never CHECK (rank < 0)`;
    try {
      const due = await runTick({ ...h.tickDeps({ pipelineAttempts: 2 }), now: () => now });
      assert.equal(due.windowsScheduled, 1);
      // Fast retries for the test: re-add with a 10 ms backoff.
      const [job] = await h.queues.pipeline.getJobs(['waiting']);
      assert.ok(job);
      await job.remove();
      await h.queues.pipeline.add(RUN_WINDOW_JOB, job.data, { jobId: job.id, attempts: 2, backoff: { type: 'fixed', delay: 10 } });
      const pool = startWorkers(h, 1, 1);
      try {
        const digest = await waitFor('a failed digest', async () => (await h.database.sql<{ status: string; error: string }[]>`SELECT status, error FROM digests`)[0]);
        assert.equal(digest.status, 'failed');
        assert.match(digest.error, /after 2 attempts: .*test_never/);
        const [w] = await h.database.sql<{ status: string; attempts: number }[]>`SELECT status, attempts FROM windows`;
        assert.equal(w?.status, 'failed');
        assert.equal(w?.attempts, 2);
        const items = await h.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digest_items`;
        assert.equal(items[0]?.n, 0, 'no half-written digest items');
      } finally {
        await pool.close();
      }
    } finally {
      await h.database.sql`ALTER TABLE digest_items DROP CONSTRAINT test_never`;
    }
  });

  it('puts an item into exactly one window of a topic, and late items into the next window not yet built', async () => {
    const base = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
    const items = [
      { guid: 'a', title: 'A in first', link: 'https://n.example/a', pubDate: new Date(base + 10_000) },
      { guid: 'b', title: 'B in second', link: 'https://n.example/b', pubDate: new Date(base + MINUTE + 10_000) },
    ];
    feeds.route('/windows.xml', staticFeed('w', items));
    const topic = await addEveryTopic(h, 'windows', 60, new Date(base + 1_000));
    const source = await addFeedSource(h, topic.id, feeds.url('/windows.xml'));
    await runTick({ ...h.tickDeps(), now: () => new Date(base + MINUTE + 2_000) }); // first window only
    const pool = startWorkers(h, 1, 1);
    try {
      await waitFor('first digest', async () => (await h.database.sql`SELECT 1 FROM digests`).length === 1);
      // A late item of the first window appears after its digest was built, and a scheduled
      // poll (before the second window's run) stores it.
      items.push({ guid: 'late', title: 'Late for first', link: 'https://n.example/late', pubDate: new Date(base + 20_000) });
      const feed = await findFeed(h.database.db, await feedOf(h, source));
      assert.ok(feed);
      await pollFeed(h.runDeps(), feed, { kind: 'scheduled', claimSeq: null, windowId: null, lagMs: null });
      await runTick({ ...h.tickDeps(), now: () => new Date(base + 2 * MINUTE + 2_000) });
      await waitFor('second digest', async () => (await h.database.sql`SELECT 1 FROM digests`).length === 2);
      const rows = await h.database.sql<{ window_start: Date; title: string }[]>`
        SELECT d.window_start, i.title FROM digests d JOIN digest_items di ON di.digest_id = d.id JOIN items i ON i.id = di.item_id
        ORDER BY d.window_start, i.title`;
      assert.deepEqual(rows.map((r) => [r.window_start.getTime() - base, r.title]), [
        [0, 'A in first'],
        [MINUTE, 'B in second'],
        [MINUTE, 'Late for first'],
      ]);
    } finally {
      await pool.close();
    }
  });
});
