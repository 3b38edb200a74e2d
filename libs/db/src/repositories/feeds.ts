import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Feed, PollKind, SourceFetchStatus } from '../schema.js';
import { storeFeedEntriesBatch, type ItemInput, type StoredEntries } from './items.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function findFeed(db: Executor, id: number): Promise<Feed | undefined> {
  return db.selectFrom('feeds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A planned poll: feed, the claim's sequence number (its job id) and when it is due. */
export interface PlannedPoll {
  feedId: number;
  seq: number;
  dueAt: Date;
}

/**
 * Claims the polls due before `horizon` (DESIGN §6.1, "exactly once per planned poll"): one
 * statement picks enabled feeds whose `next_poll_at` has come (index `feeds_due_idx`), and
 * compares-and-sets each from "no poll planned" to "poll `poll_seq + 1` planned at
 * `next_poll_at`". Only the rows this statement changed are returned — a concurrent tick, a
 * duplicated tick, or a retry after a crash finds them already claimed — so each planned poll
 * gets exactly one job id (`poll-<feed>-<seq>`), derived from Postgres state.
 */
export async function claimDuePolls(db: Executor, options: { horizon: Date; now: Date; limit: number }): Promise<PlannedPoll[]> {
  const result = await sql<{ id: number; poll_seq: number; poll_due_at: Date }>`
    UPDATE feeds AS f
       SET poll_seq = f.poll_seq + 1, poll_queued_at = ${options.now}, poll_due_at = f.next_poll_at
      FROM (SELECT id FROM feeds
             WHERE enabled AND poll_queued_at IS NULL AND next_poll_at <= ${options.horizon}
             ORDER BY next_poll_at, id
             LIMIT ${options.limit}
               FOR UPDATE SKIP LOCKED) AS due
     WHERE f.id = due.id AND f.poll_queued_at IS NULL
    RETURNING f.id, f.poll_seq, f.poll_due_at`.execute(db);
  return result.rows.map((r) => ({ feedId: r.id, seq: r.poll_seq, dueAt: r.poll_due_at }));
}

/**
 * Planned polls claimed before `olderThan` and not finished: reconcile checks that each still
 * has its job in Redis (a FLUSHALL, or a crash between the claim's commit and addBulk).
 */
export async function findPlannedPolls(db: Executor, options: { olderThan: Date; limit: number }): Promise<PlannedPoll[]> {
  const rows = await db
    .selectFrom('feeds')
    .select(['id', 'poll_seq', 'poll_due_at'])
    .where('poll_queued_at', 'is not', null)
    .where('poll_queued_at', '<', options.olderThan)
    .orderBy('poll_queued_at')
    .limit(options.limit)
    .execute();
  return rows.map((r) => ({ feedId: r.id, seq: r.poll_seq, dueAt: r.poll_due_at ?? new Date(0) }));
}

/** Ends a planned poll without polling (the feed was polled meanwhile, or disabled). */
export async function releasePollClaim(db: Executor, feedId: number, seq: number): Promise<boolean> {
  const result = await db
    .updateTable('feeds')
    .set({ poll_queued_at: null, poll_due_at: null })
    .where('id', '=', feedId)
    .where('poll_seq', '=', seq)
    .where('poll_queued_at', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Asks for a poll as soon as possible (`radar source poll`, a re-enabled feed): due now. */
export async function makeFeedDue(db: Executor, feedId: number, now: Date): Promise<void> {
  await db.updateTable('feeds').set({ next_poll_at: now }).where('id', '=', feedId).execute();
}

/** When to poll next and why, as the cadence planned it (libs/scheduling poll-cadence). */
export interface PollSchedule {
  nextPollAt: Date;
  intervalMs: number;
  notBefore: Date | null;
  reason: string;
}

/** One poll of one feed, as the poller hands it over for storage. */
export interface FeedPollRecord {
  feedId: number;
  kind: PollKind;
  /** For a scheduled poll, the claim it fulfils: released in the same transaction. */
  claimSeq: number | null;
  /** The window whose run asked for this (freshness) poll, if any. */
  windowId: number | null;
  status: SourceFetchStatus;
  /** What the poll delivered, normalised (empty for errors and 304s). */
  items: ItemInput[];
  httpStatus: number | null;
  errorCode: string | null;
  error: string | null;
  /** A non-fatal problem (recovered parse, missing HN items); null clears the previous one. */
  warning: string | null;
  durationMs: number;
  bytes: number;
  /** How late a scheduled poll started against its planned time. */
  lagMs: number | null;
  /** New cache validators; undefined keeps the stored ones (errors, 304 without new ones). */
  validators?: { etag: string | null; lastModified: string | null };
  /**
   * The next poll, planned from what was stored (the cadence needs to know how many entries
   * were new, which only the write itself tells): called inside the transaction.
   */
  schedule: (stored: StoredEntries) => PollSchedule;
  /** A permanent redirect (301/308): the feed's new URL, as config and identity key. */
  movedTo: { config: object; key: string } | null;
  /** HTTP 410 Gone: the feed is disabled with this reason. */
  disabledReason: string | null;
  at: Date;
}

export interface StoredPoll extends StoredEntries {
  /** The permanent redirect was applied (false when another feed already has the new URL). */
  moved: boolean;
}

/** The record each poll's history row and feed state travel in to `jsonb_to_recordset`. */
interface PollStateRecord {
  feed_id: number;
  window_id: number | null;
  poll_kind: string;
  status: string;
  http_status: number | null;
  error_code: string | null;
  error: string | null;
  warning: string | null;
  duration_ms: number;
  bytes: number;
  items_found: number;
  items_new: number;
  lag_ms: number | null;
  fetched_at: string;
  set_validators: boolean;
  etag: string | null;
  last_modified: string | null;
  poll_interval_ms: number;
  next_poll_at: string;
  not_before: string | null;
  schedule_reason: string;
  disabled_reason: string | null;
  move_config: object | null;
  move_key: string | null;
  claim_seq: number | null;
}

const POLL_STATE_COLUMNS = sql.raw(
  'feed_id int, window_id int, poll_kind text, status text, http_status int, error_code text, error text, warning text, duration_ms int, bytes int, ' +
    'items_found int, items_new int, lag_ms int, fetched_at timestamptz, set_validators boolean, etag text, last_modified text, poll_interval_ms int, ' +
    'next_poll_at timestamptz, not_before timestamptz, schedule_reason text, disabled_reason text, move_config jsonb, move_key text, claim_seq int',
);

/** Stores one poll: {@link recordFeedPollsBatch} with a batch of one. */
export async function recordFeedPoll(db: Kysely<Database>, poll: FeedPollRecord): Promise<StoredPoll> {
  const [stored] = await recordFeedPollsBatch(db, [poll]);
  if (!stored) throw new Error('recordFeedPoll: nothing stored');
  return stored;
}

/**
 * Stores many polls — those a worker's group commit gathered (libs/pipeline `PollWriter`) —
 * in TWO statements per batch (a poll is the hottest write path: every round trip counts; see
 * `pnpm bench`, ingest), whatever the number of polls:
 * 1. their entries and items ({@link storeFeedEntriesBatch}, idempotent);
 * 2. one `fetch_results` history row per poll and each feed's new state — health, validators,
 *    warning, the next poll planned by the cadence from what (1) stored (each poll's
 *    `schedule`, called between the two), a permanent move (applied only when no other feed
 *    has the new URL, and to one feed of the batch per URL, the lowest id) or a 410 — releasing the
 *    planned-poll claim each fulfils (only if it is still that claim: `poll_seq` compare).
 * No transaction spans them, on purpose: if the process dies between the two, the claims are
 * still in place, so reconcile re-enqueues the same polls, which find their entries stored
 * (nothing duplicated) and write the history rows and the state then. Each statement is
 * atomic on its own, so a failure fails the whole batch.
 *
 * Results are per poll, in input order. Two polls of one feed (not expected: a feed's poll
 * lock allows one at a time) are written in successive batches, in input order.
 */
export async function recordFeedPollsBatch(db: Kysely<Database>, polls: readonly FeedPollRecord[]): Promise<StoredPoll[]> {
  const results = new Array<StoredPoll>(polls.length);
  let rest = polls.map((poll, index) => ({ poll, index }));
  while (rest.length > 0) {
    const seen = new Set<number>();
    const round: typeof rest = [];
    const later: typeof rest = [];
    for (const entry of rest) {
      if (seen.has(entry.poll.feedId)) later.push(entry);
      else {
        seen.add(entry.poll.feedId);
        round.push(entry);
      }
    }
    const stored = await writePolls(
      db,
      round.map((e) => e.poll),
    );
    round.forEach((e, i) => (results[e.index] = stored[i]!));
    rest = later;
  }
  return results;
}

/** {@link recordFeedPollsBatch} for polls of distinct feeds. */
async function writePolls(db: Kysely<Database>, polls: readonly FeedPollRecord[]): Promise<StoredPoll[]> {
  const stored = await storeFeedEntriesBatch(
    db,
    polls.map((p) => ({ feedId: p.feedId, items: p.items, at: p.at })),
  );
  const records: PollStateRecord[] = polls.map((poll, i) => {
    const entries = stored[i]!;
    const schedule = poll.schedule(entries);
    return {
      feed_id: poll.feedId,
      window_id: poll.windowId,
      poll_kind: poll.kind,
      status: poll.status,
      http_status: poll.httpStatus,
      error_code: poll.errorCode,
      error: poll.error,
      warning: poll.warning,
      duration_ms: Math.round(poll.durationMs),
      bytes: poll.bytes,
      items_found: entries.found,
      items_new: entries.newEntries,
      lag_ms: poll.lagMs === null ? null : Math.round(poll.lagMs),
      fetched_at: poll.at.toISOString(),
      set_validators: poll.validators !== undefined,
      etag: poll.validators?.etag ?? null,
      last_modified: poll.validators?.lastModified ?? null,
      poll_interval_ms: Math.round(schedule.intervalMs),
      next_poll_at: schedule.nextPollAt.toISOString(),
      not_before: schedule.notBefore?.toISOString() ?? null,
      schedule_reason: schedule.reason,
      disabled_reason: poll.disabledReason,
      move_config: poll.movedTo?.config ?? null,
      move_key: poll.movedTo?.key ?? null,
      claim_seq: poll.claimSeq,
    };
  });
  // The move's URL must be free: another feed may already be that URL (two subscriptions that
  // converge); then this feed keeps its own. Of feeds of the batch moving to one URL, the
  // lowest id moves.
  const result = await sql<{ id: number; key: string }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${records as object}::jsonb) AS x(${POLL_STATE_COLUMNS})
    ), history AS (
      INSERT INTO fetch_results (feed_id, window_id, poll_kind, status, http_status, error_code, error, duration_ms, bytes, items_found, items_new, lag_ms, fetched_at)
      SELECT feed_id, window_id, poll_kind, status, http_status, error_code, error, duration_ms, bytes, items_found, items_new, lag_ms, fetched_at FROM input
    ), polled AS (
      SELECT p.*,
             (p.move_key IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM feeds o WHERE o.key = p.move_key AND o.id <> p.feed_id)
              AND NOT EXISTS (SELECT 1 FROM input q WHERE q.move_key = p.move_key AND q.feed_id < p.feed_id)) AS move_free
        FROM input p
    )
    UPDATE feeds AS f
       SET last_polled_at = p.fetched_at,
           last_status = p.status,
           last_error = p.error,
           last_error_code = p.error_code,
           last_http_status = p.http_status,
           consecutive_failures = CASE WHEN p.status = 'error' THEN f.consecutive_failures + 1 ELSE 0 END,
           warning = p.warning,
           etag = CASE WHEN p.set_validators THEN p.etag ELSE f.etag END,
           last_modified = CASE WHEN p.set_validators THEN p.last_modified ELSE f.last_modified END,
           poll_interval_ms = p.poll_interval_ms,
           next_poll_at = p.next_poll_at,
           not_before = p.not_before,
           schedule_reason = p.schedule_reason,
           enabled = CASE WHEN p.disabled_reason IS NOT NULL THEN false ELSE f.enabled END,
           disabled_reason = COALESCE(p.disabled_reason, f.disabled_reason),
           config = CASE WHEN p.move_free THEN p.move_config ELSE f.config END,
           key = CASE WHEN p.move_free THEN p.move_key ELSE f.key END,
           poll_queued_at = CASE WHEN f.poll_seq = p.claim_seq THEN NULL ELSE f.poll_queued_at END,
           poll_due_at = CASE WHEN f.poll_seq = p.claim_seq THEN NULL ELSE f.poll_due_at END
      FROM polled AS p
     WHERE f.id = p.feed_id
    RETURNING f.id, f.key`.execute(db);
  const keys = new Map(result.rows.map((r) => [r.id, r.key]));
  return polls.map((poll, i) => ({ ...stored[i]!, moved: poll.movedTo !== null && keys.get(poll.feedId) === poll.movedTo.key }));
}

/** Re-enables a disabled feed (the publisher brought it back): due at once, failures forgotten. */
export async function enableFeed(db: Executor, feedId: number, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('feeds')
    .set({ enabled: true, disabled_reason: null, consecutive_failures: 0, not_before: null, next_poll_at: now })
    .where('id', '=', feedId)
    .where('enabled', '=', false)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
