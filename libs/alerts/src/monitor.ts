import { lockKey, tryAcquireLock, type PipelineQueue, type SchedulerQueue } from '@aharadar/queue';
import type { Redis } from 'ioredis';
import { evaluateAlerts, type AlertCondition, type AlertThresholds } from './rules.js';
import { readQueueSnapshot } from './snapshot.js';
import { advanceAlerts, EMPTY_ALERT_STATE, OUTBOX_LIMIT, parseAlertState, type AlertState, type AlertTransition } from './state.js';
import { postWebhook, WebhookError } from './webhook.js';

/** The lock outlives a check: a few Redis reads plus at most DELIVERY_BUDGET_MS of webhook posts. */
const CHECK_LOCK_TTL_MS = 60_000;
/**
 * Webhook posts of one check stop after this long (each post times out after 5 s); the rest
 * waits in the outbox for the next check. Keeps a check well inside its lock, so a second
 * scheduler replica never checks at the same time and posts the same notifications.
 */
export const DELIVERY_BUDGET_MS = 30_000;

export interface AlertLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AlertMonitorOptions {
  redis: Redis;
  queues: { scheduler: SchedulerQueue; pipeline: PipelineQueue };
  /** QUEUE_PREFIX: the state and lock keys live under it, and it names the stack in notifications. */
  prefix: string;
  thresholds: AlertThresholds;
  /** Where transitions are POSTed; null = log lines only. */
  webhookUrl: string | null;
  log: AlertLog;
  now?: () => number;
  /**
   * The state this process computed last: used when Redis has lost the stored state (FLUSHALL,
   * a restart without persistence), so a firing alert still resolves and is not announced twice.
   */
  fallbackState?: () => AlertState | null;
  /** A stored state older than this is from before a monitor outage: its pending conditions restart. */
  pendingExpiresMs?: number;
}

export interface AlertCheckResult {
  /** False when another scheduler replica was checking at the same time (it did the work). */
  checked: boolean;
  conditions: AlertCondition[];
  state: AlertState;
  transitions: AlertTransition[];
  /** Notifications still waiting for the webhook after this check. */
  undelivered: number;
}

export function alertStateKey(prefix: string): string {
  return `${prefix}:alerts:state`;
}

/**
 * One alert check: evaluate the rules on a Redis snapshot, advance the stored state, log each
 * transition once ("Alert firing" / "Alert resolved") and POST it to the webhook.
 *
 * Several scheduler replicas may run checks: a Redis lock makes one of them do each check,
 * and the state lives in Redis, so a transition is announced once whichever replica sees it.
 * Delivery is at least once: the state (with the new transitions in its outbox) is stored
 * *before* posting, and what could not be posted stays in the outbox for the next check.
 */
export async function checkAlerts(options: AlertMonitorOptions): Promise<AlertCheckResult> {
  const { redis, prefix, log } = options;
  const clock = options.now ?? Date.now;
  const lock = await tryAcquireLock(redis, lockKey(prefix, 'alerts'), CHECK_LOCK_TTL_MS);
  if (!lock) return { checked: false, conditions: [], state: { alerts: {}, outbox: [] }, transitions: [], undelivered: 0 };
  try {
    const snapshot = await readQueueSnapshot(options.queues, clock, { redis, prefix });
    const now = snapshot.now;
    const conditions = evaluateAlerts(snapshot, options.thresholds);
    const stored = await redis.get(alertStateKey(prefix));
    const previous = stored === null ? (options.fallbackState?.() ?? EMPTY_ALERT_STATE) : parseAlertState(stored);
    const { state, transitions } = advanceAlerts(previous, conditions, now, options.pendingExpiresMs);
    let outbox = options.webhookUrl ? [...state.outbox, ...transitions].slice(-OUTBOX_LIMIT) : [];
    // Stored first: a crash after this point repeats a notification at worst, never loses one.
    await redis.set(alertStateKey(prefix), JSON.stringify({ ...state, outbox }));
    for (const t of transitions) {
      const fields = { alert: t.name, severity: t.severity, detail: t.message, since: new Date(t.since).toISOString() };
      if (t.status === 'firing') log.warn(fields, 'Alert firing');
      else log.info(fields, 'Alert resolved');
    }
    if (options.webhookUrl && outbox.length > 0) {
      outbox = await deliver(options.webhookUrl, outbox, prefix, log);
      await redis.set(alertStateKey(prefix), JSON.stringify({ ...state, outbox }));
    }
    return { checked: true, conditions, state: { ...state, outbox }, transitions, undelivered: outbox.length };
  } finally {
    await lock.release().catch(() => false);
  }
}

/**
 * Posts in order and stops at the first failure that may pass (keeps order for the receiver)
 * or when the time budget is spent; returns what is left. A notification the webhook refuses
 * for good (4xx, a redirect) is dropped with a log line instead of blocking all later ones.
 */
async function deliver(url: string, outbox: AlertTransition[], prefix: string, log: AlertLog): Promise<AlertTransition[]> {
  const started = Date.now();
  for (let i = 0; i < outbox.length; i++) {
    if (Date.now() - started > DELIVERY_BUDGET_MS) return outbox.slice(i);
    const transition = outbox[i]!;
    try {
      await postWebhook(url, transition, prefix);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof WebhookError && error.permanent) {
        log.warn({ err: reason, alert: transition.name, status: transition.status, detail: transition.message }, 'alert webhook refused this notification; dropped (fix ALERT_WEBHOOK_URL)');
        continue;
      }
      const left = outbox.slice(i);
      log.warn({ err: reason, undelivered: left.length }, 'alert webhook not delivered; will retry at the next check');
      return left;
    }
  }
  return [];
}
