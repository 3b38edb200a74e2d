import { loadConfigOrExit, readWorkerConfig } from '@aharadar/config';
import { createSafeFetcher } from '@aharadar/connectors';
import { createDatabase, guardLostConnectionRejections } from '@aharadar/db';
import { createLogger } from '@aharadar/log';
import { createFeedLocks, createHostGate, createQueues, createRedis } from '@aharadar/queue';
import { exitOnStartupError, gracefulStop, onShutdownSignal, startHealthServer } from '@aharadar/runtime';
import { feedLockTtlMs, hostLeaseMs, startConsumers, stoppedConsumers } from './consumers.js';
import { createWorkerMetrics } from './metrics.js';

const config = loadConfigOrExit('worker', readWorkerConfig);
const log = createLogger({ service: 'worker', level: config.logLevel });

async function main(): Promise<void> {
  // postgres.js' own background queries may reject unawaited when Postgres goes away: those
  // must not end the worker (invariant 6). Anything else unhandled still does.
  guardLostConnectionRejections((error) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'postgres connection lost during the driver\'s own work (ignored)'));
  // Runs and polls each hold a connection only for their short transactions; polls beyond 8
  // queue for one rather than push the stack towards Postgres' connection limit.
  const database = createDatabase({ url: config.databaseUrl, maxConnections: config.concurrency + Math.min(config.polling.concurrency, 8) + 4, applicationName: 'aharadar-worker' });
  const redis = createRedis(config.redisUrl, 'worker', 'aharadar-worker');
  const consumerConnection = createRedis(config.redisUrl, 'worker', 'aharadar-worker-consumer');
  const queues = createQueues(redis, config.queuePrefix);
  const fetcher = createSafeFetcher({
    timeoutMs: config.fetch.timeoutMs,
    maxBytes: config.fetch.maxBytes,
    maxRedirects: config.fetch.maxRedirects,
    allowPrivate: config.fetch.allowPrivate,
    userAgent: config.fetch.userAgent,
    // At most FETCH_PER_HOST_CONCURRENCY requests to one host across every worker. A holder
    // renews its lease while its request runs, so a killed worker's slot comes back within
    // half the job lock (when BullMQ hands its jobs over), not after the longest request.
    hostGate: createHostGate(redis, { prefix: config.queuePrefix, limit: config.fetch.perHostConcurrency, leaseMs: hostLeaseMs(config.jobLockMs, config.fetch.timeoutMs) }),
  });
  const feedLocks = createFeedLocks(redis, config.queuePrefix, feedLockTtlMs(config.jobLockMs));
  const metrics = createWorkerMetrics({
    queues: [
      { name: 'pipeline', queue: queues.pipeline },
      { name: 'poll', queue: queues.poll },
    ],
  });
  const now = () => new Date();
  const consumers = startConsumers({
    connection: consumerConnection,
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    pollConcurrency: config.polling.concurrency,
    jobLockMs: config.jobLockMs,
    tick: { db: database.db, redis, pipeline: queues.pipeline, poll: queues.poll, prefix: config.queuePrefix, scheduling: config.scheduling, pipelineAttempts: config.pipelineAttempts, log: log.child({ component: 'tick' }), metrics, now },
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
      polling: config.polling,
      feedLocks,
      metrics,
      now,
    },
    poll: {
      db: database.db,
      fetcher,
      feedLocks,
      log: log.child({ component: 'poll' }),
      hackerNewsApiUrl: config.fetch.hackerNewsApiUrl,
      polling: config.polling,
      metrics,
      now,
    },
    prune: { db: database.db, retentionDays: config.polling.retentionDays, log: log.child({ component: 'retention' }), now },
  });
  consumers.tick.on('error', (error) => log.error({ consumer: 'tick', err: error }, 'consumer error'));
  consumers.pipeline.on('error', (error) => log.error({ consumer: 'pipeline', err: error }, 'consumer error'));
  consumers.poll.on('error', (error) => log.error({ consumer: 'poll', err: error }, 'consumer error'));
  consumers.poll.on('stalled', (jobId) => log.warn({ jobId }, 'poll job stalled (its worker stopped renewing the lock); handed over'));
  consumers.poll.on('failed', (job, error) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: error.message }, 'poll job failed'));
  // A Queue re-emits errors of its Redis connection (an outage, a restart); without a listener
  // BullMQ prints them raw on stderr, which breaks "every process logs JSON lines".
  queues.scheduler.on('error', (error) => log.warn({ queue: 'scheduler', err: error.message }, 'queue connection error'));
  queues.pipeline.on('error', (error) => log.warn({ queue: 'pipeline', err: error.message }, 'queue connection error'));
  queues.poll.on('error', (error) => log.warn({ queue: 'poll', err: error.message }, 'queue connection error'));
  // A tick that throws (Postgres down) is retried by BullMQ; say so, or the outage is silent.
  consumers.tick.on('failed', (job, error) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: error.message }, 'tick failed'));
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
        const stopped = stoppedConsumers(consumers);
        if (stopped.length > 0) throw new Error(`consumers not running: ${stopped.join(', ')}`);
      },
    },
  });
  log.info({ healthPort: health.port, concurrency: config.concurrency, queuePrefix: config.queuePrefix, tickMinutes: config.scheduling.tickMinutes }, 'worker started');

  onShutdownSignal(log, async () => {
    stopping = true;
    // Stop taking jobs and let active runs finish; past the timeout, hand them back (their
    // locks lapse, another worker takes them over) and exit after a bounded release.
    await gracefulStop({
      graceful: async () => {
        await Promise.all([consumers.tick.close(), consumers.pipeline.close(), consumers.poll.close()]);
      },
      release: async () => {
        await health.close();
        await queues.close();
        await fetcher.close();
        redis.disconnect();
        consumerConnection.disconnect();
        await database.close();
      },
      timeoutMs: config.shutdownTimeoutMs,
      log,
    });
  });
}

main().catch((error: unknown) => exitOnStartupError(log, error));
