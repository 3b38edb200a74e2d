/**
 * The benchmarks' feed server, run as its own process by startFeedProcess() (bench/feeds.ts).
 * `--hosts N` listens on N loopback addresses (127.0.0.2 … 127.0.0.N+1, one port each) so that
 * the per-host limit (FETCH_PER_HOST_CONCURRENCY, per name and port) does not cap a benchmark
 * that stands for many publishers; without it, on 127.0.0.1. Prints `listening <host:port>`
 * per address and then `ready`; exits on SIGTERM.
 *
 * Every document carries an ETag; a request whose If-None-Match matches is answered 304 with
 * no body, as a well-behaved publisher whose feed did not change.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ingestFeedBody, RSS_CONTENT_TYPE, topicFeedBody } from './feeds.js';

const cache = new Map<string, { body: Buffer; etag: string }>();

function cached(key: string, build: () => Buffer): { body: Buffer; etag: string } {
  let entry = cache.get(key);
  if (!entry) {
    const body = build();
    entry = { body, etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"` };
    cache.set(key, entry);
  }
  return entry;
}

let requests = 0;
let notModified = 0;

const handler = (req: IncomingMessage, res: ServerResponse): void => {
  requests++;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const num = (name: string, fallback: number): number => {
    const v = Number(url.searchParams.get(name));
    return Number.isFinite(v) && url.searchParams.has(name) ? v : fallback;
  };
  let doc: { body: Buffer; etag: string } | null = null;
  let match: RegExpExecArray | null;
  // The cache key leaves the host out: the same feed number is the same document on any host.
  const key = `${url.pathname}?${url.searchParams.toString()}`;
  if ((match = /^\/(?:ingest|poll)\/(\d+)\.xml$/.exec(url.pathname))) {
    const feed = Number(match[1]);
    doc = cached(key, () => ingestFeedBody(feed, num('n', 50), num('now', 0)));
  } else if ((match = /^\/topic\/(\d+)\.xml$/.exec(url.pathname))) {
    const topic = Number(match[1]);
    doc = cached(key, () => topicFeedBody(topic, num('end', Date.now()), num('n', 20)));
  }
  if (!doc) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const found = doc;
  const send = (): void => {
    if (req.headers['if-none-match'] === found.etag) {
      notModified++;
      res.writeHead(304, { etag: found.etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': RSS_CONTENT_TYPE, 'content-length': found.body.length, etag: found.etag }).end(found.body);
  };
  const delay = num('delay', 0);
  if (delay > 0) setTimeout(send, delay);
  else send();
};

const hostsArg = process.argv.indexOf('--hosts');
const hostCount = hostsArg >= 0 ? Number(process.argv[hostsArg + 1]) : 0;
const addresses = hostCount > 0 ? Array.from({ length: hostCount }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`) : ['127.0.0.1'];
const servers: Server[] = [];

async function listen(): Promise<void> {
  for (const address of addresses) {
    const server = createServer(handler);
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, address, () => resolve());
    });
    servers.push(server);
    process.stdout.write(`listening ${address}:${(server.address() as AddressInfo).port}\n`);
  }
  process.stdout.write('ready\n');
}

// `stats` on stdin: prints the request counters (the bench reads them between phases).
process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
  if (chunk.includes('stats')) process.stdout.write(`stats ${requests} ${notModified}\n`);
});

listen().catch((error: unknown) => {
  process.stderr.write(`feed server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
const stop = (): void => {
  let open = servers.length;
  if (open === 0) process.exit(0);
  for (const server of servers) {
    server.closeAllConnections();
    server.close(() => {
      if (--open === 0) process.exit(0);
    });
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
