/**
 * The worker's `consuming` readiness check names the consumer whose BullMQ run loop ended:
 * real BullMQ Workers on the real local Redis (a unique prefix), no jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/processes.js';
import { startConsumers, stoppedConsumers, type Consumers } from '../src/consumers.js';

describe('stoppedConsumers', () => {
  let redis: TestRedis;
  let connection: Redis;
  let consumers: Consumers;
  before(async () => {
    redis = await createTestRedis();
    connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    // The processors are never called: no job is ever added under this prefix.
    const unused = {} as never;
    consumers = startConsumers({ connection, prefix: redis.prefix, concurrency: 1, pollConcurrency: 1, jobLockMs: 30_000, tick: unused, run: unused, poll: unused, prune: unused });
  });
  after(async () => {
    await Promise.all(Object.values(consumers).map((c) => c.close()));
    connection.disconnect();
    await redis.cleanup();
  });

  it('lists none while every consumer runs, then the one that stopped', async () => {
    await waitFor('every consumer running', async () => stoppedConsumers(consumers).length === 0, 10_000);
    await consumers.poll.close();
    assert.deepEqual(stoppedConsumers(consumers), ['poll']);
    await consumers.tick.close();
    assert.deepEqual(stoppedConsumers(consumers), ['tick', 'poll']);
  });
});
