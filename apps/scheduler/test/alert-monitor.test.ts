/**
 * The scheduler's alert monitor when Redis does not answer: a check waits (the connection
 * retries for ever), and every later period says the monitor is blind instead of piling up
 * checks. Redis here is a real TCP server on 127.0.0.1 that accepts and never replies.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@aharadar/log';
import { MetricsRegistry } from '@aharadar/runtime';
import { createQueues, createRedis } from '@aharadar/queue';
import { startAlertMonitor } from '../src/alert-monitor.js';

describe('scheduler alert monitor', () => {
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

  it('reports itself blind while Redis does not answer, without piling up checks', { timeout: 20_000 }, async () => {
    const url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const redis = createRedis(url, 'worker', 'alert-monitor-test');
    redis.on('error', () => undefined);
    const queues = createQueues(redis, 'blindtest');
    queues.scheduler.on('error', () => undefined);
    queues.pipeline.on('error', () => undefined);
    const lines: { msg: string }[] = [];
    const log = createLogger({ service: 'scheduler', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) } });
    const metrics = new MetricsRegistry();
    const monitor = startAlertMonitor({
      redis,
      queues,
      prefix: 'blindtest',
      thresholds: { queueDepth: 1, oldestWaitingMs: 0, stuckJobMs: 0 },
      webhookUrl: null,
      checkSeconds: 3_600, // only the start-up check and the explicit ones below
      log,
      metrics,
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const second = await Promise.race([monitor.check().then(() => 'answered'), new Promise((r) => setTimeout(() => r('still waiting'), 500))]);
      assert.equal(second, 'still waiting', 'the second check joins the first one instead of starting another');
      assert.ok(lines.some((l) => l.msg === 'alert check still waiting for Redis: alerts are blind until it answers'));
      const text = await metrics.render();
      assert.match(text, /radar_alert_checks_total\{outcome="error"\} 1/);
      assert.match(text, /radar_alert_last_check_timestamp_seconds 0/);
    } finally {
      monitor.stop();
      redis.disconnect();
    }
  });
});
