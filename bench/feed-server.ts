/**
 * The benchmarks' feed server, run as its own process by startFeedProcess() (bench/feeds.ts).
 * Prints `listening <port>` once ready; exits on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ingestFeedBody, RSS_CONTENT_TYPE, topicFeedBody } from './feeds.js';

const cache = new Map<string, Buffer>();

function cached(key: string, build: () => Buffer): Buffer {
  let body = cache.get(key);
  if (!body) {
    body = build();
    cache.set(key, body);
  }
  return body;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const num = (name: string, fallback: number): number => {
    const v = Number(url.searchParams.get(name));
    return Number.isFinite(v) && url.searchParams.has(name) ? v : fallback;
  };
  let body: Buffer | null = null;
  let match: RegExpExecArray | null;
  if ((match = /^\/ingest\/(\d+)\.xml$/.exec(url.pathname))) {
    const feed = Number(match[1]);
    body = cached(req.url ?? '', () => ingestFeedBody(feed, num('n', 50), num('now', 0)));
  } else if ((match = /^\/topic\/(\d+)\.xml$/.exec(url.pathname))) {
    const topic = Number(match[1]);
    body = cached(req.url ?? '', () => topicFeedBody(topic, num('end', Date.now()), num('n', 20)));
  }
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const send = (b: Buffer): void => void res.writeHead(200, { 'content-type': RSS_CONTENT_TYPE, 'content-length': b.length }).end(b);
  const delay = num('delay', 0);
  if (delay > 0) setTimeout(() => send(body), delay);
  else send(body);
});

server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
