import { recordFeedPollsBatch, type Database, type FeedPollRecord, type StoredPoll } from '@aharadar/db';
import type { Kysely } from 'kysely';

/** Where a poll hands its record for storage: {@link PollWriter}, or anything with its `write`. */
export interface PollStore {
  write(poll: FeedPollRecord): Promise<StoredPoll>;
}

interface Queued {
  poll: FeedPollRecord;
  resolve: (stored: StoredPoll) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of the polls running at once in one process (one writer per worker process):
 * each poll queues its record; one write at a time takes EVERYTHING queued and stores it with
 * {@link recordFeedPollsBatch} — two statements for the whole batch instead of two per poll.
 * There is no timer: a write starts as soon as the previous one finished, so an idle system
 * writes a lone poll at once, and a busy one batches exactly the polls that finished while the
 * previous write was in flight. Each poll's promise resolves with its own stored result, or
 * rejects with the batch's error if that write failed (every poll of a failed batch fails: its
 * job is retried, as a poll whose own write failed always was).
 */
export class PollWriter implements PollStore {
  private queue: Queued[] = [];
  private writing = false;

  constructor(
    private readonly db: Kysely<Database>,
    /** Most polls in one batch: the rest wait for the next write. */
    private readonly maxBatch = 256,
  ) {}

  write(poll: FeedPollRecord): Promise<StoredPoll> {
    return new Promise<StoredPoll>((resolve, reject) => {
      this.queue.push({ poll, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const stored = await recordFeedPollsBatch(
            this.db,
            batch.map((q) => q.poll),
          );
          batch.forEach((q, i) => q.resolve(stored[i]!));
        } catch (error) {
          for (const q of batch) q.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
