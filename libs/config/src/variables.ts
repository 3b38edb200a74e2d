import { DEFAULTS } from './config.js';
import { DASHBOARD_DEFAULTS } from './dashboard.js';

/**
 * The processes that read the environment. `cli` is `radar` (incl. `radar alerts`, which reads
 * the ALERT_* thresholds); `dashboard` is `radar dashboard`, which runs as its own Compose service.
 */
export type EnvProcess = 'scheduler' | 'worker' | 'cli' | 'dashboard';

/**
 * How `docker-compose.yml` sets a variable:
 * - `passed`: `NAME: ${NAME:-default}`, i.e. taken from the shell or `.env` (the default is
 *   repeated so an operator sees it);
 * - `fixed`: set by the stack itself (service names, ports its healthchecks use), never from `.env`;
 * - `compose-only`: no process reads it; Compose uses it to interpolate the file.
 */
export type ComposeHandling = 'passed' | 'fixed' | 'compose-only';

export interface EnvVariable {
  readonly name: string;
  /** The default, as written in `.env.example` and the README ('' = unset). */
  readonly default: string;
  /** The processes that read it (empty for `compose-only`). */
  readonly readBy: readonly EnvProcess[];
  readonly compose: ComposeHandling;
}

const ALL: readonly EnvProcess[] = ['scheduler', 'worker', 'cli', 'dashboard'];
const SCHEDULING: readonly EnvProcess[] = ['scheduler', 'worker', 'cli'];
const FETCHING: readonly EnvProcess[] = ['worker', 'cli'];
const ALERTS: readonly EnvProcess[] = ['scheduler', 'cli'];

function v(name: string, defaultValue: string | number | boolean, readBy: readonly EnvProcess[], compose: ComposeHandling = 'passed'): EnvVariable {
  return { name, default: String(defaultValue), readBy, compose };
}

/**
 * Every environment variable of the project, in `.env.example` order: the one list that
 * `.env.example`, the README's tables, turbo.json's `globalPassThroughEnv` and the Compose
 * services' `environment:` are checked against (libs/config/test/variables.test.ts).
 */
export const VARIABLES: readonly EnvVariable[] = [
  // connections
  v('DATABASE_URL', DEFAULTS.DATABASE_URL, ALL, 'fixed'),
  v('DATABASE_PASSWORD', '', ALL, 'fixed'),
  v('REDIS_URL', DEFAULTS.REDIS_URL, ALL, 'fixed'),
  v('QUEUE_PREFIX', DEFAULTS.QUEUE_PREFIX, ALL),
  v('LOG_LEVEL', DEFAULTS.LOG_LEVEL, ALL),
  // scheduling
  v('SCHEDULER_TICK_MINUTES', DEFAULTS.SCHEDULER_TICK_MINUTES, SCHEDULING),
  v('SCHEDULER_LAG_SECONDS', DEFAULTS.SCHEDULER_LAG_SECONDS, SCHEDULING),
  v('SCHEDULER_MAX_CATCHUP_WINDOWS', DEFAULTS.SCHEDULER_MAX_CATCHUP_WINDOWS, SCHEDULING),
  // worker
  v('WORKER_CONCURRENCY', DEFAULTS.WORKER_CONCURRENCY, ['worker']),
  v('PIPELINE_ATTEMPTS', DEFAULTS.PIPELINE_ATTEMPTS, ['worker', 'cli']),
  v('WORKER_SHUTDOWN_TIMEOUT_MS', DEFAULTS.WORKER_SHUTDOWN_TIMEOUT_MS, ['worker']),
  v('WORKER_LOCK_DURATION_MS', DEFAULTS.WORKER_LOCK_DURATION_MS, ['worker']),
  v('HEALTH_PORT', DEFAULTS.HEALTH_PORT, ['worker'], 'fixed'),
  // scheduler
  v('SCHEDULER_HEALTH_PORT', DEFAULTS.SCHEDULER_HEALTH_PORT, ['scheduler'], 'fixed'),
  // fetching
  v('FETCH_TIMEOUT_MS', DEFAULTS.FETCH_TIMEOUT_MS, FETCHING),
  v('FETCH_MAX_BYTES', DEFAULTS.FETCH_MAX_BYTES, FETCHING),
  v('FETCH_MAX_REDIRECTS', DEFAULTS.FETCH_MAX_REDIRECTS, FETCHING),
  v('FETCH_ALLOW_PRIVATE', DEFAULTS.FETCH_ALLOW_PRIVATE, FETCHING),
  v('FETCH_SOURCE_CONCURRENCY', DEFAULTS.FETCH_SOURCE_CONCURRENCY, FETCHING),
  v('HN_API_URL', DEFAULTS.HN_API_URL, FETCHING),
  v('FETCH_PER_HOST_CONCURRENCY', DEFAULTS.FETCH_PER_HOST_CONCURRENCY, FETCHING),
  v('FETCH_USER_AGENT', DEFAULTS.FETCH_USER_AGENT, FETCHING),
  // polling
  v('POLL_MIN_INTERVAL_SECONDS', DEFAULTS.POLL_MIN_INTERVAL_SECONDS, FETCHING),
  v('POLL_MAX_INTERVAL_SECONDS', DEFAULTS.POLL_MAX_INTERVAL_SECONDS, FETCHING),
  v('POLL_CONCURRENCY', DEFAULTS.POLL_CONCURRENCY, FETCHING),
  v('RETENTION_DAYS', DEFAULTS.RETENTION_DAYS, FETCHING),
  // alerts
  v('ALERT_CHECK_SECONDS', DEFAULTS.ALERT_CHECK_SECONDS, ALERTS),
  v('ALERT_QUEUE_DEPTH', DEFAULTS.ALERT_QUEUE_DEPTH, ALERTS),
  v('ALERT_OLDEST_WAITING_SECONDS', DEFAULTS.ALERT_OLDEST_WAITING_SECONDS, ALERTS),
  v('ALERT_STUCK_JOB_MINUTES', DEFAULTS.ALERT_STUCK_JOB_MINUTES, ALERTS),
  v('ALERT_POLL_LAG_SECONDS', DEFAULTS.ALERT_POLL_LAG_SECONDS, ALERTS),
  v('ALERT_WEBHOOK_URL', DEFAULTS.ALERT_WEBHOOK_URL, ALERTS),
  // dashboard (in Compose, DASHBOARD_PORT is also the published host port)
  v('DASHBOARD_PORT', DASHBOARD_DEFAULTS.DASHBOARD_PORT, ['dashboard'], 'fixed'),
  v('DASHBOARD_HOST', DASHBOARD_DEFAULTS.DASHBOARD_HOST, ['dashboard'], 'fixed'),
  v('DASHBOARD_USER', DASHBOARD_DEFAULTS.DASHBOARD_USER, ['dashboard']),
  v('DASHBOARD_PASSWORD', '', ['dashboard']),
  v('DASHBOARD_READ_ONLY', DASHBOARD_DEFAULTS.DASHBOARD_READ_ONLY, ['dashboard']),
  // Docker Compose only
  v('POSTGRES_USER', 'radar', [], 'compose-only'),
  v('POSTGRES_PASSWORD', 'radar', [], 'compose-only'),
  v('POSTGRES_DB', 'aharadar', [], 'compose-only'),
  v('POSTGRES_HOST_PORT', '55432', [], 'compose-only'),
  v('REDIS_HOST_PORT', '56379', [], 'compose-only'),
  v('WORKER_STOP_GRACE_PERIOD', '90s', [], 'compose-only'),
  v('RADAR_IMAGE_TAG', 'latest', [], 'compose-only'),
];

/** The variables a process reads. */
export function variablesReadBy(process: EnvProcess): EnvVariable[] {
  return VARIABLES.filter((variable) => variable.readBy.includes(process));
}
