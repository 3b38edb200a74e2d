import { decodeEntities } from '../text/entities.js';
import type { XmlDocument, XmlElement } from './tree.js';

/**
 * A forgiving, linear-time XML parser for feeds. It never throws on bad input: it recovers
 * (unclosed and mis-nested elements, bare '&' and '<', truncated documents, unterminated CDATA)
 * and records what it had to fix in `problems`. No external entities are ever loaded; internal
 * DTD entities are honoured only when their value is plain text (no references, no markup),
 * and their total expansion is capped, so "billion laughs" style documents cannot blow up.
 */

export interface XmlParseOptions {
  /** Maximum element nesting kept as structure; deeper start tags are ignored. */
  maxDepth?: number;
  /** Maximum characters produced by DTD entity expansion in the whole document. */
  maxEntityExpansion?: number;
}

const WELL_KNOWN_PREFIXES: Record<string, string> = {
  xml: 'http://www.w3.org/XML/1998/namespace',
  atom: 'http://www.w3.org/2005/Atom',
  dc: 'http://purl.org/dc/elements/1.1/',
  dcterms: 'http://purl.org/dc/terms/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xhtml: 'http://www.w3.org/1999/xhtml',
};

const MAX_ENTITIES = 200;
const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();
const MAX_ENTITY_VALUE = 2000;

function isNameStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_:\u00c0-\uffff]/.test(c);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d || code === 0x0c;
}

/** Index after a run of characters that are not white space and not in `stops`. */
function scanToken(text: string, from: number, stops: string): number {
  let pos = from;
  const max = Math.min(text.length, from + 4096);
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

export function parseXml(text: string, options: XmlParseOptions = {}): XmlDocument {
  const maxDepth = options.maxDepth ?? 256;
  let expansionBudget = options.maxEntityExpansion ?? 1_000_000;
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < 20) problems.push(message);
  };
  const entities = new Map<string, string>();
  const lookupEntity = (name: string): string | undefined => {
    const value = entities.get(name);
    if (value === undefined || expansionBudget < value.length) return undefined;
    expansionBudget -= value.length;
    return value;
  };
  const decode = (raw: string): string => decodeEntities(raw, entities.size > 0 ? lookupEntity : undefined);

  const documentNode: XmlElement = { kind: 'element', name: '#document', prefix: '', local: '#document', ns: '', attrs: new Map(), children: [], parent: null };
  const stack: XmlElement[] = [documentNode];
  const scopes: Map<string, string>[] = [new Map()];
  let ignoredDepth = 0; // start tags dropped for exceeding maxDepth

  const current = (): XmlElement => stack[stack.length - 1] as XmlElement;
  const addText = (value: string): void => {
    if (value === '') return;
    const parent = current();
    if (parent === documentNode) {
      if (value.trim() !== '') problem('text outside the root element');
      return;
    }
    const last = parent.children[parent.children.length - 1];
    if (last?.kind === 'text') last.value += value;
    else parent.children.push({ kind: 'text', value });
  };

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
      addText(decode(text.slice(i)));
      break;
    }
    if (lt > i) addText(decode(text.slice(i, lt)));
    i = lt;

    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) problem('unterminated comment');
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) {
        problem('unterminated CDATA section');
        addText(text.slice(i + 9));
        i = n;
      } else {
        addText(text.slice(i + 9, end));
        i = end + 3;
      }
      continue;
    }
    if (text.startsWith('<!', i)) {
      i = skipDeclaration(text, i, entities, problem);
      continue;
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (text[i + 1] === '/') {
      const name = text.slice(i + 2, scanToken(text, i + 2, '>/<'));
      const gt = nextGt(i + 2);
      const nextLt = text.indexOf('<', i + 2);
      const end = gt < 0 || (nextLt >= 0 && nextLt < gt) ? (nextLt < 0 ? n : nextLt) : gt + 1;
      if (gt < 0 || (nextLt >= 0 && nextLt < gt)) problem('unterminated end tag');
      i = end;
      if (ignoredDepth > 0) {
        ignoredDepth--;
        continue;
      }
      closeElement(name);
      continue;
    }
    if (!isNameStart(text[i + 1])) {
      problem("bare '<' in text");
      addText('<');
      i++;
      continue;
    }
    i = parseStartTag(i);
  }
  if (stack.length > 1) problem(`document ended with ${stack.length - 1} unclosed element(s)`);

  const root = documentNode.children.find((c): c is XmlElement => c.kind === 'element') ?? null;
  if (root) root.parent = null;
  return { root, problems };

  function closeElement(name: string): void {
    for (let depth = stack.length - 1; depth > 0; depth--) {
      if ((stack[depth] as XmlElement).name === name) {
        if (depth !== stack.length - 1) problem(`mis-nested end tag </${name}>`);
        while (stack.length > depth) {
          stack.pop();
          scopes.pop();
        }
        return;
      }
    }
    problem(`unexpected end tag </${name}>`);
  }

  /** Parses `<name attrs...>` starting at `start`; returns the index after it. */
  function parseStartTag(start: number): number {
    let pos = start + 1;
    const name = text.slice(pos, scanToken(text, pos, `/>=<"'`));
    pos += name.length;
    let attrs: Map<string, string> | null = null; // most elements have none: share one empty map
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
        problem(`unterminated start tag <${name}>`);
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
            problem('unterminated attribute value');
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
      attrs ??= new Map<string, string>();
      if (!attrs.has(attrName)) attrs.set(attrName, decode(value));
    }
    if (!closed) {
      problem(`document ended inside start tag <${name}>`);
      return n;
    }
    if (stack.length > maxDepth) {
      if (!selfClosing) ignoredDepth++;
      problem('elements nested too deeply');
      return pos;
    }
    openElement(name, attrs ?? NO_ATTRIBUTES, selfClosing);
    return pos;
  }

  function openElement(name: string, attrs: ReadonlyMap<string, string>, selfClosing: boolean): void {
    const parent = current();
    let scope = scopes[scopes.length - 1] as Map<string, string>;
    for (const [attrName, value] of attrs) {
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) {
        if (scope === scopes[scopes.length - 1]) scope = new Map(scope);
        scope.set(attrName === 'xmlns' ? '' : attrName.slice(6), value.trim());
      }
    }
    const colon = name.indexOf(':');
    const prefix = colon > 0 ? name.slice(0, colon) : '';
    const local = colon > 0 ? name.slice(colon + 1) : name;
    const ns = scope.get(prefix) ?? WELL_KNOWN_PREFIXES[prefix.toLowerCase()] ?? (prefix ? `urn:x-undeclared-prefix:${prefix}` : '');
    if (prefix && !scope.has(prefix) && prefix !== 'xml') problem(`undeclared namespace prefix "${prefix}"`);
    const el: XmlElement = { kind: 'element', name, prefix, local, ns, attrs, children: [], parent: parent === documentNode ? null : parent };
    if (parent === documentNode && parent.children.some((c) => c.kind === 'element')) {
      problem('more than one root element');
    }
    parent.children.push(el);
    if (!selfClosing) {
      stack.push(el);
      scopes.push(scope);
    }
  }
}

/**
 * Skips `<!DOCTYPE ...>` (collecting simple internal entity declarations) or any other `<!...>`
 * declaration. Returns the index after it.
 */
function skipDeclaration(text: string, start: number, entities: Map<string, string>, problem: (m: string) => void): number {
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
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
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
  if (pos >= n) problem('unterminated declaration');
  if (subsetStart >= 0 && /^<!DOCTYPE/i.test(text.slice(start, start + 9))) {
    const subset = text.slice(subsetStart, subsetEnd < 0 ? pos : subsetEnd);
    const declaration = /<!ENTITY\s+([^\s%"']+)\s+(?:"([^"]*)"|'([^']*)')\s*>/g;
    let m: RegExpExecArray | null;
    while ((m = declaration.exec(subset)) !== null) {
      const name = m[1] ?? '';
      const value = m[2] ?? m[3] ?? '';
      if (entities.size >= MAX_ENTITIES) break;
      // Only plain-text values: anything referencing other entities or containing markup is
      // ignored, which rules out recursive ("billion laughs") and markup-injecting entities.
      if (/[&%<]/.test(value) || value.length > MAX_ENTITY_VALUE) {
        problem(`ignored entity "${name}"`);
        continue;
      }
      if (!entities.has(name)) entities.set(name, value);
    }
  }
  return Math.min(n, pos + 1);
}
