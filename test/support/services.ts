/**
 * Test support: every test gets its own Postgres database and its own Redis key prefix on the
 * real local services, and removes them afterwards. Nothing is mocked.
 *
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is the server's
 * admin database used to CREATE/DROP the per-test databases; TEST_REDIS_URL (default
 * redis://127.0.0.1:6379) the Redis.
 */
import { randomBytes } from 'node:crypto';
import { createDatabase, migrateToLatest, type DatabaseHandle } from '@aharadar/db';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase extends DatabaseHandle {
  url: string;
  name: string;
  /** Closes the pool and drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A fresh, migrated database named radar_test_<suffix>. */
export async function createTestDatabase(options: { maxConnections?: number } = {}): Promise<TestDatabase> {
  const name = `radar_test_${uniqueSuffix()}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = createDatabase({ url: url.toString(), maxConnections: options.maxConnections ?? 10, applicationName: 'radar-test' });
  await migrateToLatest(handle.db);
  return {
    ...handle,
    url: url.toString(),
    name,
    async drop() {
      await handle.close();
      const cleanup = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

export interface TestRedis {
  redis: Redis;
  prefix: string;
  /** Deletes every key under the prefix and closes the connection. */
  cleanup(): Promise<void>;
}

/** A Redis connection plus a unique BullMQ/lock prefix for one test. */
export async function createTestRedis(): Promise<TestRedis> {
  const prefix = `radartest-${uniqueSuffix()}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  return {
    redis,
    prefix,
    async cleanup() {
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
    },
  };
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
