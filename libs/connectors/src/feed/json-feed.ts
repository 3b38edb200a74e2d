import { SourceError } from '../errors.js';
import { parseDate } from '../text/dates.js';
import { htmlToText, plainText } from '../text/html.js';
import type { FeedContent, FeedEntry } from './model.js';
import { nonEmpty, resolveLink } from './values.js';

/** JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1). */
export type JsonFeedDocument = FeedContent;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function text(value: unknown): string | null {
  const s = str(value);
  return s === null ? null : nonEmpty(plainText(s));
}

function authors(obj: Json): string | null {
  const list: unknown[] = Array.isArray(obj.authors) ? obj.authors : obj.author !== undefined ? [obj.author] : [];
  const names = list
    .map((a) => (isObject(a) ? text(a.name) : text(a)))
    .filter((n): n is string => n !== null);
  return names.length > 0 ? names.join(', ') : null;
}

/** True when a parsed JSON value looks like a JSON Feed. */
export function isJsonFeed(value: unknown): value is Json {
  if (!isObject(value)) return false;
  const version = typeof value.version === 'string' ? value.version : '';
  if (/jsonfeed\.org\/version\//i.test(version)) return true;
  return Array.isArray(value.items) && (typeof value.title === 'string' || typeof value.home_page_url === 'string');
}

export function readJsonFeed(value: unknown, documentUrl: string | null): JsonFeedDocument {
  if (!isJsonFeed(value)) {
    throw new SourceError('parse', 'JSON document is not a JSON Feed (no "version": "https://jsonfeed.org/version/1..." and no "items" list)');
  }
  const base = resolveLink(str(value.feed_url), documentUrl) ?? documentUrl;
  const items = Array.isArray(value.items) ? value.items : [];
  const feedAuthor = authors(value);
  const entries: FeedEntry[] = items.filter(isObject).map((item) => {
    const html = str(item.content_html);
    const content = html !== null ? nonEmpty(htmlToText(html)) : text(item.content_text);
    return {
      id: nonEmpty(str(item.id)?.trim()),
      link: resolveLink(str(item.url), base) ?? resolveLink(str(item.external_url), base),
      title: text(item.title),
      summary: text(item.summary),
      content,
      author: authors(item) ?? feedAuthor,
      publishedAt: parseDate(str(item.date_published)) ?? parseDate(str(item.date_modified)),
      comments: null,
    };
  });
  return {
    title: text(value.title),
    link: resolveLink(str(value.home_page_url), base),
    id: resolveLink(str(value.feed_url), documentUrl),
    summary: text(value.description),
    author: feedAuthor,
    publishedAt: null,
    entries,
  };
}
