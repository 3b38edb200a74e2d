import { sql, type Kysely, type Transaction } from 'kysely';
import type { DuePlan, TimeWindow } from '@aharadar/scheduling';
import type { Database, Topic, WindowRow, WindowStatus, WindowTrigger } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** The columns of a topic the tick needs to plan its windows. */
export type DueTopic = Pick<
  Topic,
  'id' | 'name' | 'schedule_kind' | 'every_seconds' | 'cron_expr' | 'time_zone' | 'anchor' | 'watermark' | 'next_window_end' | 'created_at'
>;

/**
 * Topics with at least one due window: `next_window_end + lag <= now`. Set-based and served by
 * the partial index `topics_due_idx`, so a tick with nothing due is one index probe — never a
 * query per topic. Ordered by how long they have waited, so a capped tick serves the oldest.
 */
export async function findDueTopics(
  db: Executor,
  options: {
    now: Date;
    lagSeconds: number;
    limit: number;
    /**
     * The last topic of the previous batch: continue after it (keyset). Topics a batch could not
     * move on — a schedule that cannot be planned, a lost compare-and-set — stay due, and
     * without this they would come back at the head of every later batch of the tick.
     */
    after?: Pick<DueTopic, 'id' | 'next_window_end'>;
  },
): Promise<DueTopic[]> {
  const cutoff = new Date(options.now.getTime() - options.lagSeconds * 1000);
  let query = db
    .selectFrom('topics')
    .select(['id', 'schedule_kind', 'every_seconds', 'cron_expr', 'time_zone', 'anchor', 'watermark', 'next_window_end', 'created_at', 'name'])
    .where('paused', '=', false)
    .where('next_window_end', '<=', cutoff);
  const after = options.after;
  if (after) query = query.where(sql<boolean>`(next_window_end, id) > (${after.next_window_end}::timestamptz, ${after.id}::int)`);
  return query.orderBy('next_window_end').orderBy('id').limit(options.limit).execute();
}

export interface PlannedTopic {
  topic: DueTopic;
  plan: DuePlan;
}

export interface AppliedPlans {
  /** Ledger rows this call inserted as `queued`: exactly the windows to enqueue. */
  queued: WindowRow[];
  skipped: number;
  /** Topics whose watermark moved under us (another tick, a pause): left for the next tick. */
  conflicts: number;
}

/** A window row as the unnest() inserts below take it: parallel arrays, one element per row. */
interface WindowColumns {
  topicIds: number[];
  starts: string[];
  ends: string[];
  statuses: WindowStatus[];
  reasons: (string | null)[];
}

function emptyColumns(): WindowColumns {
  return { topicIds: [], starts: [], ends: [], statuses: [], reasons: [] };
}

function pushWindow(cols: WindowColumns, topicId: number, w: TimeWindow, status: WindowStatus, reason: string | null): void {
  cols.topicIds.push(topicId);
  cols.starts.push(w.start.toISOString());
  cols.ends.push(w.end.toISOString());
  cols.statuses.push(status);
  cols.reasons.push(reason);
}

/**
 * Records the plans of one batch of due topics in ONE transaction (DESIGN §5):
 * 1. advance each topic's watermark by compare-and-set (only if it is still what we planned
 *    from, and the topic is not paused) — a topic that lost the race is left alone;
 * 2. insert the ledger rows of the topics that won, `ON CONFLICT DO NOTHING` on the unique
 *    (topic, start, end) — so a window scheduled by anyone before is never inserted again.
 * Only rows inserted here are returned as `queued`, and only those get enqueued: together
 * with the deterministic job id this is what makes scheduling exactly-once (invariant 1).
 */
export async function applyDuePlans(db: Kysely<Database>, planned: PlannedTopic[], now: Date, trigger: WindowTrigger = 'scheduled'): Promise<AppliedPlans> {
  if (planned.length === 0) return { queued: [], skipped: 0, conflicts: 0 };
  return db.transaction().execute(async (tx) => {
    const ids = planned.map((p) => p.topic.id);
    const oldMarks = planned.map((p) => p.topic.watermark?.toISOString() ?? null);
    const newMarks = planned.map((p) => p.plan.watermark?.toISOString() ?? null);
    const nextEnds = planned.map((p) => p.plan.nextWindowEnd.toISOString());
    const won = await sql<{ id: number }>`
      UPDATE topics AS t
         SET watermark = v.new_mark, next_window_end = v.next_end, updated_at = ${now},
             schedule_error = NULL, schedule_error_at = NULL
        FROM unnest(${ids}::int[], ${oldMarks}::timestamptz[], ${newMarks}::timestamptz[], ${nextEnds}::timestamptz[])
             AS v(id, old_mark, new_mark, next_end)
       WHERE t.id = v.id
         AND t.watermark IS NOT DISTINCT FROM v.old_mark
         AND NOT t.paused
      RETURNING t.id`.execute(tx);
    const winners = new Set(won.rows.map((r) => r.id));

    const cols = emptyColumns();
    let skipped = 0;
    for (const { topic, plan } of planned) {
      if (!winners.has(topic.id)) continue;
      if (plan.skippedOmitted) {
        pushWindow(cols, topic.id, plan.skippedOmitted, 'skipped', `catch-up limit: ${plan.skippedOmitted.count} older windows not run (radar backfill can run them)`);
        skipped += plan.skippedOmitted.count;
      }
      for (const w of plan.skipped) pushWindow(cols, topic.id, w, 'skipped', 'catch-up limit');
      skipped += plan.skipped.length;
      for (const w of plan.scheduled) pushWindow(cols, topic.id, w, 'queued', null);
    }
    const inserted = await insertWindowRows(tx, cols, trigger);
    return { queued: inserted.filter((r) => r.status === 'queued'), skipped, conflicts: planned.length - winners.size };
  });
}

async function insertWindowRows(db: Executor, cols: WindowColumns, trigger: WindowTrigger): Promise<WindowRow[]> {
  if (cols.topicIds.length === 0) return [];
  const result = await sql<WindowRow>`
    INSERT INTO windows (topic_id, window_start, window_end, trigger, status, skip_reason, finished_at)
    SELECT v.topic_id, v.start_at, v.end_at, ${trigger}, v.status, v.reason,
           CASE WHEN v.status = 'skipped' THEN now() END
      FROM unnest(${cols.topicIds}::int[], ${cols.starts}::timestamptz[], ${cols.ends}::timestamptz[],
                  ${cols.statuses}::text[], ${cols.reasons}::text[])
           AS v(topic_id, start_at, end_at, status, reason)
    ON CONFLICT (topic_id, window_start, window_end) WHERE trigger <> 'manual' DO NOTHING
    RETURNING *`.execute(db);
  return result.rows;
}

/** Records windows that will not run (catch-up bound, pause), so none is dropped silently. */
export async function insertSkippedWindows(
  db: Executor,
  topicId: number,
  windows: TimeWindow[],
  omitted: (TimeWindow & { count: number }) | null,
  reason: string,
): Promise<number> {
  const cols = emptyColumns();
  if (omitted) pushWindow(cols, topicId, omitted, 'skipped', `${reason}: ${omitted.count} windows summarised in one row`);
  for (const w of windows) pushWindow(cols, topicId, w, 'skipped', reason);
  const rows = await insertWindowRows(db, cols, 'scheduled');
  return rows.length;
}

export interface BackfillOutcome {
  /** Rows to enqueue: new windows, and windows that had been skipped. */
  queued: WindowRow[];
  /** Windows that were already scheduled (queued, running or finished): left as they are. */
  alreadyScheduled: number;
}

/**
 * Schedules past windows through the same ledger as the tick (DESIGN §4): a window that
 * exists is not inserted again; a `skipped` one is turned into a queued backfill.
 */
export async function insertBackfillWindows(db: Kysely<Database>, topicId: number, windows: TimeWindow[]): Promise<BackfillOutcome> {
  if (windows.length === 0) return { queued: [], alreadyScheduled: 0 };
  const starts = windows.map((w) => w.start.toISOString());
  const ends = windows.map((w) => w.end.toISOString());
  const result = await sql<WindowRow>`
    INSERT INTO windows (topic_id, window_start, window_end, trigger, status)
    SELECT ${topicId}, v.start_at, v.end_at, 'backfill', 'queued'
      FROM unnest(${starts}::timestamptz[], ${ends}::timestamptz[]) AS v(start_at, end_at)
    ON CONFLICT (topic_id, window_start, window_end) WHERE trigger <> 'manual'
    DO UPDATE SET status = 'queued', trigger = 'backfill', skip_reason = NULL, finished_at = NULL
          WHERE windows.status = 'skipped'
    RETURNING *`.execute(db);
  return { queued: result.rows, alreadyScheduled: windows.length - result.rows.length };
}

/** Inserts the ledger row of a manual (preview) run; manual rows never collide. */
export async function insertManualWindow(db: Executor, topicId: number, window: TimeWindow, now: Date): Promise<WindowRow> {
  return db
    .insertInto('windows')
    .values({ topic_id: topicId, window_start: window.start, window_end: window.end, trigger: 'manual', status: 'running', attempts: 1, started_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Ledger rows that should have a job in Redis: queued or running, created before `olderThan`
 * (younger rows may be between their commit and their `addBulk`). Manual runs are excluded:
 * they run inside the CLI that created them.
 */
export async function findUnfinishedWindows(db: Executor, options: { olderThan: Date; limit: number }): Promise<WindowRow[]> {
  return db
    .selectFrom('windows')
    .selectAll()
    .where('status', 'in', ['queued', 'running'])
    .where('trigger', '<>', 'manual')
    .where('created_at', '<', options.olderThan)
    .orderBy('window_end')
    .limit(options.limit)
    .execute();
}

/**
 * Manual (preview) runs live in the `radar run` process that created them; reconcile leaves
 * them alone. One whose process died (crash, Ctrl-C, a lost terminal) would stay `running` for
 * ever and count in `radar status`: a manual row running since before `startedBefore` is ended
 * `failed` with the reason. Returns the rows ended.
 */
export async function expireManualRuns(db: Executor, options: { startedBefore: Date; now: Date; reason: string }): Promise<WindowRow[]> {
  return db
    .updateTable('windows')
    .set({ status: 'failed', error: options.reason, finished_at: options.now })
    .where('trigger', '=', 'manual')
    .where('status', 'in', ['queued', 'running'])
    .where((eb) => eb.or([eb('started_at', '<', options.startedBefore), eb.and([eb('started_at', 'is', null), eb('created_at', '<', options.startedBefore)])]))
    .returningAll()
    .execute();
}

export async function findWindow(db: Executor, id: number): Promise<WindowRow | undefined> {
  return db.selectFrom('windows').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The unfinished scheduled windows of the same topic that end at or before `window` starts:
 * per-topic runs must finish in window order (invariant 3), so while one exists the run waits.
 * No correlation with the outer query: usable on its own and as an `exists` subquery.
 */
function unfinishedPredecessors(db: Executor, window: Pick<WindowRow, 'id' | 'topic_id' | 'window_start'>) {
  return db
    .selectFrom('windows as earlier')
    .select('earlier.id')
    .where('earlier.topic_id', '=', window.topic_id)
    .where('earlier.status', 'in', ['queued', 'running'])
    .where('earlier.trigger', '<>', 'manual')
    .where('earlier.window_end', '<=', window.window_start)
    .where('earlier.id', '<>', window.id);
}

/** True when an earlier window of the same topic has not finished (see {@link unfinishedPredecessors}). */
export async function hasUnfinishedPredecessor(db: Executor, window: Pick<WindowRow, 'id' | 'topic_id' | 'window_start'>): Promise<boolean> {
  return (await unfinishedPredecessors(db, window).limit(1).executeTakeFirst()) !== undefined;
}

export type WindowStart =
  | { outcome: 'started'; window: WindowRow }
  /** An earlier window of the topic is unfinished: the run must wait (invariant 3). */
  | { outcome: 'predecessor_unfinished' }
  /** The window has already finished (a duplicate or late job): nothing to do. */
  | { outcome: 'finished' };

/**
 * Moves the window to `running` and counts the attempt — only if it is unfinished and no
 * earlier window of its topic is — in ONE statement in the common case (a run is a dozen
 * round trips; this saves one). Only when it did not move is the reason looked up.
 */
export async function startWindowRun(db: Executor, window: Pick<WindowRow, 'id' | 'topic_id' | 'window_start'>, now: Date): Promise<WindowStart> {
  const row = await db
    .updateTable('windows')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), started_at: now, error: null }))
    .where('id', '=', window.id)
    .where('status', 'in', ['queued', 'running'])
    .where((eb) => eb.not(eb.exists(unfinishedPredecessors(db, window))))
    .returningAll()
    .executeTakeFirst();
  if (row) return { outcome: 'started', window: row };
  return (await hasUnfinishedPredecessor(db, window)) ? { outcome: 'predecessor_unfinished' } : { outcome: 'finished' };
}

/** The next unfinished window of a topic after `window`, to wake its delayed job early. */
export async function findNextUnfinishedWindow(db: Executor, window: Pick<WindowRow, 'topic_id' | 'window_end'>): Promise<WindowRow | undefined> {
  return db
    .selectFrom('windows')
    .selectAll()
    .where('topic_id', '=', window.topic_id)
    .where('status', 'in', ['queued', 'running'])
    .where('trigger', '<>', 'manual')
    .where('window_start', '>=', window.window_end)
    .orderBy('window_start')
    .limit(1)
    .executeTakeFirst();
}

/** Records a retryable error on a running window (it stays `running`; the job is retried). */
export async function recordWindowError(db: Executor, id: number, error: string): Promise<void> {
  await db.updateTable('windows').set({ error }).where('id', '=', id).where('status', '=', 'running').execute();
}

export interface WindowCounts {
  queued: number;
  running: number;
  failed: number;
  succeeded: number;
  skipped: number;
}

export async function countWindowsByStatus(db: Executor): Promise<WindowCounts> {
  const rows = await db
    .selectFrom('windows')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  const counts: WindowCounts = { queued: 0, running: 0, failed: 0, succeeded: 0, skipped: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
