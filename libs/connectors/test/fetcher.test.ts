import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { SourceError, createSafeFetcher, isPrivateAddress } from '../src/index.js';
import type { FetchOptions, SafeFetcher } from '../src/index.js';
import type { TestServer } from './helpers.js';
import { startServer, thrown } from './helpers.js';

const base: FetchOptions = { timeoutMs: 3000, maxBytes: 64 * 1024, maxRedirects: 5, allowPrivate: true };

function assertSourceError(err: unknown, code: SourceError['code']): asserts err is SourceError {
  assert.ok(err instanceof SourceError, `expected SourceError, got ${String(err)}`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
  assert.ok(!err.message.includes('\n'), 'message is one line');
}

describe('safe fetcher', () => {
  let server: TestServer;
  let fetcher: SafeFetcher;
  const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024)); // 32 MiB of zeros, ~32 KiB gzipped
  const text = 'hello '.repeat(1000);

  before(async () => {
    server = await startServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/ok') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', etag: '"v1"' });
        res.end('hello');
      } else if (path === '/missing') {
        res.writeHead(404);
        res.end('nope');
      } else if (path === '/error') {
        res.writeHead(503);
        res.end();
      } else if (path === '/trickle') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(timer));
      } else if (path === '/slow-headers') {
        setTimeout(() => res.end('late'), 5000).unref();
      } else if (path === '/big-declared') {
        res.writeHead(200, { 'content-length': String(200_000) });
        res.end(Buffer.alloc(200_000, 0x61));
      } else if (path === '/big-chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' }); // no Content-Length: chunked
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || sent > 1_000_000) return clearInterval(timer);
          res.write(Buffer.alloc(16 * 1024, 0x62));
          sent += 16 * 1024;
        }, 1);
        res.on('close', () => clearInterval(timer));
      } else if (path === '/gzip-bomb') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
        res.end(bomb);
      } else if (path === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(gzipSync(text));
      } else if (path === '/deflate') {
        res.writeHead(200, { 'content-encoding': 'deflate' });
        res.end(deflateSync(text));
      } else if (path === '/deflate-raw') {
        res.writeHead(200, { 'content-encoding': 'deflate' });
        res.end(deflateRawSync(text));
      } else if (path === '/br') {
        res.writeHead(200, { 'content-encoding': 'br' });
        res.end(brotliCompressSync(text));
      } else if (path === '/bad-gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end('this is not gzip at all');
      } else if (path === '/loop-a') {
        res.writeHead(302, { location: '/loop-b' });
        res.end();
      } else if (path === '/loop-b') {
        res.writeHead(301, { location: `${server.url}/loop-a` });
        res.end();
      } else if (path.startsWith('/chain/')) {
        const n = Number(path.slice('/chain/'.length));
        res.writeHead(n > 0 ? 307 : 200, n > 0 ? { location: `/chain/${n - 1}` } : {});
        res.end(n > 0 ? '' : 'end of chain');
      } else if (path === '/to-private') {
        res.writeHead(302, { location: 'http://10.0.0.1/internal' });
        res.end();
      } else if (path === '/to-metadata') {
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (path === '/to-ftp') {
        res.writeHead(302, { location: 'ftp://example.com/file' });
        res.end();
      } else if (path === '/conditional') {
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"' });
          res.end();
        } else {
          res.writeHead(200, { etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT' });
          res.end('fresh');
        }
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    fetcher = createSafeFetcher(base);
  });

  after(async () => {
    await fetcher.close();
    await server.close();
  });

  it('returns status, final URL, lower-cased headers, body and duration', async () => {
    const res = await fetcher.get(`${server.url}/ok`);
    assert.equal(res.status, 200);
    assert.equal(res.url, `${server.url}/ok`);
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(res.body.toString(), 'hello');
    assert.equal(res.notModified, false);
    assert.ok(res.durationMs >= 0);
    const sent = server.requests.at(-1)?.headers;
    assert.match(String(sent?.['user-agent']), /aharadar/);
    assert.match(String(sent?.['accept-encoding']), /gzip/);
  });

  it('turns a 404 into http_status with the status and URL', async () => {
    const err = await thrown(() => fetcher.get(`${server.url}/missing`));
    assertSourceError(err, 'http_status');
    assert.equal(err.httpStatus, 404);
    assert.equal(err.message, `HTTP 404 from ${server.url}/missing`);
    assert.equal(err.url, `${server.url}/missing`);
    assertSourceError(await thrown(() => fetcher.get(`${server.url}/error`)), 'http_status');
  });

  it('times out the whole request when a server trickles the body', async () => {
    const f = createSafeFetcher({ ...base, timeoutMs: 400 });
    const started = Date.now();
    const err = await thrown(() => f.get(`${server.url}/trickle`));
    const elapsed = Date.now() - started;
    await f.close();
    assertSourceError(err, 'timeout');
    assert.match(err.message, /timed out after 400 ms/);
    assert.ok(elapsed >= 350 && elapsed < 2000, `took ${elapsed} ms`);
  });

  it('times out while waiting for headers', async () => {
    const f = createSafeFetcher({ ...base, timeoutMs: 300 });
    const err = await thrown(() => f.get(`${server.url}/slow-headers`));
    await f.close();
    assertSourceError(err, 'timeout');
  });

  it('refuses a body larger than maxBytes announced by Content-Length', async () => {
    const err = await thrown(() => fetcher.get(`${server.url}/big-declared`));
    assertSourceError(err, 'too_large');
    assert.match(err.message, /^response larger than 65536 bytes/);
  });

  it('aborts a streamed body without Content-Length once past maxBytes', async () => {
    const err = await thrown(() => fetcher.get(`${server.url}/big-chunked`));
    assertSourceError(err, 'too_large');
    assert.match(err.message, /^response larger than 65536 bytes/);
  });

  it('stops a gzip bomb at maxBytes of decompressed output', async () => {
    const started = Date.now();
    const err = await thrown(() => fetcher.get(`${server.url}/gzip-bomb`));
    assertSourceError(err, 'too_large');
    assert.match(err.message, /larger than 65536 bytes after decompression/);
    assert.ok(Date.now() - started < 2000);
  });

  it('decodes gzip, zlib deflate, raw deflate and brotli bodies', async () => {
    for (const path of ['/gzip', '/deflate', '/deflate-raw', '/br']) {
      const res = await fetcher.get(`${server.url}${path}`);
      assert.equal(res.body.toString(), text, path);
      assert.equal(res.headers['content-encoding'], undefined);
    }
  });

  it('reports a corrupt compressed body as decode', async () => {
    assertSourceError(await thrown(() => fetcher.get(`${server.url}/bad-gzip`)), 'decode');
  });

  it('follows redirects and reports the final URL', async () => {
    const res = await fetcher.get(`${server.url}/chain/3`);
    assert.equal(res.url, `${server.url}/chain/0`);
    assert.equal(res.body.toString(), 'end of chain');
  });

  it('stops a redirect loop and a too-long chain with redirect_limit', async () => {
    const loop = await thrown(() => fetcher.get(`${server.url}/loop-a`));
    assertSourceError(loop, 'redirect_limit');
    assert.match(loop.message, /redirect loop/);
    const long = await thrown(() => fetcher.get(`${server.url}/chain/6`));
    assertSourceError(long, 'redirect_limit');
    assert.match(long.message, /more than 5 redirects/);
    const none = createSafeFetcher({ ...base, maxRedirects: 0 });
    assertSourceError(await thrown(() => none.get(`${server.url}/chain/1`)), 'redirect_limit');
    await none.close();
  });

  it('refuses a redirect to a non-http scheme', async () => {
    assertSourceError(await thrown(() => fetcher.get(`${server.url}/to-ftp`)), 'bad_url');
  });

  it('returns notModified with an empty body on 304', async () => {
    const fresh = await fetcher.get(`${server.url}/conditional`);
    assert.equal(fresh.body.toString(), 'fresh');
    const res = await fetcher.get(`${server.url}/conditional`, { headers: { 'If-None-Match': '"v1"' } });
    assert.equal(res.status, 304);
    assert.equal(res.notModified, true);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers.etag, '"v1"');
  });

  it('rejects URLs that are not http(s)', async () => {
    for (const url of ['ftp://example.com/feed', 'file:///etc/passwd', 'not a url', 'javascript:alert(1)']) {
      assertSourceError(await thrown(() => fetcher.get(url)), 'bad_url');
    }
  });

  it('reports DNS failures and refused connections', async () => {
    const patient = createSafeFetcher({ ...base, timeoutMs: 20_000 }); // a slow resolver must not turn this into a timeout
    assertSourceError(await thrown(() => patient.get('http://does-not-exist.invalid/feed')), 'dns');
    await patient.close();
    const closed = await startServer(() => {});
    const port = closed.port;
    await closed.close();
    assertSourceError(await thrown(() => fetcher.get(`http://127.0.0.1:${port}/`)), 'connection');
  });

  it('honours the caller abort signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await thrown(() => fetcher.get(`${server.url}/trickle`, { signal: controller.signal }));
    assert.ok(err instanceof SourceError);
    assert.match(err.message, /aborted/);
  });

  describe('SSRF guard (allowPrivate false)', () => {
    let guarded: SafeFetcher;
    before(() => {
      guarded = createSafeFetcher({ ...base, allowPrivate: false, timeoutMs: 10_000 });
    });
    after(() => guarded.close());

    it('refuses IP literals of loopback, link-local, private and special ranges before connecting', async () => {
      const before = server.requests.length;
      const targets = [
        [`${server.url}/ok`, '127.0.0.1'],
        ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
        ['http://10.0.0.1/', '10.0.0.1'],
        ['http://172.16.5.4/', '172.16.5.4'],
        ['http://192.168.1.1/', '192.168.1.1'],
        ['http://100.64.0.1/', '100.64.0.1'],
        ['http://0.0.0.0/', '0.0.0.0'],
        ['http://224.0.0.1/', '224.0.0.1'],
        ['http://2130706433/', '127.0.0.1'], // decimal form of 127.0.0.1
        ['http://0x7f.1/', '127.0.0.1'],
        ['http://[::1]/', '::1'],
        ['http://[fd00::1]/', 'fd00::1'],
        ['http://[fe80::1]/', 'fe80::1'],
        ['http://[::ffff:10.0.0.1]/', '::ffff:a00:1'],
        ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'],
      ] as const;
      for (const [url, address] of targets) {
        const started = Date.now();
        const err = await thrown(() => guarded.get(url));
        assertSourceError(err, 'private_address');
        assert.ok(err.message.startsWith(`refused private address ${address} for host`), err.message);
        assert.match(err.message, /set FETCH_ALLOW_PRIVATE=true to allow/);
        // Refused up front: a connection attempt to 10.x / 169.254.x would hang until the 10 s timeout.
        assert.ok(Date.now() - started < 500, `${url} was not refused immediately`);
      }
      assert.equal(server.requests.length, before, 'no request reached the local server');
    });

    it('checks the resolved address of a host name at connect time', async () => {
      const before = server.requests.length;
      const err = await thrown(() => guarded.get(`http://localhost:${server.port}/ok`));
      assertSourceError(err, 'private_address');
      assert.match(err.message, /^refused private address (127\.0\.0\.1|::1) for host localhost /);
      assert.equal(server.requests.length, before);
    });

    it('re-checks every redirect hop: a public-looking start cannot bounce to a private address', async () => {
      // 127.0.0.1 is explicitly allowed here so the test server can be reached; 10/8 and 169.254/16 are not.
      const f = createSafeFetcher({ ...base, allowPrivate: false, allowedAddresses: ['127.0.0.1'], timeoutMs: 10_000 });
      const ok = await f.get(`${server.url}/ok`);
      assert.equal(ok.status, 200);
      for (const [path, address] of [
        ['/to-private', '10.0.0.1'],
        ['/to-metadata', '169.254.169.254'],
      ] as const) {
        const started = Date.now();
        const err = await thrown(() => f.get(`${server.url}${path}`));
        assertSourceError(err, 'private_address');
        assert.ok(err.message.startsWith(`refused private address ${address}`), err.message);
        assert.ok(Date.now() - started < 500);
      }
      await f.close();
    });

    it('allows private addresses when allowPrivate is true', async () => {
      const res = await fetcher.get(`http://localhost:${server.port}/ok`);
      assert.equal(res.body.toString(), 'hello');
    });
  });
});

describe('isPrivateAddress', () => {
  it('classifies addresses', () => {
    const privateOnes = [
      '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '100.127.255.255',
      '169.254.169.254', '0.0.0.0', '0.1.2.3', '224.0.0.251', '239.255.255.250', '255.255.255.255', '::1', '::', 'fc00::1',
      'fdff::1', 'fe80::1', 'fe80::1%eth0', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:192.168.1.1', '::ffff:169.254.169.254',
      '64:ff9b::a00:1', '2002:a00:1::', 'not-an-ip',
    ];
    const publicOnes = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '169.255.0.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::'];
    for (const a of privateOnes) assert.equal(isPrivateAddress(a), true, a);
    for (const a of publicOnes) assert.equal(isPrivateAddress(a), false, a);
  });
});
