import type { SafeFetcher } from '@aharadar/connectors';
import type { Database, DatabaseHandle } from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import type { FeedLocks } from '@aharadar/pipeline';
import type { Queues } from '@aharadar/queue';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { readRadarConfig, type RadarConfig } from './config.js';
import { errorCode, unreachable } from './errors.js';
import { Output } from './output.js';

/** How long `radar` waits for Redis to answer before saying it cannot reach it. */
const REDIS_CONNECT_TIMEOUT_MS = 6_000;
/** A CLI poll's feed lock, extended while it lasts; a killed `radar` frees the feed after this. */
const CLI_FEED_LOCK_TTL_MS = 30_000;

/**
 * Everything a command may need, opened on first use and closed once at the end. Lazy —
 * down to loading the libraries — so that `radar --help` or a rejected argument touches
 * neither the environment nor a service, a command that only needs Postgres never waits on
 * Redis, and each command loads only the code it uses (the drivers and BullMQ are most of
 * the start-up time of a short-lived CLI).
 */
export class CliContext {
  readonly out: Output;
  private cachedConfig: RadarConfig | undefined;
  private database: Promise<DatabaseHandle> | undefined;
  private redisConnection: Promise<Redis> | undefined;
  private queueSet: Promise<Queues> | undefined;
  private safeFetcher: Promise<SafeFetcher> | undefined;

  constructor(
    /** The environment commands read their configuration from (`radar dashboard` reads its own part). */
    readonly env: NodeJS.ProcessEnv = process.env,
    out: Output = new Output(),
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.out = out;
  }

  /** Throws ConfigError on a bad environment; main prints it as one line. */
  config(): RadarConfig {
    this.cachedConfig ??= readRadarConfig(this.env);
    return this.cachedConfig;
  }

  now(): Date {
    return this.clock();
  }

  /** Postgres, probed once so an unreachable server is reported before any work starts. */
  async db(): Promise<Kysely<Database>> {
    this.database ??= this.openDatabase();
    return (await this.database).db;
  }

  async queues(): Promise<Queues> {
    this.queueSet ??= this.openQueues();
    return this.queueSet;
  }

  async redis(): Promise<Redis> {
    this.redisConnection ??= this.openRedis();
    return this.redisConnection;
  }

  /**
   * The SSRF-guarded HTTP client of `radar run` and `radar source poll`, configured like the
   * workers' — with the same per-host limit, shared with them through Redis.
   */
  async fetcher(): Promise<SafeFetcher> {
    this.safeFetcher ??= (async () => {
      const [{ createSafeFetcher }, { createHostGate }, redis] = await Promise.all([import('@aharadar/connectors'), import('@aharadar/queue'), this.redis()]);
      const { fetch, queuePrefix } = this.config();
      return createSafeFetcher({
        timeoutMs: fetch.timeoutMs,
        maxBytes: fetch.maxBytes,
        maxRedirects: fetch.maxRedirects,
        allowPrivate: fetch.allowPrivate,
        userAgent: fetch.userAgent,
        hostGate: createHostGate(redis, { prefix: queuePrefix, limit: fetch.perHostConcurrency, leaseMs: fetch.timeoutMs + 5_000 }),
      });
    })();
    return this.safeFetcher;
  }

  /** The workers' per-feed poll locks: a poll from the CLI never overlaps a worker's poll of the same feed. */
  async feedLocks(): Promise<FeedLocks> {
    const [{ createFeedLocks }, redis] = await Promise.all([import('@aharadar/queue'), this.redis()]);
    return createFeedLocks(redis, this.config().queuePrefix, CLI_FEED_LOCK_TTL_MS);
  }

  /** Library logs go to stderr, never stdout, so they cannot corrupt `--json` output. */
  async logger(): Promise<Logger> {
    const { createLogger } = await import('@aharadar/log');
    return createLogger({ service: 'radar', level: this.config().libraryLogLevel, destination: { write: (line: string) => process.stderr.write(line) } });
  }

  /** Closes whatever was opened; errors while closing are not worth a second message. */
  async close(): Promise<void> {
    const ignore = (): undefined => undefined;
    await Promise.allSettled([this.safeFetcher?.then((f) => f.close()), this.queueSet?.then((q) => q.close())]);
    await this.redisConnection?.then((r) => r.disconnect(), ignore);
    await this.database?.then((handle) => handle.close(), ignore);
  }

  private async openDatabase(): Promise<DatabaseHandle> {
    const { databaseUrl } = this.config();
    const { createDatabase } = await import('@aharadar/db');
    const handle = createDatabase({ url: databaseUrl, maxConnections: 4, applicationName: 'aharadar-cli' });
    try {
      await handle.ping();
    } catch (error) {
      await handle.close();
      const failure = unreachable('Postgres', databaseUrl, error);
      // The database itself is missing (SQLSTATE 3D000): `radar migrate` creates it.
      if (errorCode(error) === '3D000') failure.message += ' (run `radar migrate` to create it)';
      throw failure;
    }
    return handle;
  }

  private async openQueues(): Promise<Queues> {
    const redis = await this.redis();
    const { createQueues } = await import('@aharadar/queue');
    const queues = createQueues(redis, this.config().queuePrefix);
    // A Queue re-emits connection errors as events; the failing command reports them itself.
    queues.scheduler.on('error', () => {});
    queues.pipeline.on('error', () => {});
    queues.poll.on('error', () => {});
    return queues;
  }

  private async openRedis(): Promise<Redis> {
    const { redisUrl } = this.config();
    const { createRedis } = await import('@aharadar/queue');
    const redis = createRedis(redisUrl, 'client', 'aharadar-cli');
    // ioredis reports connect failures as 'error' events; without a listener it prints them.
    let lastError: unknown;
    redis.on('error', (error: unknown) => {
      lastError = error;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`)), REDIS_CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      redis.disconnect();
      throw unreachable('Redis', redisUrl, lastError ?? error);
    } finally {
      clearTimeout(timer);
    }
    return redis;
  }
}
