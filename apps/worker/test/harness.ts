/**
 * In-process wiring of the worker's parts on the real local Postgres and Redis, for tests:
 * a fresh database, a unique queue prefix, the queues, and the deps of ticks and runs.
 */
import { readWorkerConfig, type SchedulingConfig } from '@aharadar/config';
import { createSafeFetcher, type SafeFetcher } from '@aharadar/connectors';
import { insertTopic, type Topic } from '@aharadar/db';
import { addSource } from '@aharadar/pipeline';
import { createFeedLocks } from '@aharadar/queue';
import { createLogger, type Logger } from '@aharadar/log';
import { createQueues, type Queues } from '@aharadar/queue';
import { defaultAnchor } from '@aharadar/scheduling';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../../../test/support/services.js';
import type { RunWindowDeps } from '../src/run-window.js';
import type { TickDeps } from '../src/tick.js';

export interface Harness {
  database: TestDatabase;
  redis: TestRedis;
  queues: Queues;
  fetcher: SafeFetcher;
  log: Logger;
  scheduling: SchedulingConfig;
  /** Tick deps on their own Redis connection, as a separate worker process would have. */
  tickDeps(overrides?: Partial<TickDeps>): TickDeps;
  runDeps(overrides?: Partial<RunWindowDeps>): RunWindowDeps;
  close(): Promise<void>;
}

export async function createHarness(options: { scheduling?: Partial<SchedulingConfig>; fetchTimeoutMs?: number; maxBytes?: number } = {}): Promise<Harness> {
  const database = await createTestDatabase({ maxConnections: 20 });
  const redis = await createTestRedis();
  const queues = createQueues(redis.redis, redis.prefix);
  const fetcher = createSafeFetcher({ timeoutMs: options.fetchTimeoutMs ?? 5_000, maxBytes: options.maxBytes ?? 1024 * 1024, maxRedirects: 3, allowPrivate: true });
  const log = createLogger({ service: 'worker-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const scheduling: SchedulingConfig = { ...readWorkerConfig({}).scheduling, ...options.scheduling };
  const extraConnections: Redis[] = [];
  return {
    database,
    redis,
    queues,
    fetcher,
    log,
    scheduling,
    tickDeps(overrides = {}) {
      const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      extraConnections.push(connection);
      return { db: database.db, redis: connection, pipeline: queues.pipeline, poll: queues.poll, prefix: redis.prefix, scheduling, pipelineAttempts: 3, log, ...overrides };
    },
    runDeps(overrides = {}) {
      return {
        db: database.db,
        redis: redis.redis,
        pipeline: queues.pipeline,
        prefix: redis.prefix,
        topicLockTtlMs: 10_000,
        fetcher,
        log,
        sourceConcurrency: 4,
        hackerNewsApiUrl: 'http://127.0.0.1:1/v0',
        polling: { minIntervalMs: 1_000, maxIntervalMs: 60_000 },
        feedLocks: createFeedLocks(redis.redis, redis.prefix, 10_000),
        now: () => new Date(),
        ...overrides,
      };
    },
    async close() {
      for (const c of extraConnections) c.disconnect();
      await queues.close();
      await fetcher.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

/** A topic with an `every` schedule, created at `createdAt` (in the past, so windows are due). */
export async function addEveryTopic(h: Harness, name: string, everySeconds: number, createdAt: Date, extra: { digestSize?: number } = {}): Promise<Topic> {
  return insertTopic(h.database.db, {
    name,
    schedule: { kind: 'every', everySeconds, anchor: defaultAnchor(createdAt, 'UTC') },
    timeZone: 'UTC',
    keywords: [],
    excludeKeywords: [],
    digestSize: extra.digestSize ?? 20,
    maxPerSource: extra.digestSize ?? 20,
    createdAt,
  });
}

/** Subscribes the topic to a feed; returns the source (subscription) id. */
export async function addFeedSource(h: Harness, topicId: number, url: string, name = url): Promise<number> {
  const { source } = await addSource(h.database.db, { topicId, type: 'feed', config: { url }, name });
  return source.id;
}

/** The feed id behind a source id. */
export async function feedOf(h: Harness, sourceId: number): Promise<number> {
  const rows = await h.database.sql<{ feed_id: number }[]>`SELECT feed_id FROM sources WHERE id = ${sourceId}`;
  const row = rows[0];
  if (!row) throw new Error(`no source ${sourceId}`);
  return row.feed_id;
}

/**
 * A creation time and a tick time such that exactly one 1-minute window has ended and is due
 * (lag ≤ 1 s), whatever the second hand says when the test runs.
 */
export function oneDueMinute(): { createdAt: Date; now: Date } {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  return { createdAt: new Date(minute - 60_000 + 1_000), now: new Date(minute + 2_000) };
}
