/**
 * A real HTTP server on 127.0.0.1 for tests: serves RSS feeds built at request time, and
 * hostile responses on demand. Routes are registered per test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface FeedServer {
  url(path: string): string;
  route(path: string, handler: Route): void;
  /** How many requests each path received. */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startFeedServer(): Promise<FeedServer> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    route: (path, handler) => void routes.set(path, handler),
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FeedItem {
  guid: string;
  title: string;
  link: string;
  pubDate: Date | null;
  description?: string;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function rss(title: string, items: readonly FeedItem[]): string {
  const entries = items
    .map(
      (i) => `<item><guid>${escapeXml(i.guid)}</guid><title>${escapeXml(i.title)}</title><link>${escapeXml(i.link)}</link>` +
        (i.pubDate ? `<pubDate>${i.pubDate.toUTCString()}</pubDate>` : '') +
        (i.description ? `<description>${escapeXml(i.description)}</description>` : '') +
        `</item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>${escapeXml(title)}</title><link>http://example.test/</link>${entries}</channel></rss>`;
}

/** Serves a static RSS document. */
export function staticFeed(title: string, items: readonly FeedItem[]): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(rss(title, items));
  };
}

/**
 * A live feed: one item per `slotSeconds` for the last `slots` slots, dated at the slot's
 * start, with stable guids. Whenever a window is run, the items of the last minute or so are
 * inside it — like a busy real publisher.
 */
export function liveFeed(name: string, options: { slotSeconds?: number; slots?: number } = {}): Route {
  const slot = (options.slotSeconds ?? 10) * 1000;
  const slots = options.slots ?? 12;
  return (_req, res) => {
    const newest = Math.floor(Date.now() / slot) * slot;
    const items: FeedItem[] = [];
    for (let i = 0; i < slots; i++) {
      const at = newest - i * slot;
      items.push({ guid: `${name}-${at}`, title: `${name} story ${new Date(at).toISOString()}`, link: `https://news.example/${name}/${at}`, pubDate: new Date(at) });
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(rss(name, items));
  };
}
