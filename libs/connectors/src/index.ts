// @aharadar/connectors — fetch and parse one source type each, behind one interface; safe HTTP.
export { SourceError, isSourceError, describeError } from './errors.js';
export type { FetchErrorCode } from './errors.js';
export type { CacheValidators, NormalizedItem, ConnectorFetchResult, ConnectorContext, Connector } from './types.js';
export { NO_VALIDATORS } from './types.js';

export { createSafeFetcher, DEFAULT_USER_AGENT } from './http/fetcher.js';
export type { FetchOptions, HttpResponse, SafeFetcher, HostGate } from './http/types.js';
export type { PublisherHints } from './http/hints.js';
export { isPrivateAddress } from './http/address-guard.js';

export { canonicalUrl, canonicalUrlHash, urlHash } from './url/canonical.js';
export { parseDate } from './text/dates.js';
export { htmlToText } from './text/html.js';

export { connectors, getConnector, connectorTypes } from './registry.js';

export { feedConnector, parseFeed, parseFeedDocument, parseFeedConfig, SUMMARY_MAX_CHARS, FEED_MAX_ITEMS } from './feed/index.js';
export type { FeedConfig, ParsedFeed, FeedDocument, FeedEntry, FeedFormat } from './feed/index.js';

export { hackerNewsConnector, parseHackerNewsConfig, normalizeHackerNewsItem, HN_LISTS, HN_DEFAULT_LIMIT, HN_MAX_LIMIT } from './hackernews/index.js';
export type { HackerNewsConfig, HackerNewsList, HackerNewsItem } from './hackernews/index.js';
