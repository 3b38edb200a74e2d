import { SourceError, describeError } from '../errors.js';
import type { HttpResponse } from '../http/types.js';
import type { Connector, ConnectorContext, ConnectorFetchResult, NormalizedItem } from '../types.js';
import type { HackerNewsConfig } from './config.js';
import { parseHackerNewsConfig } from './config.js';
import { normalizeHackerNewsItem } from './item.js';

/** Item requests in flight at once. */
export const HN_CONCURRENCY = 10;

function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch (err) {
    throw new SourceError('parse', `invalid JSON from ${res.url}: ${describeError(err)}`, { url: res.url, cause: err });
  }
}

function apiBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Runs `task` over `inputs` with at most `limit` running at once; results keep input order. */
async function mapLimited<T, R>(inputs: readonly T[], limit: number, task: (input: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await task(inputs[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
}

type ItemOutcome = { ok: true; item: NormalizedItem | null; bytes: number } | { ok: false; error: unknown };

/** Hacker News top / new / best stories via the official Firebase API. */
export const hackerNewsConnector: Connector<HackerNewsConfig> = {
  type: 'hackernews',
  parseConfig: parseHackerNewsConfig,
  describe(config) {
    return `Hacker News ${config.list} (${config.limit})`;
  },
  async fetch(ctx: ConnectorContext<HackerNewsConfig>): Promise<ConnectorFetchResult> {
    const base = apiBase(ctx.hackerNewsApiUrl);
    const signalOpt = ctx.signal ? { signal: ctx.signal } : {};
    const started = Date.now();
    const list = await ctx.fetcher.get(`${base}/${ctx.config.list}stories.json`, { headers: { accept: 'application/json' }, ...signalOpt });
    const ids = parseJson(list);
    if (!Array.isArray(ids)) throw new SourceError('parse', `expected a JSON array of story ids from ${list.url}`, { url: list.url });
    const wanted = ids.filter((id): id is number => typeof id === 'number' && Number.isSafeInteger(id) && id > 0).slice(0, ctx.config.limit);

    const outcomes = await mapLimited(wanted, HN_CONCURRENCY, async (id): Promise<ItemOutcome> => {
      try {
        const res = await ctx.fetcher.get(`${base}/item/${id}.json`, { headers: { accept: 'application/json' }, ...signalOpt });
        return { ok: true, item: normalizeHackerNewsItem(parseJson(res)), bytes: res.body.length };
      } catch (error) {
        return { ok: false, error };
      }
    });

    const items: NormalizedItem[] = [];
    const failures: unknown[] = [];
    let bytes = list.body.length;
    for (const outcome of outcomes) {
      if (outcome.ok) {
        bytes += outcome.bytes;
        if (outcome.item) items.push(outcome.item);
      } else {
        failures.push(outcome.error);
      }
    }
    // One failing item doesn't fail the list; all of them failing means the source is broken.
    if (wanted.length > 0 && failures.length === wanted.length) {
      const first = failures[0];
      if (first instanceof SourceError) throw first;
      throw new SourceError('connection', `all ${wanted.length} Hacker News item requests failed: ${describeError(first)}`, { url: list.url });
    }
    const warnings = failures.length > 0 ? [`${failures.length} of ${wanted.length} Hacker News items could not be fetched (first: ${describeError(failures[0])})`] : [];
    return {
      items,
      validators: { etag: null, lastModified: null },
      notModified: false,
      http: { status: list.status, url: list.url, durationMs: Date.now() - started, bytes },
      ...(warnings.length > 0 ? { warnings } : {}),
      // The list is what changes between polls; its headers speak for the source.
      hints: list.hints,
      // The API URL is configuration, not a stored per-source URL: nothing to update.
      permanentUrl: null,
      recovered: null,
      visibleCount: wanted.length,
    };
  },
};
