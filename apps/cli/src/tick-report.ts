/**
 * What a worker's tick job returns (the worker's TickReport, DESIGN §8). Read back from
 * Redis, so it is validated field by field: a job from another version may lack some.
 */
export interface TickReportView {
  outcome: string;
  dueTopics: number | null;
  windowsScheduled: number | null;
  skipped: number | null;
  reenqueued: number | null;
  pollsPlanned: number | null;
  pollsReenqueued: number | null;
  durationMs: number | null;
}

export function readTickReport(value: unknown): TickReportView | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    outcome: typeof r.outcome === 'string' ? r.outcome : 'unknown',
    dueTopics: n(r.dueTopics),
    windowsScheduled: n(r.windowsScheduled),
    skipped: n(r.skipped),
    reenqueued: n(r.reenqueued),
    pollsPlanned: n(r.pollsPlanned),
    pollsReenqueued: n(r.pollsReenqueued),
    durationMs: n(r.durationMs),
  };
}

const show = (v: number | null): string => (v === null ? '?' : String(v));

/** `done: 3 due topics, 5 windows scheduled, 0 skipped, 1 re-enqueued, 12 polls planned (0 re-enqueued) in 42 ms` */
export function describeTickReport(report: TickReportView): string {
  const why = report.outcome === 'paused' ? ' (global pause: nothing fanned out)' : report.outcome === 'locked' ? ' (another tick held the fan-out lock; it does the work)' : '';
  return (
    `${report.outcome}${why}: ${show(report.dueTopics)} due topics, ${show(report.windowsScheduled)} windows scheduled, ` +
    `${show(report.skipped)} skipped, ${show(report.reenqueued)} re-enqueued, ${show(report.pollsPlanned)} polls planned ` +
    `(${show(report.pollsReenqueued)} re-enqueued) in ${show(report.durationMs)} ms`
  );
}
