import { loadConfigOrExit, readWorkerConfig } from '@aharadar/config';
import { createSafeFetcher } from '@aharadar/connectors';
import { createDatabase } from '@aharadar/db';
import { createLogger, exitOnStartupError, onShutdownSignal, startHealthServer } from '@aharadar/log';
import { createQueues, createRedis } from '@aharadar/queue';
import { startConsumers } from './consumers.js';
import { createWorkerMetrics } from './metrics.js';

const config = loadConfigOrExit('worker', readWorkerConfig);
const log = createLogger({ service: 'worker', level: config.logLevel });

async function main(): Promise<void> {
  const database = createDatabase({ url: config.databaseUrl, maxConnections: config.concurrency + 4, applicationName: 'aharadar-worker' });
  const redis = createRedis(config.redisUrl, 'worker', 'aharadar-worker');
  const consumerConnection = createRedis(config.redisUrl, 'worker', 'aharadar-worker-consumer');
  const queues = createQueues(redis, config.queuePrefix);
  const fetcher = createSafeFetcher({
    timeoutMs: config.fetch.timeoutMs,
    maxBytes: config.fetch.maxBytes,
    maxRedirects: config.fetch.maxRedirects,
    allowPrivate: config.fetch.allowPrivate,
  });
  const metrics = createWorkerMetrics(queues.pipeline);
  const now = () => new Date();
  const consumers = startConsumers({
    connection: consumerConnection,
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    jobLockMs: config.jobLockMs,
    tick: { db: database.db, redis, pipeline: queues.pipeline, prefix: config.queuePrefix, scheduling: config.scheduling, pipelineAttempts: config.pipelineAttempts, log: log.child({ component: 'tick' }), metrics, now },
    run: {
      db: database.db,
      redis,
      pipeline: queues.pipeline,
      prefix: config.queuePrefix,
      topicLockTtlMs: config.jobLockMs,
      fetcher,
      log: log.child({ component: 'pipeline' }),
      sourceConcurrency: config.fetch.sourceConcurrency,
      hackerNewsApiUrl: config.fetch.hackerNewsApiUrl,
      metrics,
      now,
    },
  });
  consumers.tick.on('error', (error) => log.error({ consumer: 'tick', err: error }, 'consumer error'));
  consumers.pipeline.on('error', (error) => log.error({ consumer: 'pipeline', err: error }, 'consumer error'));
  consumers.pipeline.on('failed', (job, error) => {
    if (error.name !== 'DelayedError') log.warn({ jobId: job?.id, err: error.message }, 'job failed');
  });

  let stopping = false;
  const health = await startHealthServer({
    port: config.healthPort,
    metrics: metrics.registry,
    checks: {
      postgres: () => database.ping(),
      redis: async () => {
        await redis.ping();
      },
      consuming: async () => {
        if (stopping) throw new Error('shutting down');
        if (!consumers.tick.isRunning() || !consumers.pipeline.isRunning()) throw new Error('consumers not running');
      },
    },
  });
  log.info({ healthPort: health.port, concurrency: config.concurrency, queuePrefix: config.queuePrefix, tickMinutes: config.scheduling.tickMinutes }, 'worker started');

  onShutdownSignal(log, async () => {
    stopping = true;
    // Stop taking jobs and let active runs finish; past the timeout, force-close: the runs'
    // locks lapse and another worker takes them over (they are idempotent).
    const graceful = Promise.all([consumers.tick.close(), consumers.pipeline.close()]);
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), config.shutdownTimeoutMs).unref()),
    ]);
    if (timedOut) {
      log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'active runs did not finish in time; handing them back');
      await Promise.all([consumers.tick.close(true), consumers.pipeline.close(true)]);
    }
    await health.close();
    await queues.close();
    await fetcher.close();
    redis.disconnect();
    consumerConnection.disconnect();
    await database.close();
  });
}

main().catch((error: unknown) => exitOnStartupError(log, error));
