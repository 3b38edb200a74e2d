/**
 * Minimal in-process wiring for the tick and run tests added with the hardening work: a fresh
 * database, a unique queue prefix, the queues and a silent logger on the real local Postgres
 * and Redis. (harness.ts builds sources the pre-feeds way; these tests need none.)
 */
import type { SchedulingConfig } from '@aharadar/config';
import { insertTopic, type Topic } from '@aharadar/db';
import { createLogger, type Logger } from '@aharadar/log';
import { createQueues, type Queues } from '@aharadar/queue';
import { defaultAnchor } from '@aharadar/scheduling';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../../../test/support/services.js';
import type { TickDeps } from '../src/tick.js';

export interface Wiring {
  database: TestDatabase;
  redis: TestRedis;
  queues: Queues;
  log: Logger;
  scheduling: SchedulingConfig;
  /** A Redis connection of its own, as another worker process would have; closed by close(). */
  connection(): Redis;
  tickDeps(overrides?: Partial<TickDeps>): TickDeps;
  close(): Promise<void>;
}

export async function createWiring(scheduling: Partial<SchedulingConfig> = {}): Promise<Wiring> {
  const database = await createTestDatabase({ maxConnections: 20 });
  const redis = await createTestRedis();
  const queues = createQueues(redis.redis, redis.prefix);
  const log = createLogger({ service: 'worker-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const config: SchedulingConfig = { tickMinutes: 1, lagSeconds: 1, maxCatchupWindows: 6, ...scheduling };
  const connections: Redis[] = [];
  const connection = () => {
    const c = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  return {
    database,
    redis,
    queues,
    log,
    scheduling: config,
    connection,
    tickDeps(overrides = {}) {
      return { db: database.db, redis: connection(), pipeline: queues.pipeline, poll: queues.poll, prefix: redis.prefix, scheduling: config, pipelineAttempts: 3, log, ...overrides };
    },
    async close() {
      for (const c of connections) c.disconnect();
      await queues.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

export async function addMinuteTopic(w: Wiring, name: string, createdAt: Date): Promise<Topic> {
  return insertTopic(w.database.db, {
    name,
    schedule: { kind: 'every', everySeconds: 60, anchor: defaultAnchor(createdAt, 'UTC') },
    timeZone: 'UTC',
    keywords: [],
    excludeKeywords: [],
    digestSize: 20,
    maxPerSource: 20,
    createdAt,
  });
}

/** Polls `probe` until it returns something truthy; fails after the deadline (never a fixed sleep). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
