import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Kysely's view of the database. Every table is created by the migrations in `migrations/`;
 * the constraints that carry the invariants of DESIGN §5 live there, and are named in the
 * comments below so a reader can find what guards what.
 */
export interface Database {
  topics: TopicsTable;
  feeds: FeedsTable;
  sources: SourcesTable;
  items: ItemsTable;
  feed_items: FeedItemsTable;
  topic_item_claims: TopicItemClaimsTable;
  windows: WindowsTable;
  digests: DigestsTable;
  digest_items: DigestItemsTable;
  fetch_results: FetchResultsTable;
  system_state: SystemStateTable;
}

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type ScheduleKind = 'every' | 'cron';

export interface TopicsTable {
  id: Generated<number>;
  name: string;
  schedule_kind: ScheduleKind;
  every_seconds: number | null;
  cron_expr: string | null;
  time_zone: string;
  /** Alignment instant for `every` schedules (midnight of the creation day in `time_zone`). */
  anchor: Date;
  keywords: ColumnType<string[], string[] | undefined, string[]>;
  exclude_keywords: ColumnType<string[], string[] | undefined, string[]>;
  digest_size: number;
  /** At most this many digest items from one source (ranking cap). */
  max_per_source: number;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  paused_at: Date | null;
  /** Why the schedule could not be planned at the last tick (an unknown zone, a bad cron); null when fine. */
  schedule_error: string | null;
  schedule_error_at: Date | null;
  /** End of the last scheduled window (null until the first one). Advanced by compare-and-set. */
  watermark: Date | null;
  /** End of the first window not yet scheduled; the due query compares only this (indexed). */
  next_window_end: Date;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type SourceType = string;
export type SourceFetchStatus = 'ok' | 'not_modified' | 'error';
export type PollKind = 'scheduled' | 'freshness' | 'manual';

/**
 * A polled feed (DESIGN §6.1), shared by every topic that subscribes to it. Identified by
 * `key` (type + canonical configuration). The poll columns are the planned-poll state: the
 * tick claims a due feed by compare-and-set (`poll_queued_at IS NULL` → set, `poll_seq + 1`)
 * and enqueues job `poll-<id>-<poll_seq>`; the poll that ran clears `poll_queued_at`.
 */
export interface FeedsTable {
  id: Generated<number>;
  type: SourceType;
  key: string;
  /** jsonb; pass the object itself (postgres.js serialises it — a pre-stringified value would be stored as a JSON string). */
  config: ColumnType<unknown, object, object>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  /** Why the feed is not polled any more (HTTP 410); shown by `radar source list`. */
  disabled_reason: string | null;
  etag: string | null;
  last_modified: string | null;
  /** When the last poll attempt (any outcome) ended. */
  last_polled_at: Date | null;
  last_status: SourceFetchStatus | null;
  last_error: string | null;
  last_error_code: string | null;
  last_http_status: number | null;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  /** A non-fatal problem of the last poll (a recovered parse, items that could not be fetched). */
  warning: string | null;
  /** The regular adaptive interval the last poll planned. */
  poll_interval_ms: number | null;
  next_poll_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** No request before this (publisher's ask, failure backoff) — freshness polls respect it too. */
  not_before: Date | null;
  /** Why the next poll is when it is, for operators. */
  schedule_reason: string | null;
  poll_seq: ColumnType<number, number | undefined, number>;
  poll_queued_at: Date | null;
  poll_due_at: Date | null;
  created_at: CreatedAt;
}

/** A topic's subscription to a feed: display name and weight are per topic. Unique (topic, feed). */
export interface SourcesTable {
  id: Generated<number>;
  topic_id: number;
  feed_id: number;
  name: string;
  weight: number;
  created_at: CreatedAt;
}

export interface ItemsTable {
  id: Generated<number>;
  url: string | null;
  canonical_url: string | null;
  /** sha256 of the canonical URL: the cross-source dedupe key (unique where not null). */
  url_hash: string | null;
  title: string;
  summary: string | null;
  author: string | null;
  published_at: Date | null;
  first_seen_at: CreatedAt;
  points: number | null;
  comments: number | null;
}

/**
 * One entry of a feed: unique by (feed, external id), so one entry is one item even when its
 * URL changes. The same story in two feeds is one item with two entries.
 */
export interface FeedItemsTable {
  feed_id: number;
  external_id: string;
  item_id: number;
  /** When this feed first showed the entry: a topic's "first seen" for undated items. */
  first_seen_at: CreatedAt;
}

/**
 * An item is considered for exactly one scheduled window per topic (DESIGN §6.3). The claim
 * is written in the digest's transaction; its primary key (topic_id, item_id) forbids repeats.
 */
export interface TopicItemClaimsTable {
  topic_id: number;
  item_id: number;
  window_id: number;
}

export type WindowTrigger = 'scheduled' | 'backfill' | 'manual';
export type WindowStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** The windows ledger: one row per scheduled window; unique (topic, start, end) unless manual. */
export interface WindowsTable {
  id: Generated<number>;
  topic_id: number;
  window_start: Date;
  window_end: Date;
  trigger: WindowTrigger;
  status: WindowStatus;
  skip_reason: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  error: string | null;
  digest_id: number | null;
  created_at: CreatedAt;
  started_at: Date | null;
  finished_at: Date | null;
}

export type DigestStatus = 'complete' | 'empty' | 'failed';

/** One digest per ledger row (unique window_id): invariant 2. */
export interface DigestsTable {
  id: Generated<number>;
  window_id: number;
  topic_id: number;
  window_start: Date;
  window_end: Date;
  trigger: WindowTrigger;
  status: DigestStatus;
  error: string | null;
  item_count: number;
  candidate_count: number;
  sources_total: number;
  sources_failed: number;
  duration_ms: number;
  created_at: CreatedAt;
}

export interface DigestItemsTable {
  digest_id: number;
  item_id: number;
  rank: number;
  score: number;
  breakdown: ColumnType<unknown, object, object>;
}

export interface FetchResultsTable {
  id: Generated<number>;
  feed_id: number;
  window_id: number | null;
  poll_kind: ColumnType<PollKind, PollKind | undefined, PollKind>;
  /** How late the poll started against its planned time (scheduled polls). */
  lag_ms: number | null;
  status: SourceFetchStatus;
  http_status: number | null;
  error_code: string | null;
  error: string | null;
  duration_ms: number;
  bytes: number;
  items_found: number;
  items_new: number;
  fetched_at: CreatedAt;
}

export interface SystemStateTable {
  key: string;
  value: ColumnType<unknown, object, object>;
  updated_at: UpdatedAt;
}

export type Topic = Selectable<TopicsTable>;
export type NewTopic = Insertable<TopicsTable>;
export type TopicUpdate = Updateable<TopicsTable>;
export type Feed = Selectable<FeedsTable>;
export type Source = Selectable<SourcesTable>;
export type NewSource = Insertable<SourcesTable>;
export type Item = Selectable<ItemsTable>;
export type WindowRow = Selectable<WindowsTable>;
export type Digest = Selectable<DigestsTable>;
export type DigestItem = Selectable<DigestItemsTable>;
export type FetchResult = Selectable<FetchResultsTable>;
