import type { Redis } from 'ioredis';
import { lockKey, tryAcquireLock } from './lock.js';

/**
 * One poll of a feed at a time across every worker and the CLI (the pipeline's `FeedLocks`):
 * a Redis lock per feed, extended every third of its TTL while the poll runs. A scheduled poll
 * and a freshness poll of the same feed never fetch at once, and a run that finds the lock
 * taken waits for that poll instead of making another request. Losing the lock (a stalled
 * process) costs at most one extra request: everything a poll writes is idempotent.
 */
export function createFeedLocks(redis: Redis, prefix: string, ttlMs: number) {
  return {
    async run<T>(feedId: number, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
      const lock = await tryAcquireLock(redis, lockKey(prefix, `feed-${feedId}`), ttlMs);
      if (!lock) return { ran: false };
      const keepAlive = setInterval(() => void lock.extend().catch(() => false), Math.max(100, ttlMs / 3));
      try {
        return { ran: true, value: await task() };
      } finally {
        clearInterval(keepAlive);
        await lock.release().catch(() => false);
      }
    },
  };
}
