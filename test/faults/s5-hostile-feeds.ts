/**
 * Scenario 5 — hostile feeds, served locally, through the real worker.
 *
 * Part A (FETCH_ALLOW_PRIVATE=true, since the hostile server is on 127.0.0.1): one topic whose
 * window has 2 good feeds and every kind of hostile one. Each hostile source must end as a
 * recorded outcome (a source error with the right code; a few malformed-but-readable
 * documents are recovered by the lenient parser, which is reported), never a crash, never a
 * fetch longer than FETCH_TIMEOUT_MS; the worker's memory stays bounded; the good feeds'
 * items reach the digest.
 *
 * Part B (SSRF guard on): sources pointing at 169.254.169.254, 10.x and loopback (in several
 * spellings) end as `private_address` errors, and — checked with strace on the worker — no
 * connect() is ever made to those addresses, and the loopback server gets no request.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SubscriptionExistsError, writeGlobalPause } from '@aharadar/db';
import { addSource } from '@aharadar/pipeline';
import { rss, type Route } from '../support/feed-server.js';
import { alive, createStack, peakRssMb, readyz, seconds, sleep, stderrWriters, until, type Stack } from './support/stack.js';
import type { Outcome, Scenario, ScenarioContext } from './support/scenario.js';

const FETCH_TIMEOUT_MS = 4_000;
const MAX_BYTES = 5 * 1024 * 1024;
const MEMORY_LIMIT_MB = 400;
const MB = 1024 * 1024;

interface HostileCase {
  path: string;
  route: Route;
  /** The error code it must end with; 'recovered' = the lenient parser may keep what it can; 'skip' = a hop, not a source. */
  expect: string;
}

/** Resolves when the response can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function goodFeed(name: string, windowStart: Date): Route {
  const items = [10, 20, 30].map((s) => ({
    guid: `${name}-${s}`,
    title: `${name} good story ${s}`,
    link: `https://good.example/${name}/${s}`,
    pubDate: new Date(windowStart.getTime() + s * 1000),
  }));
  return (_req, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(rss(name, items));
}

function hostileCases(windowStart: Date): HostileCase[] {
  const valid = rss('truncate-me', [1, 2, 3, 4].map((i) => ({ guid: `t${i}`, title: `t${i}`, link: `https://t.example/${i}`, pubDate: new Date(windowStart.getTime() + i * 1000) })));
  const tenMbOfZeros = gzipSync(Buffer.alloc(10 * MB));
  const latin1 = Buffer.from(rss('charset', [{ guid: 'c1', title: 'Café – naïve déjà vu', link: 'https://c.example/1', pubDate: windowStart }]), 'latin1');
  const laughs = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)].join('\n');
  const quadratic = `<!ENTITY big "${'x'.repeat(100_000)}">`;
  const itemChunk = Buffer.from('<item><title>filler</title><description>' + 'y'.repeat(4000) + '</description></item>\n');
  const ok = (type: string, body: Buffer | string): Route => (_req, res) => void res.writeHead(200, { 'content-type': type }).end(body);
  return [
    { path: '/garbage.xml', expect: 'parse', route: ok('application/rss+xml', randomBytes(64 * 1024)) },
    { path: '/not-xml.xml', expect: 'parse', route: ok('application/rss+xml', 'this is not xml at all, just words and more words') },
    {
      path: '/malformed.xml',
      expect: 'recovered',
      route: ok('application/rss+xml', '<?xml version="1.0"?><rss version="2.0"><channel><title>broken<item><title>a & b <b>unclosed</item><item><guid>z</guid><title>x &bogus; y</title></channel>'),
    },
    { path: '/truncated.xml', expect: 'recovered', route: ok('application/rss+xml', valid.slice(0, Math.floor(valid.length * 0.6))) },
    {
      path: '/truncated-transfer.xml',
      expect: 'connection',
      route: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': String(valid.length * 3) });
        res.write(valid);
        setTimeout(() => res.destroy(), 200);
      },
    },
    { path: '/wrong-charset.xml', expect: 'recovered', route: ok('application/rss+xml; charset=utf-8', latin1) },
    { path: '/utf16-says-latin1.xml', expect: 'recovered', route: ok('text/xml; charset=iso-8859-1', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, 'utf16le')])) },
    { path: '/html.xml', expect: 'not_a_feed', route: ok('text/html', '<!doctype html><html><head><title>Welcome</title></head><body><h1>Not a feed</h1><p>Sign in</p></body></html>') },
    { path: '/empty.xml', expect: 'parse', route: ok('application/rss+xml', '') },
    { path: '/error-500.xml', expect: 'http_status', route: (_req, res) => void res.writeHead(500).end('boom') },
    {
      path: '/huge-declared.xml',
      expect: 'too_large',
      route: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': String(50 * MB) });
        res.write(Buffer.alloc(64 * 1024, 0x20));
      },
    },
    {
      path: '/huge-streamed.xml',
      expect: 'too_large',
      route: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>');
        let sent = 0;
        while (sent < 50 * MB && !res.destroyed) {
          if (!res.write(itemChunk)) await drained(res);
          sent += itemChunk.length;
        }
        if (!res.destroyed) res.end('</channel></rss>');
      },
    },
    {
      path: '/gzip-bomb.xml',
      expect: 'too_large',
      route: async (_req, res) => {
        // 100 gzip members of 10 MB of zeros: ~1 GB decompressed from ~1 MB on the wire.
        res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' });
        for (let i = 0; i < 100 && !res.destroyed; i++) {
          if (!res.write(tenMbOfZeros)) await drained(res);
        }
        if (!res.destroyed) res.end();
      },
    },
    { path: '/bad-gzip.xml', expect: 'decode', route: (_req, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' }).end('<rss>not gzip at all</rss>'.repeat(10)) },
    {
      path: '/billion-laughs.xml',
      expect: 'recovered',
      route: ok('application/rss+xml', `<?xml version="1.0"?>\n<!DOCTYPE rss [\n${laughs}\n]>\n<rss version="2.0"><channel><title>&lol9;</title><item><guid>bl</guid><title>&lol9;</title></item></channel></rss>`),
    },
    {
      path: '/quadratic.xml',
      expect: 'recovered',
      route: ok('application/rss+xml', `<?xml version="1.0"?>\n<!DOCTYPE rss [\n${quadratic}\n]>\n<rss version="2.0"><channel><title>q</title><item><guid>q</guid><title>${'&big;'.repeat(10_000)}</title></item></channel></rss>`),
    },
    {
      path: '/trickle.xml',
      expect: 'timeout',
      route: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        const body = Buffer.from(valid);
        for (let i = 0; i < body.length && !res.destroyed; i++) {
          res.write(body.subarray(i, i + 1));
          await sleep(1_000);
        }
        if (!res.destroyed) res.end();
      },
    },
    { path: '/no-headers.xml', expect: 'timeout', route: () => new Promise<void>(() => {}) },
    { path: '/loop-a.xml', expect: 'redirect_limit', route: (_req, res) => void res.writeHead(302, { location: '/loop-b.xml' }).end() },
    ...Array.from({ length: 12 }, (_, i) => ({
      path: `/chain-${i}.xml`,
      expect: i === 0 ? 'redirect_limit' : 'skip',
      route: ((_req, res) => void res.writeHead(301, { location: `/chain-${i + 1}.xml` }).end()) as Route,
    })),
  ];
}

/** Waits until the start of a minute is at least `margin` ms away, then returns the window that just ended. */
async function lastEndedWindow(marginMs: number): Promise<{ start: Date; end: Date }> {
  const inMinute = Date.now() % 60_000;
  if (60_000 - inMinute < marginMs) await sleep(60_000 - inMinute + 2_000);
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  return { start: new Date(end - 60_000), end: new Date(end) };
}

async function hostilePart(ctx: ScenarioContext, outcome: Outcome): Promise<void> {
  const stack = await createStack(ctx.infra, 's5a', {
    SCHEDULER_TICK_MINUTES: '0.05',
    SCHEDULER_LAG_SECONDS: '1',
    FETCH_TIMEOUT_MS: String(FETCH_TIMEOUT_MS),
    FETCH_MAX_BYTES: String(MAX_BYTES),
    FETCH_SOURCE_CONCURRENCY: '8',
    FETCH_ALLOW_PRIVATE: 'true',
  });
  try {
    const window = await lastEndedWindow(35_000);
    const cases = hostileCases(window.start);
    for (const c of cases) stack.feeds.route(c.path, c.route);
    stack.feeds.route('/loop-b.xml', (_req, res) => void res.writeHead(302, { location: '/loop-a.xml' }).end());
    stack.feeds.route('/good-1.xml', goodFeed('good1', window.start));
    stack.feeds.route('/good-2.xml', goodFeed('good2', window.start));

    await stack.start('scheduler', 'scheduler');
    const worker = await stack.start('worker', 'worker');
    const baseline = await peakRssMb(worker.child.pid);
    const createdAt = new Date(window.start.getTime() + 1_000);
    // The window is already due: hold fan-out (a global pause; polling goes on) while the
    // topic's sources are added one by one, so the window is built with all of them.
    await writeGlobalPause(stack.db.db, true, new Date());
    const topicId = await stack.addEveryTopic('hostile', createdAt, stack.feeds.url('/good-1.xml'));
    await addSource(stack.db.db, { topicId, type: 'feed', name: 'good-2', config: { url: stack.feeds.url('/good-2.xml') } });
    const hostile = cases.filter((c) => c.expect !== 'skip');
    const sourceIds = new Map<number, HostileCase>();
    for (const c of hostile) {
      const { source } = await addSource(stack.db.db, { topicId, type: 'feed', name: c.path, config: { url: stack.feeds.url(c.path) } });
      sourceIds.set(source.id, c);
    }
    await writeGlobalPause(stack.db.db, false, new Date());

    const started = Date.now();
    const digest = await until(
      'the hostile window digest',
      async () =>
        (await stack.db.sql<{ id: number; status: string; item_count: number; sources_failed: number; duration_ms: number }[]>`
          SELECT id, status, item_count, sources_failed, duration_ms FROM digests WHERE topic_id = ${topicId}`)[0],
      60_000,
      250,
    ).catch(() => undefined);
    const elapsed = Date.now() - started;
    const peak = await peakRssMb(worker.child.pid);
    const results = await stack.db.sql<{ source_id: number; status: string; error_code: string | null; duration_ms: number; error: string | null }[]>`
      SELECT s.id AS source_id, r.status, r.error_code, r.duration_ms, r.error FROM fetch_results r JOIN sources s ON s.feed_id = r.feed_id WHERE s.id = ANY(${[...sourceIds.keys()]})`;
    const goodItems = await stack.db.sql<{ title: string }[]>`
      SELECT i.title FROM digest_items di JOIN items i ON i.id = di.item_id WHERE di.digest_id = ${digest?.id ?? 0} AND i.title LIKE '%good story%'`;

    let errors = 0;
    let recovered = 0;
    let maxFetch = 0;
    const wrong: string[] = [];
    for (const [id, c] of sourceIds) {
      const rows = results.filter((r) => r.source_id === id);
      const r = rows[0];
      // One poll, or a scheduled poll and the window's freshness poll: each must be the recorded outcome.
      if (rows.length === 0 || !r) {
        wrong.push(`${c.path}: ${rows.length} fetch results recorded`);
        continue;
      }
      maxFetch = Math.max(maxFetch, r.duration_ms);
      if (r.status === 'error') errors++;
      else recovered++;
      if (c.expect !== 'recovered' && (r.status !== 'error' || r.error_code !== c.expect)) wrong.push(`${c.path}: ${r.status}/${r.error_code ?? '-'} (want error/${c.expect}): ${r.error ?? ''}`);
      if (r.duration_ms > FETCH_TIMEOUT_MS + 1_500) wrong.push(`${c.path}: took ${r.duration_ms} ms (timeout ${FETCH_TIMEOUT_MS})`);
    }

    outcome.figure('hostile', hostile.length);
    outcome.figure('recorded', `${results.length}/${hostile.length}`);
    outcome.figure('errors', errors);
    outcome.figure('recovered', recovered);
    outcome.figure('max-fetch', seconds(maxFetch));
    outcome.figure('window-built-in', seconds(elapsed));
    outcome.figure('good-items', `${goodItems.length}/6`);
    outcome.figure('rss', `${baseline ?? '?'}→${peak ?? '?'}MB`);
    outcome.check(digest !== undefined, 'no digest for the hostile window within 60 s');
    outcome.check(digest?.status === 'complete', `the digest is ${digest?.status}`);
    outcome.check(goodItems.length === 6, `only ${goodItems.length}/6 items of the good feeds reached the digest`);
    for (const w of wrong) outcome.fail(w);
    outcome.check(alive(worker), `the worker died (${String(worker.child.exitCode ?? worker.child.signalCode)})`);
    outcome.check(peak !== null && peak < MEMORY_LIMIT_MB, `worker peak RSS ${peak} MB (limit ${MEMORY_LIMIT_MB} MB)`);
    outcome.check((await readyz(worker.healthPort)).status === 200, 'the worker is not ready after the hostile run');
    for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
  } finally {
    await stack.close();
  }
}

/** strace lines of connect() (and accept) calls made by a process while `during` runs; null if strace is unavailable. */
async function traceConnects(pid: number, during: () => Promise<void>): Promise<string[] | null> {
  if (spawnSync('strace', ['-V']).status !== 0) {
    await during();
    return null;
  }
  const file = join(tmpdir(), `radar-faults-strace-${randomBytes(3).toString('hex')}.txt`);
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=connect,accept4,accept', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
  try {
    await sleep(1_000); // attached
    await during();
  } finally {
    tracer.kill('SIGINT'); // detaches; the traced worker carries on
    await new Promise((r) => tracer.once('exit', r));
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  rmSync(file, { force: true });
  return lines;
}

async function ssrfPart(ctx: ScenarioContext, outcome: Outcome): Promise<void> {
  // FAULTS_SSRF_SELFTEST=1 turns the guard off and keeps only the loopback targets: the checks
  // below must then FAIL (requests arrive, connect() calls are seen) — a test of this test.
  const selfTest = process.env.FAULTS_SSRF_SELFTEST === '1';
  const stack: Stack = await createStack(ctx.infra, 's5b', {
    SCHEDULER_TICK_MINUTES: '0.05',
    SCHEDULER_LAG_SECONDS: '1',
    FETCH_TIMEOUT_MS: String(FETCH_TIMEOUT_MS),
    FETCH_ALLOW_PRIVATE: selfTest ? 'true' : 'false',
  });
  try {
    const port = Number(new URL(stack.feeds.url('/')).port);
    for (const path of ['/ssrf-1', '/ssrf-2', '/ssrf-3']) stack.feeds.route(path, goodFeed('ssrf', new Date()));
    const allTargets = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://169.254.169.254:80/computeMetadata/v1/',
      'http://10.0.0.1/feed.xml',
      'http://10.255.255.254:8080/feed.xml',
      'http://0x0a000001/feed.xml',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      `http://127.0.0.1:${port}/ssrf-1`,
      `http://2130706433:${port}/ssrf-2`,
      `http://localhost:${port}/ssrf-3`,
      `http://[::1]:${port}/ssrf-1`,
    ];
    const targets = selfTest ? allTargets.filter((t) => t.includes(`:${port}/`) && !t.includes('[::1]')) : allTargets;
    await stack.start('scheduler', 'scheduler');
    const worker = await stack.start('worker', 'worker');
    const window = await lastEndedWindow(30_000);
    let topicId = 0;
    const trace = await traceConnects(worker.child.pid ?? 0, async () => {
      topicId = await stack.addEveryTopic('ssrf', new Date(window.start.getTime() + 1_000), targets[0] as string);
      for (const url of targets.slice(1)) {
        try {
          await addSource(stack.db.db, { topicId, type: 'feed', name: url, config: { url } });
        } catch (error) {
          // Two spellings of one address (0x0a000001 is 10.0.0.1) are one feed: subscribed once.
          if (!(error instanceof SubscriptionExistsError)) throw error;
        }
      }
      await until('the SSRF window digest', async () => (await stack.db.sql<{ id: number }[]>`SELECT id FROM digests WHERE topic_id = ${topicId}`)[0], 60_000, 250);
      await readyz(worker.healthPort); // one accept() in the trace: proves strace was attached
    });
    const results = await stack.db.sql<{ status: string; error_code: string | null; duration_ms: number; name: string }[]>`
      SELECT f.status, f.error_code, f.duration_ms, s.name FROM fetch_results f JOIN sources s ON s.feed_id = f.feed_id WHERE s.topic_id = ${topicId}`;
    // Per subscribed feed (two spellings of one address are one feed; a feed may have been
    // polled by the tick and by the window's freshness poll): every poll of every feed refused.
    const subscribed = (await stack.db.sql<{ name: string }[]>`SELECT name FROM sources WHERE topic_id = ${topicId}`).map((s) => s.name);
    const refused = [...new Set(results.filter((r) => r.status === 'error' && r.error_code === 'private_address').map((r) => r.name))];
    const notRefused = results.filter((r) => r.error_code !== 'private_address');
    const hits = ['/ssrf-1', '/ssrf-2', '/ssrf-3'].reduce((n, p) => n + stack.feeds.hits(p), 0);
    const forbidden = (trace ?? []).filter(
      (l) => /connect\(/.test(l) && (/169\.254\./.test(l) || /"10\./.test(l) || l.includes(`htons(${port})`) || /"::1"/.test(l) || /a9fe:a9fe/i.test(l)),
    );
    const attached = (trace ?? []).some((l) => /accept4?\(/.test(l));

    outcome.figure('ssrf-refused', `${refused.length}/${subscribed.length} feeds (${targets.length} URLs)`);
    outcome.figure('ssrf-connects', trace === null ? 'not checked (no strace)' : forbidden.length);
    outcome.figure('ssrf-max-fetch', seconds(Math.max(0, ...results.map((r) => r.duration_ms)), 2));
    outcome.check(refused.length === subscribed.length && notRefused.length === 0, `only ${refused.length}/${subscribed.length} SSRF feeds were refused: ${JSON.stringify(notRefused)}`);
    outcome.check(hits === 0, `the loopback server got ${hits} requests through the guard`);
    if (trace !== null) {
      outcome.check(attached, 'strace saw nothing (not attached?)');
      outcome.check(forbidden.length === 0, `connect() to a refused address: ${forbidden.join(' | ')}`);
    }
    outcome.check(alive(worker), 'the worker died');
    for (const w of stderrWriters(stack)) outcome.fail(`wrote to stderr instead of logging JSON: ${w}`);
  } finally {
    await stack.close();
  }
}

export const hostileFeeds: Scenario = {
  id: 5,
  title: 'hostile feeds and the SSRF guard',
  async run(ctx, outcome) {
    await hostilePart(ctx, outcome);
    await ssrfPart(ctx, outcome);
  },
};
