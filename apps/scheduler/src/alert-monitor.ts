import { ALERT_NAMES, checkAlerts, type AlertCheckResult, type AlertMonitorOptions } from '@aharadar/alerts';
import type { Logger, MetricsRegistry } from '@aharadar/log';

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
 */
export function startAlertMonitor(options: AlertMonitorOptions & { checkSeconds: number; log: Logger; metrics: MetricsRegistry }): AlertMonitor {
  const { log, metrics } = options;
  const checks = metrics.counter('radar_alert_checks_total', 'Alert checks by outcome (checked, skipped = another replica checked, error)');
  let last: AlertCheckResult | null = null;
  metrics.gauge('radar_alert_firing', 'Alerts firing (1) or not (0), as of the last check', () =>
    ALERT_NAMES.map((name) => ({ labels: { alert: name }, value: last?.state.alerts[name]?.firing ? 1 : 0 })),
  );
  metrics.gauge('radar_alert_webhook_undelivered', 'Alert notifications waiting for the webhook', () => [{ value: last?.undelivered ?? 0 }]);

  let inFlight: Promise<AlertCheckResult | null> | null = null;
  const check = (): Promise<AlertCheckResult | null> => {
    inFlight ??= (async () => {
      try {
        const result = await checkAlerts(options);
        checks(1, { outcome: result.checked ? 'checked' : 'skipped' });
        if (result.checked) last = result;
        return result;
      } catch (error) {
        // Redis unreachable: the tick keeper logs that too; the next check tries again.
        checks(1, { outcome: 'error' });
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'alert check failed; will retry');
        return null;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
  // A first check right away: a restarted scheduler reports (and resolves) without waiting a period.
  void check();
  const timer = setInterval(() => void check(), options.checkSeconds * 1000);
  return { check, stop: () => clearInterval(timer) };
}
