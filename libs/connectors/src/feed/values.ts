import { htmlToText, plainText } from '../text/html.js';
import type { XmlElement } from '../xml/tree.js';
import { attrLocal, elementChildren, innerMarkup, textContent } from '../xml/tree.js';

/** Content that is HTML, whether escaped, in CDATA or (invalidly) as naked child elements. */
export function htmlValue(el: XmlElement | undefined): string | null {
  if (!el) return null;
  return htmlToText(innerMarkup(el, true));
}

/** Content that is plain text. */
export function plainValue(el: XmlElement | undefined): string | null {
  if (!el) return null;
  return plainText(textContent(el));
}

/** A value that must be kept exactly (ids, links): only surrounding white space is removed. */
export function rawValue(el: XmlElement | undefined): string | null {
  if (!el) return null;
  const value = textContent(el).trim();
  return value === '' ? null : value;
}

function decodeBase64Text(text: string): string | null {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return null;
  const bytes = Buffer.from(compact, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null; // binary content: nothing a reader could use
  }
}

/**
 * An Atom text construct (title, subtitle, summary, content, rights), Atom 1.0 `type` and
 * Atom 0.3 `type` + `mode`, as plain text. Out-of-line content (src=) has no text.
 */
export function atomText(el: XmlElement | undefined): string | null {
  if (!el) return null;
  if (attrLocal(el, 'src') !== undefined && textContent(el).trim() === '') return null;
  const type = (attrLocal(el, 'type') ?? '').trim().toLowerCase();
  const mode = (attrLocal(el, 'mode') ?? '').trim().toLowerCase();
  if (mode === 'base64') {
    const decoded = decodeBase64Text(textContent(el));
    if (decoded === null) return null;
    return type === 'text/plain' ? plainText(decoded) : htmlToText(decoded);
  }
  if (mode === 'escaped') return htmlToText(innerMarkup(el, true));
  if (type === '' || type === 'text' || type === 'text/plain') {
    // Atom 0.3 inline XML (mode="xml", the default) may still carry markup children.
    return elementChildren(el).length > 0 ? htmlToText(innerMarkup(el, false)) : plainText(textContent(el));
  }
  if (type === 'html' || type === 'text/html') return htmlToText(innerMarkup(el, true));
  if (type === 'xhtml' || type.endsWith('+xml') || type.endsWith('/xml')) return htmlToText(innerMarkup(el, false));
  if (type.startsWith('text/')) return plainText(textContent(el));
  // Any other media type is base64 (RFC 4287 §4.1.3.3).
  const decoded = decodeBase64Text(textContent(el));
  return decoded === null ? null : htmlToText(decoded);
}

/** The xml:base in effect for an element, resolved against the document URL. */
export function baseFor(el: XmlElement, documentUrl: string | null): string | null {
  const bases: string[] = [];
  for (let node: XmlElement | null = el; node; node = node.parent) {
    const base = node.attrs.get('xml:base');
    if (base !== undefined) bases.push(base.trim());
  }
  let resolved = documentUrl;
  for (let i = bases.length - 1; i >= 0; i--) {
    try {
      resolved = new URL(bases[i] as string, resolved ?? undefined).href;
    } catch {
      // ignore an unusable xml:base
    }
  }
  return resolved;
}

/**
 * A link as written when it is already absolute (http/https), else resolved against `base`.
 * Other schemes (javascript:, data:, mailto:) are not links a reader should get.
 */
export function resolveLink(raw: string | null | undefined, base: string | null): string | null {
  if (raw === null || raw === undefined) return null;
  const value = raw.trim();
  if (value === '') return null;
  if (/^https?:\/\//i.test(value)) return /\s/.test(value) ? value.replace(/\s/g, '%20') : value;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return null;
  if (base === null) return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** "Name (email)" / "Name" / "email". */
export function formatPerson(name: string | null, email: string | null): string | null {
  if (name && email) return `${name} (${email})`;
  return name || email || null;
}

export function nonEmpty(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}
