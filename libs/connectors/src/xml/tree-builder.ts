import { decodeEntities } from '../text/entities.js';
import { InternalEntities } from './dtd.js';
import type { RawAttribute, XmlToken } from './tokenizer.js';
import type { XmlDocument, XmlElement, XmlRecovery } from './tree.js';

/**
 * The structural half of the feed XML parser: builds the element tree from tokens and applies
 * the recovery policy, because real feeds are often broken and a reader should still get their
 * items:
 * - an end tag closes the nearest open element of that name (mis-nested tags close whatever they
 *   enclose); an end tag matching nothing open is dropped;
 * - elements still open at the end of the document are closed there;
 * - start tags deeper than `maxDepth` are ignored (their content joins the enclosing element);
 * - text outside the root element is dropped, later root elements are kept as siblings;
 * - undeclared namespace prefixes resolve to well-known namespaces or a placeholder URI.
 * Entity references are decoded here, never expanded recursively (see dtd.ts); a reference to
 * an undefined or refused entity is removed from the text.
 *
 * Everything it (or the tokenizer) had to repair is a recovery problem, reported in `recovery`
 * (first one + count), so a caller can flag a feed that only parsed because we forgave it, the
 * way feedparser sets "bozo". Notes that are policy rather than damage (a refused DTD entity
 * declaration) go to `problems` only.
 */

export interface TreeBuilderOptions {
  /** Maximum element nesting kept as structure; deeper start tags are ignored. */
  maxDepth: number;
  /** Maximum characters produced by DTD entity expansion in the whole document. */
  maxEntityExpansion: number;
}

/** Prefixes feeds commonly use without declaring them, resolved to what they always mean. */
const WELL_KNOWN_PREFIXES: Record<string, string> = {
  xml: 'http://www.w3.org/XML/1998/namespace',
  atom: 'http://www.w3.org/2005/Atom',
  dc: 'http://purl.org/dc/elements/1.1/',
  dcterms: 'http://purl.org/dc/terms/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xhtml: 'http://www.w3.org/1999/xhtml',
};

/** Problems kept for diagnostics; more are counted but not kept. */
const MAX_KEPT_PROBLEMS = 20;

const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();

/** An '&' that starts no well-formed reference (XML needs the ';'; HTML-style "AT&T" is an error). */
const BARE_AMPERSAND = /&(?!#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z_:][\w.:-]*;)/;

export function buildTree(tokens: Iterable<XmlToken>, options: TreeBuilderOptions): XmlDocument {
  const problems: string[] = [];
  const note = (message: string): void => {
    if (problems.length < MAX_KEPT_PROBLEMS) problems.push(message);
  };
  let recovery: XmlRecovery | null = null;
  const problem = (message: string): void => {
    note(message);
    if (recovery === null) recovery = { first: message, count: 1 };
    else recovery.count++;
  };
  const entities = new InternalEntities(options.maxEntityExpansion);
  const decodeOptions = {
    extra: (name: string): string | undefined => entities.expand(name),
    onUnknown: (name: string): void => {
      const refusal = entities.refusal(name);
      problem(refusal === null ? `undefined entity &${name};` : `entity &${name}; not expanded: ${refusal}`);
    },
  };
  const decode = (raw: string, where: 'text' | 'attribute value'): string => {
    if (!raw.includes('&')) return raw;
    if (BARE_AMPERSAND.test(raw)) problem(`bare '&' in ${where}`);
    return decodeEntities(raw, decodeOptions);
  };

  const documentNode: XmlElement = { kind: 'element', name: '#document', prefix: '', local: '#document', ns: '', attrs: new Map(), children: [], parent: null };
  const stack: XmlElement[] = [documentNode];
  const scopes: Map<string, string>[] = [new Map()];
  let ignoredDepth = 0; // start tags dropped for exceeding maxDepth

  const current = (): XmlElement => stack[stack.length - 1] as XmlElement;

  function addText(value: string): void {
    if (value === '') return;
    const parent = current();
    if (parent === documentNode) {
      if (value.trim() !== '') problem('text outside the root element');
      return;
    }
    const last = parent.children[parent.children.length - 1];
    if (last?.kind === 'text') last.value += value;
    else parent.children.push({ kind: 'text', value });
  }

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

  function decodeAttributes(raw: readonly RawAttribute[] | null): ReadonlyMap<string, string> {
    if (raw === null) return NO_ATTRIBUTES; // most elements have none: share one empty map
    const attrs = new Map<string, string>();
    for (const [name, value] of raw) if (!attrs.has(name)) attrs.set(name, decode(value, 'attribute value'));
    return attrs;
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

  for (const token of tokens) {
    switch (token.kind) {
      case 'text':
        addText(decode(token.raw, 'text'));
        break;
      case 'cdata':
        addText(token.value);
        break;
      case 'startTag': {
        const attrs = decodeAttributes(token.attrs);
        if (stack.length > options.maxDepth) {
          if (!token.selfClosing) ignoredDepth++;
          problem('elements nested too deeply');
          break;
        }
        openElement(token.name, attrs, token.selfClosing);
        break;
      }
      case 'endTag':
        if (ignoredDepth > 0) ignoredDepth--;
        else closeElement(token.name);
        break;
      case 'doctype':
        if (token.internalSubset !== null) entities.declare(token.internalSubset, note);
        break;
      case 'problem':
        problem(token.message);
        break;
      case 'comment':
      case 'pi':
      case 'declaration':
        break;
    }
  }
  // Innermost first: that is where a truncated document was cut.
  for (let depth = stack.length - 1; depth > 0; depth--) problem(`unclosed <${(stack[depth] as XmlElement).name}> at end of document`);

  const root = documentNode.children.find((c): c is XmlElement => c.kind === 'element') ?? null;
  if (root) root.parent = null;
  return { root, problems, recovery };
}
