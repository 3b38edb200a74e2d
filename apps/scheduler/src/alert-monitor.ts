import { ALERT_NAMES, checkAlerts, type AlertCheckResult, type AlertMonitorOptions } from '@aharadar/alerts';
import type { Logger } from '@aharadar/log';
import type { MetricsRegistry } from '@aharadar/runtime';

/** A stored state older than this many check periods is from before a monitor outage. */
const PENDING_EXPIRES_PERIODS = 3;

export interface AlertMonitor {
  /** Runs one check now (also what the interval calls); never throws. */
  check(): Promise<AlertCheckResult | null>;
  stop(): void;
}

/**
 * Runs the alert check every `checkSeconds` in the scheduler process. This is monitoring, not
 * scheduling: no window or run depends on it; it lives here (and not in a BullMQ job a worker
 * consumes) because its most important answer is "no worker is consuming", which a job only
 * a worker can take would never give.
 *
 * While Redis does not answer, a check waits for it (the connection retries for ever, like the
 * tick keeper's). Each period that finds the previous check still waiting counts an `error`
 * and says so in the log — the monitor is blind then, and `radar_alert_last_check_timestamp_seconds`
 * stops moving, which is what an outside probe should watch.
 */
export function startAlertMonitor(options: Omit<AlertMonitorOptions, 'fallbackState' | 'pendingExpiresMs'> & { checkSeconds: number; log: Logger; metrics: MetricsRegistry }): AlertMonitor {
  const { log, metrics } = options;
  const checks = metrics.counter('radar_alert_checks_total', 'Alert checks by outcome (checked, skipped = another replica checked, error = Redis failed or did not answer)', ['outcome']);
  let last: AlertCheckResult | null = null;
  let lastCheckAt = 0;
  metrics.gauge(
    'radar_alert_firing',
    'Alerts firing (1) or not (0), as of the last check',
    () => ALERT_NAMES.map((name) => ({ labels: { alert: name }, value: last?.state.alerts[name]?.firing ? 1 : 0 })),
    ['alert'],
  );
  metrics.gauge('radar_alert_webhook_undelivered', 'Alert notifications waiting for the webhook', () => [{ value: last?.undelivered ?? 0 }]);
  metrics.gauge('radar_alert_last_check_timestamp_seconds', 'When this scheduler last completed an alert check (0 = never)', () => [{ value: Math.round(lastCheckAt / 1000) }]);

  let inFlight: { promise: Promise<AlertCheckResult | null>; since: number } | null = null;
  const run = async (): Promise<AlertCheckResult | null> => {
    try {
      const result = await checkAlerts({
        ...options,
        // Redis lost the stored state: continue from ours, so firing alerts still resolve once.
        fallbackState: () => last?.state ?? null,
        pendingExpiresMs: PENDING_EXPIRES_PERIODS * options.checkSeconds * 1000,
      });
      checks(1, { outcome: result.checked ? 'checked' : 'skipped' });
      if (result.checked) last = result;
      lastCheckAt = Date.now();
      return result;
    } catch (error) {
      checks(1, { outcome: 'error' });
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'alert check failed; will retry');
      return null;
    }
  };
  const check = (): Promise<AlertCheckResult | null> => {
    if (inFlight) {
      checks(1, { outcome: 'error' });
      log.warn({ waitingSeconds: Math.round((Date.now() - inFlight.since) / 1000) }, 'alert check still waiting for Redis: alerts are blind until it answers');
      return inFlight.promise;
    }
    const promise = run();
    inFlight = { promise, since: Date.now() };
    void promise.then(() => (inFlight = null)); // run() never rejects
    return promise;
  };
  // A first check right away: a restarted scheduler reports (and resolves) without waiting a period.
  void check();
  const timer = setInterval(() => void check(), options.checkSeconds * 1000);
  return { check, stop: () => clearInterval(timer) };
}
