import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatRelative } from '../output.js';

/**
 * `radar alerts`: the alert rules evaluated now (the same rules and thresholds as the
 * scheduler's monitor, from the same ALERT_* variables), next to what the monitor has
 * announced. Read-only: it neither changes the monitor's state nor posts to the webhook.
 */
export function registerAlertsCommand(program: Command, ctx: CliContext): void {
  program
    .command('alerts')
    .description("show the alert conditions that hold now and the scheduler monitor's firing alerts")
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const config = ctx.config();
      // Read here, not with the rest of the CLI's settings: a bad ALERT_* value must not stop
      // `radar migrate` or `radar topic add` (the worker, which never reads them, runs fine too).
      const { readAlertConfig } = await import('@aharadar/config');
      const alerts = readAlertConfig(ctx.env);
      const queues = await ctx.queues();
      const redis = await ctx.redis();
      const { alertStateKey, evaluateAlerts, parseAlertState, readQueueSnapshot } = await import('@aharadar/alerts');
      const now = ctx.now();
      const conditions = evaluateAlerts(await readQueueSnapshot(queues, () => now.getTime(), { redis, prefix: config.queuePrefix }), alerts);
      const monitor = parseAlertState(await redis.get(alertStateKey(config.queuePrefix)));
      const rows = conditions.map((c) => {
        const tracked = monitor.alerts[c.name];
        const state = tracked?.firing ? 'firing' : c.forMs > 0 ? 'pending' : 'holds';
        return { ...c, state, since: tracked ? new Date(tracked.since) : null };
      });
      if (options.json) {
        return ctx.out.json({
          now,
          alerts: rows.map(({ name, severity, state, message, value, threshold, since }) => ({ name, severity, state, message, value, threshold, since })),
          monitor: { lastState: monitor.alerts, lastCheckAt: monitor.checkedAt === undefined ? null : new Date(monitor.checkedAt), undeliveredNotifications: monitor.outbox.length, checkSeconds: alerts.checkSeconds, webhook: alerts.webhookUrl !== null },
        });
      }
      if (rows.length === 0) ctx.out.line('no alerts: queues, ticks and runs look healthy');
      else ctx.out.table(['ALERT', 'SEVERITY', 'STATE', 'SINCE', 'DETAIL'], rows.map((r) => [r.name, r.severity, r.state, r.since ? formatRelative(r.since, now) : '', r.message]));
      if (monitor.outbox.length > 0) ctx.out.note(`${monitor.outbox.length} alert notification(s) are waiting for the webhook (ALERT_WEBHOOK_URL)`);
    });
}
