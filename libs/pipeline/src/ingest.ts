import { getConnector, SourceError, type SafeFetcher } from '@aharadar/connectors';
import { recordFetchOutcome, upsertItems, type Database, type Source } from '@aharadar/db';
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
 * Fetches every enabled source of a topic, a few at a time, and stores their items.
 * One failing source never fails the run (DESIGN §6.1): its error is recorded on the source
 * and in `fetch_results`, and the others carry on. Errors of our own database are different:
 * they propagate, so the run is retried rather than built from half the data.
 */
export async function ingestSources(deps: IngestDeps, sources: readonly Source[], windowId: number | null): Promise<IngestSummary> {
  const outcomes = await mapWithConcurrency(sources, deps.sourceConcurrency, (source) => ingestOne(deps, source, windowId));
  return {
    sources: outcomes,
    failed: outcomes.filter((o) => o.status === 'error').length,
    itemsFound: outcomes.reduce((n, o) => n + o.itemsFound, 0),
    itemsNew: outcomes.reduce((n, o) => n + o.itemsNew, 0),
  };
}

async function ingestOne(deps: IngestDeps, source: Source, windowId: number | null): Promise<SourceOutcome> {
  const started = performance.now();
  let fetched;
  try {
    const connector = getConnector(source.type);
    const config = connector.parseConfig(source.config);
    fetched = await connector.fetch({
      config,
      validators: { etag: source.etag, lastModified: source.last_modified },
      fetcher: deps.fetcher,
      hackerNewsApiUrl: deps.hackerNewsApiUrl,
      now: deps.now(),
    });
  } catch (error) {
    const durationMs = performance.now() - started;
    const sourceError = error instanceof SourceError ? error : null;
    const message = error instanceof Error ? error.message : String(error);
    deps.log.warn({ sourceId: source.id, code: sourceError?.code ?? 'unknown', err: message }, 'source fetch failed');
    await recordFetchOutcome(deps.db, {
      sourceId: source.id,
      windowId,
      status: 'error',
      httpStatus: sourceError?.httpStatus ?? null,
      errorCode: sourceError?.code ?? 'unknown',
      error: message.slice(0, 1_000),
      durationMs,
      bytes: 0,
      itemsFound: 0,
      itemsNew: 0,
      at: deps.now(),
    });
    return { sourceId: source.id, status: 'error', itemsFound: 0, itemsNew: 0, durationMs, error: message };
  }

  const stored = fetched.notModified ? { found: 0, inserted: 0 } : await upsertItems(deps.db, source.id, fetched.items.map((i) => toItemInput(source.id, i)));
  const durationMs = performance.now() - started;
  const status = fetched.notModified ? 'not_modified' : 'ok';
  await recordFetchOutcome(deps.db, {
    sourceId: source.id,
    windowId,
    status,
    httpStatus: fetched.http.status,
    errorCode: null,
    error: null,
    durationMs,
    bytes: fetched.http.bytes,
    itemsFound: stored.found,
    itemsNew: stored.inserted,
    validators: fetched.validators,
    at: deps.now(),
  });
  return { sourceId: source.id, status, itemsFound: stored.found, itemsNew: stored.inserted, durationMs };
}
