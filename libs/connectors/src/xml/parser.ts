import { DEFAULT_MAX_ENTITY_EXPANSION } from './dtd.js';
import { tokenize } from './tokenizer.js';
import { buildTree } from './tree-builder.js';
import type { XmlDocument } from './tree.js';

/**
 * A forgiving, linear-time XML parser for feeds. It never throws on bad input: it recovers
 * (unclosed and mis-nested elements, bare '&' and '<', truncated documents, unterminated CDATA)
 * and records what it had to fix in `problems`. No external entities are ever loaded; internal
 * DTD entities are honoured only when their value is plain text (no references, no markup),
 * and their total expansion is capped, so "billion laughs" style documents cannot blow up.
 *
 * Two stages, so each stays small enough to reason about: `tokenize` (lexing only; no entity
 * or DTD handling) and `buildTree` (structure, recovery policy, entity decoding).
 */

export interface XmlParseOptions {
  /** Maximum element nesting kept as structure; deeper start tags are ignored. */
  maxDepth?: number;
  /** Maximum characters produced by DTD entity expansion in the whole document. */
  maxEntityExpansion?: number;
}

/** Deep enough for any real feed, shallow enough that tree walks stay cheap. */
const DEFAULT_MAX_DEPTH = 256;

export function parseXml(text: string, options: XmlParseOptions = {}): XmlDocument {
  return buildTree(tokenize(text), {
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxEntityExpansion: options.maxEntityExpansion ?? DEFAULT_MAX_ENTITY_EXPANSION,
  });
}
