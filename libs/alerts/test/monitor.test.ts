/**
 * The alert monitor against the real Redis (BullMQ queues under a unique prefix) and a real
 * webhook receiver on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { createQueues, PIPELINE_QUEUE, RUN_WINDOW_JOB, upsertTickScheduler, type Queues } from '@aharadar/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../../../test/support/services.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/support/webhook-receiver.js';
import { alertStateKey, checkAlerts, type AlertMonitorOptions } from '../src/monitor.js';
import type { WebhookBody } from '../src/webhook.js';

/** Polls `probe` until it returns something truthy; fails after the deadline (never a fixed sleep). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface LogEntry {
  level: 'info' | 'warn';
  msg: string;
  obj: object;
}

describe('alert monitor', () => {
  let receiver: WebhookReceiver<WebhookBody>;
  const open: { t: TestRedis; queues: Queues }[] = [];
  before(async () => {
    receiver = await startWebhookReceiver<WebhookBody>();
  });
  afterEach(() => {
    receiver.bodies.length = 0;
    receiver.authorizations.length = 0;
    receiver.status = 200;
  });
  after(async () => {
    for (const { t, queues } of open) {
      await queues.close();
      await t.cleanup();
    }
    await receiver.close();
  });

  /** A fresh stack (prefix) with the tick registered, and monitor options pointing at the receiver. */
  async function stack(overrides: Partial<AlertMonitorOptions> = {}) {
    const t = await createTestRedis();
    const queues = createQueues(t.redis, t.prefix);
    open.push({ t, queues });
    await upsertTickScheduler(queues.scheduler, 5);
    const logs: LogEntry[] = [];
    const options: AlertMonitorOptions = {
      redis: t.redis,
      queues,
      prefix: t.prefix,
      thresholds: { queueDepth: 5, oldestWaitingMs: 0, stuckJobMs: 0 },
      webhookUrl: receiver.url,
      log: { info: (obj, msg) => logs.push({ level: 'info', msg, obj }), warn: (obj, msg) => logs.push({ level: 'warn', msg, obj }) },
      ...overrides,
    };
    const addJobs = (n: number, from = 1) =>
      queues.pipeline.addBulk(Array.from({ length: n }, (_, i) => ({ name: RUN_WINDOW_JOB, data: { windowId: from + i, topicId: 1 }, opts: { jobId: `window-${from + i}` } })));
    return { t, queues, options, logs, addJobs };
  }

  it('announces a firing alert once, then its resolution, in the log and to the webhook', async () => {
    const { queues, options, logs, addJobs } = await stack();
    await addJobs(4);
    assert.deepEqual((await checkAlerts(options)).transitions, []);
    await addJobs(1, 5);
    const fired = await checkAlerts(options);
    assert.deepEqual(fired.transitions.map((t) => [t.status, t.name]), [['firing', 'queue_depth']]);
    assert.equal(receiver.bodies.length, 1);
    const [body] = receiver.bodies;
    assert.equal(body?.status, 'firing');
    assert.equal(body?.name, 'queue_depth');
    assert.equal(body?.stack, options.prefix);
    assert.match(body?.text ?? '', /^\[WARNING\] aharadar radartest-\S+: queue_depth — pipeline backlog is 5 jobs/);
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'Alert firing'));

    // Still firing: nothing new is announced.
    await addJobs(3, 6);
    assert.deepEqual((await checkAlerts(options)).transitions, []);
    assert.equal(receiver.bodies.length, 1);

    await queues.pipeline.obliterate({ force: true });
    const resolved = await checkAlerts(options);
    assert.deepEqual(resolved.transitions.map((t) => [t.status, t.name]), [['resolved', 'queue_depth']]);
    assert.deepEqual(receiver.bodies.map((b) => b.status), ['firing', 'resolved']);
    assert.match(receiver.bodies[1]?.text ?? '', /^\[RESOLVED\]/);
    assert.ok(logs.some((l) => l.level === 'info' && l.msg === 'Alert resolved'));
  });

  it('keeps what the webhook refused and delivers it, in order, once the webhook is back', async () => {
    const { queues, options, logs, addJobs } = await stack();
    receiver.status = 500;
    await addJobs(5);
    const refused = await checkAlerts(options);
    assert.equal(refused.undelivered, 1);
    assert.ok(logs.some((l) => l.msg.startsWith('alert webhook not delivered') && JSON.stringify(l.obj).includes('HTTP 500')));
    await queues.pipeline.obliterate({ force: true });
    assert.equal((await checkAlerts(options)).undelivered, 2);
    receiver.status = 200;
    const delivered = await checkAlerts(options);
    assert.equal(delivered.undelivered, 0);
    assert.deepEqual(receiver.bodies.map((b) => [b.status, b.name]), [
      ['firing', 'queue_depth'],
      ['resolved', 'queue_depth'],
    ]);
    await checkAlerts(options);
    assert.equal(receiver.bodies.length, 2, 'delivered notifications are not sent again');
  });

  it('announces a transition once when several scheduler replicas check at the same time', async () => {
    const { options, addJobs } = await stack();
    await addJobs(10);
    const results = await Promise.all(Array.from({ length: 8 }, () => checkAlerts(options)));
    assert.equal(results.flatMap((r) => r.transitions).length, 1);
    assert.equal(receiver.bodies.length, 1);
  });

  it('names a run that has been active for too long (stuck_job), and resolves when it ends', async () => {
    // Ages are judged with the monitor's clock set from the job's own start: no sleep has to be long enough.
    const stuckJobMs = 60_000;
    const { t, queues, options, addJobs } = await stack({ thresholds: { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs } });
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(PIPELINE_QUEUE, () => hung, { connection, prefix: t.prefix, lockDuration: 5_000 });
    try {
      await addJobs(1, 42);
      const job = await waitFor('the job to be active', async () => (await queues.pipeline.getJobs(['active'], 0, 0, true))[0]);
      const startedAt = job.processedOn ?? 0;
      assert.ok(startedAt > 0);
      assert.deepEqual((await checkAlerts({ ...options, now: () => startedAt + stuckJobMs - 1 })).transitions, [], 'not stuck yet');
      const stuck = await checkAlerts({ ...options, now: () => startedAt + stuckJobMs });
      assert.deepEqual(stuck.transitions.map((x) => x.name), ['stuck_job']);
      assert.match(stuck.transitions[0]?.message ?? '', /1 run\(s\) active for over 60 s, oldest 60 s: window-42/);
      release();
      await waitFor('the job to end', async () => (await queues.pipeline.getActiveCount()) === 0);
      assert.deepEqual((await checkAlerts({ ...options, now: () => startedAt + stuckJobMs + 1 })).transitions.map((x) => [x.status, x.name]), [['resolved', 'stuck_job']]);
    } finally {
      release();
      await worker.close();
      connection.disconnect();
    }
  });

  it('fires no_workers only after nobody consumed the waiting jobs for a minute', async () => {
    const { options, addJobs } = await stack({ thresholds: { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs: 0 } });
    await addJobs(2);
    const start = Date.now();
    assert.deepEqual((await checkAlerts({ ...options, now: () => start })).transitions, []);
    assert.deepEqual((await checkAlerts({ ...options, now: () => start + 30_000 })).transitions, []);
    const fired = await checkAlerts({ ...options, now: () => start + 61_000 });
    assert.deepEqual(fired.transitions.map((x) => [x.status, x.name, x.severity]), [['firing', 'no_workers', 'critical']]);
    assert.match(receiver.bodies[0]?.text ?? '', /^\[CRITICAL\] .* no_workers — no worker is consuming the pipeline queue: 2 jobs waiting, 0 active without a worker/);
  });

  it('logs only (no webhook) when ALERT_WEBHOOK_URL is unset', async () => {
    const { options, logs, addJobs } = await stack({ webhookUrl: null });
    await addJobs(5);
    const result = await checkAlerts(options);
    assert.equal(result.transitions.length, 1);
    assert.equal(result.undelivered, 0);
    assert.equal(receiver.bodies.length, 0);
    assert.equal(logs.filter((l) => l.msg === 'Alert firing').length, 1);
  });

  it('continues from its own last state when Redis lost the stored one, so a firing alert still resolves', async () => {
    const { t, queues, options, addJobs } = await stack();
    await addJobs(5);
    const fired = await checkAlerts(options);
    assert.equal(fired.transitions.length, 1);
    await t.redis.del(alertStateKey(t.prefix)); // FLUSHALL, or a Redis restart without persistence
    await queues.pipeline.obliterate({ force: true });
    const withoutFallback = await checkAlerts({ ...options, redis: t.redis });
    assert.deepEqual(withoutFallback.transitions, [], 'with nothing to continue from, the resolution is lost');
    await addJobs(5);
    const again = await checkAlerts(options);
    await t.redis.del(alertStateKey(t.prefix));
    await queues.pipeline.obliterate({ force: true });
    const resolved = await checkAlerts({ ...options, fallbackState: () => again.state });
    assert.deepEqual(resolved.transitions.map((x) => [x.status, x.name]), [['resolved', 'queue_depth']]);
  });

  it('drops a notification the webhook refuses for good (4xx) instead of blocking the later ones', async () => {
    const { queues, options, logs, addJobs } = await stack();
    receiver.status = 410;
    await addJobs(5);
    const refused = await checkAlerts(options);
    assert.equal(refused.undelivered, 0);
    assert.ok(logs.some((l) => l.msg.startsWith('alert webhook refused this notification; dropped') && JSON.stringify(l.obj).includes('HTTP 410')));
    receiver.status = 200;
    await queues.pipeline.obliterate({ force: true });
    await checkAlerts(options);
    assert.deepEqual(receiver.bodies.map((b) => b.status), ['resolved']);
  });

  it('sends user:password in ALERT_WEBHOOK_URL as basic auth (fetch refuses credentials in a URL)', async () => {
    const { options, addJobs } = await stack({ webhookUrl: receiver.url.replace('http://', 'http://radar:s%3Acret@') });
    await addJobs(5);
    const result = await checkAlerts(options);
    assert.equal(result.undelivered, 0);
    assert.deepEqual(receiver.authorizations, [`Basic ${Buffer.from('radar:s:cret').toString('base64')}`]);
  });

  it('does not fire a held condition at once after a monitor outage (its hold time restarts)', async () => {
    const { options, addJobs } = await stack({ thresholds: { queueDepth: 0, oldestWaitingMs: 0, stuckJobMs: 0 }, pendingExpiresMs: 90_000 });
    await addJobs(2);
    const start = Date.now();
    await checkAlerts({ ...options, now: () => start });
    // The scheduler was down for 200 s (more than pendingExpiresMs): no_workers was not watched meanwhile.
    assert.deepEqual((await checkAlerts({ ...options, now: () => start + 200_000 })).transitions, []);
    assert.deepEqual((await checkAlerts({ ...options, now: () => start + 261_000 })).transitions.map((x) => x.name), ['no_workers']);
  });
});
