/**
 * @aharadar/scheduling — pure time math for topic windows (DESIGN §4): durations, time zones,
 * cron, windows and the due/resume planners; and feed poll cadence (DESIGN §6.1): the adaptive
 * interval and the publisher's floor. No I/O, no clock reads: `now` is always an input.
 */
export { ScheduleError } from './errors.js';
export { parseDuration, formatDuration, MIN_EVERY_SECONDS, MAX_EVERY_SECONDS } from './duration.js';
export { assertTimeZone } from './zone.js';
export {
  assertCron,
  assertSchedule,
  defaultAnchor,
  windowContaining,
  windowAfter,
  windowsBetween,
  isBoundary,
  firstWindowEnd,
  WINDOWS_BETWEEN_DEFAULT_LIMIT,
} from './schedule.js';
export type { Schedule, TimeWindow } from './schedule.js';
export { planDueWindows, planResume, SKIPPED_RECORD_LIMIT } from './plan.js';
export type { DuePlanInput, DuePlan, ResumePlanInput, ResumePlan, SkippedSummary } from './plan.js';
export { publisherFloor, PUBLISHER_FLOOR_CAP_MS } from './publisher-hints.js';
export type { PublisherHints, PublisherFloor } from './publisher-hints.js';
export {
  planNextPoll,
  POLLS_PER_TURNOVER,
  QUIET_GROWTH,
  SATURATED_TURNOVER_FACTOR,
  BACKOFF_CAP_MS,
  HN_MAX_INTERVAL_MS,
  MIN_POLL_INTERVAL_LOWER_BOUND_MS,
} from './poll-cadence.js';
export type { PollOutcome, PollCadenceInput, PollPlan } from './poll-cadence.js';
