import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../../../test/support/services.js';
import { createHostGate, hostGateKey, hostKeyOf, HOST_GATE_DEFAULT_POLL_MS, HOST_GATE_MAX_POLL_MS } from '../src/host-gate.js';

/** Upper bound for anything that should happen promptly; tests poll, they never sleep-and-hope. */
const DEADLINE_MS = 10_000;
const deadline = (): AbortSignal => AbortSignal.timeout(DEADLINE_MS);

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

describe('host gate', () => {
  let t: TestRedis;
  before(async () => {
    t = await createTestRedis();
  });
  after(async () => t.cleanup());

  it('never admits more than the limit across processes (3 connections × 20 acquirers, limit 2)', async () => {
    const host = 'busy.example:443';
    const key = hostGateKey(t.prefix, host);
    const others = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    try {
      const gates = [t.redis, ...others].map((redis) => createHostGate(redis, { prefix: t.prefix, limit: 2, leaseMs: 30_000, pollMs: 5 }));
      let holders = 0;
      let maxHolders = 0;
      let done = 0;
      const signal = deadline();
      await Promise.all(
        gates.flatMap((gate) =>
          Array.from({ length: 20 }, async () => {
            const release = await gate(host, signal);
            // Counted after the slot is taken and uncounted before it is given back, so the JS
            // count can only under-state the Redis one.
            holders++;
            maxHolders = Math.max(maxHolders, holders);
            try {
              assert.ok((await t.redis.zcard(key)) <= 2);
              await new Promise((resolve) => setTimeout(resolve, 1));
              assert.ok(holders <= 2, `${holders} holders`);
            } finally {
              holders--;
              await release();
            }
            done++;
          }),
        ),
      );
      assert.equal(done, 60);
      assert.ok(maxHolders >= 1 && maxHolders <= 2, `max ${maxHolders} holders`);
      assert.equal(await t.redis.zcard(key), 0);
    } finally {
      for (const redis of others) redis.disconnect();
    }
  });

  it('admits exactly `limit` holders and lets a waiter in when one releases', async () => {
    const host = 'full.example:443';
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 2, leaseMs: 60_000 });
    const first = await gate(host, deadline());
    const second = await gate(host, deadline());
    assert.equal(await t.redis.zcard(hostGateKey(t.prefix, host)), 2);
    // While both are held a third cannot get in, however long it tries.
    await assert.rejects(gate(host, AbortSignal.timeout(200)), { name: 'TimeoutError' });
    const third = gate(host, deadline());
    await first();
    const release = await third;
    assert.equal(await t.redis.zcard(hostGateKey(t.prefix, host)), 2);
    await second();
    await release();
    assert.equal(await t.redis.zcard(hostGateKey(t.prefix, host)), 0);
  });

  it('reclaims expired leases (a crashed holder blocks a host for leaseMs at most)', async () => {
    const host = 'crashed.example:80';
    const key = hostGateKey(t.prefix, host);
    // The holder "dies": never released, and its connection (so its renewal) is gone.
    const doomed = new Redis(TEST_REDIS_URL);
    await createHostGate(doomed, { prefix: t.prefix, limit: 1, leaseMs: 300 })(host, deadline());
    doomed.disconnect();
    const [deadToken] = await t.redis.zrange(key, '0', '-1');
    const release = await createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 300 })(host, deadline());
    const members = await t.redis.zrange(key, '0', '-1');
    assert.equal(members.length, 1);
    assert.notEqual(members[0], deadToken);
    await release();
  });

  it('renews a held lease while its holder lives, so leaseMs need not cover the request', async () => {
    const host = 'long-request.example:443';
    const key = hostGateKey(t.prefix, host);
    const leaseMs = 200;
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs });
    const release = await gate(host, deadline());
    const acquiredAt = await redisNowMs(t.redis);
    // Hold the slot for five lease lengths (a slow request), observed on Redis' clock.
    await eventually('five lease lengths have passed', async () => (await redisNowMs(t.redis)) > acquiredAt + 5 * leaseMs);
    const now = await redisNowMs(t.redis);
    assert.equal(await t.redis.zcount(key, String(now), '+inf'), 1, 'the lease is still live');
    assert.ok((await t.redis.pttl(key)) > 0, 'and so is the key');
    // Nobody else gets in meanwhile: a second acquirer gives up (its own abort) without a slot.
    await assert.rejects(gate(host, AbortSignal.timeout(2 * leaseMs)), { name: 'TimeoutError' });
    await release();
    assert.equal(await t.redis.exists(key), 0, 'released: nothing left, and no renewal brings it back');
    const again = await gate(host, deadline());
    await again();
  });

  it('scores leases with Redis TIME + leaseMs and expires the key with its latest lease', async () => {
    const host = 'clock.example:443';
    const key = hostGateKey(t.prefix, host);
    const leaseMs = 5_000;
    const before = await redisNowMs(t.redis);
    const release = await createHostGate(t.redis, { prefix: t.prefix, limit: 3, leaseMs })(host, deadline());
    const afterMs = await redisNowMs(t.redis);
    const [, score] = await t.redis.zrange(key, '0', '-1', 'WITHSCORES');
    assert.ok(Number(score) >= before + leaseMs && Number(score) <= afterMs + leaseMs, `score ${score}`);
    const ttl = await t.redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= leaseMs, `pttl ${ttl}`);
    // A shorter lease from another process must not cut the key's life short.
    const short = await createHostGate(t.redis, { prefix: t.prefix, limit: 3, leaseMs: 100 })(host, deadline());
    assert.ok((await t.redis.pttl(key)) > 1_000);
    await short();
    await release();
    assert.equal(await t.redis.exists(key), 0);
  });

  it('rejects with the abort reason while waiting and leaves no lease', async () => {
    const host = 'abort.example:443';
    const key = hostGateKey(t.prefix, host);
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 });
    const holder = await gate(host, deadline());
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const waiting = gate(host, controller.signal);
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(waiting, (error) => error === reason);
    assert.equal(await t.redis.zcard(key), 1);
    await holder();
    assert.equal(await t.redis.zcard(key), 0);
  });

  it('an already aborted signal rejects without touching Redis; the default reason is an AbortError', async () => {
    const host = 'pre-aborted.example:443';
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 });
    await assert.rejects(gate(host, AbortSignal.abort()), { name: 'AbortError' });
    assert.equal(await t.redis.exists(hostGateKey(t.prefix, host)), 0);
  });

  it('an abort while the acquire script is in flight rejects at once and gives the lease back', async () => {
    const host = 'inflight.example:443';
    const key = hostGateKey(t.prefix, host);
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 });
    const controller = new AbortController();
    const pending = gate(host, controller.signal); // the script is sent synchronously
    controller.abort(new Error('late'));
    await assert.rejects(pending, /late/);
    await eventually('the late lease is released', async () => (await t.redis.zcard(key)) === 0);
  });

  it('release is idempotent and never removes another holder', async () => {
    const host = 'twice.example:443';
    const key = hostGateKey(t.prefix, host);
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 });
    const first = await gate(host, deadline());
    await first();
    await first();
    await Promise.all([first(), first()]);
    const second = await gate(host, deadline());
    await first();
    assert.equal(await t.redis.zcard(key), 1);
    await second();
    assert.equal(await t.redis.zcard(key), 0);
  });

  it('different hosts do not interfere', async () => {
    const gate = createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 });
    const a = await gate('a.example:443', deadline());
    const b = await gate('b.example:443', deadline());
    const aPlain = await gate('a.example:80', deadline());
    assert.equal(await t.redis.zcard(hostGateKey(t.prefix, 'a.example:443')), 1);
    assert.equal(await t.redis.zcard(hostGateKey(t.prefix, 'b.example:443')), 1);
    await Promise.all([a(), b(), aPlain()]);
  });

  it('sanitises host keys into distinct, glob-free Redis keys', async () => {
    assert.equal(hostGateKey('p', 'Example.COM:443'), 'p:host:example.com:443');
    assert.equal(hostGateKey('p', '[::1]:8080'), 'p:host:%5b::1%5d:8080');
    assert.equal(hostGateKey('p', 'a b*?%'), 'p:host:a%20b%2a%3f%25');
    assert.notEqual(hostGateKey('p', 'a b'), hostGateKey('p', 'a%20b'));
    assert.equal(hostGateKey('p', 'bücher.example:443'), 'p:host:b%c3%bccher.example:443');
    assert.throws(() => hostGateKey('p', ''), /empty host key/);
    const release = await createHostGate(t.redis, { prefix: t.prefix, limit: 1, leaseMs: 60_000 })('weird host*', deadline());
    assert.equal(await t.redis.zcard(`${t.prefix}:host:weird%20host%2a`), 1);
    await release();
  });

  it('validates its options', () => {
    const make = (options: Partial<Parameters<typeof createHostGate>[1]>) => () =>
      createHostGate(t.redis, { prefix: 'p', limit: 1, leaseMs: 1_000, ...options });
    assert.throws(make({ prefix: '' }), /prefix/);
    assert.throws(make({ limit: 0 }), /limit must be an integer ≥ 1, got 0/);
    assert.throws(make({ limit: 1.5 }), /limit/);
    assert.throws(make({ leaseMs: 0 }), /leaseMs/);
    assert.throws(make({ pollMs: 0 }), /pollMs/);
    assert.throws(make({ pollMs: Number.NaN }), /pollMs/);
    assert.equal(HOST_GATE_DEFAULT_POLL_MS, 25);
    assert.equal(HOST_GATE_MAX_POLL_MS, 1_000);
  });
});

describe('hostKeyOf', () => {
  it('lower-case host and explicit or default port', () => {
    assert.equal(hostKeyOf('https://Example.COM/feed.xml'), 'example.com:443');
    assert.equal(hostKeyOf('http://example.com/'), 'example.com:80');
    assert.equal(hostKeyOf('https://example.com:443/'), 'example.com:443');
    assert.equal(hostKeyOf('http://example.com:443/'), 'example.com:443');
    assert.equal(hostKeyOf('https://example.com:8443/x?y#z'), 'example.com:8443');
    assert.equal(hostKeyOf('https://user:secret@example.com/'), 'example.com:443');
  });

  it('normalises what names the same host', () => {
    assert.equal(hostKeyOf('https://example.com./'), 'example.com:443');
    assert.equal(hostKeyOf('https://[::1]:8080/'), '[::1]:8080');
    assert.equal(hostKeyOf('https://bücher.example/'), 'xn--bcher-kva.example:443');
    assert.equal(hostKeyOf('http://127.0.0.1/'), '127.0.0.1:80');
  });

  it('rejects what is not an http(s) URL, without echoing it', () => {
    assert.throws(() => hostKeyOf('not a url?token=secret'), (error: Error) => /not a valid absolute URL/.test(error.message) && !error.message.includes('secret'));
    assert.throws(() => hostKeyOf('/relative'), /not a valid absolute URL/);
    assert.throws(() => hostKeyOf('ftp://example.com/'), /unsupported protocol ftp:/);
    assert.throws(() => hostKeyOf('file:///etc/passwd'), /unsupported protocol file:/);
  });
});
