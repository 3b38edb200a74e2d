import { createHash } from 'node:crypto';
import { SourceError, describeError } from '../errors.js';
import { decodeBytes } from '../text/charset.js';
import { truncateText } from '../text/html.js';
import type { NormalizedItem } from '../types.js';
import { parseXml } from '../xml/parser.js';
import { readAtom } from './atom.js';
import { readJsonFeed } from './json-feed.js';
import type { XmlRecovery } from '../xml/tree.js';
import type { FeedContent, FeedDocument, FeedEntry, FeedFormat, ParsedFeed } from './model.js';
import { readRss } from './rss.js';

export const SUMMARY_MAX_CHARS = 1000;
export const TITLE_MAX_CHARS = 500;
const ID_MAX_CHARS = 2000;

function parseError(message: string, cause?: unknown): SourceError {
  return new SourceError('parse', message, cause === undefined ? {} : { cause });
}

function looksLikeJson(text: string, contentType: string | null): boolean {
  const start = text.trimStart()[0];
  return start === '{' || (start === '[' && /json/i.test(contentType ?? ''));
}

function parseJsonDocument(text: string, encoding: string, documentUrl: string | null): FeedDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw parseError(`invalid JSON: ${describeError(err)}`, err);
  }
  const feed = readJsonFeed(value, documentUrl);
  return { format: 'json', encoding, ...feed, problems: [], recovered: null, ttlMinutes: null };
}

function parseXmlDocument(text: string, encoding: string, documentUrl: string | null): FeedDocument {
  const { root, problems, recovery } = parseXml(text);
  if (!root) {
    if (text.trim() === '') throw parseError('empty document');
    throw parseError(text.includes('<') ? 'no XML element found (not a feed)' : 'document is neither XML nor JSON (not a feed)');
  }
  const local = root.local.toLowerCase();
  let format: FeedFormat;
  let feed: FeedContent & { ttlMinutes: number | null };
  if (local === 'rss' || local === 'channel') {
    format = 'rss';
    feed = readRss(root, documentUrl);
  } else if (local === 'rdf') {
    format = 'rdf';
    feed = readRss(root, documentUrl);
  } else if (local === 'feed') {
    format = 'atom';
    feed = { ...readAtom(root, documentUrl), ttlMinutes: null };
  } else if (local === 'html' || local === 'head' || local === 'body') {
    throw parseError('document is an HTML page, not a feed');
  } else {
    throw parseError(`not a feed: unexpected root element <${root.name.slice(0, 60)}>`);
  }
  return { format, encoding, ...feed, problems, recovered: describeRecovery(recovery) };
}

/** One line for the source's health, e.g. "recovered from malformed XML: unclosed <item> at end of document (3 problems)". */
function describeRecovery(recovery: XmlRecovery | null): string | null {
  if (recovery === null) return null;
  return `recovered from malformed XML: ${recovery.first} (${recovery.count} problem${recovery.count === 1 ? '' : 's'})`;
}

/**
 * Reads a feed document in full detail. Detects RSS 0.9x/2.0, RSS 1.0/0.90 (RDF), Atom 1.0/0.3
 * and JSON Feed; decodes the charset (HTTP charset > BOM > XML declaration > UTF-8, with
 * fallback on invalid bytes). Throws only SourceError('parse').
 */
export function parseFeedDocument(body: Buffer, contentType: string | null, documentUrl: string | null = null): FeedDocument {
  try {
    if (body.length === 0) throw parseError('empty response body');
    const { text, encoding } = decodeBytes(body, contentType);
    if (text.trim() === '') throw parseError('empty document');
    return looksLikeJson(text, contentType) ? parseJsonDocument(text, encoding, documentUrl) : parseXmlDocument(text, encoding, documentUrl);
  } catch (err) {
    if (err instanceof SourceError && err.code === 'parse') throw err;
    throw parseError(`could not parse feed: ${describeError(err)}`, err);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The stable id of an entry: its guid/id, else its link, else a hash of title and date. */
export function entryExternalId(entry: FeedEntry): string {
  const id = entry.id ?? entry.link;
  if (id !== null && id !== '') return id.length > ID_MAX_CHARS ? `sha256:${sha256(id)}` : id;
  const basis = [entry.title ?? '', entry.publishedAt?.toISOString() ?? ''];
  if (!entry.title) basis.push((entry.summary ?? entry.content ?? '').slice(0, 500));
  return `sha256:${sha256(basis.join('\n'))}`;
}

/**
 * Reduces document entries to NormalizedItems: duplicates (by id) merged, and entries with
 * neither a link nor any text dropped. Such an entry gives a reader nothing to open or read:
 * typically the fragment a truncated document leaves behind (`<item><title>unclosed`).
 */
export function toNormalizedItems(doc: FeedDocument): NormalizedItem[] {
  const seen = new Set<string>();
  const items: NormalizedItem[] = [];
  for (const entry of doc.entries) {
    const text = entry.summary ?? entry.content;
    if (!entry.link && !text) continue;
    const externalId = entryExternalId(entry);
    if (seen.has(externalId)) continue;
    seen.add(externalId);
    items.push({
      externalId,
      url: entry.link,
      title: truncateText(entry.title ?? (text ? truncateText(text, 120) : null) ?? entry.link ?? '(untitled)', TITLE_MAX_CHARS),
      summary: text ? truncateText(text, SUMMARY_MAX_CHARS) : null,
      author: entry.author ? truncateText(entry.author, 300) : null,
      publishedAt: entry.publishedAt,
      points: null,
      comments: entry.comments,
    });
  }
  return items;
}

/**
 * Parses a feed body into its title and normalised items. Throws SourceError('parse') with a
 * clear message for anything that is not a feed; never throws anything else.
 * `documentUrl` (the final fetch URL) resolves relative links.
 */
export function parseFeed(body: Buffer, contentType: string | null, documentUrl: string | null = null): ParsedFeed {
  const doc = parseFeedDocument(body, contentType, documentUrl);
  try {
    return {
      title: doc.title,
      items: toNormalizedItems(doc),
      format: doc.format,
      encoding: doc.encoding,
      link: doc.link,
      problems: doc.problems,
      recovered: doc.recovered,
      ttlMinutes: doc.ttlMinutes,
      entryCount: doc.entries.length,
    };
  } catch (err) {
    throw parseError(`could not parse feed: ${describeError(err)}`, err);
  }
}
