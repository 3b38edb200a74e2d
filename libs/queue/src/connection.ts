import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'client';

/**
 * Opens an ioredis connection for BullMQ.
 * - `worker`: blocking consumers; BullMQ requires `maxRetriesPerRequest: null` so a Redis
 *   outage pauses them instead of failing commands, and they resume when it is back.
 * - `client`: short-lived producers (the CLI): fail fast with a clear error when Redis is
 *   unreachable rather than hang.
 */
export function createRedis(url: string, role: RedisRole, connectionName?: string): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (times) => Math.min(times * 200, 5_000) }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000, retryStrategy: (times) => (times > 3 ? null : 200) };
  return new Redis(url, { ...options, ...(connectionName ? { connectionName } : {}), lazyConnect: false });
}
