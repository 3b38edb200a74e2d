/**
 * The real `scheduler` process runs the alert monitor: with no worker and a backlog, a
 * `queue_depth` alert reaches a real webhook on 127.0.0.1, the log and /metrics, and resolves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebhookBody } from '@aharadar/alerts';
import { createQueues, RUN_WINDOW_JOB, type Queues } from '@aharadar/queue';
import { startApp, stopApp, waitFor, type AppProcess } from '../support/processes.js';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../support/services.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

describe('scheduler alert monitor (process)', () => {
  let redis: TestRedis;
  let queues: Queues;
  let receiver: WebhookReceiver<WebhookBody>;
  const running: AppProcess[] = [];

  before(async () => {
    redis = await createTestRedis();
    queues = createQueues(redis.redis, redis.prefix);
    receiver = await startWebhookReceiver<WebhookBody>();
  });
  after(async () => {
    await Promise.all(running.map((p) => stopApp(p)));
    await receiver.close();
    await queues.close();
    await redis.cleanup();
  });

  function scheduler(extra: Record<string, string>): AppProcess {
    const p = startApp('scheduler', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, SCHEDULER_HEALTH_PORT: '0', SCHEDULER_TICK_MINUTES: '5', ...extra });
    running.push(p);
    return p;
  }

  it('fires queue_depth to the webhook, the log and /metrics, then resolves it', { timeout: 60_000 }, async () => {
    const p = scheduler({ ALERT_CHECK_SECONDS: '1', ALERT_QUEUE_DEPTH: '3', ALERT_WEBHOOK_URL: receiver.url });
    const started = await p.waitForLog((l) => l.msg === 'scheduler started', 20_000, 'start');
    const port = Number(started['healthPort']);
    await queues.pipeline.addBulk([1, 2, 3].map((id) => ({ name: RUN_WINDOW_JOB, data: { windowId: id, topicId: 1 }, opts: { jobId: `window-${id}` } })));

    const firing = await waitFor('a firing webhook', async () => receiver.bodies.find((b) => b.status === 'firing'), 15_000);
    assert.equal(firing.name, 'queue_depth');
    assert.equal(firing.stack, redis.prefix);
    await p.waitForLog((l) => l.msg === 'Alert firing' && l['alert'] === 'queue_depth', 5_000, 'the log line');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /radar_alert_firing\{alert="queue_depth"\} 1/);
    assert.match(metrics, /radar_alert_firing\{alert="stuck_job"\} 0/);

    await queues.pipeline.obliterate({ force: true });
    const resolved = await waitFor('a resolved webhook', async () => receiver.bodies.find((b) => b.status === 'resolved'), 15_000);
    assert.equal(resolved.name, 'queue_depth');
    assert.equal(receiver.bodies.length, 2, 'each transition is posted once');
    assert.equal(await stopApp(p), 0);
  });

  it('refuses a bad alert setting at start-up, naming the variable', { timeout: 30_000 }, async () => {
    const p = scheduler({ ALERT_WEBHOOK_URL: 'ftp://alerts.example' });
    assert.equal(await p.exited, 1);
    const output = p.stderr.join('') + p.lines.map((l) => JSON.stringify(l)).join('\n');
    assert.match(output, /ALERT_WEBHOOK_URL must use http:\/\/ or https:\/\//);
  });
});
