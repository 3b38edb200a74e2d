import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FEED_MAX_ITEMS, SourceError, connectors, createSafeFetcher, feedConnector, getConnector } from '../src/index.js';
import type { CacheValidators, ConnectorContext, FeedConfig, SafeFetcher } from '../src/index.js';
import type { TestServer } from './helpers.js';
import { rss, startServer, thrown } from './helpers.js';

const FEED = rss(`<item><guid>a1</guid><title>Hello</title><link>/posts/hello</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>`);
const ETAG = '"feed-v1"';
const LAST_MODIFIED = 'Mon, 06 Jan 2025 10:00:00 GMT';
/** Nested entities: we never expand them, and now never show the reference either. */
const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>Laughs</title><item><title>&lol9;</title></item><item><title>Real &lol9;item</title><link>/real</link></item></channel></rss>`;

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
        case '/moved-for-good':
          res.writeHead(301, { location: '/moved-again' });
          res.end();
          return;
        case '/moved-again':
          res.writeHead(308, { location: '/feed.xml' });
          res.end();
          return;
        case '/moved-for-now':
          res.writeHead(301, { location: '/detour' });
          res.end();
          return;
        case '/detour':
          res.writeHead(302, { location: '/feed.xml' });
          res.end();
          return;
        case '/ttl.xml':
          res.writeHead(200, { 'content-type': 'application/rss+xml', 'cache-control': 'max-age=900', expires: 'Wed, 01 Jan 2031 00:00:00 GMT' });
          res.end(rss('<item><title>t</title><link>/t</link></item>', '<title>TTL</title><ttl>45</ttl>'));
          return;
        case '/many.xml':
          res.writeHead(200, { 'content-type': 'application/rss+xml' });
          res.end(rss(Array.from({ length: FEED_MAX_ITEMS + 5 }, (_, i) => `<item><guid>g${i}</guid><title>n${i}</title><link>/n/${i}</link></item>`).join('')));
          return;
        case '/truncated.xml':
          res.writeHead(200, { 'content-type': 'application/rss+xml' });
          res.end('<rss><channel><item><title>unclosed');
          return;
        case '/laughs.xml':
          res.writeHead(200, { 'content-type': 'application/rss+xml' });
          res.end(BILLION_LAUGHS);
          return;
        case '/busy':
          res.writeHead(429, { 'retry-after': '3600' });
          res.end();
          return;
        case '/retired':
          res.writeHead(410);
          res.end();
          return;
        case '/challenge':
          res.writeHead(403, { 'cf-mitigated': 'challenge', 'content-type': 'text/html; charset=UTF-8' });
          res.end('<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body></body></html>');
          return;
        case '/html-as-xml':
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end('\ufeff  \n<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"><HTML><body>home</body></HTML>');
          return;
        case '/bare-html':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end('\n  <html><head><title>x</title></head><body><p>not a feed</p></body></html>');
          return;
        case '/html-error-text':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('Service temporarily unavailable');
          return;
        case '/broken.xml':
          res.writeHead(200, { 'content-type': 'application/rss+xml' });
          res.end('<?xml version="1.0"?><!-- the feed generator crashed here -->');
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

  it('reports HTTP errors as http_status', async () => {
    const missing = await thrown(() => feedConnector.fetch(ctx('/nope.xml')));
    assert.ok(missing instanceof SourceError);
    assert.equal(missing.code, 'http_status');
    assert.equal(missing.httpStatus, 404);
  });

  it('reports what the poll planner needs: hints with the RSS ttl, no move, no repair, the visible count', async () => {
    const result = await feedConnector.fetch(ctx('/ttl.xml'));
    assert.equal(result.hints.ttlMinutes, 45);
    assert.equal(result.hints.cacheControl, 'max-age=900');
    assert.equal(result.hints.expires, 'Wed, 01 Jan 2031 00:00:00 GMT');
    assert.ok(result.hints.date);
    assert.equal(result.hints.retryAfter, null);
    assert.equal(result.permanentUrl, null);
    assert.equal(result.recovered, null);
    assert.equal(result.visibleCount, 1);
    const plain = await feedConnector.fetch(ctx('/feed.xml'));
    assert.equal(plain.hints.ttlMinutes, null);
  });

  it('counts visible entries before the item cap', async () => {
    const result = await feedConnector.fetch(ctx('/many.xml'));
    assert.equal(result.items.length, FEED_MAX_ITEMS);
    assert.equal(result.visibleCount, FEED_MAX_ITEMS + 5);
  });

  it('on 304 passes on the hints and a permanent move, with nothing visible to count', async () => {
    const result = await feedConnector.fetch(ctx('/moved-for-good', { etag: ETAG, lastModified: null }));
    assert.equal(result.notModified, true);
    assert.equal(result.permanentUrl, `${server.url}/feed.xml`);
    assert.ok(result.hints.date);
    assert.equal(result.visibleCount, 0);
    assert.equal(result.recovered, null);
  });

  it('reports a permanent move (301 then 308) but not one that went through a temporary hop', async () => {
    const moved = await feedConnector.fetch(ctx('/moved-for-good'));
    assert.equal(moved.permanentUrl, `${server.url}/feed.xml`);
    assert.equal(moved.items.length, 1);
    const detour = await feedConnector.fetch(ctx('/moved-for-now'));
    assert.equal(detour.permanentUrl, `${server.url}/detour`, 'the permanent prefix ends before the 302');
    assert.equal((await feedConnector.fetch(ctx('/feed.xml'))).permanentUrl, null);
  });

  it('passes Retry-After on with a 429, and reports 410 as gone and a Cloudflare challenge as bot_challenge', async () => {
    const busy = await thrown(() => feedConnector.fetch(ctx('/busy')));
    assert.ok(busy instanceof SourceError);
    assert.equal(busy.code, 'http_status');
    assert.equal(busy.httpStatus, 429);
    assert.equal(busy.hints?.retryAfter, '3600');
    const gone = await thrown(() => feedConnector.fetch(ctx('/retired')));
    assert.ok(gone instanceof SourceError);
    assert.equal(gone.code, 'gone');
    assert.match(gone.message, /^HTTP 410 Gone from .*\/retired: the publisher says this feed is gone for good$/);
    const challenge = await thrown(() => feedConnector.fetch(ctx('/challenge')));
    assert.ok(challenge instanceof SourceError);
    assert.equal(challenge.code, 'bot_challenge');
    assert.match(challenge.message, /bot challenge \(Cloudflare\) served instead of the feed .*hint: the publisher blocks automated readers/);
  });

  it('reports an HTML page where a feed was expected as not_a_feed, with a hint', async () => {
    for (const path of ['/page.html', '/html-as-xml', '/bare-html', '/html-error-text']) {
      const err = await thrown(() => feedConnector.fetch(ctx(path)));
      assert.ok(err instanceof SourceError, path);
      assert.equal(err.code, 'not_a_feed', path);
      assert.equal(err.url, `${server.url}${path}`);
      assert.equal(err.httpStatus, 200);
      assert.equal(
        err.message,
        `got an HTML page, not a feed, from ${server.url}${path} (hint: use the site's RSS/Atom feed URL; the page may announce it in <link rel="alternate">)`,
      );
    }
  });

  it('keeps a genuinely broken XML feed a parse error', async () => {
    const err = await thrown(() => feedConnector.fetch(ctx('/broken.xml')));
    assert.ok(err instanceof SourceError);
    assert.equal(err.code, 'parse');
    assert.equal(err.url, `${server.url}/broken.xml`);
  });

  it('a truncated feed is a recovered success without the link-less fragment', async () => {
    const result = await feedConnector.fetch(ctx('/truncated.xml'));
    assert.deepEqual(result.items, []);
    assert.equal(result.visibleCount, 1);
    assert.equal(result.recovered, 'recovered from malformed XML: unclosed <title> at end of document (4 problems)');
  });

  it('a billion-laughs feed shows no entity reference, drops the empty item and is flagged as recovered', async () => {
    const result = await feedConnector.fetch(ctx('/laughs.xml'));
    assert.deepEqual(
      result.items.map((i) => [i.title, i.url]),
      [['Real item', `${server.url}/real`]],
    );
    assert.equal(result.visibleCount, 2);
    assert.equal(result.recovered, 'recovered from malformed XML: entity &lol9; not expanded: its declared value holds references or markup (2 problems)');
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
