/**
 * A farm of publishing feeds for the polling scenario: one HTTP server listening on several
 * loopback ports (each port is a distinct "host" for the per-host politeness gate, which
 * counts host name + port), serving feeds that publish items on their own clock.
 *
 * Feed `i` publishes item `k` at `origin + phase + k·period` (whole seconds, so the RSS
 * `pubDate`, which has one-second resolution, is the exact publish time) and shows only its
 * newest `visible` items — a busy feed rotates items out, and whatever a poller misses is
 * gone. A feed with `period = null` never changes. Every document carries an `ETag` (and
 * `Last-Modified`): a conditional GET of an unchanged feed is answered 304.
 *
 * The farm records what the poller did: every request's arrival time per feed, and the
 * number of requests in progress per port (arrival → response finished or connection
 * closed), whose maximum the scenario compares with FETCH_PER_HOST_CONCURRENCY.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rss, type FeedItem } from '../../support/feed-server.js';

export interface FarmFeedSpec {
  /** Seconds between two items; null = never publishes (a static document). */
  period: number | null;
  /** Items shown (the newest ones). */
  visible: number;
  /** Seconds added to the farm's origin for item 0 (spreads feeds of one period apart). */
  phase: number;
  /** Which of the farm's ports serves it. */
  host: number;
  /** Server-side delay before answering, ms (so that requests overlap if the gate fails). */
  delayMs: number;
}

export interface FarmFeed extends FarmFeedSpec {
  index: number;
  path: string;
  url: string;
  kind: string;
}

export interface PublishedItem {
  feed: number;
  guid: string;
  at: Date;
}

export interface FeedFarm {
  feeds: FarmFeed[];
  ports: number[];
  /** Items published (visible at some instant) in [from, to) (by publish time). */
  published(feed: number, from: Date, to: Date): PublishedItem[];
  /** Stops the clock: from now on every feed shows what it showed at this instant. */
  stopPublishing(at?: Date): Date;
  /** Arrival times (ms) of the requests for one feed. */
  requests(feed: number): number[];
  /** The most requests any one port had in progress at once, per port. */
  maxInFlight(): number[];
  responses(): { ok: number; notModified: number };
  close(): Promise<void>;
}

export const guidOf = (feed: number, k: number) => `farm-${feed}-${k}`;

export async function startFeedFarm(specs: (FarmFeedSpec & { kind: string })[], hostCount: number, origin: Date): Promise<FeedFarm> {
  const originMs = Math.floor(origin.getTime() / 1000) * 1000;
  let stoppedAt: number | null = null;
  const servers: Server[] = [];
  const ports: number[] = [];
  const inFlight = new Array<number>(hostCount).fill(0);
  const maxInFlight = new Array<number>(hostCount).fill(0);
  const arrivals = specs.map(() => [] as number[]);
  let ok = 0;
  let notModified = 0;

  /** Index of the newest item published by `ms` (may be negative: the feed's back catalogue). */
  const newestK = (spec: FarmFeedSpec, ms: number): number | null => {
    if (spec.period === null) return null;
    return Math.floor((ms - originMs - spec.phase * 1000) / (spec.period * 1000));
  };
  const timeOf = (spec: FarmFeedSpec, k: number): number => originMs + spec.phase * 1000 + k * (spec.period ?? 0) * 1000;

  const document = (index: number, now: number): { body: string; etag: string; lastModified: Date } => {
    const spec = specs[index] as FarmFeedSpec;
    const items: FeedItem[] = [];
    let newest: number;
    if (spec.period === null) {
      // A static feed: items dated in the past, never changing.
      newest = originMs - 3_600_000;
      for (let j = 0; j < spec.visible; j++) {
        const at = newest - j * 600_000;
        items.push({ guid: `farm-${index}-static-${j}`, title: `static ${index} #${j}`, link: `https://farm.example/${index}/static/${j}`, pubDate: new Date(at) });
      }
    } else {
      const top = newestK(spec, Math.min(now, stoppedAt ?? now)) as number;
      newest = timeOf(spec, top);
      for (let k = top; k > top - spec.visible; k--) {
        items.push({ guid: guidOf(index, k), title: `feed ${index} story ${k}`, link: `https://farm.example/${index}/${k}`, pubDate: new Date(timeOf(spec, k)) });
      }
    }
    const body = rss(`farm feed ${index}`, items);
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    return { body, etag, lastModified: new Date(newest) };
  };

  for (let host = 0; host < hostCount; host++) {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const arrived = Date.now();
      const m = /^\/farm\/(\d+)\.xml$/.exec((req.url ?? '').split('?')[0] ?? '');
      const index = m ? Number(m[1]) : -1;
      const spec = specs[index];
      if (!spec || spec.host !== host) {
        res.writeHead(404).end();
        return;
      }
      arrivals[index]?.push(arrived);
      inFlight[host] = (inFlight[host] ?? 0) + 1;
      maxInFlight[host] = Math.max(maxInFlight[host] ?? 0, inFlight[host] ?? 0);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        inFlight[host] = (inFlight[host] ?? 1) - 1;
      };
      res.once('finish', finish);
      res.once('close', finish);
      const answer = () => {
        // The document as of the request's arrival (what a real server would have had).
        const doc = document(index, arrived);
        const headers = { etag: doc.etag, 'last-modified': doc.lastModified.toUTCString() };
        if (req.headers['if-none-match'] === doc.etag) {
          notModified++;
          res.writeHead(304, headers).end();
          return;
        }
        ok++;
        res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', ...headers }).end(doc.body);
      };
      if (spec.delayMs > 0) setTimeout(answer, spec.delayMs);
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }

  const feeds: FarmFeed[] = specs.map((spec, index) => ({
    ...spec,
    index,
    path: `/farm/${index}.xml`,
    url: `http://127.0.0.1:${ports[spec.host] ?? 0}/farm/${index}.xml`,
  }));

  return {
    feeds,
    ports,
    published(index, from, to) {
      const spec = specs[index] as FarmFeedSpec;
      if (spec.period === null) return [];
      const end = Math.min(to.getTime(), stoppedAt === null ? Infinity : stoppedAt + 1);
      const out: PublishedItem[] = [];
      const first = Math.ceil((from.getTime() - originMs - spec.phase * 1000) / (spec.period * 1000));
      for (let k = first; timeOf(spec, k) < end; k++) out.push({ feed: index, guid: guidOf(index, k), at: new Date(timeOf(spec, k)) });
      return out;
    },
    stopPublishing(at = new Date()) {
      stoppedAt = at.getTime();
      return at;
    },
    requests: (index) => arrivals[index] ?? [],
    maxInFlight: () => [...maxInFlight],
    responses: () => ({ ok, notModified }),
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ).then(() => undefined),
  };
}
