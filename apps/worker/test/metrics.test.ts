/**
 * The worker's series: names and labels the README documents, the run-duration histogram,
 * queue gauges over several queues on the real Redis, and a scrape while Redis does not answer
 * (a real TCP server on 127.0.0.1 that accepts and never replies).
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createQueues, createRedis, PIPELINE_QUEUE } from '@aharadar/queue';
import { Queue } from 'bullmq';
import { createTestRedis, type TestRedis } from '../../../test/support/services.js';
import { createWorkerMetrics } from '../src/metrics.js';

describe('worker metrics', () => {
  let t: TestRedis;
  before(async () => {
    t = await createTestRedis();
  });
  after(async () => {
    await t.cleanup();
  });

  it('keeps the documented series and adds the histograms and poll counters', async () => {
    const queues = createQueues(t.redis, t.prefix);
    try {
      const metrics = createWorkerMetrics({ queues: [{ name: 'pipeline', queue: queues.pipeline }] });
      metrics.ticks(1, { outcome: 'scheduled' });
      metrics.windowsScheduled(3);
      metrics.windowsReenqueued(1);
      metrics.windowsSkipped(2);
      metrics.runs(1, { status: 'succeeded' });
      metrics.runDuration(0.07);
      metrics.runDuration(42);
      metrics.itemsIngested(5);
      metrics.sourceErrors(1);
      metrics.polls(1, { status: 'not_modified' });
      metrics.pollLagSeconds(3);
      metrics.pollBytes(2048);
      const text = await metrics.registry.render();
      for (const line of [
        'radar_ticks_total{outcome="scheduled"} 1',
        'radar_windows_scheduled_total 3',
        'radar_windows_reenqueued_total 1',
        'radar_windows_skipped_total 2',
        'radar_runs_total{status="succeeded"} 1',
        'radar_run_duration_seconds_bucket{le="0.05"} 0',
        'radar_run_duration_seconds_bucket{le="0.1"} 1',
        'radar_run_duration_seconds_bucket{le="60"} 2',
        'radar_run_duration_seconds_bucket{le="600"} 2',
        'radar_run_duration_seconds_count 2',
        'radar_items_ingested_total 5',
        'radar_source_errors_total 1',
        'radar_polls_total{status="not_modified"} 1',
        'radar_poll_lag_seconds_bucket{le="0.1"} 0',
        'radar_poll_lag_seconds_bucket{le="5"} 1',
        'radar_poll_lag_seconds_bucket{le="1800"} 1',
        'radar_poll_bytes_total 2048',
        'radar_queue_jobs{queue="pipeline",state="waiting"} 0',
        'radar_queue_oldest_waiting_seconds{queue="pipeline"} 0',
      ]) {
        assert.ok(text.split('\n').includes(line), `missing: ${line}`);
      }
      assert.match(text, /^# TYPE radar_run_duration_seconds histogram$/m);
      assert.match(text, /^# TYPE radar_poll_lag_seconds histogram$/m);
      assert.doesNotMatch(text, /# TYPE radar_run_duration_seconds_(sum|count)/, 'no longer a pair of counters');
    } finally {
      await queues.close();
    }
  });

  it('reports depth and oldest waiting age for every queue it is given', async () => {
    const queues = createQueues(t.redis, t.prefix);
    const poll = new Queue('poll', { connection: t.redis, prefix: t.prefix });
    try {
      await poll.add('poll_source', { sourceId: 1 });
      await poll.add('poll_source', { sourceId: 2 });
      await queues.pipeline.add('run_window', { windowId: 1, topicId: 1 }, { delay: 60_000 });
      const metrics = createWorkerMetrics({
        queues: [
          { name: PIPELINE_QUEUE, queue: queues.pipeline },
          { name: 'poll', queue: poll },
        ],
      });
      const text = await metrics.registry.render();
      assert.match(text, /^radar_queue_jobs\{queue="poll",state="waiting"\} 2$/m);
      assert.match(text, /^radar_queue_jobs\{queue="pipeline",state="delayed"\} 1$/m);
      assert.match(text, /^radar_queue_jobs\{queue="pipeline",state="waiting"\} 0$/m);
      assert.match(text, /^radar_queue_oldest_waiting_seconds\{queue="poll"\} [\d.]+$/m);
      assert.match(text, /^radar_queue_oldest_waiting_seconds\{queue="pipeline"\} 0$/m);
    } finally {
      await poll.close();
      await queues.close();
    }
  });

  describe('while Redis does not answer', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    before(async () => {
      silent = createServer((socket) => {
        sockets.push(socket);
        socket.resume(); // read and drop every command
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('answers a scrape within the deadline, without the queue gauges', { timeout: 15_000 }, async () => {
      const deadlineMs = 300;
      const redis = createRedis(`redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, 'worker', 'metrics-test');
      redis.on('error', () => undefined);
      const queues = createQueues(redis, 'silent');
      queues.scheduler.on('error', () => undefined);
      queues.pipeline.on('error', () => undefined);
      try {
        const metrics = createWorkerMetrics({ queues: [{ name: 'pipeline', queue: queues.pipeline }], collectDeadlineMs: deadlineMs });
        metrics.runs(1, { status: 'failed' });
        const started = performance.now();
        const text = await metrics.registry.render();
        const ms = performance.now() - started;
        assert.ok(ms < deadlineMs + 1_500, `answered in ${ms} ms`);
        assert.match(text, /^radar_runs_total\{status="failed"\} 1$/m);
        assert.doesNotMatch(text, /^radar_queue_jobs\{/m);
        assert.doesNotMatch(text, /^radar_queue_oldest_waiting_seconds\{/m);
        assert.match(text, /^radar_metrics_collect_timeouts_total\{metric="radar_queue_jobs"\} 1$/m);
        assert.match(text, /^radar_metrics_collect_timeouts_total\{metric="radar_queue_oldest_waiting_seconds"\} 1$/m);
      } finally {
        redis.disconnect();
      }
    });
  });
});
