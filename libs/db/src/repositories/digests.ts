import { sql, type Kysely } from 'kysely';
import type { Database, Digest, DigestStatus, WindowRow } from '../schema.js';

export interface DigestItemInput {
  itemId: number;
  rank: number;
  score: number;
  breakdown: unknown;
}

export interface DigestInput {
  window: Pick<WindowRow, 'id' | 'topic_id' | 'window_start' | 'window_end' | 'trigger'>;
  status: Exclude<DigestStatus, 'failed'>;
  items: DigestItemInput[];
  /** Every candidate considered (selected or not): claimed for this window so none repeats. */
  candidateIds: number[];
  sourcesTotal: number;
  sourcesFailed: number;
  durationMs: number;
  finishedAt: Date;
}

export type PersistOutcome = { persisted: true; digestId: number } | { persisted: false; reason: 'already_finished' };

/**
 * A candidate of this window is already claimed by ANOTHER window of the topic. Two windows of
 * one topic only build at once when a run's topic lock lapsed (a paused worker, a Redis
 * failover); writing both would put one item into two digests. Nothing of this persist was
 * written; the run fails and its retry selects candidates again (without the claimed items).
 */
export class ClaimConflictError extends Error {
  override readonly name = 'ClaimConflictError';
  constructor(
    readonly windowId: number,
    /** The items in conflict, with the window that holds each (when it could be read back). */
    readonly conflicts: readonly { itemId: number; windowId: number }[],
  ) {
    const shown = conflicts.slice(0, 5).map((c) => `item ${c.itemId} (window ${c.windowId})`).join(', ');
    super(`window ${windowId}: candidates already claimed by another window of the topic: ${shown || 'unknown items'}${conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''}`);
  }
}

const CLAIMS_KEY = 'topic_item_claims_pkey';

function isClaimConflict(error: unknown): boolean {
  const e = error as { code?: unknown; constraint_name?: unknown } | null;
  return e?.code === '23505' && e.constraint_name === CLAIMS_KEY;
}

/**
 * Writes a digest, its items, the candidates' claims and the ledger's `succeeded` in ONE
 * transaction (invariant 2: never two digests, never half-written items). The ledger row is
 * locked first; if it has already finished — a duplicate delivery, or a run that a killed
 * worker completed just before dying — nothing is written. If another window of the topic has
 * claimed one of the candidates meanwhile, nothing is written either and ClaimConflictError is
 * thrown: an item goes into one window's digest only, even when the per-topic lock failed.
 */
export async function persistDigest(db: Kysely<Database>, input: DigestInput): Promise<PersistOutcome> {
  const w = input.window;
  // Previews (manual runs) claim nothing: the items still go to their scheduled window.
  const claimIds = w.trigger !== 'manual' ? [...new Set(input.candidateIds)] : [];
  // ONE statement, so one round trip and its own transaction. `open_window` locks the ledger row
  // and yields it only while it is unfinished; everything else is written only if it did. A
  // concurrent persist of the same window waits for the lock, then (READ COMMITTED re-checks
  // the row) finds it finished and writes nothing. digests_window_key backs this up.
  // Claims are inserted WITHOUT `ON CONFLICT`: a claim of this topic's item by another window
  // (the only kind there can be — this window's own claims are written with its digest, which
  // it has not got yet) violates topic_item_claims_pkey and fails the whole statement.
  try {
    return await writeDigest(db, input, claimIds);
  } catch (error) {
    if (!isClaimConflict(error)) throw error;
    const held = await db
      .selectFrom('topic_item_claims')
      .select(['item_id', 'window_id'])
      .where('topic_id', '=', w.topic_id)
      .where('item_id', 'in', claimIds)
      .where('window_id', '<>', w.id)
      .orderBy('item_id')
      .execute()
      .catch(() => []);
    throw new ClaimConflictError(w.id, held.map((c) => ({ itemId: c.item_id, windowId: c.window_id })));
  }
}

async function writeDigest(db: Kysely<Database>, input: DigestInput, claimIds: number[]): Promise<PersistOutcome> {
  const w = input.window;
  const written = await sql<{ id: number }>`
    WITH open_window AS (
      SELECT id FROM windows WHERE id = ${w.id} AND status IN ('queued', 'running') FOR UPDATE
    ), digest AS (
      INSERT INTO digests (window_id, topic_id, window_start, window_end, trigger, status, error, item_count, candidate_count,
                           sources_total, sources_failed, duration_ms)
      SELECT open_window.id, ${w.topic_id}, ${w.window_start}, ${w.window_end}, ${w.trigger}, ${input.status}, NULL, ${input.items.length},
             ${input.candidateIds.length}, ${input.sourcesTotal}, ${input.sourcesFailed}, ${Math.round(input.durationMs)}
        FROM open_window
      RETURNING id
    ), entries AS (
      INSERT INTO digest_items (digest_id, item_id, rank, score, breakdown)
      SELECT digest.id, v.item_id, v.rank, v.score, v.breakdown
        FROM digest, unnest(${input.items.map((i) => i.itemId)}::int[], ${input.items.map((i) => i.rank)}::int[],
                            ${input.items.map((i) => i.score)}::float8[], ${input.items.map((i) => i.breakdown as object)}::jsonb[])
             AS v(item_id, rank, score, breakdown)
    ), claims AS (
      INSERT INTO topic_item_claims (topic_id, item_id, window_id)
      SELECT ${w.topic_id}, v.item_id, ${w.id} FROM digest, unnest(${claimIds}::int[]) AS v(item_id)
    ), ledger AS (
      UPDATE windows SET status = 'succeeded', digest_id = digest.id, finished_at = ${input.finishedAt}, error = NULL
        FROM digest WHERE windows.id = ${w.id}
    )
    SELECT id FROM digest`.execute(db);
  const digest = written.rows[0];
  return digest ? { persisted: true, digestId: digest.id } : { persisted: false, reason: 'already_finished' };
}

/**
 * Ends a window whose run failed for good (attempts exhausted): a `failed` digest with the
 * reason, and the ledger row `failed`, in one transaction. A no-op if it already finished.
 */
export async function persistFailedDigest(
  db: Kysely<Database>,
  window: Pick<WindowRow, 'id' | 'topic_id' | 'window_start' | 'window_end' | 'trigger'>,
  error: string,
  finishedAt: Date,
): Promise<PersistOutcome> {
  return db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('windows').select('status').where('id', '=', window.id).forUpdate().executeTakeFirst();
    if (!current || (current.status !== 'queued' && current.status !== 'running')) {
      return { persisted: false, reason: 'already_finished' } as const;
    }
    const digest = await tx
      .insertInto('digests')
      .values({
        window_id: window.id,
        topic_id: window.topic_id,
        window_start: window.window_start,
        window_end: window.window_end,
        trigger: window.trigger,
        status: 'failed',
        error,
        item_count: 0,
        candidate_count: 0,
        sources_total: 0,
        sources_failed: 0,
        duration_ms: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('windows')
      .set({ status: 'failed', digest_id: digest.id, error, finished_at: finishedAt })
      .where('id', '=', window.id)
      .execute();
    return { persisted: true, digestId: digest.id } as const;
  });
}

export interface DigestListing extends Digest {
  topic_name: string;
}

export async function listDigests(db: Kysely<Database>, options: { topicId?: number; limit: number }): Promise<DigestListing[]> {
  let query = db
    .selectFrom('digests')
    .innerJoin('topics', 'topics.id', 'digests.topic_id')
    .selectAll('digests')
    .select('topics.name as topic_name')
    .orderBy('digests.window_end', 'desc')
    .orderBy('digests.id', 'desc')
    .limit(options.limit);
  if (options.topicId !== undefined) query = query.where('digests.topic_id', '=', options.topicId);
  return query.execute();
}

export interface DigestEntry {
  rank: number;
  score: number;
  breakdown: unknown;
  item_id: number;
  title: string;
  url: string | null;
  published_at: Date | null;
  points: number | null;
  comments: number | null;
  sources: string[];
}

export async function findDigest(db: Kysely<Database>, id: number): Promise<{ digest: DigestListing; entries: DigestEntry[] } | undefined> {
  const digest = await db
    .selectFrom('digests')
    .innerJoin('topics', 'topics.id', 'digests.topic_id')
    .selectAll('digests')
    .select('topics.name as topic_name')
    .where('digests.id', '=', id)
    .executeTakeFirst();
  if (!digest) return undefined;
  const entries = await sql<DigestEntry>`
    SELECT di.rank, di.score, di.breakdown, i.id AS item_id, i.title, i.url, i.published_at, i.points, i.comments,
           COALESCE(array_agg(DISTINCT s.name) FILTER (WHERE s.id IS NOT NULL), '{}') AS sources
      FROM digest_items di
      JOIN items i ON i.id = di.item_id
      LEFT JOIN feed_items fi ON fi.item_id = i.id
      LEFT JOIN sources s ON s.feed_id = fi.feed_id AND s.topic_id = ${digest.topic_id}
     WHERE di.digest_id = ${id}
     GROUP BY di.rank, di.score, di.breakdown, i.id
     ORDER BY di.rank`.execute(db);
  return { digest, entries: entries.rows };
}
