import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Per-host politeness across every worker process (DESIGN §6.1: at most
 * `FETCH_PER_HOST_CONCURRENCY` requests to one host at once): a counting semaphore in Redis.
 *
 * Each host has a sorted set of *leases*: a random token per holder, scored with the instant
 * (Redis clock, ms) at which the lease expires. Acquiring is one Lua script, so it is atomic
 * however many processes race: drop expired leases, and if fewer than `limit` remain add ours.
 * Releasing is `ZREM` of our own token.
 *
 * Why leases in a sorted set rather than an `INCR`/`DECR` counter:
 *
 * - **A counter cannot tell who holds a slot.** A worker killed between `INCR` and `DECR`
 *   (OOM, SIGKILL, a deploy) leaks its slot for ever; a few crashes and the host is blocked
 *   until someone edits Redis by hand. An `EXPIRE` on the counter does not fix this: it resets
 *   every holder at once, live ones included, and every `INCR` pushes it out again, so under
 *   steady traffic it never fires. A lease carries its own expiry, so a dead holder's slot comes
 *   back after `leaseMs` while everyone else's stays.
 * - **`DECR` is not idempotent.** A release retried after a network error, or run from two
 *   `finally` blocks, decrements twice and silently raises the limit. `ZREM` of a token is
 *   exactly-once by construction: a second call finds nothing, and tokens are unique, so it can
 *   never remove someone else's lease. For the same reason an acquire script that ioredis
 *   re-sends after a reconnect adds the same token twice, which is one member, not two holders.
 *
 * Expiry uses Redis `TIME`, not the caller's clock: all processes then agree on when a lease
 * ends, and a worker whose clock is a minute fast cannot reap live leases early.
 *
 * The key expires when its latest lease does, so idle hosts cost nothing. **A holder renews its
 * lease every third of `leaseMs` while it holds the slot**, so a lease only runs out when its
 * holder stopped renewing (killed, or its Redis connection gone), and `leaseMs` bounds how long
 * a dead holder blocks its slot — it need not cover the longest request. Before this, leases
 * were not renewed and had to outlive the whole-request timeout (timeout + 5 s): every worker
 * SIGKILLed holding a slot blocked it that long, two such leases a whole host, and the polls
 * waiting for it timed out (fault scenario 7). A renewal that finds its lease gone (expired
 * and reaped) does not bring it back: the slot may already be someone else's.
 *
 * Waiting is polling with a short jittered delay, never longer than until the soonest lease
 * expires. It is not FIFO: under sustained contention a waiter can lose several rounds. That is
 * fine for fetches (a slower poll, bounded by the request timeout of the holders) and keeps
 * the whole protocol in one stateless script, with nothing to clean up after a crash.
 */

/**
 * `KEYS[1]` the host's lease set; `ARGV` = limit, leaseMs, token.
 * Returns `{1, expiryMs}` when the lease was granted, else `{0, msUntilSoonestExpiry}`.
 */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  local expiry = now + tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], expiry, ARGV[3])
  local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(latest[2]) - now))
  return {1, expiry}
end
local soonest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(soonest[2]) - now}
`;

/**
 * `KEYS[1]` the host's lease set; `ARGV` = leaseMs, token. Pushes a live lease's expiry to
 * now + leaseMs (and the key's with it); returns 0 and does nothing when the lease is gone.
 */
const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) <= now then return 0 end
local expiry = now + tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', 'GT', expiry, ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

/** Default delay between attempts while a host is full. */
export const HOST_GATE_DEFAULT_POLL_MS = 25;
/** Upper bound for `pollMs`, so a misconfiguration cannot make waiters sleep through free slots. */
export const HOST_GATE_MAX_POLL_MS = 1_000;

export interface HostGateOptions {
  /** Key prefix (the BullMQ prefix), so one prefix isolates a whole stack. */
  prefix: string;
  /** Concurrent holders allowed per host, across all processes. */
  limit: number;
  /** How long a lease outlives its holder (the holder renews it every third of this). */
  leaseMs: number;
  /** Delay between attempts while waiting (default 25 ms, jittered ±50 %, capped at 1 s). */
  pollMs?: number;
}

/** Takes a slot for `hostKey`, waiting as needed; resolves to the slot's (idempotent) release. */
export type HostGate = (hostKey: string, signal: AbortSignal) => Promise<() => Promise<void>>;

/**
 * Creates the gate. The returned function resolves once a slot for `hostKey` is held, or
 * rejects with `signal.reason` as soon as the signal aborts (leaving no lease behind).
 */
export function createHostGate(redis: Redis, options: HostGateOptions): HostGate {
  const { prefix, limit, leaseMs } = options;
  const pollMs = options.pollMs ?? HOST_GATE_DEFAULT_POLL_MS;
  if (prefix === '') throw new Error('createHostGate: prefix must not be empty');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`createHostGate: limit must be an integer ≥ 1, got ${limit}`);
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) throw new Error(`createHostGate: leaseMs must be an integer ≥ 1, got ${leaseMs}`);
  if (!Number.isFinite(pollMs) || pollMs <= 0) throw new Error(`createHostGate: pollMs must be a positive number, got ${pollMs}`);
  const baseDelay = Math.min(pollMs, HOST_GATE_MAX_POLL_MS);

  return async (hostKey, signal) => {
    const key = hostGateKey(prefix, hostKey);
    // One token per acquisition: a re-sent script re-adds the same member (see module comment).
    const token = randomUUID();
    const release = holdLease(redis, key, token, leaseMs);
    for (;;) {
      signal.throwIfAborted();
      const attempt = redis.eval(ACQUIRE_SCRIPT, 1, key, String(limit), String(leaseMs), token).then(parseReply);
      // If the signal aborts while the script is in flight we reject at once; should the script
      // then turn out to have granted the lease, it is given back so nothing lingers.
      const { acquired, waitMs } = await untilAborted(attempt, signal, (late) => {
        if (late.acquired) release().catch(() => undefined); // else it expires after leaseMs
      });
      if (acquired) {
        // Aborted in the instant between the reply and here: honour the abort, not the lease.
        if (signal.aborted) {
          await release();
          throw signal.reason;
        }
        release.start();
        return release;
      }
      const jittered = baseDelay * (0.5 + Math.random());
      await abortableDelay(Math.max(1, Math.min(jittered, waitMs + 1)), signal);
    }
  };
}

/**
 * `${prefix}:host:${hostKey}` with the host key lower-cased and made safe for a key: bytes
 * other than `a-z 0-9 . - _ :` are percent-encoded (`%` itself included, so distinct host keys
 * stay distinct keys, and glob characters cannot confuse a `SCAN MATCH`).
 */
export function hostGateKey(prefix: string, hostKey: string): string {
  if (hostKey === '') throw new Error('host gate: empty host key');
  let safe = '';
  for (const byte of Buffer.from(hostKey.toLowerCase(), 'utf8')) {
    const char = String.fromCharCode(byte);
    safe += /[a-z0-9._:-]/.test(char) ? char : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return `${prefix}:host:${safe}`;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * The politeness identity of a URL: lower-case host name (trailing dot dropped, IDNs in
 * punycode, IPv6 in brackets, as WHATWG URL gives them) + ':' + port, defaulting to 80/443,
 * so `https://Example.com/` and `https://example.com:443/feed` share one gate.
 */
export function hostKeyOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL is not echoed: feed URLs can carry tokens.
    throw new Error('hostKeyOf: not a valid absolute URL');
  }
  const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : parsed.port;
  if (port === undefined) throw new Error(`hostKeyOf: unsupported protocol ${parsed.protocol} (http and https only)`);
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') throw new Error('hostKeyOf: URL has no host');
  return `${host}:${port}`;
}

interface AcquireReply {
  acquired: boolean;
  /** Not acquired: ms until the soonest lease expires (an upper bound on the useful wait). */
  waitMs: number;
}

function parseReply(reply: unknown): AcquireReply {
  if (Array.isArray(reply)) {
    const [flag, value]: unknown[] = reply;
    if ((flag === 0 || flag === 1) && typeof value === 'number') return { acquired: flag === 1, waitMs: flag === 1 ? 0 : Math.max(0, value) };
  }
  throw new Error(`host gate: unexpected reply from the acquire script: ${JSON.stringify(reply)}`);
}

/**
 * Release is ZREM of our token: idempotent, shared by every call; retryable if Redis failed.
 * `start()` (called once the slot is ours) renews the lease every third of `leaseMs` until
 * release; a failed renewal is ignored (the next one retries; the lease lapses if they all fail).
 */
function holdLease(redis: Redis, key: string, token: string, leaseMs: number): (() => Promise<void>) & { start(): void } {
  let pending: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  const release = () => {
    stop();
    pending ??= redis.zrem(key, token).then(
      () => undefined,
      (error: unknown) => {
        pending = null;
        throw error;
      },
    );
    return pending;
  };
  return Object.assign(release, {
    start(): void {
      if (timer !== undefined || pending !== null) return;
      timer = setInterval(() => {
        redis.eval(RENEW_SCRIPT, 1, key, String(leaseMs), token).then(
          (renewed) => {
            if (renewed === 0) stop(); // lapsed (we were stalled): never revive it
          },
          () => undefined,
        );
      }, Math.max(10, Math.floor(leaseMs / 3)));
      // A held slot must not keep a process alive that has nothing else to do.
      timer.unref();
    },
  });
}

/**
 * Resolves like `pending`, or rejects with `signal.reason` as soon as the signal aborts; a
 * result that arrives after the abort goes to `onAbandoned`.
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal, onAbandoned: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      pending.then(onAbandoned, () => undefined);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** setTimeout that rejects with `signal.reason` the moment the signal aborts. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
