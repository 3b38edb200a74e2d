/**
 * Migration 0003 (polled feeds) on a database that has lived under 0002: every topic,
 * source id, item, window and digest survives; sources with the same URL become one feed;
 * a topic that had one URL twice keeps one subscription; links and history follow their feed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Migrator } from 'kysely';
import postgres from 'postgres';
import { createDatabase, migrations, type DatabaseHandle } from '../src/index.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('migration 0003_polled_feeds on existing data', () => {
  const name = `radar_test_mig_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  let handle: DatabaseHandle;

  before(async () => {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    handle = createDatabase({ url: url.toString(), maxConnections: 2, applicationName: 'radar-test' });
  });
  after(async () => {
    await handle.close();
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('keeps every topic, source id, item, window and digest, and shares feeds', async () => {
    const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } });
    const to0002 = await migrator.migrateTo('0002_item_sources_recent_idx');
    assert.equal(to0002.error, undefined);
    const sql = handle.sql;
    await sql`INSERT INTO topics (id, name, schedule_kind, every_seconds, anchor, next_window_end) VALUES
      (1, 'a', 'every', 3600, '2026-11-01Z', '2026-11-29Z'), (2, 'b', 'every', 3600, '2026-11-01Z', '2026-11-29Z')`;
    // Topic a and b share https://x.example/rss; topic a had it twice; b follows HN top.
    await sql`INSERT INTO sources (id, topic_id, type, name, config, weight, etag, last_status, last_fetched_at, consecutive_failures) VALUES
      (10, 1, 'feed', 'x for a', '{"url": "https://x.example/rss"}', 1, '"old"', 'ok', '2026-11-28Z', 0),
      (11, 1, 'feed', 'x again', '{"url": "https://x.example/rss"}', 2.5, NULL, 'error', '2026-11-28T12:00Z', 3),
      (12, 2, 'feed', 'x for b', '{"url": "https://x.example/rss"}', 1, '"new"', 'ok', '2026-11-29Z', 0),
      (13, 2, 'hackernews', 'HN', '{"list": "top", "limit": 30}', 1, NULL, NULL, NULL, 0)`;
    await sql`INSERT INTO items (id, url, url_hash, title) VALUES (100, 'https://x.example/1', 'h1', 'one'), (101, 'https://x.example/2', 'h2', 'two')`;
    await sql`INSERT INTO item_sources (item_id, source_id, external_id, first_seen_at) VALUES
      (100, 10, 'g1', '2026-11-28T01:00Z'), (100, 12, 'g1', '2026-11-28T00:30Z'), (101, 11, 'g2', '2026-11-28T02:00Z')`;
    await sql`INSERT INTO windows (id, topic_id, window_start, window_end, trigger, status) VALUES (1000, 1, '2026-11-28Z', '2026-11-28T01:00Z', 'scheduled', 'succeeded')`;
    await sql`INSERT INTO digests (id, window_id, topic_id, window_start, window_end, trigger, status, item_count) VALUES (500, 1000, 1, '2026-11-28Z', '2026-11-28T01:00Z', 'scheduled', 'complete', 1)`;
    await sql`INSERT INTO digest_items (digest_id, item_id, rank, score, breakdown) VALUES (500, 100, 1, 1.5, '{}')`;
    await sql`INSERT INTO fetch_results (source_id, status, duration_ms) VALUES (10, 'ok', 5), (12, 'ok', 6), (13, 'error', 7)`;

    const latest = await migrator.migrateToLatest();
    assert.equal(latest.error, undefined);

    const feeds = await sql<{ id: number; key: string; etag: string | null }[]>`SELECT id, key, etag FROM feeds ORDER BY key`;
    assert.deepEqual(feeds.map((f) => f.key), ['feed:https://x.example/rss', 'hackernews:top:30']);
    assert.equal(feeds[0]?.etag, '"new"', 'the freshest fetch state wins');
    const sources = await sql<{ id: number; topic_id: number; name: string; weight: number; feed_id: number }[]>`SELECT id, topic_id, name, weight, feed_id FROM sources ORDER BY id`;
    assert.deepEqual(sources.map((s) => [s.id, s.topic_id, s.name, s.weight]), [[10, 1, 'x for a', 2.5], [12, 2, 'x for b', 1], [13, 2, 'HN', 1]]);
    assert.equal(sources[0]?.feed_id, sources[1]?.feed_id, 'one feed for the shared URL');
    const entries = await sql<{ external_id: string; item_id: number; first_seen_at: Date }[]>`SELECT external_id, item_id, first_seen_at FROM feed_items ORDER BY external_id`;
    assert.deepEqual(entries.map((e) => [e.external_id, e.item_id]), [['g1', 100], ['g2', 101]]);
    assert.equal(entries[0]?.first_seen_at.toISOString(), '2026-11-28T00:30:00.000Z', 'the earliest sighting of an entry');
    assert.equal((await sql`SELECT 1 FROM items`).length, 2);
    assert.equal((await sql`SELECT 1 FROM digests WHERE id = 500 AND item_count = 1`).length, 1);
    assert.equal((await sql`SELECT 1 FROM digest_items WHERE digest_id = 500`).length, 1);
    assert.equal((await sql`SELECT 1 FROM windows WHERE id = 1000`).length, 1);
    const history = await sql<{ feed_id: number }[]>`SELECT feed_id FROM fetch_results ORDER BY id`;
    assert.deepEqual(history.map((h) => h.feed_id), [sources[0]?.feed_id, sources[0]?.feed_id, sources[2]?.feed_id]);
  });
});
