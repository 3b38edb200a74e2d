import { ConfigReader, type Env } from './reader.js';
import { ConfigError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Connection settings every process needs. */
export interface ConnectionConfig {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix; also prefixes our own Redis locks. Lets tests and stacks share one Redis. */
  queuePrefix: string;
  logLevel: LogLevel;
}

/** When windows become due and how far back a tick catches up. */
export interface SchedulingConfig {
  tickMinutes: number;
  lagSeconds: number;
  maxCatchupWindows: number;
}

export interface FetchConfig {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  allowPrivate: boolean;
  /** Sources of one window fetched at the same time. */
  sourceConcurrency: number;
  /** Base URL of the Hacker News Firebase API (configurable so tests can serve it locally). */
  hackerNewsApiUrl: string;
  /** Requests to one host (name + port) at once across the whole stack, all workers together. */
  perHostConcurrency: number;
  /** Sent with every request; names the project and a contact URL (publishers ask for one). */
  userAgent: string;
}

/**
 * Feed polling (DESIGN §6.1): every feed is polled on its own adaptive cadence within
 * [minIntervalMs, maxIntervalMs]; the publisher's own asks and failure backoff can push a poll
 * later than the maximum, never earlier than the minimum.
 */
export interface PollingConfig {
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Poll jobs one worker process runs at once (they are I/O-bound; the per-host cap still applies). */
  concurrency: number;
  /** Items in no digest and fetch history older than this are pruned. */
  retentionDays: number;
}

/** The scheduler's alert monitor (README "Alerts"); thresholds of 0 turn a rule off. */
export interface AlertConfig {
  /** Seconds between checks; 0 = no monitor in this process. */
  checkSeconds: number;
  queueDepth: number;
  oldestWaitingMs: number;
  stuckJobMs: number;
  /** `poll_lag` fires when a due poll has waited this long to start (capacity); 0 = off. */
  pollLagMs: number;
  /** Where firing/resolved transitions are POSTed as JSON; null = log lines only. */
  webhookUrl: string | null;
}

export interface SchedulerConfig extends ConnectionConfig {
  scheduling: SchedulingConfig;
  alerts: AlertConfig;
  healthPort: number;
}

export interface WorkerConfig extends ConnectionConfig {
  scheduling: SchedulingConfig;
  fetch: FetchConfig;
  polling: PollingConfig;
  concurrency: number;
  pipelineAttempts: number;
  healthPort: number;
  /** How long a SIGTERM waits for active runs before handing them back to the queue. */
  shutdownTimeoutMs: number;
  /**
   * BullMQ job lock (and per-topic run lock) duration: a worker that dies without a word
   * (SIGKILL, power loss) has its runs taken over by another worker after about this long.
   */
  jobLockMs: number;
}

export interface CliConfig extends ConnectionConfig {
  scheduling: SchedulingConfig;
  fetch: FetchConfig;
  polling: PollingConfig;
  /** `radar backfill` enqueues runs with the same retry budget as the tick's. */
  pipelineAttempts: number;
}

/** Defaults of the variables read here; the full list (who reads what, Compose) is VARIABLES in variables.ts. */
export const DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/aharadar',
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: 'radar',
  LOG_LEVEL: 'info',
  SCHEDULER_TICK_MINUTES: 5,
  SCHEDULER_LAG_SECONDS: 60,
  SCHEDULER_MAX_CATCHUP_WINDOWS: 6,
  WORKER_CONCURRENCY: 4,
  PIPELINE_ATTEMPTS: 5,
  WORKER_SHUTDOWN_TIMEOUT_MS: 60_000,
  WORKER_LOCK_DURATION_MS: 30_000,
  FETCH_TIMEOUT_MS: 15_000,
  FETCH_MAX_BYTES: 5 * 1024 * 1024,
  FETCH_MAX_REDIRECTS: 5,
  FETCH_ALLOW_PRIVATE: false,
  FETCH_SOURCE_CONCURRENCY: 8,
  HN_API_URL: 'https://hacker-news.firebaseio.com/v0',
  FETCH_PER_HOST_CONCURRENCY: 2,
  FETCH_USER_AGENT: 'aharadar/0.2 (+https://github.com/aharadar/aharadar; self-hosted feed reader)',
  POLL_MIN_INTERVAL_SECONDS: 300,
  POLL_MAX_INTERVAL_SECONDS: 3600,
  POLL_CONCURRENCY: 16,
  RETENTION_DAYS: 30,
  ALERT_POLL_LAG_SECONDS: 300,
  HEALTH_PORT: 8080,
  SCHEDULER_HEALTH_PORT: 8081,
  ALERT_CHECK_SECONDS: 30,
  ALERT_QUEUE_DEPTH: 1_000,
  ALERT_OLDEST_WAITING_SECONDS: 900,
  ALERT_STUCK_JOB_MINUTES: 30,
  ALERT_WEBHOOK_URL: '',
} as const;

export function readConnectionConfig(env: Env = process.env): ConnectionConfig {
  const r = new ConfigReader(env);
  return {
    databaseUrl: withDatabasePassword(r.url('DATABASE_URL', DEFAULTS.DATABASE_URL, ['postgres', 'postgresql']), r.string('DATABASE_PASSWORD', '')),
    redisUrl: r.url('REDIS_URL', DEFAULTS.REDIS_URL, ['redis', 'rediss']),
    queuePrefix: readQueuePrefix(r),
    logLevel: r.oneOf('LOG_LEVEL', DEFAULTS.LOG_LEVEL, LOG_LEVELS),
  };
}

/**
 * DATABASE_PASSWORD, when set, replaces the password of DATABASE_URL, percent-encoded: any
 * character works (`@`, `/`, `#`, `%`, spaces), which a password typed into a URL cannot do.
 * Docker Compose passes POSTGRES_PASSWORD this way instead of building it into the URL.
 */
function withDatabasePassword(databaseUrl: string, password: string): string {
  if (password === '') return databaseUrl;
  const url = new URL(databaseUrl);
  url.password = encodeURIComponent(password);
  if (url.password === '') {
    throw new ConfigError('DATABASE_PASSWORD', 'DATABASE_PASSWORD needs a host in DATABASE_URL (postgres://user@host/db)');
  }
  return url.toString();
}

function readQueuePrefix(r: ConfigReader): string {
  const prefix = r.string('QUEUE_PREFIX', DEFAULTS.QUEUE_PREFIX);
  // BullMQ joins key parts with ':'; a prefix with spaces or ':' would make keys ambiguous.
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new ConfigError('QUEUE_PREFIX', `QUEUE_PREFIX must be 1-64 letters, digits, "_", "." or "-", got "${prefix}"`);
  }
  return prefix;
}

export function readSchedulingConfig(env: Env = process.env): SchedulingConfig {
  const r = new ConfigReader(env);
  return {
    // Fractions are allowed so tests can tick every few seconds; 10,080 = one week.
    tickMinutes: r.number('SCHEDULER_TICK_MINUTES', DEFAULTS.SCHEDULER_TICK_MINUTES, { min: 0.01, max: 10_080 }),
    lagSeconds: r.number('SCHEDULER_LAG_SECONDS', DEFAULTS.SCHEDULER_LAG_SECONDS, { min: 0, max: 86_400, integer: true }),
    maxCatchupWindows: r.number('SCHEDULER_MAX_CATCHUP_WINDOWS', DEFAULTS.SCHEDULER_MAX_CATCHUP_WINDOWS, {
      min: 1,
      max: 10_000,
      integer: true,
    }),
  };
}

export function readFetchConfig(env: Env = process.env): FetchConfig {
  const r = new ConfigReader(env);
  return {
    timeoutMs: r.number('FETCH_TIMEOUT_MS', DEFAULTS.FETCH_TIMEOUT_MS, { min: 100, max: 600_000, integer: true }),
    maxBytes: r.number('FETCH_MAX_BYTES', DEFAULTS.FETCH_MAX_BYTES, { min: 1024, max: 1024 ** 3, integer: true }),
    maxRedirects: r.number('FETCH_MAX_REDIRECTS', DEFAULTS.FETCH_MAX_REDIRECTS, { min: 0, max: 20, integer: true }),
    allowPrivate: r.boolean('FETCH_ALLOW_PRIVATE', DEFAULTS.FETCH_ALLOW_PRIVATE),
    sourceConcurrency: r.number('FETCH_SOURCE_CONCURRENCY', DEFAULTS.FETCH_SOURCE_CONCURRENCY, {
      min: 1,
      max: 256,
      integer: true,
    }),
    hackerNewsApiUrl: r.url('HN_API_URL', DEFAULTS.HN_API_URL, ['http', 'https']).replace(/\/+$/, ''),
    perHostConcurrency: r.number('FETCH_PER_HOST_CONCURRENCY', DEFAULTS.FETCH_PER_HOST_CONCURRENCY, { min: 1, max: 64, integer: true }),
    userAgent: readUserAgent(r),
  };
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function readUserAgent(r: ConfigReader): string {
  const value = r.string('FETCH_USER_AGENT', DEFAULTS.FETCH_USER_AGENT).trim();
  // A header value may not hold control characters; undici would refuse every request later.
  if (value === '' || value.length > 300 || hasControlCharacter(value)) {
    throw new ConfigError('FETCH_USER_AGENT', `FETCH_USER_AGENT must be 1-300 printable characters, got ${JSON.stringify(value.slice(0, 60))}`);
  }
  return value;
}

export function readPollingConfig(env: Env = process.env): PollingConfig {
  const r = new ConfigReader(env);
  // Down to 1 s so tests and the fault suite can poll fast; 1 day at most either way.
  const minSeconds = r.number('POLL_MIN_INTERVAL_SECONDS', DEFAULTS.POLL_MIN_INTERVAL_SECONDS, { min: 1, max: 86_400 });
  const maxSeconds = r.number('POLL_MAX_INTERVAL_SECONDS', DEFAULTS.POLL_MAX_INTERVAL_SECONDS, { min: 1, max: 86_400 });
  if (maxSeconds < minSeconds) {
    throw new ConfigError(
      'POLL_MAX_INTERVAL_SECONDS',
      `POLL_MAX_INTERVAL_SECONDS (${maxSeconds}) must be at least POLL_MIN_INTERVAL_SECONDS (${minSeconds})`,
    );
  }
  return {
    minIntervalMs: Math.round(minSeconds * 1000),
    maxIntervalMs: Math.round(maxSeconds * 1000),
    concurrency: r.number('POLL_CONCURRENCY', DEFAULTS.POLL_CONCURRENCY, { min: 1, max: 1000, integer: true }),
    retentionDays: r.number('RETENTION_DAYS', DEFAULTS.RETENTION_DAYS, { min: 1, max: 36_500, integer: true }),
  };
}

export function readAlertConfig(env: Env = process.env): AlertConfig {
  const r = new ConfigReader(env);
  return {
    checkSeconds: r.number('ALERT_CHECK_SECONDS', DEFAULTS.ALERT_CHECK_SECONDS, { min: 0, max: 86_400, integer: true }),
    queueDepth: r.number('ALERT_QUEUE_DEPTH', DEFAULTS.ALERT_QUEUE_DEPTH, { min: 0, max: 100_000_000, integer: true }),
    oldestWaitingMs: r.number('ALERT_OLDEST_WAITING_SECONDS', DEFAULTS.ALERT_OLDEST_WAITING_SECONDS, { min: 0, max: 7 * 86_400 }) * 1000,
    stuckJobMs: r.number('ALERT_STUCK_JOB_MINUTES', DEFAULTS.ALERT_STUCK_JOB_MINUTES, { min: 0, max: 7 * 1440 }) * 60_000,
    pollLagMs: r.number('ALERT_POLL_LAG_SECONDS', DEFAULTS.ALERT_POLL_LAG_SECONDS, { min: 0, max: 7 * 86_400 }) * 1000,
    webhookUrl: r.optionalUrl('ALERT_WEBHOOK_URL', ['http', 'https']),
  };
}

function readHealthPort(r: ConfigReader): number {
  // 0 lets the OS pick a free port (tests); the chosen port is logged at start-up.
  return r.number('HEALTH_PORT', DEFAULTS.HEALTH_PORT, { min: 0, max: 65_535, integer: true });
}

export function readSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return {
    ...readConnectionConfig(env),
    scheduling: readSchedulingConfig(env),
    alerts: readAlertConfig(env),
    healthPort: new ConfigReader(env).number('SCHEDULER_HEALTH_PORT', DEFAULTS.SCHEDULER_HEALTH_PORT, { min: 0, max: 65_535, integer: true }),
  };
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const r = new ConfigReader(env);
  return {
    ...readConnectionConfig(env),
    scheduling: readSchedulingConfig(env),
    fetch: readFetchConfig(env),
    polling: readPollingConfig(env),
    concurrency: r.number('WORKER_CONCURRENCY', DEFAULTS.WORKER_CONCURRENCY, { min: 1, max: 1000, integer: true }),
    pipelineAttempts: readPipelineAttempts(r),
    healthPort: readHealthPort(r),
    shutdownTimeoutMs: r.number('WORKER_SHUTDOWN_TIMEOUT_MS', DEFAULTS.WORKER_SHUTDOWN_TIMEOUT_MS, {
      min: 0,
      max: 3_600_000,
      integer: true,
    }),
    jobLockMs: r.number('WORKER_LOCK_DURATION_MS', DEFAULTS.WORKER_LOCK_DURATION_MS, { min: 1_000, max: 600_000, integer: true }),
  };
}

function readPipelineAttempts(r: ConfigReader): number {
  return r.number('PIPELINE_ATTEMPTS', DEFAULTS.PIPELINE_ATTEMPTS, { min: 1, max: 100, integer: true });
}

export function readCliConfig(env: Env = process.env): CliConfig {
  return {
    ...readConnectionConfig(env),
    scheduling: readSchedulingConfig(env),
    fetch: readFetchConfig(env),
    polling: readPollingConfig(env),
    pipelineAttempts: readPipelineAttempts(new ConfigReader(env)),
  };
}

