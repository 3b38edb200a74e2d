import { loadConfigOrExit, readSchedulerConfig } from '@aharadar/config';
import { createLogger } from '@aharadar/log';
import { exitOnStartupError, MetricsRegistry, onShutdownSignal, startHealthServer } from '@aharadar/runtime';
import { createQueues, createRedis } from '@aharadar/queue';
import { startAlertMonitor, type AlertMonitor } from './alert-monitor.js';
import { startTickKeeper } from './keeper.js';

const config = loadConfigOrExit('scheduler', readSchedulerConfig);
const log = createLogger({ service: 'scheduler', level: config.logLevel });

async function main(): Promise<void> {
  const redis = createRedis(config.redisUrl, 'worker', 'aharadar-scheduler');
  const queues = createQueues(redis, config.queuePrefix);
  // Without a listener BullMQ prints connection errors raw on stderr: log them as JSON.
  queues.scheduler.on('error', (error) => log.warn({ queue: 'scheduler', err: error.message }, 'queue connection error'));
  queues.pipeline.on('error', (error) => log.warn({ queue: 'pipeline', err: error.message }, 'queue connection error'));
  queues.poll.on('error', (error) => log.warn({ queue: 'poll', err: error.message }, 'queue connection error'));
  const keeper = startTickKeeper({ queue: queues.scheduler, tickMinutes: config.scheduling.tickMinutes, log });
  // A reconnect may follow a Redis restart that lost everything: register again at once.
  redis.on('ready', () => void keeper.ensure('redis ready'));
  await keeper.ensure('start');

  const metrics = new MetricsRegistry();
  const { alerts } = config;
  const monitor: AlertMonitor | null =
    alerts.checkSeconds > 0
      ? startAlertMonitor({ redis, queues, prefix: config.queuePrefix, thresholds: alerts, webhookUrl: alerts.webhookUrl, checkSeconds: alerts.checkSeconds, log, metrics })
      : null;

  const health = await startHealthServer({
    metrics,
    port: config.healthPort,
    checks: {
      redis: async () => {
        await redis.ping();
      },
      tickScheduler: async () => {
        if (!keeper.registered()) throw new Error('tick job scheduler not registered');
      },
    },
  });
  log.info(
    { healthPort: health.port, tickMinutes: config.scheduling.tickMinutes, queuePrefix: config.queuePrefix, alertCheckSeconds: alerts.checkSeconds, alertWebhook: alerts.webhookUrl !== null },
    'scheduler started',
  );

  onShutdownSignal(log, async () => {
    keeper.stop();
    monitor?.stop();
    await health.close();
    await queues.close();
    redis.disconnect();
  });
}

main().catch((error: unknown) => exitOnStartupError(log, error));
