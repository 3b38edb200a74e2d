import { sql, type Kysely } from 'kysely';
import {
  firstWindowEnd,
  planResume,
  type ResumePlan,
  type Schedule,
  type TimeWindow,
} from '@aharadar/scheduling';
import type { Database, Topic } from '../schema.js';
import { insertSkippedWindows } from './windows.js';

/** The schedule of a topic row, in the form `@aharadar/scheduling` computes with. */
export function topicSchedule(topic: Pick<Topic, 'schedule_kind' | 'every_seconds' | 'cron_expr' | 'time_zone' | 'anchor'>): Schedule {
  if (topic.schedule_kind === 'every') {
    return { kind: 'every', everySeconds: topic.every_seconds ?? 0, anchor: topic.anchor };
  }
  return { kind: 'cron', expression: topic.cron_expr ?? '', timeZone: topic.time_zone };
}

export interface NewTopicInput {
  name: string;
  schedule: Schedule;
  timeZone: string;
  keywords: string[];
  excludeKeywords: string[];
  digestSize: number;
  maxPerSource: number;
  createdAt: Date;
}

/** Thrown when a topic name is taken; the CLI prints it as is. */
export class TopicExistsError extends Error {
  override readonly name = 'TopicExistsError';
  constructor(name: string) {
    super(`topic "${name}" already exists`);
  }
}

export async function insertTopic(db: Kysely<Database>, input: NewTopicInput): Promise<Topic> {
  const { schedule } = input;
  const anchor = schedule.kind === 'every' ? schedule.anchor : input.createdAt;
  // Refuse a taken name before the INSERT: ON CONFLICT DO NOTHING alone still draws an id
  // from the sequence, so a rejected `radar topic add` would leave a trace in the database
  // (found by the fault suite's pg_dump comparison). The ON CONFLICT below covers the race.
  if (await findTopicByName(db, input.name)) throw new TopicExistsError(input.name);
  const row = await db
    .insertInto('topics')
    .values({
      name: input.name,
      schedule_kind: schedule.kind,
      every_seconds: schedule.kind === 'every' ? schedule.everySeconds : null,
      cron_expr: schedule.kind === 'cron' ? schedule.expression : null,
      time_zone: input.timeZone,
      anchor,
      keywords: input.keywords,
      exclude_keywords: input.excludeKeywords,
      digest_size: input.digestSize,
      max_per_source: input.maxPerSource,
      watermark: null,
      next_window_end: firstWindowEnd(schedule, input.createdAt),
      created_at: input.createdAt,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new TopicExistsError(input.name);
  return row;
}

export async function findTopicByName(db: Kysely<Database>, name: string): Promise<Topic | undefined> {
  return db.selectFrom('topics').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function findTopicById(db: Kysely<Database>, id: number): Promise<Topic | undefined> {
  return db.selectFrom('topics').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface TopicListing extends Topic {
  source_count: number;
  last_window_end: Date | null;
}

export async function listTopics(db: Kysely<Database>): Promise<TopicListing[]> {
  return db
    .selectFrom('topics')
    .selectAll('topics')
    .select((eb) => [
      eb
        .selectFrom('sources')
        .whereRef('sources.topic_id', '=', 'topics.id')
        .select(sql<number>`count(*)::int`.as('n'))
        .as('source_count'),
      eb
        .selectFrom('digests')
        .whereRef('digests.topic_id', '=', 'topics.id')
        .where('digests.trigger', '<>', 'manual')
        .select(sql<Date>`max(window_end)`.as('m'))
        .as('last_window_end'),
    ])
    .orderBy('name')
    .execute() as Promise<TopicListing[]>;
}

/** Deletes a topic with its sources, windows and digests (items stay: other topics may share them). */
export async function deleteTopic(db: Kysely<Database>, id: number): Promise<void> {
  await db.deleteFrom('topics').where('id', '=', id).execute();
}

/** Pauses a topic: the due query skips it until {@link resumeTopic}. Idempotent. */
export async function pauseTopic(db: Kysely<Database>, id: number, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('topics')
    .set({ paused: true, paused_at: now, updated_at: now })
    .where('id', '=', id)
    .where('paused', '=', false)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface ResumeOutcome {
  resumed: boolean;
  skipped: TimeWindow[];
  skippedOmitted: ResumePlan['skippedOmitted'];
}

/**
 * Resumes a paused topic (DESIGN §4): windows that ended while it was paused are recorded as
 * `skipped (paused)`, and scheduling continues from the window containing `now`. The row is
 * locked so a tick can't advance the watermark between the plan and the update.
 */
export async function resumeTopic(db: Kysely<Database>, id: number, now: Date): Promise<ResumeOutcome> {
  return db.transaction().execute(async (tx) => {
    const topic = await tx.selectFrom('topics').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!topic || !topic.paused) return { resumed: false, skipped: [], skippedOmitted: null };
    const plan = planResume({ schedule: topicSchedule(topic), watermark: topic.watermark, createdAt: topic.created_at, now });
    await insertSkippedWindows(tx, id, plan.skipped, plan.skippedOmitted, 'paused');
    await tx
      .updateTable('topics')
      .set({ paused: false, paused_at: null, watermark: plan.watermark, next_window_end: plan.nextWindowEnd, updated_at: now })
      .where('id', '=', id)
      .execute();
    return { resumed: true, skipped: plan.skipped, skippedOmitted: plan.skippedOmitted };
  });
}

/** A topic whose schedule could not be planned at a tick (an unknown zone, an unusable cron). */
export interface ScheduleFailure {
  id: number;
  error: string;
}

/**
 * Records why these topics could not be planned (DESIGN §4; issue 13.2): shown by `radar topic
 * list` and `radar status`, and alerted on. `schedule_error_at` keeps when the current error
 * was first seen; a different error restarts it. Planning that succeeds clears both
 * (applyDuePlans).
 */
export async function recordScheduleErrors(db: Kysely<Database>, failures: readonly ScheduleFailure[], now: Date): Promise<void> {
  if (failures.length === 0) return;
  await sql`
    UPDATE topics AS t
       SET schedule_error = v.error,
           schedule_error_at = CASE WHEN t.schedule_error IS NOT DISTINCT FROM v.error THEN COALESCE(t.schedule_error_at, ${now}) ELSE ${now} END
      FROM unnest(${failures.map((f) => f.id)}::int[], ${failures.map((f) => f.error)}::text[]) AS v(id, error)
     WHERE t.id = v.id`.execute(db);
}

export interface ScheduleErrorListing {
  id: number;
  name: string;
  error: string;
  since: Date;
}

/** Topics (not paused) whose schedule cannot be planned, oldest error first; and how many there are. */
export async function listScheduleErrors(db: Kysely<Database>, limit = 100): Promise<{ total: number; topics: ScheduleErrorListing[] }> {
  const rows = await sql<ScheduleErrorListing & { total: number }>`
    SELECT id, name, schedule_error AS error, COALESCE(schedule_error_at, updated_at) AS since, count(*) OVER ()::int AS total
      FROM topics
     WHERE schedule_error IS NOT NULL AND NOT paused
     ORDER BY schedule_error_at, name
     LIMIT ${limit}`.execute(db);
  return { total: rows.rows[0]?.total ?? 0, topics: rows.rows.map(({ total: _total, ...t }) => t) };
}
