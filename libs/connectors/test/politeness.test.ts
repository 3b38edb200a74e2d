import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_USER_AGENT, SourceError, createSafeFetcher } from '../src/index.js';
import type { FetchOptions, HostGate } from '../src/index.js';
import { hostKey } from '../src/http/host-gate.js';
import type { TestServer } from './helpers.js';
import { startServer, thrown } from './helpers.js';

const base: FetchOptions = { timeoutMs: 3000, maxBytes: 64 * 1024, maxRedirects: 5, allowPrivate: true };
/** How long the slow endpoint takes: long enough that unserialised requests overlap. */
const SLOW_MS = 60;
const PARALLEL = 5;

/** A gate like the Redis semaphore will be: at most `limit` holders per host, FIFO, and a log. */
function countingGate(limit: number): { gate: HostGate; acquired: string[]; released: number } {
  const state = { acquired: [] as string[], released: 0, gate: undefined as unknown as HostGate };
  const held = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();
  state.gate = async (key) => {
    if ((held.get(key) ?? 0) >= limit) {
      await new Promise<void>((resolve) => {
        const queue = waiting.get(key) ?? [];
        queue.push(resolve);
        waiting.set(key, queue);
      });
    }
    held.set(key, (held.get(key) ?? 0) + 1);
    state.acquired.push(key);
    return async () => {
      state.released++;
      held.set(key, (held.get(key) ?? 1) - 1);
      waiting.get(key)?.shift()?.();
    };
  };
  return state;
}

describe('politeness in the safe fetcher', () => {
  let server: TestServer;
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    server = await startServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/slow') {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        res.on('close', () => inFlight--);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        setTimeout(() => res.end('part two'), SLOW_MS);
      } else if (path === '/ok') {
        res.writeHead(200, { 'cache-control': 'max-age=600, public', expires: 'Wed, 01 Jan 2031 00:00:00 GMT', 'content-type': 'text/plain' });
        res.end('ok');
      } else if (path === '/trickle') {
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'), 20);
        res.on('close', () => clearInterval(timer));
      } else if (path.startsWith('/r/')) {
        // /r/301/308/ok: answer with the first status, redirecting to the rest of the path.
        const [status = '200', ...rest] = path.slice(3).split('/');
        res.writeHead(Number(status), { location: `/${rest.length > 1 ? `r/${rest.join('/')}` : (rest[0] ?? 'ok')}` });
        res.end();
      } else if (path === '/conditional') {
        res.writeHead(304, { etag: '"x"', 'cache-control': 'max-age=60' });
        res.end();
      } else if (path === '/busy') {
        res.writeHead(429, { 'retry-after': '120' });
        res.end('slow down');
      } else if (path === '/down') {
        res.writeHead(503, { 'retry-after': 'Wed, 01 Jan 2031 00:00:00 GMT' });
        res.end();
      } else if (path === '/gone') {
        res.writeHead(410);
        res.end();
      } else if (path === '/challenge') {
        res.writeHead(403, { 'cf-mitigated': 'challenge', 'content-type': 'text/html' });
        res.end('<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>');
      } else if (path === '/challenge-200') {
        res.writeHead(200, { 'cf-mitigated': 'Challenge', 'content-type': 'text/html' });
        res.end('<html></html>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  after(() => server.close());

  describe('User-Agent', () => {
    it('names the project and a contact URL by default; FetchOptions.userAgent replaces it', async () => {
      assert.equal(DEFAULT_USER_AGENT, 'aharadar/0.2 (+https://github.com/aharadar/aharadar; self-hosted feed reader)');
      const plain = createSafeFetcher(base);
      const custom = createSafeFetcher({ ...base, userAgent: 'radar-test/1 (+https://example.org/contact)' });
      try {
        await plain.get(`${server.url}/ok`);
        assert.equal(server.requests.at(-1)?.headers['user-agent'], DEFAULT_USER_AGENT);
        await custom.get(`${server.url}/ok`);
        assert.equal(server.requests.at(-1)?.headers['user-agent'], 'radar-test/1 (+https://example.org/contact)');
      } finally {
        await plain.close();
        await custom.close();
      }
    });
  });

  describe('hostGate', () => {
    it('a gate allowing one request at a time per host really serialises requests to that host', async () => {
      const counted = countingGate(1);
      const gated = createSafeFetcher({ ...base, hostGate: counted.gate });
      const free = createSafeFetcher(base);
      try {
        maxInFlight = 0;
        const bodies = await Promise.all(Array.from({ length: PARALLEL }, () => gated.get(`${server.url}/slow`)));
        assert.deepEqual(
          bodies.map((r) => r.body.toString()),
          Array.from({ length: PARALLEL }, () => 'part one, part two'),
        );
        assert.equal(maxInFlight, 1, 'the server never saw two requests at once');
        assert.deepEqual(counted.acquired, Array.from({ length: PARALLEL }, () => `127.0.0.1:${server.port}`));
        assert.equal(counted.released, PARALLEL);

        // The same load without a gate does overlap: the counter above can see it.
        maxInFlight = 0;
        await Promise.all(Array.from({ length: PARALLEL }, () => free.get(`${server.url}/slow`)));
        assert.ok(maxInFlight > 1, `without a gate at most ${maxInFlight} in flight`);
      } finally {
        await gated.close();
        await free.close();
      }
    });

    it('holds a slot per redirect hop and releases every slot exactly once, on success and on error', async () => {
      const counted = countingGate(1);
      const f = createSafeFetcher({ ...base, timeoutMs: 300, hostGate: counted.gate });
      try {
        await f.get(`${server.url}/r/301/302/ok`);
        assert.equal(counted.acquired.length, 3);
        assert.equal(counted.released, 3);
        await thrown(() => f.get(`${server.url}/missing`));
        await thrown(() => f.get(`${server.url}/gone`));
        const timeout = await thrown(() => f.get(`${server.url}/trickle`));
        assert.ok(timeout instanceof SourceError && timeout.code === 'timeout');
        assert.equal(counted.acquired.length, 6);
        assert.equal(counted.released, 6);
        // Nothing is left held: one more request gets its slot at once.
        const res = await f.get(`${server.url}/ok`);
        assert.equal(res.status, 200);
      } finally {
        await f.close();
      }
    });

    it('does not count the wait for a slot against the request timeout; past the wait budget it is host_busy, and a late slot is handed back', async () => {
      let released = 0;
      let sawAbort = false;
      // Ignores the signal and grants the slot only after 400 ms.
      const late: HostGate = async (_key, signal) => {
        signal.addEventListener('abort', () => (sawAbort = true));
        await sleep(400);
        return async () => {
          released++;
        };
      };
      // Queued 400 ms behind our own per-host limit, with a 150 ms request timeout: the wait is
      // ours, not the publisher's, so the request still succeeds.
      const patient = createSafeFetcher({ ...base, timeoutMs: 150, hostGate: late });
      // A 50 ms timeout gives a wait budget of 6 × 50 = 300 ms: the slot comes too late.
      const hurried = createSafeFetcher({ ...base, timeoutMs: 50, hostGate: late });
      try {
        const res = await patient.get(`${server.url}/ok`);
        assert.equal(res.status, 200);
        assert.equal(released, 1);
        const started = Date.now();
        const err = await thrown(() => hurried.get(`${server.url}/ok`));
        assert.ok(err instanceof SourceError && err.code === 'host_busy', String(err));
        assert.match(err.message, /no free request slot for 127\.0\.0\.1:\d+ within 300 ms/);
        assert.ok(Date.now() - started < 390, 'gave up at the wait budget, not when the gate answered');
        assert.ok(sawAbort, 'the gate was handed the aborting signal');
        await sleep(350);
        assert.equal(released, 2, 'the late slot was handed straight back');
      } finally {
        await patient.close();
        await hurried.close();
      }
    });

    it('reports a failing gate as a connection error', async () => {
      const broken: HostGate = () => Promise.reject(new Error('redis unavailable'));
      const f = createSafeFetcher({ ...base, hostGate: broken });
      try {
        const err = await thrown(() => f.get(`${server.url}/ok`));
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'connection');
        assert.equal(err.message, `waiting for a request slot for 127.0.0.1:${server.port} failed: redis unavailable`);
      } finally {
        await f.close();
      }
    });

    it('keys hosts by lower-case name and port, defaulting the port from the scheme', () => {
      assert.equal(hostKey(new URL('https://Example.COM/feed')), 'example.com:443');
      assert.equal(hostKey(new URL('http://example.com/feed')), 'example.com:80');
      assert.equal(hostKey(new URL('http://example.com:8080/feed')), 'example.com:8080');
      assert.equal(hostKey(new URL('https://example.com:443/feed')), 'example.com:443');
      assert.equal(hostKey(new URL('http://[::1]:8080/')), '::1:8080');
      assert.equal(hostKey(new URL('https://[2001:DB8::1]/')), '2001:db8::1:443');
    });
  });

  describe('permanentRedirect', () => {
    const fetcher = createSafeFetcher(base);
    after(() => fetcher.close());

    it('is the final URL when every hop was permanent (301 then 308)', async () => {
      const res = await fetcher.get(`${server.url}/r/301/308/ok`);
      assert.equal(res.url, `${server.url}/ok`);
      assert.equal(res.permanentRedirect, `${server.url}/ok`);
    });

    it('stops at the first temporary hop (301 then 302)', async () => {
      const res = await fetcher.get(`${server.url}/r/301/302/ok`);
      assert.equal(res.url, `${server.url}/ok`);
      assert.equal(res.permanentRedirect, `${server.url}/r/302/ok`);
    });

    it('is null when the first hop is temporary or there is no redirect', async () => {
      for (const first of ['302', '303', '307']) {
        assert.equal((await fetcher.get(`${server.url}/r/${first}/301/ok`)).permanentRedirect, null, first);
      }
      assert.equal((await fetcher.get(`${server.url}/ok`)).permanentRedirect, null);
    });

    it('is reported with a 304 too', async () => {
      const res = await fetcher.get(`${server.url}/r/308/conditional`);
      assert.equal(res.notModified, true);
      assert.equal(res.permanentRedirect, `${server.url}/conditional`);
    });
  });

  describe('publisher hints and HTTP errors', () => {
    const fetcher = createSafeFetcher(base);
    after(() => fetcher.close());

    it('passes Cache-Control, Expires and Date on as written', async () => {
      const res = await fetcher.get(`${server.url}/ok`);
      assert.equal(res.hints.cacheControl, 'max-age=600, public');
      assert.equal(res.hints.expires, 'Wed, 01 Jan 2031 00:00:00 GMT');
      assert.equal(res.hints.date, res.headers.date);
      assert.ok(res.hints.date, 'node sends a Date header');
      assert.equal(res.hints.retryAfter, null);
      assert.equal(res.hints.ttlMinutes, null);
      assert.equal((await fetcher.get(`${server.url}/conditional`)).hints.cacheControl, 'max-age=60');
    });

    it("a 429's and a 503's Retry-After reach SourceError.hints", async () => {
      const busy = await thrown(() => fetcher.get(`${server.url}/busy`));
      assert.ok(busy instanceof SourceError);
      assert.equal(busy.code, 'http_status');
      assert.equal(busy.httpStatus, 429);
      assert.equal(busy.hints?.retryAfter, '120');
      const down = await thrown(() => fetcher.get(`${server.url}/down`));
      assert.ok(down instanceof SourceError);
      assert.equal(down.httpStatus, 503);
      assert.equal(down.hints?.retryAfter, 'Wed, 01 Jan 2031 00:00:00 GMT');
      const missing = await thrown(() => fetcher.get(`${server.url}/missing`));
      assert.ok(missing instanceof SourceError && missing.hints !== undefined, 'every http_status error has hints');
    });

    it('410 is gone, for good', async () => {
      const err = await thrown(() => fetcher.get(`${server.url}/r/301/gone`));
      assert.ok(err instanceof SourceError);
      assert.equal(err.code, 'gone');
      assert.equal(err.httpStatus, 410);
      assert.equal(err.url, `${server.url}/gone`);
      assert.equal(err.message, `HTTP 410 Gone from ${server.url}/gone: the publisher says this feed is gone for good`);
      assert.ok(err.hints);
    });

    it('a Cloudflare challenge (cf-mitigated: challenge) is bot_challenge, whatever the status', async () => {
      for (const [path, status] of [
        ['/challenge', 403],
        ['/challenge-200', 200],
      ] as const) {
        const err = await thrown(() => fetcher.get(`${server.url}${path}`));
        assert.ok(err instanceof SourceError, path);
        assert.equal(err.code, 'bot_challenge');
        assert.equal(err.httpStatus, status);
        assert.equal(
          err.message,
          `bot challenge (Cloudflare) served instead of the feed from ${server.url}${path} (HTTP ${status}; hint: the publisher blocks automated readers: ask them to allow this reader, or use another feed URL)`,
        );
      }
    });
  });
});
