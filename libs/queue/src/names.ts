/** Queue and job names: the contract between the scheduler, the workers and the CLI. */
export const SCHEDULER_QUEUE = 'scheduler';
export const PIPELINE_QUEUE = 'pipeline';
/** Feed polls and retention: I/O-bound jobs kept apart so a run waiting for a poll never starves it. */
export const POLL_QUEUE = 'poll';

export const TICK_JOB = 'tick';
export const RUN_WINDOW_JOB = 'run_window';
export const POLL_FEED_JOB = 'poll_feed';
export const PRUNE_JOB = 'prune';

/** Id of the BullMQ job scheduler that emits ticks; upserting it twice is a no-op. */
export const TICK_SCHEDULER_ID = 'tick';
