import { SourceError } from '../errors.js';
import type { HttpResponse } from '../http/types.js';
import type { CacheValidators, Connector, ConnectorContext, ConnectorFetchResult } from '../types.js';
import type { FeedConfig } from './config.js';
import { parseFeedConfig } from './config.js';
import { htmlInsteadOfFeed } from './html-page.js';
import { parseFeed } from './parse.js';
import type { ParsedFeed } from './model.js';

/** At most this many items are taken from one fetch (documents order, newest usually first). */
export const FEED_MAX_ITEMS = 1000;

const ACCEPT =
  'application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5';

function conditionalHeaders(validators: CacheValidators): Record<string, string> {
  const headers: Record<string, string> = { accept: ACCEPT };
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
  return headers;
}

/**
 * Parses a fetched body, attaching where it came from to any error. An HTML page that is not a
 * feed becomes 'not_a_feed' with a hint: the usual cause is a site's home page configured as
 * its feed, which the user can fix, unlike a genuinely broken feed ('parse').
 */
function parseResponse(res: HttpResponse): ParsedFeed {
  const contentType = res.headers['content-type'] ?? null;
  try {
    return parseFeed(res.body, contentType, res.url);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    if (err.code === 'parse' && htmlInsteadOfFeed(res.body, contentType)) {
      throw new SourceError(
        'not_a_feed',
        `got an HTML page, not a feed, from ${res.url} (hint: use the site's RSS/Atom feed URL; the page may announce it in <link rel="alternate">)`,
        { url: res.url, httpStatus: res.status, cause: err },
      );
    }
    throw new SourceError(err.code, err.message, { url: res.url, httpStatus: res.status, cause: err.cause });
  }
}

/** RSS 2.0 / 0.9x, RSS 1.0 (RDF), Atom and JSON Feed over HTTP with conditional requests. */
export const feedConnector: Connector<FeedConfig> = {
  type: 'feed',
  parseConfig: parseFeedConfig,
  describe(config) {
    return config.url;
  },
  async fetch(ctx: ConnectorContext<FeedConfig>): Promise<ConnectorFetchResult> {
    const res = await ctx.fetcher.get(ctx.config.url, {
      headers: conditionalHeaders(ctx.validators),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const http = { status: res.status, url: res.url, durationMs: res.durationMs, bytes: res.body.length };
    // Keep the old validators when the server doesn't send new ones (typical for 304).
    const validators: CacheValidators = {
      etag: res.headers.etag ?? ctx.validators.etag,
      lastModified: res.headers['last-modified'] ?? ctx.validators.lastModified,
    };
    const permanentUrl = res.permanentRedirect;
    if (res.notModified) return { items: [], validators, notModified: true, http, hints: res.hints, permanentUrl, recovered: null, visibleCount: 0 };
    const parsed = parseResponse(res);
    const warnings = parsed.items.length > FEED_MAX_ITEMS ? [`feed has ${parsed.items.length} items; kept the first ${FEED_MAX_ITEMS}`] : [];
    return {
      items: parsed.items.slice(0, FEED_MAX_ITEMS),
      validators: { etag: res.headers.etag ?? null, lastModified: res.headers['last-modified'] ?? null },
      notModified: false,
      http,
      ...(warnings.length > 0 ? { warnings } : {}),
      hints: { ...res.hints, ttlMinutes: parsed.ttlMinutes },
      permanentUrl,
      recovered: parsed.recovered,
      visibleCount: parsed.entryCount,
    };
  },
};
