import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SourceError, createSafeFetcher, getConnector, hackerNewsConnector } from '../src/index.js';
import type { ConnectorContext, HackerNewsConfig, SafeFetcher } from '../src/index.js';
import type { TestServer } from './helpers.js';
import { startServer, thrown } from './helpers.js';

/** A local stand-in for https://hacker-news.firebaseio.com/v0 with the same shapes. */
const ITEMS: Record<number, unknown> = {
  101: { id: 101, type: 'story', by: 'alice', time: 1_700_000_000, title: 'Show HN: A thing', url: 'https://thing.example/', score: 120, descendants: 33 },
  102: { id: 102, type: 'story', by: 'bob', time: 1_700_000_100, title: 'Ask HN: Why <blink> & how?', text: '<p>Body <i>text</i></p>', score: 5, descendants: 0 },
  103: { id: 103, type: 'story', deleted: true, time: 1_700_000_200 },
  104: { id: 104, type: 'story', dead: true, by: 'x', title: 'dead', time: 1_700_000_300 },
  105: { id: 105, type: 'job', by: 'acme', title: 'Acme is hiring', time: 1_700_000_400 },
  106: { id: 106, type: 'comment', by: 'c', text: 'hi', time: 1_700_000_500 },
  // 107: fails with HTTP 500; 108: invalid JSON; 109: null (as the API returns for unknown ids)
};

describe('hackernews connector', () => {
  let server: TestServer;
  let fetcher: SafeFetcher;
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    server = await startServer((req, res) => {
      const url = req.url ?? '';
      const reply = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (url === '/v0/topstories.json') return reply(200, JSON.stringify([101, 102, 103, 104, 105, 106, 107, 108, 109, 'x', 110]));
      if (url === '/v0/newstories.json') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=30' });
        res.end(JSON.stringify(Array.from({ length: 60 }, (_, i) => 1000 + i)));
        return;
      }
      if (url === '/v0/beststories.json') return reply(500, 'oops');
      const m = /^\/v0\/item\/(\d+)\.json$/.exec(url);
      if (!m) return reply(404, 'null');
      const id = Number(m[1]);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (id === 107) return reply(500, 'error');
        if (id === 108) return reply(200, '{not json');
        if (id === 109) return reply(200, 'null');
        if (id >= 1000) return reply(200, JSON.stringify({ id, type: 'story', by: 'u', time: 1_700_000_000 + id, title: `Story ${id}`, score: id - 1000, descendants: 1 }));
        return reply(200, JSON.stringify(ITEMS[id] ?? null));
      }, 20);
    });
    fetcher = createSafeFetcher({ timeoutMs: 3000, maxBytes: 1024 * 1024, maxRedirects: 3, allowPrivate: true });
  });
  after(async () => {
    await fetcher.close();
    await server.close();
  });

  const ctx = (config: unknown): ConnectorContext<HackerNewsConfig> => ({
    config: hackerNewsConnector.parseConfig(config),
    validators: { etag: null, lastModified: null },
    fetcher,
    hackerNewsApiUrl: `${server.url}/v0/`,
    now: new Date(),
  });

  it('maps stories, skips deleted/dead/non-story items and survives failing item fetches', async () => {
    const result = await hackerNewsConnector.fetch(ctx({ list: 'top' }));
    assert.deepEqual(result.items, [
      {
        externalId: 'hn:101',
        url: 'https://thing.example/',
        title: 'Show HN: A thing',
        summary: null,
        author: 'alice',
        publishedAt: new Date(1_700_000_000_000),
        points: 120,
        comments: 33,
      },
      {
        externalId: 'hn:102',
        url: 'https://news.ycombinator.com/item?id=102',
        title: 'Ask HN: Why <blink> & how?',
        summary: 'Body text',
        author: 'bob',
        publishedAt: new Date(1_700_000_100_000),
        points: 5,
        comments: 0,
      },
    ]);
    assert.equal(result.notModified, false);
    assert.equal(result.http.status, 200);
    assert.equal(result.http.url, `${server.url}/v0/topstories.json`);
    assert.match(result.warnings?.[0] ?? '', /^2 of 10 Hacker News items could not be fetched/);
    assert.equal(result.visibleCount, 10, 'the ids considered, whatever became of them');
    assert.equal(result.permanentUrl, null);
    assert.equal(result.recovered, null);
  });

  it("reports the list response's hints and how many ids it considered", async () => {
    const result = await hackerNewsConnector.fetch(ctx({ list: 'new', limit: 5 }));
    assert.equal(result.hints.cacheControl, 'max-age=30');
    assert.ok(result.hints.date);
    assert.equal(result.hints.ttlMinutes, null);
    assert.equal(result.visibleCount, 5);
  });

  it('takes the first `limit` ids, several requests at a time', async () => {
    maxInFlight = 0;
    const before = server.requests.length;
    const result = await hackerNewsConnector.fetch(ctx({ list: 'new', limit: 25 }));
    assert.equal(result.items.length, 25);
    assert.deepEqual(
      result.items.map((i) => i.externalId),
      Array.from({ length: 25 }, (_, i) => `hn:${1000 + i}`),
    );
    assert.equal(server.requests.length - before, 26);
    assert.ok(maxInFlight > 1 && maxInFlight <= 10, `max in flight ${maxInFlight}`);
    const defaults = await hackerNewsConnector.fetch(ctx({ list: 'new' }));
    assert.equal(defaults.items.length, 30);
  });

  it('fails when the list itself cannot be fetched', async () => {
    const err = await thrown(() => hackerNewsConnector.fetch(ctx({ list: 'best' })));
    assert.ok(err instanceof SourceError);
    assert.equal(err.code, 'http_status');
    assert.equal(err.httpStatus, 500);
  });

  it('validates its config', () => {
    assert.equal(getConnector('hackernews'), hackerNewsConnector);
    assert.deepEqual(hackerNewsConnector.parseConfig({ list: 'best' }), { list: 'best', limit: 30 });
    assert.deepEqual(hackerNewsConnector.parseConfig({ list: 'top', limit: 100 }), { list: 'top', limit: 100 });
    for (const bad of [null, {}, { list: 'ask' }, { list: 'top', limit: 0 }, { list: 'top', limit: 101 }, { list: 'top', limit: 2.5 }, { list: 'top', limit: '10' }, { list: 'top', extra: true }]) {
      assert.throws(
        () => hackerNewsConnector.parseConfig(bad),
        (err: unknown) => err instanceof SourceError && err.code === 'config' && err.message.startsWith('invalid hackernews source config: '),
        JSON.stringify(bad),
      );
    }
    assert.equal(hackerNewsConnector.describe({ list: 'top', limit: 30 }), 'Hacker News top (30)');
  });
});
