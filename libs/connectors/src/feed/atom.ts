import { parseDate } from '../text/dates.js';
import type { XmlElement } from '../xml/tree.js';
import { attrLocal } from '../xml/tree.js';
import type { FeedContent, FeedEntry } from './model.js';
import type { NsKind } from './namespaces.js';
import { childrenNamed, firstChild } from './namespaces.js';
import { atomText, baseFor, formatPerson, nonEmpty, plainValue, rawValue, resolveLink } from './values.js';

/** Atom 1.0 and 0.3 (and feeds that forgot the namespace). */
const ATOM: readonly NsKind[] = ['atom', 'none'];

export type AtomFeed = FeedContent;

function firstDate(el: XmlElement, names: readonly string[]): Date | null {
  for (const name of names) {
    for (const candidate of childrenNamed(el, ATOM, name)) {
      const date = parseDate(rawValue(candidate));
      if (date) return date;
    }
  }
  return null;
}

function persons(el: XmlElement, local: string): string | null {
  const formatted = childrenNamed(el, ATOM, local)
    .map((person) => {
      const name = nonEmpty(plainValue(firstChild(person, ATOM, 'name')));
      const email = nonEmpty(plainValue(firstChild(person, ATOM, 'email')));
      // Some feeds put the name directly in <author>.
      return formatPerson(name, email) ?? nonEmpty(plainValue(person));
    })
    .filter((p): p is string => p !== null);
  return formatted.length > 0 ? formatted.join(', ') : null;
}

/** The alternate link: rel="alternate" (or no rel), preferring HTML representations. */
function alternateLink(el: XmlElement, documentUrl: string | null): string | null {
  let fallback: string | null = null;
  for (const link of childrenNamed(el, ATOM, 'link')) {
    const rel = (attrLocal(link, 'rel') ?? 'alternate').trim().toLowerCase();
    if (rel !== 'alternate') continue;
    const href = resolveLink(attrLocal(link, 'href') ?? rawValue(link), baseFor(link, documentUrl));
    if (href === null) continue;
    const type = (attrLocal(link, 'type') ?? '').trim().toLowerCase();
    if (type === '' || type === 'text/html' || type === 'application/xhtml+xml') return href;
    fallback ??= href;
  }
  return fallback;
}

function readEntry(entry: XmlElement, documentUrl: string | null, feedAuthor: string | null): FeedEntry {
  return {
    id: rawValue(firstChild(entry, ATOM, 'id')),
    link: alternateLink(entry, documentUrl),
    title: nonEmpty(atomText(firstChild(entry, ATOM, 'title'))),
    summary: nonEmpty(atomText(firstChild(entry, ATOM, 'summary'))),
    content: nonEmpty(atomText(firstChild(entry, ATOM, 'content'))),
    // Entries without their own author inherit the feed's (RFC 4287 §4.2.1).
    author: persons(entry, 'author') ?? feedAuthor,
    publishedAt: firstDate(entry, ['published', 'issued', 'created', 'updated', 'modified']),
    comments: null,
  };
}

export function readAtom(root: XmlElement, documentUrl: string | null): AtomFeed {
  const author = persons(root, 'author');
  const subtitle = firstChild(root, ATOM, 'subtitle') ?? firstChild(root, ATOM, 'tagline');
  return {
    title: nonEmpty(atomText(firstChild(root, ATOM, 'title'))),
    link: alternateLink(root, documentUrl),
    id: rawValue(firstChild(root, ATOM, 'id')),
    summary: subtitle ? (atomText(subtitle) ?? '') : null,
    author,
    publishedAt: firstDate(root, ['published', 'issued', 'created', 'updated', 'modified']),
    entries: childrenNamed(root, ATOM, 'entry').map((entry) => readEntry(entry, documentUrl, author)),
  };
}
