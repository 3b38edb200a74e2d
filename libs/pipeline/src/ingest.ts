import { getConnector, SourceError, type SafeFetcher } from '@aharadar/connectors';
import { storeSourceFetches, type Database, type Source, type SourceFetchInput } from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import type { Kysely } from 'kysely';
import { mapWithConcurrency } from './concurrency.js';
import { toItemInput } from './normalize.js';

export interface IngestDeps {
  db: Kysely<Database>;
  fetcher: SafeFetcher;
  log: Logger;
  sourceConcurrency: number;
  hackerNewsApiUrl: string;
  now: () => Date;
}

export interface SourceOutcome {
  sourceId: number;
  status: 'ok' | 'not_modified' | 'error';
  itemsFound: number;
  itemsNew: number;
  durationMs: number;
  error?: string;
}

export interface IngestSummary {
  sources: SourceOutcome[];
  failed: number;
  itemsFound: number;
  itemsNew: number;
}

/**
 * Items queued for writing beyond which a source waits for the write in progress before it is
 * fetched further: bounds the memory a topic with hundreds of big feeds can take.
 */
export const INGEST_WRITE_BATCH_ITEMS = 2_000;

/**
 * Fetches every enabled source of a topic, a few at a time, and stores their items.
 * One failing source never fails the run (DESIGN §6.1): its error is recorded on the source
 * and in `fetch_results`, and the others carry on. Errors of our own database are different:
 * they propagate, so the run is retried rather than built from half the data.
 *
 * Fetching and writing overlap: each fetched source is queued, and the queued sources are
 * written in batches (items, links, fetch history and source health in one statement per
 * batch). Writing per batch rather than per source — one statement and one commit for many
 * sources — is what brings ingest close to the cost of one bulk insert (see `pnpm bench`).
 */
export async function ingestSources(deps: IngestDeps, sources: readonly Source[], windowId: number | null): Promise<IngestSummary> {
  const writer = new BatchWriter(deps.db, windowId);
  await mapWithConcurrency(sources, deps.sourceConcurrency, async (source) => writer.add(await fetchOne(deps, source)));
  await writer.flush();
  const outcomes = sources.map((source) => {
    const outcome = writer.outcomes.get(source.id);
    if (!outcome) throw new Error(`ingest: source ${source.id} has no recorded outcome`);
    return outcome;
  });
  return {
    sources: outcomes,
    failed: outcomes.filter((o) => o.status === 'error').length,
    itemsFound: outcomes.reduce((n, o) => n + o.itemsFound, 0),
    itemsNew: outcomes.reduce((n, o) => n + o.itemsNew, 0),
  };
}

/**
 * One source fetched (or failed), waiting to be written: the storage record of
 * `storeSourceFetches`, holding the source itself (its outcome is reported by source) and
 * without the window, which the writer adds.
 */
type FetchedSource = Omit<SourceFetchInput, 'sourceId' | 'windowId'> & { source: Source };

async function fetchOne(deps: IngestDeps, source: Source): Promise<FetchedSource> {
  const started = performance.now();
  try {
    const connector = getConnector(source.type);
    const config = connector.parseConfig(source.config);
    const fetched = await connector.fetch({
      config,
      validators: { etag: source.etag, lastModified: source.last_modified },
      fetcher: deps.fetcher,
      hackerNewsApiUrl: deps.hackerNewsApiUrl,
      now: deps.now(),
    });
    return {
      source,
      status: fetched.notModified ? 'not_modified' : 'ok',
      items: fetched.notModified ? [] : fetched.items.map((i) => toItemInput(source.id, i)),
      httpStatus: fetched.http.status,
      errorCode: null,
      error: null,
      durationMs: performance.now() - started,
      bytes: fetched.http.bytes,
      validators: fetched.validators,
      at: deps.now(),
    };
  } catch (error) {
    const sourceError = error instanceof SourceError ? error : null;
    const message = error instanceof Error ? error.message : String(error);
    deps.log.warn({ sourceId: source.id, code: sourceError?.code ?? 'unknown', err: message }, 'source fetch failed');
    return {
      source,
      status: 'error',
      items: [],
      httpStatus: sourceError?.httpStatus ?? null,
      errorCode: sourceError?.code ?? 'unknown',
      error: message,
      durationMs: performance.now() - started,
      bytes: 0,
      at: deps.now(),
    };
  }
}

/**
 * Queues fetched sources and writes them like a group commit: one write at a time, each taking
 * everything queued while the previous one ran. While the database is busy, batches grow; when
 * it is idle, a source is written as soon as it arrives, so the end of a run never waits for a
 * big last batch. A failed write fails the add() or flush() that waits for it and every later
 * one, so a database error fails the run as it should.
 */
class BatchWriter {
  readonly outcomes = new Map<number, SourceOutcome>();
  private pending: FetchedSource[] = [];
  private pendingItems = 0;
  /** The write in progress (resolved when none). */
  private current: Promise<void> = Promise.resolve();
  /** The loop writing batches until the queue is empty; null when idle. */
  private draining: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly windowId: number | null,
  ) {}

  /** Queues a source; when too much is queued the caller waits for the write in progress (back-pressure). */
  add(fetched: FetchedSource): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    this.pending.push(fetched);
    this.pendingItems += fetched.items.length;
    this.draining ??= this.drain();
    return this.pendingItems >= INGEST_WRITE_BATCH_ITEMS ? this.current : Promise.resolve();
  }

  /** Resolves when everything queued is written; rejects if a write failed. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.failure) throw this.failure.error;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        this.pendingItems = 0;
        this.current = this.write(batch);
        await this.current;
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.draining = null;
    }
  }

  private async write(batch: FetchedSource[]): Promise<void> {
    const stored = await storeSourceFetches(
      this.db,
      batch.map(({ source, ...fetched }) => ({
        ...fetched,
        sourceId: source.id,
        windowId: this.windowId,
        error: fetched.error === null ? null : fetched.error.slice(0, 1_000),
      })),
    );
    batch.forEach((f, index) => {
      const counts = stored[index] ?? { found: 0, inserted: 0 };
      this.outcomes.set(f.source.id, {
        sourceId: f.source.id,
        status: f.status,
        itemsFound: counts.found,
        itemsNew: counts.inserted,
        durationMs: f.durationMs,
        ...(f.error !== null ? { error: f.error } : {}),
      });
    });
  }
}
