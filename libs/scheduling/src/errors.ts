/**
 * The one error type this package throws.
 *
 * Schedules come from operators (topic files, CLI flags), so every validation failure must be
 * distinguishable from a programming error and must read well on its own: the message is a
 * single line that names the offending input and says what would be accepted instead. Callers
 * can `instanceof ScheduleError` to turn it into a user-facing message without a stack trace.
 */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}
