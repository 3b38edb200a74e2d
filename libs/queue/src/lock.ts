import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Compare-and-delete: only the holder (same token) may release. Without it a holder whose
 * lock expired could delete the lock a second process acquired in the meantime.
 */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Compare-and-extend, for long runs that outlive the initial TTL. */
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  key: string;
  token: string;
  /** Pushes the expiry out by the TTL again; false when the lock was lost (expired, taken). */
  extend(): Promise<boolean>;
  release(): Promise<boolean>;
}

/**
 * A single-instance Redis lock (`SET key token NX PX ttl`). It is a mutual-exclusion aid, not
 * the guarantee: every write it protects is also idempotent in Postgres, so a lock lost to
 * a pause or a Redis failover costs duplicate work at worst, never a duplicate result.
 */
export async function tryAcquireLock(redis: Redis, key: string, ttlMs: number): Promise<HeldLock | null> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
  if (ok !== 'OK') return null;
  return {
    key,
    token,
    async extend() {
      return (await redis.eval(EXTEND_SCRIPT, 1, key, token, String(Math.round(ttlMs)))) === 1;
    },
    async release() {
      return (await redis.eval(RELEASE_SCRIPT, 1, key, token)) === 1;
    },
  };
}

/** Keys of our own locks live under the BullMQ prefix, so one prefix isolates a whole stack. */
export function lockKey(prefix: string, name: string): string {
  return `${prefix}:lock:${name}`;
}
