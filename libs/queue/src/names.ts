/** Queue and job names: the contract between the scheduler, the workers and the CLI. */
export const SCHEDULER_QUEUE = 'scheduler';
export const PIPELINE_QUEUE = 'pipeline';

export const TICK_JOB = 'tick';
export const RUN_WINDOW_JOB = 'run_window';

/** Id of the BullMQ job scheduler that emits ticks; upserting it twice is a no-op. */
export const TICK_SCHEDULER_ID = 'tick';
