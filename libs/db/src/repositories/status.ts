import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface BehindTopic {
  id: number;
  name: string;
  paused: boolean;
  next_window_end: Date;
  /** Queued ledger rows created before the grace cutoff: scheduled but not picked up. */
  stale_queued: number;
  oldest_queued_at: Date | null;
}

export interface BehindQuery {
  now: Date;
  lagSeconds: number;
  /** How late counts as behind: `radar status` uses two tick intervals. */
  graceMs: number;
  limit: number;
}

/**
 * Topics behind schedule, for `radar status` (DESIGN §8). A topic is behind when
 * - it is not paused and its next window became due (end + lag) more than `graceMs` ago —
 *   the ticks are not scheduling it; or
 * - it has windows still `queued` that were scheduled more than `graceMs` ago — the workers
 *   are not running them (none running, a global pause, or a backlog).
 * Both parts use an index (topics_due_idx; the partial unfinished-windows index) instead of
 * scanning every topic, so the status query stays cheap with many topics.
 */
export async function topicsBehindSchedule(db: Kysely<Database>, q: BehindQuery): Promise<BehindTopic[]> {
  const cutoff = new Date(q.now.getTime() - q.graceMs);
  const dueBefore = new Date(cutoff.getTime() - q.lagSeconds * 1000);
  const result = await sql<BehindTopic>`
    WITH overdue AS (
      SELECT id FROM topics WHERE NOT paused AND next_window_end <= ${dueBefore}
       ORDER BY next_window_end LIMIT ${q.limit}
    ), stale AS (
      SELECT topic_id, count(*)::int AS stale_queued, min(created_at) AS oldest_queued_at
        FROM windows
       WHERE status = 'queued' AND created_at < ${cutoff}
       GROUP BY topic_id
    )
    SELECT t.id, t.name, t.paused, t.next_window_end,
           COALESCE(s.stale_queued, 0)::int AS stale_queued, s.oldest_queued_at
      FROM topics t
      LEFT JOIN stale s ON s.topic_id = t.id
     WHERE t.id IN (SELECT id FROM overdue) OR s.topic_id IS NOT NULL
     ORDER BY LEAST(t.next_window_end, s.oldest_queued_at), t.id
     LIMIT ${q.limit}`.execute(db);
  return result.rows;
}
