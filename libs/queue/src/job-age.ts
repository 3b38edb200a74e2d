/** The job fields that say when a job could first be picked up (a BullMQ `Job` has them). */
export interface JobTimes {
  timestamp: number;
  processedOn?: number;
  opts?: { delay?: number };
}

/**
 * Since when a waiting job has been waiting to be picked up, as near as BullMQ records it.
 * Not `timestamp` alone: that is when the job was *created*, and a run that waited for its
 * predecessor (sent back to `delayed`) or for a retry keeps it — its age would count time
 * spent active and delayed, and raise a false `queue_wait` after every catch-up. The later of
 * "created + initial delay" and "last started" never over-counts (it may under-count a retry's
 * backoff, which is the safe side for an alert).
 */
export function waitingSince(job: JobTimes): number {
  return Math.max(job.timestamp + (job.opts?.delay ?? 0), job.processedOn ?? 0);
}
