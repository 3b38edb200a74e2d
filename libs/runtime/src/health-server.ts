import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './metrics.js';

/** One readiness check: resolves when healthy, throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>;

/** How long one readiness check may take by default. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

export interface HealthServerOptions {
  port: number;
  host?: string;
  /** Named checks for /readyz, e.g. postgres, redis, consuming. */
  checks: Record<string, ReadinessCheck>;
  metrics?: MetricsRegistry;
  /** Each check must answer within this, or counts as failed: a hung Postgres must not hang Docker's probe. */
  checkTimeoutMs?: number;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz`: the process is alive (always 200 while it serves).
 * `GET /readyz`: 200 when every check passes, else 503 with each failing check's reason.
 * `GET /metrics`: Prometheus text format; each scrape-time gauge is bounded by the registry's
 * collection deadline, so a scrape answers even while Redis does not.
 * Anything else: 405 for a method other than GET/HEAD, else 404.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? READINESS_CHECK_TIMEOUT_MS;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
      return;
    }
    if (path === '/readyz') {
      void (async () => {
        const results: Record<string, string> = {};
        let ready = true;
        await Promise.all(
          Object.entries(options.checks).map(async ([name, check]) => {
            try {
              await withTimeout(check, timeoutMs);
              results[name] = 'ok';
            } catch (error) {
              ready = false;
              results[name] = error instanceof Error ? error.message : String(error);
            }
          }),
        );
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(`${JSON.stringify({ status: ready ? 'ready' : 'not ready', checks: results })}\n`);
      })();
      return;
    }
    if (path === '/metrics' && options.metrics) {
      const metrics = options.metrics;
      void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
