import type { XmlElement } from '../xml/tree.js';
import { elementChildren } from '../xml/tree.js';

export type NsKind = 'none' | 'rss' | 'atom' | 'dc' | 'dcterms' | 'content' | 'rdf' | 'xhtml' | 'slash' | 'other';

const KINDS: Record<string, NsKind> = {
  '': 'none',
  'http://purl.org/rss/1.0/': 'rss',
  'http://my.netscape.com/rdf/simple/0.9/': 'rss',
  'http://backend.userland.com/rss': 'rss',
  'http://backend.userland.com/rss2': 'rss',
  'http://backend.userland.com/rss2.1': 'rss',
  'http://blogs.law.harvard.edu/tech/rss': 'rss',
  'http://purl.org/net/rss1.1#': 'rss',
  'http://www.w3.org/2005/Atom': 'atom',
  'http://purl.org/atom/ns#': 'atom',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://purl.org/dc/terms/': 'dcterms',
  'http://purl.org/rss/1.0/modules/content/': 'content',
  'http://www.w3.org/1999/02/22-rdf-syntax-ns#': 'rdf',
  'http://www.w3.org/1999/xhtml': 'xhtml',
  'http://purl.org/rss/1.0/modules/slash/': 'slash',
};

export function nsKind(el: XmlElement): NsKind {
  return KINDS[el.ns] ?? KINDS[el.ns.replace(/\/$/, '')] ?? 'other';
}

/** The element's own children matching one of `kinds` and the local name (case-sensitive). */
export function childrenNamed(el: XmlElement, kinds: readonly NsKind[], local: string): XmlElement[] {
  return elementChildren(el).filter((c) => c.local === local && kinds.includes(nsKind(c)));
}

export function firstChild(el: XmlElement, kinds: readonly NsKind[], local: string): XmlElement | undefined {
  return elementChildren(el).find((c) => c.local === local && kinds.includes(nsKind(c)));
}

/** The first child matching any (kinds, local) pair, in the order the pairs are listed. */
export function firstOf(el: XmlElement, pairs: ReadonlyArray<readonly [readonly NsKind[], string]>): XmlElement | undefined {
  for (const [kinds, local] of pairs) {
    const found = firstChild(el, kinds, local);
    if (found) return found;
  }
  return undefined;
}
