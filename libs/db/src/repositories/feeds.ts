import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Feed, PollKind, SourceFetchStatus } from '../schema.js';
import { storeFeedEntries, type ItemInput, type StoredEntries } from './items.js';

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

/**
 * Stores one poll in TWO statements (a poll is the hottest write path: every round trip counts;
 * see `pnpm bench`, ingest):
 * 1. its entries and items ({@link storeFeedEntries}, idempotent);
 * 2. one `fetch_results` history row and the feed's new state — health, validators, warning,
 *    the next poll planned by the cadence from what (1) stored, a permanent move (applied only
 *    when no other feed has the new URL) or a 410 — releasing the planned-poll claim it
 *    fulfils (only if it is still that claim: `poll_seq` compare).
 * No transaction spans them, on purpose: if the process dies between the two, the claim is
 * still in place, so reconcile re-enqueues the same poll, which finds its entries stored
 * (nothing duplicated) and writes the history row and the state then. Each statement is
 * atomic on its own.
 */
export async function recordFeedPoll(db: Kysely<Database>, poll: FeedPollRecord): Promise<StoredPoll> {
  const stored = await storeFeedEntries(db, poll.feedId, poll.items, poll.at);
  const schedule = poll.schedule(stored);
  const claimSeq = poll.claimSeq;
  const move = poll.movedTo;
  const row = await db
    .with('history', (qb) =>
      qb.insertInto('fetch_results').values({
        feed_id: poll.feedId,
        window_id: poll.windowId,
        poll_kind: poll.kind,
        status: poll.status,
        http_status: poll.httpStatus,
        error_code: poll.errorCode,
        error: poll.error,
        duration_ms: Math.round(poll.durationMs),
        bytes: poll.bytes,
        items_found: stored.found,
        items_new: stored.newEntries,
        lag_ms: poll.lagMs === null ? null : Math.round(poll.lagMs),
        fetched_at: poll.at,
      }),
    )
    .updateTable('feeds')
    .set((eb) => {
      // The move's URL must be free: another feed may already be that URL (two subscriptions
      // that converge); then this feed keeps its own.
      const moveFree = move
        ? eb.not(eb.exists(eb.selectFrom('feeds as other').select('other.id').where('other.key', '=', move.key).whereRef('other.id', '<>', 'feeds.id')))
        : eb.lit(false);
      const releases = claimSeq === null ? eb.lit(false) : eb('poll_seq', '=', claimSeq);
      return {
        last_polled_at: poll.at,
        last_status: poll.status,
        last_error: poll.error,
        last_error_code: poll.errorCode,
        last_http_status: poll.httpStatus,
        consecutive_failures: poll.status === 'error' ? eb('consecutive_failures', '+', 1) : 0,
        warning: poll.warning,
        ...(poll.validators ? { etag: poll.validators.etag, last_modified: poll.validators.lastModified } : {}),
        poll_interval_ms: Math.round(schedule.intervalMs),
        next_poll_at: schedule.nextPollAt,
        not_before: schedule.notBefore,
        schedule_reason: schedule.reason,
        ...(poll.disabledReason !== null ? { enabled: false, disabled_reason: poll.disabledReason } : {}),
        ...(move
          ? {
              config: eb.case().when(moveFree).then(sql<object>`${move.config}::jsonb`).else(eb.ref('config')).end(),
              key: eb.case().when(moveFree).then(move.key).else(eb.ref('key')).end(),
            }
          : {}),
        poll_queued_at: eb.case().when(releases).then(null).else(eb.ref('poll_queued_at')).end(),
        poll_due_at: eb.case().when(releases).then(null).else(eb.ref('poll_due_at')).end(),
      };
    })
    .where('id', '=', poll.feedId)
    .returning('key')
    .executeTakeFirst();
  return { ...stored, moved: move !== null && row?.key === move.key };
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
