/**
 * The feeds the benchmarks serve, and a feed server that runs in its own process
 * (bench/feed-server.ts) so that serving them costs the measured process nothing: in
 * production the publishers are other machines.
 */
import { spawn } from 'node:child_process';
import { rss, type FeedItem } from '../test/support/feed-server.js';
import { REPO_ROOT } from '../test/support/processes.js';
import { onCleanup } from './support.js';

export const RSS_CONTENT_TYPE = 'application/rss+xml; charset=utf-8';

/** Ingest feed `f` carries stories f*(n-n/5) .. +n-1: its last fifth are the next feed's first fifth (dedupe). */
export function ingestFeedItems(feed: number, perFeed: number, now: number): FeedItem[] {
  const overlap = Math.floor(perFeed / 5);
  return Array.from({ length: perFeed }, (_, j) => {
    const story = feed * (perFeed - overlap) + j;
    return {
      guid: `https://news.example/story/${story}`,
      title: `Story ${story}: something happened in the world of feeds and radars`,
      link: `https://news.example/story/${story}?utm_source=rss&utm_medium=feed`,
      pubDate: new Date(now - story * 1_000),
      description: `A summary of story ${story}, long enough to look like the first paragraph of a real article. `.repeat(3),
    };
  });
}

export function ingestFeedBody(feed: number, perFeed: number, now: number): Buffer {
  return Buffer.from(rss(`feed ${feed}`, ingestFeedItems(feed, perFeed, now)));
}

/** A topic's feed for the worker scenarios: `count` stories published inside the window ending at `end`. */
export function topicFeedBody(topicId: number, end: number, count: number): Buffer {
  const items: FeedItem[] = Array.from({ length: count }, (_, j) => ({
    guid: `t${topicId}-${j}`,
    title: `Topic ${topicId} story ${j}`,
    link: `https://news.example/topic/${topicId}/${j}`,
    pubDate: new Date(end - (j + 1) * 2_000),
    description: `What happened in story ${j} of topic ${topicId}.`,
  }));
  return Buffer.from(rss(`topic ${topicId}`, items));
}

export interface FeedProcess {
  /** `http://<first host:port>` (127.0.0.1 unless `hosts` was given). */
  base: string;
  /** One base URL per listening address, `http://127.0.0.x:<port>`. */
  bases: string[];
  pid: number;
  /** Requests served and 304s among them, since the process started. */
  stats(): Promise<{ requests: number; notModified: number }>;
  close(): Promise<void>;
}

/**
 * Starts bench/feed-server.ts in a child process. Routes:
 *   /ingest/<f>.xml?n=<items>&now=<ms>            ingest feed f (built once, then cached)
 *   /poll/<f>.xml?n=<items>&now=<ms>              the same documents, for the polling scenario
 *   /topic/<id>.xml?end=<ms>&n=<items>&delay=<ms> a topic's feed, answered after `delay` ms
 * Every document has an ETag and a matching If-None-Match is answered 304.
 *
 * `hosts: N` listens on N loopback addresses 127.0.0.2 … (one port each): the per-host limit
 * counts host name and port, so N addresses stand for N publishers.
 */
export async function startFeedProcess(options: { hosts?: number } = {}): Promise<FeedProcess> {
  const args = options.hosts ? ['--hosts', String(options.hosts)] : [];
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/feed-server.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const unregister = onCleanup(close);
  let buffer = '';
  const statsWaiters: ((s: { requests: number; notModified: number }) => void)[] = [];
  const bases = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('feed server process did not start in 30 s')), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      if (/^ready$/m.test(buffer)) {
        clearTimeout(timer);
        resolve([...buffer.matchAll(/^listening (\S+)$/gm)].map((m) => `http://${m[1]}`));
      }
      let stats: RegExpExecArray | null;
      while ((stats = /^stats (\d+) (\d+)$/m.exec(buffer))) {
        buffer = buffer.slice(stats.index + stats[0].length);
        statsWaiters.shift()?.({ requests: Number(stats[1]), notModified: Number(stats[2]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`feed server process exited with ${String(code)}`));
    });
  });
  buffer = '';
  return {
    base: bases[0]!,
    bases,
    pid: child.pid ?? -1,
    stats: () =>
      new Promise((resolve) => {
        statsWaiters.push(resolve);
        child.stdin.write('stats\n');
      }),
    async close() {
      unregister();
      await close();
    },
  };
}
