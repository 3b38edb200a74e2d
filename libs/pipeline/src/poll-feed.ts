import { getConnector, SourceError, type ConnectorFetchResult, type SafeFetcher } from '@aharadar/connectors';
import { recordFeedPoll, type Database, type Feed, type FeedPollRecord, type PollKind, type PollSchedule, type StoredEntries } from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import { planNextPoll, type PollOutcome, type PublisherHints } from '@aharadar/scheduling';
import type { Kysely } from 'kysely';
import { feedIdentity } from './feed-identity.js';
import { toItemInput } from './normalize.js';

/** What polling needs: storage, the safe fetcher (with its per-host gate), cadence bounds. */
export interface PollDeps {
  db: Kysely<Database>;
  fetcher: SafeFetcher;
  log: Logger;
  hackerNewsApiUrl: string;
  polling: { minIntervalMs: number; maxIntervalMs: number };
  now: () => Date;
}

export interface PollRequest {
  kind: PollKind;
  /** The planned poll this fulfils (scheduled polls): released in the poll's own transaction. */
  claimSeq: number | null;
  /** The window whose run asked for a freshness poll. */
  windowId: number | null;
  /** How late a scheduled poll starts against its planned time. */
  lagMs: number | null;
}

export interface PollResult {
  feedId: number;
  status: 'ok' | 'not_modified' | 'error';
  itemsFound: number;
  newEntries: number;
  newItems: number;
  bytes: number;
  durationMs: number;
  errorCode: string | null;
  error: string | null;
  nextPollAt: Date;
  reason: string;
}

/** Error codes after which the publisher has told us the feed is gone for good (HTTP 410). */
const GONE_CODE = 'gone';

/**
 * Polls one feed once (DESIGN §6.1) and stores everything it learnt in one transaction:
 * entries and items, a history row, the feed's health, and its next poll — planned from what
 * this poll showed by the pure cadence rule (`planNextPoll`, libs/scheduling). A failing feed
 * is an outcome, not an exception: it is recorded, backs off, and the caller carries on; only
 * our own database failing throws (so a job is retried rather than losing the poll).
 *
 * The caller holds the feed's poll lock (one poll of a feed at a time, across workers), so the
 * failure streak and validators read from `feed` are current.
 */
export async function pollFeed(deps: PollDeps, feed: Feed, request: PollRequest): Promise<PollResult> {
  const started = performance.now();
  const kind = feed.type === 'hackernews' ? 'hackernews' : 'feed';
  const cadence = (outcome: PollOutcome, hints: PublisherHints | null) =>
    planNextPoll({
      now: deps.now(),
      minIntervalMs: deps.polling.minIntervalMs,
      maxIntervalMs: deps.polling.maxIntervalMs,
      previousIntervalMs: feed.poll_interval_ms,
      lastPolledAt: feed.last_polled_at,
      kind,
      outcome,
      hints,
    });

  let fetched: ConnectorFetchResult;
  try {
    const connector = getConnector(feed.type);
    fetched = await connector.fetch({
      config: connector.parseConfig(feed.config),
      validators: { etag: feed.etag, lastModified: feed.last_modified },
      fetcher: deps.fetcher,
      hackerNewsApiUrl: deps.hackerNewsApiUrl,
      now: deps.now(),
    });
  } catch (error) {
    return recordFailure(deps, feed, request, error, performance.now() - started, cadence);
  }

  const items = fetched.notModified ? [] : fetched.items.map((i) => toItemInput(feed.id, i));
  const status = fetched.notModified ? 'not_modified' : 'ok';
  const itemDates = items.flatMap((i) => (i.publishedAt ? [i.publishedAt] : []));
  const movedTo = permanentMove(feed, fetched.permanentUrl);
  let schedule: PollSchedule | null = null;
  const record: FeedPollRecord = {
    feedId: feed.id,
    kind: request.kind,
    claimSeq: request.claimSeq,
    windowId: request.windowId,
    status,
    items,
    httpStatus: fetched.http.status,
    errorCode: null,
    error: null,
    warning: fetched.recovered ?? fetched.warnings?.[0] ?? null,
    durationMs: performance.now() - started,
    bytes: fetched.http.bytes,
    lagMs: request.lagMs,
    validators: fetched.validators,
    movedTo,
    disabledReason: null,
    at: deps.now(),
    schedule: (stored: StoredEntries) => {
      schedule = toSchedule(
        cadence(
          fetched.notModified ? { status: 'not_modified' } : { status: 'ok', visibleCount: fetched.visibleCount, newCount: stored.newEntries, itemDates },
          fetched.hints,
        ),
      );
      return schedule;
    },
  };
  const stored = await recordFeedPoll(deps.db, record);
  if (movedTo && stored.moved) deps.log.info({ feedId: feed.id, to: fetched.permanentUrl }, 'feed moved permanently; URL updated');
  const planned = schedule ?? toSchedule(cadence({ status: 'not_modified' }, null));
  return {
    feedId: feed.id,
    status,
    itemsFound: stored.found,
    newEntries: stored.newEntries,
    newItems: stored.newItems,
    bytes: fetched.http.bytes,
    durationMs: record.durationMs,
    errorCode: null,
    error: null,
    nextPollAt: planned.nextPollAt,
    reason: planned.reason,
  };
}

type Cadence = (outcome: PollOutcome, hints: PublisherHints | null) => ReturnType<typeof planNextPoll>;

async function recordFailure(deps: PollDeps, feed: Feed, request: PollRequest, error: unknown, durationMs: number, cadence: Cadence): Promise<PollResult> {
  const sourceError = error instanceof SourceError ? error : null;
  const code = sourceError?.code ?? 'unknown';
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
  const gone = code === GONE_CODE;
  const schedule = toSchedule(cadence({ status: 'error', consecutiveFailures: feed.consecutive_failures + 1, permanent: gone }, sourceError?.hints ?? null));
  deps.log.warn({ feedId: feed.id, code, err: message, nextPollAt: schedule.nextPollAt }, gone ? 'feed is gone (HTTP 410); disabled' : 'feed poll failed');
  await recordFeedPoll(deps.db, {
    feedId: feed.id,
    kind: request.kind,
    claimSeq: request.claimSeq,
    windowId: request.windowId,
    status: 'error',
    items: [],
    httpStatus: sourceError?.httpStatus ?? null,
    errorCode: code,
    error: message,
    warning: feed.warning,
    durationMs,
    bytes: 0,
    lagMs: request.lagMs,
    movedTo: null,
    disabledReason: gone ? `HTTP 410 Gone on ${deps.now().toISOString()}: the publisher removed this feed` : null,
    at: deps.now(),
    schedule: () => schedule,
  });
  return {
    feedId: feed.id,
    status: 'error',
    itemsFound: 0,
    newEntries: 0,
    newItems: 0,
    bytes: 0,
    durationMs,
    errorCode: code,
    error: message,
    nextPollAt: schedule.nextPollAt,
    reason: schedule.reason,
  };
}

function toSchedule(plan: ReturnType<typeof planNextPoll>): PollSchedule {
  return { nextPollAt: plan.nextPollAt, intervalMs: plan.intervalMs, notBefore: plan.notBefore, reason: plan.reason };
}

/** A 301/308 chain: the feed's new identity, if it really is a different feed URL. */
function permanentMove(feed: Feed, permanentUrl: string | null): { config: object; key: string } | null {
  if (permanentUrl === null || feed.type !== 'feed') return null;
  try {
    const moved = feedIdentity(feed.type, { ...(feed.config as object), url: permanentUrl });
    return moved.key === feed.key ? null : { config: moved.config, key: moved.key };
  } catch {
    return null; // an unusable Location is the fetcher's business; keep the stored URL
  }
}
