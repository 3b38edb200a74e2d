import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestRedis, type TestRedis } from '../../../test/support/services.js';
import { lockKey, tryAcquireLock } from '../src/lock.js';
import { parseRunWindowPayload, parseTickPayload, PayloadError } from '../src/payloads.js';
import { windowIdFromJobId, windowJobId } from '../src/job-ids.js';

describe('redis lock', () => {
  let t: TestRedis;
  before(async () => {
    t = await createTestRedis();
  });
  after(async () => t.cleanup());

  it('admits one holder at a time and only the holder releases', async () => {
    const key = lockKey(t.prefix, 'tick');
    const first = await tryAcquireLock(t.redis, key, 5_000);
    assert.ok(first);
    assert.equal(await tryAcquireLock(t.redis, key, 5_000), null);
    // A stale holder (token mismatch) must not delete someone else's lock.
    await t.redis.set(key, 'someone-else', 'PX', 5_000);
    assert.equal(await first.release(), false);
    assert.equal(await t.redis.get(key), 'someone-else');
    await t.redis.del(key);
  });

  it('expires by itself and can be extended by its holder', async () => {
    const key = lockKey(t.prefix, 'short');
    const lock = await tryAcquireLock(t.redis, key, 150);
    assert.ok(lock);
    assert.equal(await lock.extend(), true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await lock.extend(), false);
    assert.ok(await tryAcquireLock(t.redis, key, 1_000));
  });

  it('gives exactly one winner among many concurrent contenders', async () => {
    const key = lockKey(t.prefix, 'race');
    const results = await Promise.all(Array.from({ length: 50 }, () => tryAcquireLock(t.redis, key, 5_000)));
    assert.equal(results.filter(Boolean).length, 1);
  });
});

describe('payloads and job ids', () => {
  it('round-trips window job ids without ":"', () => {
    assert.equal(windowJobId(42), 'window-42');
    assert.equal(windowIdFromJobId('window-42'), 42);
    assert.equal(windowIdFromJobId('window-x'), undefined);
    assert.ok(!windowJobId(1).includes(':'));
  });

  it('rejects malformed job data with a clear error', () => {
    assert.deepEqual(parseRunWindowPayload({ windowId: 1, topicId: 2 }), { windowId: 1, topicId: 2 });
    assert.throws(() => parseRunWindowPayload({ windowId: '1', topicId: 2 }), PayloadError);
    assert.throws(() => parseRunWindowPayload(null), /invalid run_window payload/);
    assert.deepEqual(parseTickPayload(undefined), {});
    assert.deepEqual(parseTickPayload({ manual: true }), { manual: true });
    assert.throws(() => parseTickPayload({ manual: 'yes' }), PayloadError);
  });
});
