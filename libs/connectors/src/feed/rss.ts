import { parseDate } from '../text/dates.js';
import type { XmlElement } from '../xml/tree.js';
import { attrLocal, elementChildren } from '../xml/tree.js';
import type { FeedContent, FeedEntry } from './model.js';
import type { NsKind } from './namespaces.js';
import { childrenNamed, firstChild, firstOf, nsKind } from './namespaces.js';
import { atomText, baseFor, formatPerson, htmlValue, nonEmpty, plainValue, rawValue, resolveLink } from './values.js';

/** RSS 0.9x/2.0 and RSS 1.0 / 0.90 (RDF) share their element vocabulary. */
const RSS: readonly NsKind[] = ['rss', 'none'];
const DC: readonly NsKind[] = ['dc'];
const DCTERMS: readonly NsKind[] = ['dcterms'];
const ATOM: readonly NsKind[] = ['atom'];

export interface RssChannel extends FeedContent {
  ttlMinutes: number | null;
}

/** A `<ttl>`: whole minutes (more than 9 digits is not a real TTL). */
const TTL_PATTERN = /^\d{1,9}$/;

/** `<ttl>` as a positive whole number of minutes, else null (RSS 2.0: "number of minutes"). */
function readTtl(channel: XmlElement): number | null {
  const text = rawValue(firstChild(channel, RSS, 'ttl'));
  if (text === null || !TTL_PATTERN.test(text)) return null;
  const minutes = Number(text);
  return minutes > 0 ? minutes : null;
}

function firstDate(el: XmlElement, pairs: ReadonlyArray<readonly [readonly NsKind[], string]>): Date | null {
  for (const [kinds, local] of pairs) {
    for (const candidate of childrenNamed(el, kinds, local)) {
      const date = parseDate(rawValue(candidate));
      if (date) return date;
    }
  }
  return null;
}

function atomAlternate(el: XmlElement, base: string | null): string | null {
  for (const link of childrenNamed(el, ATOM, 'link')) {
    const rel = (attrLocal(link, 'rel') ?? 'alternate').trim().toLowerCase();
    if (rel === 'alternate') {
      const href = resolveLink(attrLocal(link, 'href'), base);
      if (href) return href;
    }
  }
  return null;
}

function atomAuthor(el: XmlElement): string | null {
  const author = firstChild(el, ATOM, 'author');
  if (!author) return null;
  return formatPerson(nonEmpty(plainValue(firstChild(author, ATOM, 'name'))), nonEmpty(plainValue(firstChild(author, ATOM, 'email'))));
}

/** First non-empty text among the listed children, read as HTML-ish plain text. */
function firstText(el: XmlElement, pairs: ReadonlyArray<readonly [readonly NsKind[], string]>): string | null {
  for (const [kinds, local] of pairs) {
    for (const candidate of childrenNamed(el, kinds, local)) {
      const value = nonEmpty(htmlValue(candidate));
      if (value !== null) return value;
    }
  }
  return null;
}

function readItem(item: XmlElement, documentUrl: string | null): FeedEntry {
  const base = baseFor(item, documentUrl);
  const guidEl = firstChild(item, RSS, 'guid');
  const guid = rawValue(guidEl);
  const about = attrLocal(item, 'about');
  const isPermaLink = (guidEl ? attrLocal(guidEl, 'isPermaLink') ?? 'true' : 'false').trim().toLowerCase() !== 'false';

  // <description>/<summary> (and dc:description, atom:summary): the first is the summary; a
  // second one stands in for the content when there is no proper content element.
  const descriptions = elementChildren(item).filter((c) => {
    const kind = nsKind(c);
    return (
      ((kind === 'rss' || kind === 'none') && (c.local === 'description' || c.local === 'summary')) ||
      (kind === 'dc' && c.local === 'description') ||
      (kind === 'atom' && c.local === 'summary')
    );
  });
  const summaryEl = descriptions[0];
  const summary = summaryEl ? (nsKind(summaryEl) === 'atom' ? atomText(summaryEl) : htmlValue(summaryEl)) : null;

  let content: string | null = null;
  const encoded = firstChild(item, ['content'], 'encoded');
  const body = firstChild(item, ['xhtml'], 'body') ?? firstChild(item, ['xhtml'], 'div');
  const fullitem = firstChild(item, RSS, 'fullitem');
  const atomContent = firstChild(item, ATOM, 'content');
  if (encoded) content = htmlValue(encoded);
  else if (body) content = atomText(body) ?? null;
  else if (fullitem) content = htmlValue(fullitem);
  else if (atomContent) content = atomText(atomContent);
  else if (descriptions[1]) content = htmlValue(descriptions[1]);

  let link = resolveLink(rawValue(firstChild(item, RSS, 'link')), base) ?? atomAlternate(item, base);
  if (link === null && guid !== null && isPermaLink) link = resolveLink(guid, base);
  if (link === null && about !== undefined) link = resolveLink(about, base);

  const id = guid ?? (about !== undefined && about.trim() !== '' ? about.trim() : null);

  const author =
    firstText(item, [
      [RSS, 'author'],
      [DC, 'creator'],
      [DC, 'author'],
    ]) ?? atomAuthor(item);

  const commentsText = rawValue(firstChild(item, ['slash'], 'comments'));
  const comments = commentsText !== null && /^\d{1,9}$/.test(commentsText) ? Number(commentsText) : null;

  return {
    id,
    link,
    title: firstText(item, [
      [RSS, 'title'],
      [DC, 'title'],
      [ATOM, 'title'],
    ]),
    summary: nonEmpty(summary),
    content: nonEmpty(content),
    author,
    publishedAt: firstDate(item, [
      [RSS, 'pubDate'],
      [DC, 'date'],
      [DCTERMS, 'issued'],
      [DCTERMS, 'created'],
      [DCTERMS, 'modified'],
      [ATOM, 'published'],
      [ATOM, 'updated'],
      [RSS, 'date'],
    ]),
    comments,
  };
}

/**
 * Reads RSS 0.9x/2.0 (`<rss><channel>...`) and RSS 1.0 / 0.90 (`<rdf:RDF><channel/><item/>...`).
 * Items may sit in the channel or beside it; image and textinput children never leak into
 * channel fields because only direct children are read.
 */
export function readRss(root: XmlElement, documentUrl: string | null): RssChannel {
  const channel = root.local === 'channel' ? root : (firstChild(root, RSS, 'channel') ?? root);
  const base = baseFor(channel, documentUrl);
  const itemElements = [...childrenNamed(channel, RSS, 'item'), ...(channel === root ? [] : childrenNamed(root, RSS, 'item'))];

  const summaryEl = firstOf(channel, [
    [RSS, 'description'],
    [DC, 'description'],
    [RSS, 'tagline'],
    [ATOM, 'subtitle'],
  ]);
  const summary = summaryEl ? (nsKind(summaryEl) === 'atom' ? atomText(summaryEl) : htmlValue(summaryEl)) : null;
  const about = attrLocal(channel, 'about');

  return {
    title: firstText(channel, [
      [RSS, 'title'],
      [DC, 'title'],
      [ATOM, 'title'],
    ]),
    link: resolveLink(rawValue(firstChild(channel, RSS, 'link')), base) ?? atomAlternate(channel, base),
    id: rawValue(firstChild(channel, ATOM, 'id')) ?? (about !== undefined && about.trim() !== '' ? about.trim() : null),
    // An empty <description/> is an empty summary, not a missing one.
    summary: summaryEl ? (summary ?? '') : null,
    author:
      firstText(channel, [
        [RSS, 'author'],
        [RSS, 'managingEditor'],
        [DC, 'creator'],
        [DC, 'author'],
        [RSS, 'webMaster'],
      ]) ?? atomAuthor(channel),
    publishedAt: firstDate(channel, [
      [RSS, 'pubDate'],
      [DC, 'date'],
      [DCTERMS, 'issued'],
      [DCTERMS, 'created'],
      [DCTERMS, 'modified'],
      [RSS, 'lastBuildDate'],
      [ATOM, 'updated'],
    ]),
    entries: itemElements.map((item) => readItem(item, documentUrl)),
    ttlMinutes: readTtl(channel),
  };
}
