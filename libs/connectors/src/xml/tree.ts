export interface XmlElement {
  kind: 'element';
  /** Qualified name as written, e.g. "dc:creator". */
  name: string;
  prefix: string;
  local: string;
  /** Resolved namespace URI ('' for none). */
  ns: string;
  /** Attributes by qualified name as written, values decoded. */
  attrs: ReadonlyMap<string, string>;
  children: XmlNode[];
  parent: XmlElement | null;
}

export interface XmlText {
  kind: 'text';
  value: string;
}

export type XmlNode = XmlElement | XmlText;

/** What the parser had to repair: the first problem in document order and how many there were. */
export interface XmlRecovery {
  first: string;
  count: number;
}

export interface XmlDocument {
  root: XmlElement | null;
  /** Problems found while parsing, first 20 (empty for a well-formed document). */
  problems: string[];
  /** Null when the document parsed without repairs (notes like a refused DTD entity aside). */
  recovery: XmlRecovery | null;
}

export function elementChildren(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element');
}

/** Concatenated text of all descendants (iterative: no recursion-depth limit). */
export function textContent(el: XmlElement): string {
  const out: string[] = [];
  const stack: XmlNode[] = [...el.children].reverse();
  while (stack.length > 0) {
    const node = stack.pop() as XmlNode;
    if (node.kind === 'text') out.push(node.value);
    else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as XmlNode);
  }
  return out.join('');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function openTag(el: XmlElement): string {
  let tag = `<${el.local}`;
  for (const [name, value] of el.attrs) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    tag += ` ${name}="${escapeText(value).replace(/"/g, '&quot;')}"`;
  }
  return `${tag}>`;
}

/**
 * Re-serialises an element's content as markup (prefixes dropped, as HTML wants).
 * `textIsMarkup`: true when text nodes already hold HTML source (escaped HTML content, CDATA),
 * false when they are literal text (inline XHTML) and must be escaped.
 */
export function innerMarkup(el: XmlElement, textIsMarkup: boolean): string {
  const out: string[] = [];
  type Step = XmlNode | { close: string };
  const stack: Step[] = [...el.children].reverse();
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    if ('close' in step) {
      out.push(step.close);
    } else if (step.kind === 'text') {
      out.push(textIsMarkup ? step.value : escapeText(step.value));
    } else {
      out.push(openTag(step));
      stack.push({ close: `</${step.local}>` });
      for (let i = step.children.length - 1; i >= 0; i--) stack.push(step.children[i] as XmlNode);
    }
  }
  return out.join('');
}

/** Attribute by local name, whatever its prefix ("rdf:about" or "about"). */
export function attrLocal(el: XmlElement, local: string): string | undefined {
  const direct = el.attrs.get(local);
  if (direct !== undefined) return direct;
  for (const [name, value] of el.attrs) {
    const colon = name.indexOf(':');
    if (colon >= 0 && name.slice(colon + 1) === local && !name.startsWith('xmlns')) return value;
  }
  return undefined;
}
