/**
 * The lexing half of the feed XML parser: turns text into a flat stream of tokens (tags, text,
 * CDATA, comments, processing instructions, declarations) in one linear pass.
 *
 * It is deliberately dumb about meaning: it does not decode or expand entity references (text
 * and attribute values are handed on raw), does not interpret the DTD (a DOCTYPE's internal
 * subset is handed on as text), and does not track nesting. Lexical damage (an unterminated
 * comment, CDATA section, tag or attribute value, a bare '<') is reported as a `problem` token
 * at the point it was found, followed by the best reading of what was there, so the tree
 * builder sees problems in document order.
 */

/** An attribute as written: the value is raw (entity references not yet decoded). */
export type RawAttribute = readonly [name: string, rawValue: string];

export type XmlToken =
  /** Character data; entity references not yet decoded. */
  | { kind: 'text'; raw: string }
  /** A CDATA section's content, literal. */
  | { kind: 'cdata'; value: string }
  /** `attrs` is null when the tag has none (the common case: no allocation). */
  | { kind: 'startTag'; name: string; attrs: RawAttribute[] | null; selfClosing: boolean }
  | { kind: 'endTag'; name: string }
  | { kind: 'comment'; value: string }
  | { kind: 'pi'; value: string }
  /** `<!DOCTYPE ...>`; `internalSubset` is the text between '[' and ']' (null without one). */
  | { kind: 'doctype'; internalSubset: string | null }
  /** Any other `<!...>` declaration outside a DOCTYPE (ignored by feeds). */
  | { kind: 'declaration' }
  /** Lexical damage the tokenizer worked around. */
  | { kind: 'problem'; message: string };

/** How far a name or unquoted value is scanned; longer runs are cut (keeps scans linear). */
const MAX_TOKEN_SCAN = 4096;

const CDATA_OPEN = '<![CDATA[';
const COMMENT_OPEN = '<!--';

function isNameStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_:\u00c0-\uffff]/.test(c);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d || code === 0x0c;
}

/** Index after a run of characters that are not white space and not in `stops`. */
function scanToken(text: string, from: number, stops: string): number {
  let pos = from;
  const max = Math.min(text.length, from + MAX_TOKEN_SCAN);
  while (pos < max) {
    const code = text.charCodeAt(pos);
    if (isSpace(code) || stops.includes(text[pos] as string)) break;
    pos++;
  }
  return pos;
}

function skipSpace(text: string, from: number): number {
  let pos = from;
  while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  return pos;
}

/** Lexes `text` into tokens. Never throws; linear in the input length. */
export function* tokenize(text: string): Generator<XmlToken> {
  const n = text.length;
  // The next '>' at or after a position, cached so repeated look-ups stay linear overall.
  let cachedGt = -2;
  const nextGt = (from: number): number => {
    if (cachedGt === -1 || (cachedGt >= from && cachedGt !== -2)) return cachedGt;
    cachedGt = text.indexOf('>', from);
    return cachedGt;
  };

  let i = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      yield { kind: 'text', raw: text.slice(i) };
      break;
    }
    if (lt > i) yield { kind: 'text', raw: text.slice(i, lt) };
    i = lt;

    if (text.startsWith(COMMENT_OPEN, i)) {
      const end = text.indexOf('-->', i + COMMENT_OPEN.length);
      if (end < 0) yield { kind: 'problem', message: 'unterminated comment' };
      yield { kind: 'comment', value: text.slice(i + COMMENT_OPEN.length, end < 0 ? n : end) };
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (text.startsWith(CDATA_OPEN, i)) {
      const end = text.indexOf(']]>', i + CDATA_OPEN.length);
      if (end < 0) yield { kind: 'problem', message: 'unterminated CDATA section' };
      yield { kind: 'cdata', value: text.slice(i + CDATA_OPEN.length, end < 0 ? n : end) };
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) {
      const declaration = lexDeclaration(text, i);
      if (declaration.unterminated) yield { kind: 'problem', message: 'unterminated declaration' };
      yield declaration.token;
      i = declaration.end;
      continue;
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      yield { kind: 'pi', value: text.slice(i + 2, end < 0 ? n : end) };
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (text[i + 1] === '/') {
      const name = text.slice(i + 2, scanToken(text, i + 2, '>/<'));
      const gt = nextGt(i + 2);
      const nextLt = text.indexOf('<', i + 2);
      // An end tag cut short by the next '<' (or by the end of the text) ends right there.
      const cut = gt < 0 || (nextLt >= 0 && nextLt < gt);
      if (cut) yield { kind: 'problem', message: 'unterminated end tag' };
      yield { kind: 'endTag', name };
      i = cut ? (nextLt < 0 ? n : nextLt) : gt + 1;
      continue;
    }
    if (!isNameStart(text[i + 1])) {
      yield { kind: 'problem', message: "bare '<' in text" };
      yield { kind: 'text', raw: '<' };
      i++;
      continue;
    }
    const tag = lexStartTag(text, i, nextGt);
    for (const message of tag.problems) yield { kind: 'problem', message };
    if (tag.token) yield tag.token;
    i = tag.end;
  }
}

interface LexedStartTag {
  /** Null when the document ended inside the tag: nothing usable was opened. */
  token: Extract<XmlToken, { kind: 'startTag' }> | null;
  problems: string[];
  end: number;
}

/** Lexes `<name attrs...>` starting at `start` (the '<'). */
function lexStartTag(text: string, start: number, nextGt: (from: number) => number): LexedStartTag {
  const n = text.length;
  const problems: string[] = [];
  let pos = start + 1;
  const name = text.slice(pos, scanToken(text, pos, `/>=<"'`));
  pos += name.length;
  let attrs: RawAttribute[] | null = null;
  let selfClosing = false;
  let closed = false;
  while (pos < n) {
    pos = skipSpace(text, pos);
    const c = text[pos];
    if (c === undefined) break;
    if (c === '>') {
      pos++;
      closed = true;
      break;
    }
    if (c === '/' && text[pos + 1] === '>') {
      pos += 2;
      selfClosing = true;
      closed = true;
      break;
    }
    if (c === '<') {
      // A start tag cut short by the next tag: keep what we have, resume at that '<'.
      problems.push(`unterminated start tag <${name}>`);
      closed = true;
      break;
    }
    const attrEnd = scanToken(text, pos, `=/>"'<`);
    if (attrEnd === pos) {
      pos++; // a stray character: skip it
      continue;
    }
    const attrName = text.slice(pos, attrEnd);
    pos = skipSpace(text, attrEnd);
    let value = '';
    if (text[pos] === '=') {
      pos = skipSpace(text, pos + 1);
      const q = text[pos];
      if (q === '"' || q === "'") {
        const endQuote = text.indexOf(q, pos + 1);
        if (endQuote < 0) {
          problems.push('unterminated attribute value');
          const gt = nextGt(pos + 1);
          const stop = gt < 0 ? n : gt;
          value = text.slice(pos + 1, stop);
          pos = stop;
        } else {
          value = text.slice(pos + 1, endQuote);
          pos = endQuote + 1;
        }
      } else {
        value = text.slice(pos, scanToken(text, pos, '>'));
        pos += value.length;
        if (value.endsWith('/') && text[pos] === '>') {
          value = value.slice(0, -1);
          pos--;
        }
      }
    }
    attrs ??= [];
    attrs.push([attrName, value]);
  }
  if (!closed) {
    problems.push(`document ended inside start tag <${name}>`);
    return { token: null, problems, end: n };
  }
  return { token: { kind: 'startTag', name, attrs, selfClosing }, problems, end: pos };
}

interface LexedDeclaration {
  token: Extract<XmlToken, { kind: 'doctype' | 'declaration' }>;
  unterminated: boolean;
  end: number;
}

/**
 * Lexes `<!DOCTYPE ...>` or any other `<!...>` declaration starting at `start`, honouring quotes
 * and the internal subset's brackets and comments so a '>' inside them does not end it.
 */
function lexDeclaration(text: string, start: number): LexedDeclaration {
  const n = text.length;
  let pos = start + 2;
  let quote = '';
  let subsetStart = -1;
  let subsetEnd = -1;
  let inSubset = false;
  while (pos < n) {
    const c = text[pos];
    if (quote) {
      if (c === quote) quote = '';
    } else if (inSubset) {
      if (text.startsWith(COMMENT_OPEN, pos)) {
        const end = text.indexOf('-->', pos + COMMENT_OPEN.length);
        pos = end < 0 ? n : end + 3;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === ']') {
        inSubset = false;
        subsetEnd = pos;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '[') {
      inSubset = true;
      subsetStart = pos + 1;
    } else if (c === '>') {
      break;
    }
    pos++;
  }
  const end = Math.min(n, pos + 1);
  const unterminated = pos >= n;
  if (!/^<!DOCTYPE/i.test(text.slice(start, start + 9))) return { token: { kind: 'declaration' }, unterminated, end };
  const internalSubset = subsetStart >= 0 ? text.slice(subsetStart, subsetEnd < 0 ? pos : subsetEnd) : null;
  return { token: { kind: 'doctype', internalSubset }, unterminated, end };
}
