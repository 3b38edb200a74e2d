/**
 * The alert rules: pure functions from a snapshot of the queues to the conditions that hold
 * now. Everything here is Redis-observable on purpose — the monitor runs in the scheduler,
 * which must still be able to say "nothing is consuming" when every worker (and with them
 * the Postgres-side view) is gone.
 */

export const ALERT_NAMES = ['queue_depth', 'queue_wait', 'stuck_job', 'ticks_stopped', 'tick_failing', 'no_workers', 'schedule_error', 'poll_lag'] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export type AlertSeverity = 'warning' | 'critical';

/** What the monitor reads from Redis for one check. Times are ms since the epoch. */
export interface QueueSnapshot {
  now: number;
  pipeline: {
    paused: boolean;
    waiting: number;
    prioritized: number;
    delayed: number;
    active: number;
    /** Since when the longest-waiting job has been waiting to be picked up (`waitingSince`), if any. */
    oldestWaitingAt: number | null;
    /** Active jobs with the time a worker started them (BullMQ `processedOn`). */
    activeJobs: readonly { id: string; startedAt: number }[];
    /** Worker connections consuming the pipeline queue; null when Redis will not say (CLIENT LIST disabled). */
    workers: number | null;
  };
  tick: {
    registered: boolean;
    everyMs: number | null;
    /** When the job scheduler's next tick is due: it moves on only when a worker takes a tick. */
    nextTickAt: number | null;
    lastCompletedAt: number | null;
    lastFailedAt: number | null;
    lastFailedReason: string | null;
  };
  /**
   * Topics whose schedule the last tick could not plan (an unknown time zone, an unusable
   * cron), as the tick wrote them to Redis; absent or null when no tick has written any.
   */
  scheduleErrors?: ScheduleErrorsState | null;
  /**
   * The poll queue: a poll job is waiting only once it is due (it sits delayed until then), so
   * the oldest waiting job's age is how late polls start. Absent when not read.
   */
  poll?: { waiting: number; oldestWaitingAt: number | null };
}

/** What the tick writes to `<prefix>:state:schedule-errors` (see {@link scheduleErrorsKey}). */
export interface ScheduleErrorsState {
  /** When the tick wrote it (ISO). */
  updatedAt: string;
  /** Topics that cannot be scheduled; `topics` names at most the first few. */
  count: number;
  topics: readonly { name: string; error: string; since: string }[];
}

export interface AlertThresholds {
  /** Backlog (waiting + prioritized + delayed pipeline jobs) at which `queue_depth` fires; 0 = off. */
  queueDepth: number;
  /** Age of the oldest waiting pipeline job at which `queue_wait` fires; 0 = off. */
  oldestWaitingMs: number;
  /** How long a run may stay active before `stuck_job` fires; 0 = off. */
  stuckJobMs: number;
  /** How late a due feed poll may start before `poll_lag` fires; 0 or absent = off. */
  pollLagMs?: number;
}

/** One condition that holds now. `forMs` is how long it must hold before it fires (flap guard). */
export interface AlertCondition {
  name: AlertName;
  severity: AlertSeverity;
  /** One line for people: what is wrong, with the figure and the threshold. */
  message: string;
  /** The measured figure, in the threshold's unit (jobs, or seconds for ages). */
  value: number;
  threshold: number;
  forMs: number;
}

/**
 * A tick is "stopped" when its due time is this many intervals in the past: BullMQ creates
 * the next tick only when a worker takes the current one, so a due time that stays in the
 * past means no worker is taking ticks (all down, all blocked, or Redis lost the scheduler).
 */
export const TICK_OVERDUE_INTERVALS = 2;
/** ... but never sooner than this, so a short tick cadence in tests does not flap. */
export const TICK_OVERDUE_MIN_MS = 60_000;
/** No consumer on the pipeline queue must last this long: a `docker compose restart worker` must not page. */
export const NO_WORKERS_FOR_MS = 60_000;
/** A missing tick job scheduler is re-registered by the scheduler within 15 s; alert only if that keeps failing. */
export const TICK_SCHEDULER_MISSING_FOR_MS = 60_000;
const STUCK_JOBS_NAMED = 3;
const SCHEDULE_ERRORS_NAMED = 3;

export function evaluateAlerts(s: QueueSnapshot, t: AlertThresholds): AlertCondition[] {
  const out: AlertCondition[] = [];
  const p = s.pipeline;
  // A paused pipeline backs up on purpose (radar pause): depth and wait are the operator's intent.
  if (!p.paused) {
    const backlog = p.waiting + p.prioritized + p.delayed;
    if (t.queueDepth > 0 && backlog >= t.queueDepth) {
      out.push({
        name: 'queue_depth',
        severity: 'warning',
        message: `pipeline backlog is ${backlog} jobs (waiting ${p.waiting + p.prioritized}, delayed ${p.delayed}); alert at ${t.queueDepth}`,
        value: backlog,
        threshold: t.queueDepth,
        forMs: 0,
      });
    }
    if (t.oldestWaitingMs > 0 && p.oldestWaitingAt !== null && s.now - p.oldestWaitingAt >= t.oldestWaitingMs) {
      const age = s.now - p.oldestWaitingAt;
      out.push({
        name: 'queue_wait',
        severity: 'warning',
        message: `oldest waiting pipeline job has waited ${formatDuration(age)}; alert at ${formatDuration(t.oldestWaitingMs)}`,
        value: Math.round(age / 1000),
        threshold: Math.round(t.oldestWaitingMs / 1000),
        forMs: 0,
      });
    }
    if (p.workers === 0 && p.waiting + p.prioritized + p.active > 0) {
      // Active jobs without a worker are runs of a worker that died: they wait for a taker too.
      out.push({
        name: 'no_workers',
        severity: 'critical',
        message: `no worker is consuming the pipeline queue: ${p.waiting + p.prioritized} jobs waiting, ${p.active} active without a worker`,
        value: 0,
        threshold: 1,
        forMs: NO_WORKERS_FOR_MS,
      });
    }
  }
  if (t.stuckJobMs > 0) {
    const stuck = p.activeJobs.filter((j) => s.now - j.startedAt >= t.stuckJobMs).sort((a, b) => a.startedAt - b.startedAt);
    const oldest = stuck[0];
    if (oldest) {
      const named = stuck.slice(0, STUCK_JOBS_NAMED).map((j) => j.id).join(', ');
      const more = stuck.length > STUCK_JOBS_NAMED ? ` and ${stuck.length - STUCK_JOBS_NAMED} more` : '';
      out.push({
        name: 'stuck_job',
        severity: 'critical',
        message: `${stuck.length} run(s) active for over ${formatDuration(t.stuckJobMs)}, oldest ${formatDuration(s.now - oldest.startedAt)}: ${named}${more}`,
        value: Math.round((s.now - oldest.startedAt) / 1000),
        threshold: Math.round(t.stuckJobMs / 1000),
        forMs: 0,
      });
    }
  }
  out.push(...tickConditions(s));
  const broken = s.scheduleErrors;
  if (broken && broken.count > 0) {
    const named = broken.topics.slice(0, SCHEDULE_ERRORS_NAMED).map((t) => `${t.name} (${t.error})`).join(', ');
    const more = broken.count > Math.min(broken.topics.length, SCHEDULE_ERRORS_NAMED) ? ` and ${broken.count - Math.min(broken.topics.length, SCHEDULE_ERRORS_NAMED)} more` : '';
    out.push({
      name: 'schedule_error',
      severity: 'critical',
      message: `${broken.count} topic(s) get no windows because their schedule cannot be planned: ${named}${more} (radar topic list)`,
      value: broken.count,
      threshold: 1,
      forMs: 0,
    });
  }
  // Polls that start late mean the workers cannot keep up with the feeds' cadences: items
  // rotate out of busy feeds before anyone sees them (DESIGN §6.1). Not silenced by a global
  // pause: polling goes on while digests are paused.
  const pollLagMs = t.pollLagMs ?? 0;
  const oldestPoll = s.poll?.oldestWaitingAt ?? null;
  if (pollLagMs > 0 && oldestPoll !== null && s.now - oldestPoll >= pollLagMs) {
    out.push({
      name: 'poll_lag',
      severity: 'warning',
      message: `a due feed poll has waited ${formatDuration(s.now - oldestPoll)} to start (${s.poll?.waiting ?? 0} polls waiting); alert at ${formatDuration(pollLagMs)}: add workers or raise POLL_CONCURRENCY`,
      value: Math.round((s.now - oldestPoll) / 1000),
      threshold: Math.round(pollLagMs / 1000),
      forMs: 0,
    });
  }
  return out;
}

function tickConditions(s: QueueSnapshot): AlertCondition[] {
  const { tick } = s;
  if (!tick.registered) {
    return [
      {
        name: 'ticks_stopped',
        severity: 'critical',
        message: 'the tick job scheduler is not registered in Redis (is the scheduler running?)',
        value: 0,
        threshold: 1,
        forMs: TICK_SCHEDULER_MISSING_FOR_MS,
      },
    ];
  }
  const out: AlertCondition[] = [];
  const every = tick.everyMs ?? 0;
  const overdueAfter = Math.max(TICK_OVERDUE_INTERVALS * every, TICK_OVERDUE_MIN_MS);
  if (tick.nextTickAt !== null && s.now - tick.nextTickAt >= overdueAfter) {
    out.push({
      name: 'ticks_stopped',
      severity: 'critical',
      message: `no worker has taken a tick for ${formatDuration(s.now - tick.nextTickAt)} (ticks every ${formatDuration(every)}): are workers running?`,
      value: Math.round((s.now - tick.nextTickAt) / 1000),
      threshold: Math.round(overdueAfter / 1000),
      forMs: 0,
    });
  }
  if (tick.lastFailedAt !== null && tick.lastFailedAt > (tick.lastCompletedAt ?? 0)) {
    out.push({
      name: 'tick_failing',
      severity: 'critical',
      message: `the last tick failed: ${tick.lastFailedReason ?? 'no reason recorded'}`,
      value: 1,
      threshold: 1,
      forMs: 0,
    });
  }
  return out;
}

/** "45 s", "12 min", "3 h 5 min": short and exact enough for an alert line. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
