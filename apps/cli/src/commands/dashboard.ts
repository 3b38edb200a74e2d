import { isValidHost, readDashboardConfig, redactUrl, type DashboardConfig } from '@aharadar/config';
import { InvalidArgumentError, type Command } from 'commander';
import { intInRange } from '../args.js';
import type { CliContext } from '../context.js';
import { CliError, oneLine, unreachable } from '../errors.js';

interface DashboardOptions {
  port?: number;
  host?: string;
  readOnly?: boolean;
}

/** How long start-up waits for Redis before saying it cannot reach it. */
const REDIS_CONNECT_TIMEOUT_MS = 6_000;
/** On SIGTERM, how long closing the queues may take (Redis down) before the connection is dropped. */
const CLOSE_TIMEOUT_MS = 3_000;

function parseHost(value: string): string {
  const host = value.trim();
  if (!isValidHost(host)) throw new InvalidArgumentError('expected an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0');
  return host;
}

/**
 * `radar dashboard`: Bull Board over the `scheduler` and `pipeline` queues, served until
 * SIGTERM/SIGINT. Flags override DASHBOARD_PORT / DASHBOARD_HOST / DASHBOARD_READ_ONLY; the
 * configuration (password required off loopback) is checked before anything is opened.
 */
export function registerDashboardCommand(program: Command, ctx: CliContext): void {
  program
    .command('dashboard')
    .description('serve the BullMQ dashboard (Bull Board) of the scheduler and pipeline queues until stopped')
    .option('--port <n>', 'port to listen on, 0 = any free port (default: DASHBOARD_PORT or 3000)', intInRange(0, 65_535))
    .option('--host <host>', 'address to listen on (default: DASHBOARD_HOST or 127.0.0.1); off loopback DASHBOARD_PASSWORD is required', parseHost)
    .option('--read-only', 'look only: no retry, remove, clean, pause or add (default: DASHBOARD_READ_ONLY)')
    .action(async (options: DashboardOptions) => {
      const config = readDashboardConfig(ctx.env, { port: options.port, host: options.host, readOnly: options.readOnly === true ? true : undefined });
      await serveDashboard(config);
    });
}

async function serveDashboard(config: DashboardConfig): Promise<never> {
  const [{ createLogger }, { onShutdownSignal }, { createQueues, createRedis }, { createDashboardApp, listenDashboard }] = await Promise.all([
    import('@aharadar/log'),
    import('@aharadar/runtime'),
    import('@aharadar/queue'),
    import('../dashboard/server.js'),
  ]);
  const log = createLogger({ service: 'dashboard', level: config.logLevel });
  // A long-running process: the `worker` connection role rides out a Redis restart instead of giving up.
  const redis = createRedis(config.redisUrl, 'worker', 'aharadar-dashboard');
  let ready = false;
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
    if (ready) log.warn({ err: oneLine(error) }, 'redis connection error');
  });
  try {
    // At start-up the first connection error is final (one clear line, exit 1); afterwards
    // the connection retries by itself and the dashboard keeps serving.
    const failed = new Promise<never>((_, reject) => redis.once('error', reject));
    await withTimeout(Promise.race([redis.ping(), failed]), REDIS_CONNECT_TIMEOUT_MS);
  } catch (error) {
    redis.disconnect();
    throw unreachable('Redis', config.redisUrl, lastError ?? error);
  }
  ready = true;
  const queues = createQueues(redis, config.queuePrefix);
  queues.scheduler.on('error', (error) => log.warn({ queue: 'scheduler', err: error.message }, 'queue connection error'));
  queues.pipeline.on('error', (error) => log.warn({ queue: 'pipeline', err: error.message }, 'queue connection error'));

  const app = createDashboardApp({ queues: [queues.scheduler, queues.pipeline], readOnly: config.readOnly, credentials: config.credentials });
  let server: Awaited<ReturnType<typeof listenDashboard>>;
  try {
    server = await listenDashboard(app, config.host, config.port);
  } catch (error) {
    await queues.close().catch(() => undefined);
    redis.disconnect();
    throw new CliError(`cannot listen on ${config.host}:${config.port}: ${oneLine(error)}`);
  }
  log.info(
    { url: server.url, host: config.host, port: server.port, auth: config.credentials ? 'basic' : 'none', readOnly: config.readOnly, queuePrefix: config.queuePrefix, redis: redactUrl(config.redisUrl) },
    `dashboard listening on ${server.url}`,
  );

  onShutdownSignal(log, async () => {
    await server.close();
    await withTimeout(queues.close(), CLOSE_TIMEOUT_MS).catch(() => undefined);
    redis.disconnect();
  });
  // Serve until a signal: onShutdownSignal closes everything and exits. Returning would let
  // `radar`'s main finish the command and exit under the running server.
  return new Promise<never>(() => {});
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
