/**
 * Turns feed bytes into text. Precedence: the HTTP charset parameter, then a byte-order mark,
 * then the XML declaration's encoding, then UTF-8 — skipping labels that contradict the byte
 * structure (an ASCII label on UTF-16 bytes or the reverse) or that the runtime doesn't know,
 * and falling back when the bytes are invalid in the chosen encoding (mostly-valid UTF-8 keeps
 * UTF-8 with replacement characters; otherwise windows-1252, which decodes any byte).
 */

export interface DecodedText {
  text: string;
  /** The encoding actually used (lower-case WHATWG name, or utf-32le/utf-32be). */
  encoding: string;
}

type Family = 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

/** The charset parameter of a Content-Type header, if well-formed. */
export function charsetFromContentType(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))/i.exec(contentType);
  const value = (m?.[1] ?? m?.[2] ?? m?.[3] ?? '').trim();
  return value === '' ? null : value.toLowerCase();
}

function sniffBom(bytes: Buffer): { encoding: string; length: number } | null {
  const [b0, b1, b2, b3] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) return { encoding: 'utf-32le', length: 4 };
  if (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff) return { encoding: 'utf-32be', length: 4 };
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b0 === 0xff && b1 === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b0 === 0xfe && b1 === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

/** Recognises UTF-16/32 without a BOM from the first '<' (XML spec, appendix F). */
function sniffWide(bytes: Buffer): Family | null {
  const [b0, b1, b2, b3] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (b0 === 0 && b1 === 0 && b2 === 0 && b3 === 0x3c) return 'utf-32be';
  if (b0 === 0x3c && b1 === 0 && b2 === 0 && b3 === 0) return 'utf-32le';
  if (b0 === 0 && b1 === 0x3c && b2 === 0 && b3 !== 0) return 'utf-16be';
  if (b0 === 0x3c && b1 === 0 && b2 !== 0 && b3 === 0) return 'utf-16le';
  return null;
}

/** The encoding named in an XML declaration near the start (read as ASCII). */
function declaredEncoding(bytes: Buffer): string | null {
  const head = bytes.subarray(0, 4096).toString('latin1');
  const m = /<\?xml\s[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:()+-]+)\s*["']/i.exec(head);
  return m?.[1]?.toLowerCase() ?? null;
}

const WIDE = /^(?:utf-?16|utf-?32|ucs-?2|ucs-?4|unicode)/i;

function isWideLabel(label: string): boolean {
  return WIDE.test(label);
}

/** Maps a label to a decodable encoding name, or null if unknown. */
function resolveLabel(label: string, wide: Family | null): string | null {
  const l = label.trim().toLowerCase();
  if (/^utf-?32/.test(l) || /^ucs-?4/.test(l)) {
    if (l.endsWith('le')) return 'utf-32le';
    if (l.endsWith('be')) return 'utf-32be';
    return wide?.startsWith('utf-32') ? wide : 'utf-32be';
  }
  if (/^utf-?16/.test(l) || /^ucs-?2/.test(l) || l === 'unicode') {
    if (l.endsWith('le')) return 'utf-16le';
    if (l.endsWith('be')) return 'utf-16be';
    return wide?.startsWith('utf-16') ? wide : 'utf-16le';
  }
  const aliases: Record<string, string> = { 'utf8': 'utf-8', 'cp-1252': 'windows-1252', 'win-1252': 'windows-1252', 'sjis': 'shift_jis', 'eucjp': 'euc-jp', 'euckr': 'euc-kr' };
  const name = aliases[l] ?? l;
  try {
    return new TextDecoder(name).encoding;
  } catch {
    return null;
  }
}

function decodeUtf32(bytes: Buffer, littleEndian: boolean, fatal: boolean): string {
  const parts: string[] = [];
  const usable = bytes.length - (bytes.length % 4);
  if (usable !== bytes.length && fatal) throw new Error('truncated UTF-32');
  let chunk: number[] = [];
  for (let i = 0; i < usable; i += 4) {
    const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      if (fatal) throw new Error('invalid UTF-32 code point');
      chunk.push(0xfffd);
    } else {
      chunk.push(cp);
    }
    if (chunk.length >= 4096) {
      parts.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  }
  parts.push(String.fromCodePoint(...chunk));
  return parts.join('');
}

function decodeWith(encoding: string, bytes: Buffer, fatal: boolean): string {
  if (encoding === 'utf-32le' || encoding === 'utf-32be') return decodeUtf32(bytes, encoding === 'utf-32le', fatal);
  return new TextDecoder(encoding, { fatal }).decode(bytes);
}

function countReplacements(text: string): { bad: number; good: number } {
  let bad = 0;
  let good = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd) bad++;
    else if (c > 0x7f) good++;
  }
  return { bad, good };
}

export function decodeBytes(input: Buffer, contentType: string | null): DecodedText {
  const bom = sniffBom(input);
  const wide: Family | null = bom && bom.encoding !== 'utf-8' ? (bom.encoding as Family) : sniffWide(input);
  const bytes = bom ? input.subarray(bom.length) : input;

  const labels = [charsetFromContentType(contentType), bom?.encoding ?? null, wide, wide ? null : declaredEncoding(input), 'utf-8'];
  const candidates: string[] = [];
  for (const label of labels) {
    if (label === null) continue;
    // A label that contradicts the byte structure is wrong: trust the bytes.
    if (wide !== null && !isWideLabel(label)) continue;
    if (wide === null && isWideLabel(label)) continue;
    const resolved = resolveLabel(label, wide);
    if (resolved !== null && !candidates.includes(resolved)) candidates.push(resolved);
  }
  if (wide !== null && !candidates.includes(wide)) candidates.push(wide);

  for (const encoding of candidates) {
    try {
      return { text: stripBom(decodeWith(encoding, bytes, true)), encoding };
    } catch {
      // invalid bytes for this encoding: try the next one
    }
  }
  // Nothing decoded cleanly. Keep the preferred multi-byte encoding if it is mostly right
  // (a stray bad byte in a UTF-8 document), else read the bytes as windows-1252.
  // A byte-order mark is near-certain evidence of the encoding, whatever else is wrong.
  const preferred = bom?.encoding ?? wide ?? candidates[0];
  if (preferred !== undefined && preferred !== 'windows-1252') {
    const lossy = decodeWith(preferred, bytes, false);
    const { bad, good } = countReplacements(lossy);
    if (bom !== null || wide !== null || bad * 4 < good) return { text: stripBom(lossy), encoding: preferred };
  }
  return { text: stripBom(decodeWith('windows-1252', bytes, false)), encoding: 'windows-1252' };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
