import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFeedServer, staticFeed, type FeedServer } from '../../../test/support/feed-server.js';
import { createCliFixture, type CliFixture } from './harness.js';

interface DigestJson {
  id: number;
  topic: string;
  trigger: string;
  status: string;
  itemCount: number;
  sourcesTotal: number;
  sourcesFailed: number;
  items: { rank: number; title: string; url: string | null; sources: string[]; score: number; why: string; breakdown: Record<string, unknown> }[];
}

describe('radar run and digests', () => {
  let cli: CliFixture;
  let feeds: FeedServer;
  before(async () => {
    cli = await createCliFixture();
    feeds = await startFeedServer();
    const now = Date.now();
    feeds.route(
      '/news.xml',
      staticFeed('Local news', [
        { guid: 'rust-1', title: 'Rust 2.0 is out', link: 'http://example.test/rust', pubDate: new Date(now - 5 * 60_000), description: 'the rust release' },
        { guid: 'bread-1', title: 'Baking bread at home', link: 'http://example.test/bread', pubDate: new Date(now - 2 * 60_000) },
        { guid: 'crypto-1', title: 'Crypto coin moons', link: 'http://example.test/coin', pubDate: new Date(now - 60_000) },
      ]),
    );
  });
  after(async () => {
    await feeds.close();
    await cli.cleanup();
  });

  it('builds an ad-hoc digest from a local feed and shows it with scores and reasons', async () => {
    await cli.ok(['topic', 'add', 'tech', '--every', '1h', '--keywords', 'rust', '--exclude', 'crypto']);
    await cli.ok(['source', 'add', '--topic', 'tech', '--type', 'feed', '--url', feeds.url('/news.xml'), '--name', 'Local news']);

    const run = await cli.ok(['run', 'tech'], { FETCH_ALLOW_PRIVATE: 'true' });
    const id = Number(/^digest #(\d+) for topic "tech" \(manual preview/m.exec(run.stdout)?.[1]);
    assert.ok(id > 0, run.stdout);
    assert.match(run.stdout, /2 items ranked from 3 candidates; 1 source \(1 polled now: 3 entries, 3 new items\), 0 failing/);
    assert.match(run.stdout, /1\. Rust 2\.0 is out {2}\[score \d+\.\d\d\]/);
    assert.match(run.stdout, /2\. Baking bread at home/);
    assert.doesNotMatch(run.stdout, /Crypto coin/, 'excluded by keyword');
    assert.equal(feeds.hits('/news.xml'), 1);

    const show = await cli.ok(['digest', 'show', String(id)]);
    assert.match(show.stdout, /digest #\d+ — topic "tech", window .* \(manual\)/);
    assert.match(show.stdout, /status complete: 2 of 3 candidates/);
    assert.match(show.stdout, /1\. Rust 2\.0 is out {2}\[score \d+\.\d\d\]\n\s+http:\/\/example\.test\/rust\n\s+sources: Local news\n\s+why: recency \d\.\d\d, keywords: rust/);
    assert.match(show.stdout, /why: .*no keyword match ×0\.25/);

    const json = await cli.json<DigestJson>(['digest', 'show', String(id)]);
    assert.equal(json.trigger, 'manual');
    assert.equal(json.status, 'complete');
    assert.deepEqual(json.items.map((i) => i.title), ['Rust 2.0 is out', 'Baking bread at home']);
    const [first, second] = json.items;
    assert.ok(first && second);
    assert.ok(first.score > second.score);
    assert.deepEqual(first.breakdown.matchedKeywords, ['rust']);
    assert.deepEqual(first.sources, ['Local news']);
    assert.match(first.why, /keywords: rust/);

    const list = await cli.json<DigestJson[]>(['digests', '--topic', 'tech']);
    assert.deepEqual(list.map((d) => d.id), [id]);
    const table = await cli.ok(['digests', '--limit', '5']);
    assert.match(table.stdout, new RegExp(`^${id}\\s+tech\\s+.*manual\\s+complete\\s+2\\s+0/1`, 'm'));
  });

  it('runs with --json, and reports a source refused by the SSRF guard without failing the run', async () => {
    const json = await cli.json<DigestJson & { failedSources: { name: string; error: string }[] }>(['run', 'tech']);
    assert.equal(json.sourcesFailed, 1);
    // Items stored by the first run are still candidates: a preview claims nothing.
    assert.equal(json.itemCount, 2);
    assert.match(json.failedSources[0]?.error ?? '', /private address/);

    const human = await cli.ok(['run', 'tech']);
    assert.match(human.stderr, /^radar: warning: source #\d+ "Local news" failing: .*FETCH_ALLOW_PRIVATE/m);
  });
});
