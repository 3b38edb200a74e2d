import { decodeEntities, demoronize } from './entities.js';

/** Tags whose boundaries separate words. Everything else (b, i, a, span, ...) is inline. */
const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'img', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'tr', 'ul', 'iframe', 'video', 'audio', 'embed', 'object', 'source',
]);
/** Elements whose content is never text a reader should see. */
const SKIP_CONTENT = new Set(['script', 'style', 'template', 'noscript', 'head', 'title']);

/** Collapses every run of white space (incl. NBSP and line separators) to one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/[\s\u00a0\u200b\u2028\u2029\ufeff]+/g, ' ').trim();
}

/** Index of the '>' ending a tag that starts at `start` ('<'), honouring quoted attribute values. */
function tagEnd(html: string, start: number): number {
  let quote = '';
  for (let i = start + 1; i < html.length; i++) {
    const c = html[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      // Only a quote right after '=' opens a value; stray quotes are plain characters.
      if (/=\s*$/.test(html.slice(Math.max(start, i - 8), i))) quote = c;
    } else if (c === '>') {
      return i;
    }
  }
  // An unterminated quote: fall back to the first '>' at all.
  return quote ? html.indexOf('>', start + 1) : -1;
}

/**
 * Converts an HTML fragment to plain text: drops tags, comments and script/style content,
 * separates block elements with spaces, decodes character references and collapses white space.
 * Linear in the input size; a '<' that does not start a tag (e.g. "1 < 2") stays as text.
 */
export function htmlToText(html: string): string {
  if (!html.includes('<') && !html.includes('&')) return collapseWhitespace(demoronize(html));
  const out: string[] = [];
  let i = 0;
  let skipUntil: string | null = null; // closing tag name we are skipping content up to
  let textStart = 0;
  const flush = (end: number): void => {
    if (end > textStart && skipUntil === null) out.push(html.slice(textStart, end));
  };
  const lastGt = html.lastIndexOf('>');
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0 || lt > lastGt) break; // no '>' after this point: the rest is text
    const next = html[lt + 1] ?? '';
    if (html.startsWith('<!--', lt)) {
      flush(lt);
      const close = html.indexOf('-->', lt + 4);
      i = textStart = close < 0 ? html.length : close + 3;
      continue;
    }
    if (/[A-Za-z/!?]/.test(next)) {
      const end = tagEnd(html, lt);
      if (end < 0) {
        i = lt + 1; // no closing '>' anywhere: the rest is text
        continue;
      }
      const m = /^<\/?\s*([A-Za-z][A-Za-z0-9:_-]*)/.exec(html.slice(lt, Math.min(end + 1, lt + 64)));
      const isClose = next === '/';
      const name = m?.[1]?.toLowerCase().replace(/^.*:/, '') ?? '';
      if (skipUntil !== null) {
        if (isClose && name === skipUntil) skipUntil = null;
        i = textStart = end + 1;
        continue;
      }
      flush(lt);
      if (!isClose && SKIP_CONTENT.has(name) && !html.slice(lt, end).endsWith('/')) skipUntil = name;
      else if (BLOCK_TAGS.has(name) || next === '!' || next === '?') out.push(' ');
      i = textStart = end + 1;
      continue;
    }
    i = lt + 1; // a bare '<' is text
  }
  flush(html.length);
  return collapseWhitespace(demoronize(decodeEntities(out.join(''))));
}

/** Plain text that may contain entity references but no markup. */
export function plainText(text: string): string {
  return collapseWhitespace(demoronize(text));
}

/** Shortens text to at most `max` characters, cutting at a word boundary and adding an ellipsis. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
