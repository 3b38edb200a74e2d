import type { PublisherHints } from './http/hints.js';
import type { SafeFetcher } from './http/types.js';

/** HTTP cache validators remembered per source, sent back as If-None-Match / If-Modified-Since. */
export interface CacheValidators {
  etag: string | null;
  lastModified: string | null;
}

/** One item as every connector reports it. Text fields are plain text (no markup). */
export interface NormalizedItem {
  /** Stable id within the source: the guid / id, else the link, else a hash of title and date. */
  externalId: string;
  url: string | null;
  title: string;
  summary: string | null;
  author: string | null;
  publishedAt: Date | null;
  points: number | null;
  comments: number | null;
}

export interface ConnectorFetchResult {
  items: NormalizedItem[];
  validators: CacheValidators;
  notModified: boolean;
  http: { status: number; url: string; durationMs: number; bytes: number };
  /** Non-fatal problems (e.g. some Hacker News items could not be fetched). */
  warnings?: string[];
  /** What the publisher said about polling (headers; RSS <ttl> as ttlMinutes), for the poll planner. */
  hints: PublisherHints;
  /** The URL to store from now on when the source moved permanently (301/308 from the start), else null. */
  permanentUrl: string | null;
  /**
   * Set when the document only parsed because the parser repaired it (truncated, mis-nested,
   * undefined entities, ...): one line to record on the source as a warning. Null otherwise.
   */
  recovered: string | null;
  /**
   * How many entries the source showed, before any cap and before empty or duplicate ones were
   * dropped: the size of the window the feed shows, to plan the next poll from. 0 for notModified.
   */
  visibleCount: number;
}

export interface ConnectorContext<C> {
  config: C;
  validators: CacheValidators;
  fetcher: SafeFetcher;
  signal?: AbortSignal;
  hackerNewsApiUrl: string;
  now: Date;
}

export interface Connector<C = unknown> {
  type: string;
  /** Validates stored JSON config; throws SourceError with code 'config' and a clear message. */
  parseConfig(json: unknown): C;
  /** Short human label, e.g. the feed URL. */
  describe(config: C): string;
  fetch(ctx: ConnectorContext<C>): Promise<ConnectorFetchResult>;
}

export const NO_VALIDATORS: CacheValidators = Object.freeze({ etag: null, lastModified: null });
