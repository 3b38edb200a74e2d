import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { BASIC_AUTH_CHALLENGE, checkBasicAuth, type Credentials } from './basic-auth.js';
import { isCrossSiteWrite, isLoopbackHostHeader } from './request-guard.js';

export interface DashboardAppOptions {
  /** The BullMQ queues to show (ours: `scheduler` and `pipeline`). */
  queues: readonly Queue[];
  /** Bull Board's readOnlyMode on every queue: the API refuses every action with 405. */
  readOnly: boolean;
  /** Basic auth on every route but /healthz; undefined = no auth (loopback only, see config). */
  credentials: Credentials | undefined;
}

/**
 * The dashboard as a Hono app: `GET /healthz` (no auth, for Docker), then the guards, then
 * Bull Board (UI, static assets, `/api/*`) at `/`. Wiring only; the checks are in
 * basic-auth.ts and request-guard.ts.
 */
export function createDashboardApp(options: DashboardAppOptions): Hono {
  const board = new HonoAdapter(serveStatic);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: options.readOnly ? 'radar queues (read-only)' : 'radar queues' } },
  });

  const app = new Hono();
  // Registered before the guards: Hono runs handlers in registration order and this one answers.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.use('*', async (c, next) => {
    const { credentials } = options;
    if (credentials && !checkBasicAuth(c.req.header('authorization'), credentials)) {
      return c.text('authentication required\n', 401, { 'WWW-Authenticate': BASIC_AUTH_CHALLENGE, 'Cache-Control': 'no-store' });
    }
    if (!credentials && !isLoopbackHostHeader(c.req.header('host'))) {
      return c.text('this dashboard has no password and answers only to localhost / 127.0.0.1 / [::1]\n', 403);
    }
    const headers = { origin: c.req.header('origin'), host: c.req.header('host'), forwardedHost: c.req.header('x-forwarded-host') };
    if (isCrossSiteWrite(c.req.method, headers)) {
      return c.text('cross-site request refused\n', 403);
    }
    await next();
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
  });
  app.route('/', board.registerPlugin());
  return app;
}

export interface DashboardServer {
  /** The port actually bound (the OS picks one for port 0). */
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves the app on host:port; rejects (EADDRINUSE, EADDRNOTAVAIL, ...) if it cannot listen. */
export async function listenDashboard(app: Hono, host: string, port: number): Promise<DashboardServer> {
  // createAdaptorServer without server options is a plain node:http server.
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
