import type { NormalizedItem } from '../types.js';

export type FeedFormat = 'rss' | 'rdf' | 'atom' | 'json';

/** One entry as read from the document; text fields are already plain text. */
export interface FeedEntry {
  id: string | null;
  link: string | null;
  title: string | null;
  summary: string | null;
  content: string | null;
  author: string | null;
  publishedAt: Date | null;
  /** Comment count where the format has one (slash:comments). */
  comments: number | null;
}

/** What every format's reader extracts: the feed's own fields and its entries. */
export interface FeedContent {
  title: string | null;
  link: string | null;
  id: string | null;
  summary: string | null;
  author: string | null;
  publishedAt: Date | null;
  entries: FeedEntry[];
}

/** Everything read from a feed document, before it is reduced to NormalizedItems. */
export interface FeedDocument extends FeedContent {
  format: FeedFormat;
  /** The character encoding the bytes were decoded with. */
  encoding: string;
  /** Problems the lenient parser recovered from (empty for a well-formed document). */
  problems: string[];
  /**
   * Set when the document only parsed because the parser repaired it: a short description
   * (first problem + count), for the source's health like feedparser's "bozo". Null otherwise.
   */
  recovered: string | null;
  /** RSS `<channel><ttl>` (minutes the publisher asks readers to cache), when a positive integer. */
  ttlMinutes: number | null;
}

export interface ParsedFeed {
  title: string | null;
  items: NormalizedItem[];
  /** Detected format and encoding, and recovered problems, for diagnostics. */
  format: FeedFormat;
  encoding: string;
  link: string | null;
  problems: string[];
  /** See FeedDocument.recovered. */
  recovered: string | null;
  /** See FeedDocument.ttlMinutes. */
  ttlMinutes: number | null;
  /** Entries in the document, before empty and duplicate ones were dropped (and before any cap). */
  entryCount: number;
}
