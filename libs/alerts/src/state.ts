import type { AlertCondition, AlertName, AlertSeverity } from './rules.js';

/** What the monitor remembers between checks (stored in Redis, so any scheduler replica can continue). */
export interface AlertState {
  /** Conditions seen at the last check, with when they started and whether they fired. */
  alerts: Partial<Record<AlertName, TrackedAlert>>;
  /** Notifications not yet delivered (the webhook was down): retried at the next check. */
  outbox: AlertTransition[];
  /** When this state was computed (ms epoch); absent in a fresh state. */
  checkedAt?: number;
}

export interface TrackedAlert {
  since: number;
  firing: boolean;
  severity: AlertSeverity;
  message: string;
}

export interface AlertTransition {
  status: 'firing' | 'resolved';
  name: AlertName;
  severity: AlertSeverity;
  message: string;
  /** When the condition started (firing) / when it was seen gone (resolved), ms epoch. */
  since: number;
  at: number;
}

/** Undelivered notifications kept at most: an unreachable webhook for days must not grow the key forever. */
export const OUTBOX_LIMIT = 100;

export const EMPTY_ALERT_STATE: AlertState = { alerts: {}, outbox: [] };

/**
 * One step of the alert state machine: a condition that holds becomes *pending*, and fires
 * once it has held for its `forMs`; a firing alert whose condition is gone resolves; a pending
 * one that goes away is forgotten without a word. Returns the next state and the transitions
 * to announce (each exactly once — the caller stores the state before it notifies).
 *
 * `pendingExpiresMs`: when the previous state is older than this (the monitor was down), its
 * pending conditions were not watched meanwhile and start their hold time afresh — otherwise
 * a whole-stack restart would fire `no_workers` at the first check, before any worker had time
 * to connect. Firing alerts are kept, so that they can still resolve.
 */
export function advanceAlerts(
  previous: AlertState,
  conditions: readonly AlertCondition[],
  now: number,
  pendingExpiresMs = Number.POSITIVE_INFINITY,
): { state: AlertState; transitions: AlertTransition[] } {
  const alerts: AlertState['alerts'] = {};
  const transitions: AlertTransition[] = [];
  const gap = previous.checkedAt === undefined ? 0 : now - previous.checkedAt;
  for (const condition of conditions) {
    if (alerts[condition.name]) continue; // one alert per name; the first condition wins
    const tracked = previous.alerts[condition.name];
    const before = tracked && (tracked.firing || gap <= pendingExpiresMs) ? tracked : undefined;
    const since = before?.since ?? now;
    const firing = before?.firing === true || now - since >= condition.forMs;
    alerts[condition.name] = { since, firing, severity: condition.severity, message: condition.message };
    if (firing && before?.firing !== true) {
      transitions.push({ status: 'firing', name: condition.name, severity: condition.severity, message: condition.message, since, at: now });
    }
  }
  for (const [name, before] of Object.entries(previous.alerts) as [AlertName, TrackedAlert][]) {
    if (alerts[name] || !before.firing) continue;
    transitions.push({ status: 'resolved', name, severity: before.severity, message: before.message, since: now, at: now });
  }
  return { state: { alerts, outbox: previous.outbox, checkedAt: now }, transitions };
}

/** The alerts that are firing in a state, oldest first. */
export function firingAlerts(state: AlertState): { name: AlertName; alert: TrackedAlert }[] {
  return (Object.entries(state.alerts) as [AlertName, TrackedAlert][])
    .filter(([, alert]) => alert.firing)
    .map(([name, alert]) => ({ name, alert }))
    .sort((a, b) => a.alert.since - b.alert.since);
}

/** Parses a stored state; anything unreadable (an old format, a hand edit) starts afresh. */
export function parseAlertState(raw: string | null): AlertState {
  if (raw === null) return EMPTY_ALERT_STATE;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return EMPTY_ALERT_STATE;
    const { alerts, outbox, checkedAt } = value as { alerts?: unknown; outbox?: unknown; checkedAt?: unknown };
    if (typeof alerts !== 'object' || alerts === null || !Array.isArray(outbox)) return EMPTY_ALERT_STATE;
    const state: AlertState = { alerts: alerts as AlertState['alerts'], outbox: outbox as AlertTransition[] };
    if (typeof checkedAt === 'number') state.checkedAt = checkedAt;
    return state;
  } catch {
    return EMPTY_ALERT_STATE;
  }
}
