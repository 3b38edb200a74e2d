import { lockKey, tryAcquireLock, type PipelineQueue, type SchedulerQueue } from '@aharadar/queue';
import type { Redis } from 'ioredis';
import { evaluateAlerts, type AlertCondition, type AlertThresholds } from './rules.js';
import { readQueueSnapshot } from './snapshot.js';
import { advanceAlerts, OUTBOX_LIMIT, parseAlertState, type AlertState, type AlertTransition } from './state.js';
import { postWebhook } from './webhook.js';

/** The lock outlives a check comfortably (a few Redis reads plus webhook posts of 5 s each at worst). */
const CHECK_LOCK_TTL_MS = 60_000;

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
  const now = (options.now ?? Date.now)();
  const lock = await tryAcquireLock(redis, lockKey(prefix, 'alerts'), CHECK_LOCK_TTL_MS);
  if (!lock) return { checked: false, conditions: [], state: { alerts: {}, outbox: [] }, transitions: [], undelivered: 0 };
  try {
    const snapshot = await readQueueSnapshot(options.queues, now);
    const conditions = evaluateAlerts(snapshot, options.thresholds);
    const previous = parseAlertState(await redis.get(alertStateKey(prefix)));
    const { state, transitions } = advanceAlerts(previous, conditions, now);
    for (const t of transitions) {
      const fields = { alert: t.name, severity: t.severity, detail: t.message, since: new Date(t.since).toISOString() };
      if (t.status === 'firing') log.warn(fields, 'Alert firing');
      else log.info(fields, 'Alert resolved');
    }
    let outbox = options.webhookUrl ? [...state.outbox, ...transitions].slice(-OUTBOX_LIMIT) : [];
    await redis.set(alertStateKey(prefix), JSON.stringify({ ...state, outbox }));
    if (options.webhookUrl && outbox.length > 0) {
      outbox = await deliver(options.webhookUrl, outbox, prefix, log);
      await redis.set(alertStateKey(prefix), JSON.stringify({ ...state, outbox }));
    }
    return { checked: true, conditions, state: { ...state, outbox }, transitions, undelivered: outbox.length };
  } finally {
    await lock.release().catch(() => false);
  }
}

/** Posts in order and stops at the first failure (keeps order for the receiver); returns what is left. */
async function deliver(url: string, outbox: AlertTransition[], prefix: string, log: AlertLog): Promise<AlertTransition[]> {
  for (let i = 0; i < outbox.length; i++) {
    try {
      await postWebhook(url, outbox[i]!, prefix);
    } catch (error) {
      const left = outbox.slice(i);
      log.warn({ err: error instanceof Error ? error.message : String(error), undelivered: left.length }, 'alert webhook not delivered; will retry at the next check');
      return left;
    }
  }
  return [];
}
