import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SourceError, connectors, createSafeFetcher, feedConnector, getConnector } from '../src/index.js';
import type { CacheValidators, ConnectorContext, FeedConfig, SafeFetcher } from '../src/index.js';
import type { TestServer } from './helpers.js';
import { rss, startServer, thrown } from './helpers.js';

const FEED = rss(`<item><guid>a1</guid><title>Hello</title><link>/posts/hello</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>`);
const ETAG = '"feed-v1"';
const LAST_MODIFIED = 'Mon, 06 Jan 2025 10:00:00 GMT';

describe('feed connector', () => {
  let server: TestServer;
  let fetcher: SafeFetcher;

  before(async () => {
    server = await startServer((req, res) => {
      switch (req.url) {
        case '/feed.xml':
          if (req.headers['if-none-match'] === ETAG || req.headers['if-modified-since'] === LAST_MODIFIED) {
            res.writeHead(304, { etag: ETAG });
            res.end();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag: ETAG, 'last-modified': LAST_MODIFIED });
          res.end(FEED);
          return;
        case '/wrong-type':
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(FEED);
          return;
        case '/octet':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(FEED);
          return;
        case '/page.html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html><html><head><title>Blog</title><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Hi</body></html>');
          return;
        case '/latin1-gzip':
          res.writeHead(200, { 'content-type': 'text/xml; charset=iso-8859-1', 'content-encoding': 'gzip' });
          res.end(gzipSync(Buffer.concat([Buffer.from('<rss><channel><title>Caf'), Buffer.from([0xe9]), Buffer.from('</title><item><title>Cr'), Buffer.from([0xe8]), Buffer.from('me br'), Buffer.from([0xfb]), Buffer.from('l'), Buffer.from([0xe9]), Buffer.from('e</title><link>/cr</link></item></channel></rss>')])));
          return;
        case '/moved':
          res.writeHead(301, { location: '/feed.xml' });
          res.end();
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
    fetcher = createSafeFetcher({ timeoutMs: 3000, maxBytes: 1024 * 1024, maxRedirects: 3, allowPrivate: true });
  });
  after(async () => {
    await fetcher.close();
    await server.close();
  });

  const ctx = (path: string, validators: CacheValidators = { etag: null, lastModified: null }): ConnectorContext<FeedConfig> => ({
    config: feedConnector.parseConfig({ url: `${server.url}${path}` }),
    validators,
    fetcher,
    hackerNewsApiUrl: 'http://unused.invalid',
    now: new Date(),
  });

  it('fetches, parses and returns validators and HTTP metadata', async () => {
    const result = await feedConnector.fetch(ctx('/feed.xml'));
    assert.equal(result.notModified, false);
    assert.deepEqual(result.validators, { etag: ETAG, lastModified: LAST_MODIFIED });
    assert.equal(result.http.status, 200);
    assert.equal(result.http.url, `${server.url}/feed.xml`);
    assert.equal(result.http.bytes, Buffer.byteLength(FEED));
    assert.equal(result.items.length, 1);
    assert.equal(result.items[0]?.url, `${server.url}/posts/hello`, 'relative link resolved against the feed URL');
    const sent = server.requests.at(-1)?.headers;
    assert.equal(sent?.['if-none-match'], undefined);
    assert.match(String(sent?.accept), /application\/rss\+xml/);
  });

  it('sends If-None-Match / If-Modified-Since and reports 304 as notModified, keeping validators', async () => {
    const result = await feedConnector.fetch(ctx('/feed.xml', { etag: ETAG, lastModified: LAST_MODIFIED }));
    const sent = server.requests.at(-1)?.headers;
    assert.equal(sent?.['if-none-match'], ETAG);
    assert.equal(sent?.['if-modified-since'], LAST_MODIFIED);
    assert.equal(result.notModified, true);
    assert.equal(result.http.status, 304);
    assert.deepEqual(result.items, []);
    assert.deepEqual(result.validators, { etag: ETAG, lastModified: LAST_MODIFIED });
  });

  it('parses a valid feed served with the wrong content type', async () => {
    for (const path of ['/wrong-type', '/octet']) {
      const result = await feedConnector.fetch(ctx(path));
      assert.equal(result.items[0]?.title, 'Hello', path);
    }
  });

  it('decompresses and decodes the charset given in the HTTP header', async () => {
    const result = await feedConnector.fetch(ctx('/latin1-gzip'));
    assert.equal(result.items[0]?.title, 'Crème brûlée');
  });

  it('follows redirects and resolves links against the final URL', async () => {
    const result = await feedConnector.fetch(ctx('/moved'));
    assert.equal(result.http.url, `${server.url}/feed.xml`);
    assert.equal(result.items.length, 1);
  });

  it('reports an HTML page as a parse error and HTTP errors as http_status', async () => {
    const page = await thrown(() => feedConnector.fetch(ctx('/page.html')));
    assert.ok(page instanceof SourceError);
    assert.equal(page.code, 'parse');
    assert.equal(page.message, 'document is an HTML page, not a feed');
    assert.equal(page.url, `${server.url}/page.html`);
    const missing = await thrown(() => feedConnector.fetch(ctx('/nope.xml')));
    assert.ok(missing instanceof SourceError);
    assert.equal(missing.code, 'http_status');
    assert.equal(missing.httpStatus, 404);
  });

  it('validates its config', () => {
    assert.deepEqual(feedConnector.parseConfig({ url: 'https://Example.com/feed' }), { url: 'https://example.com/feed' });
    for (const bad of [null, 'https://x', {}, { url: 42 }, { url: '' }, { url: 'not a url' }, { url: 'ftp://x/feed' }, { url: 'https://x/', extra: 1 }]) {
      const err = (() => {
        try {
          feedConnector.parseConfig(bad);
        } catch (e) {
          return e;
        }
        return null;
      })();
      assert.ok(err instanceof SourceError && err.code === 'config', `accepted ${JSON.stringify(bad)}`);
      assert.match(err.message, /^invalid feed source config: /);
    }
    assert.equal(feedConnector.describe({ url: 'https://example.com/feed' }), 'https://example.com/feed');
  });
});

describe('connector registry', () => {
  it('lists feed and hackernews and refuses unknown types naming the known ones', () => {
    assert.deepEqual([...connectors.keys()].sort(), ['feed', 'hackernews']);
    assert.equal(getConnector('feed'), feedConnector);
    assert.throws(() => getConnector('twitter'), (err: unknown) => err instanceof SourceError && err.code === 'config' && /unknown source type "twitter" \(known: feed, hackernews\)/.test(err.message));
  });
});
