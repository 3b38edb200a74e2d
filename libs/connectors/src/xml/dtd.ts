/**
 * The only DTD feature feeds use in practice: internal `<!ENTITY name "value">` declarations.
 *
 * Policy (why: a DTD is attacker-controlled input): external entities (SYSTEM/PUBLIC) are never
 * loaded; an internal entity is honoured only when its value is plain text (no references, no
 * markup), which rules out recursive "billion laughs" and markup-injecting entities; and the
 * total expansion in one document is capped, which rules out quadratic blow-up from one large
 * entity referenced many times. Refused entities are remembered by name so a reference to one
 * can be reported as such.
 */

/** At most this many entity declarations are kept per document. */
const MAX_ENTITIES = 200;
/** Longer entity values are refused. */
const MAX_ENTITY_VALUE = 2000;
/** Default cap on characters produced by entity expansion in one document. */
export const DEFAULT_MAX_ENTITY_EXPANSION = 1_000_000;

const DECLARATION = /<!ENTITY\s+([^\s%"']+)\s+(?:"([^"]*)"|'([^']*)')\s*>/g;
/** External entity declarations: recognised only to name them when they are referenced. */
const EXTERNAL_DECLARATION = /<!ENTITY\s+([^\s%"']+)\s+(?:SYSTEM|PUBLIC)\b/g;

const REFUSED_NESTED = 'its declared value holds references or markup';
const REFUSED_TOO_LONG = `its declared value is longer than ${MAX_ENTITY_VALUE} characters`;
const REFUSED_EXTERNAL = 'it is an external entity, never loaded';
const REFUSED_BUDGET = 'the document used up its entity expansion budget';

export class InternalEntities {
  private readonly values = new Map<string, string>();
  /** Declared names we refuse to expand, with the reason. */
  private readonly refused = new Map<string, string>();
  private budget: number;

  constructor(maxExpansion: number = DEFAULT_MAX_ENTITY_EXPANSION) {
    this.budget = maxExpansion;
  }

  get size(): number {
    return this.values.size;
  }

  /** Collects the declarations of a DOCTYPE's internal subset, reporting each refused one. */
  declare(subset: string, problem: (message: string) => void): void {
    EXTERNAL_DECLARATION.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = EXTERNAL_DECLARATION.exec(subset)) !== null) {
      const name = m[1] ?? '';
      this.refuse(name, REFUSED_EXTERNAL);
    }
    DECLARATION.lastIndex = 0;
    while ((m = DECLARATION.exec(subset)) !== null) {
      const name = m[1] ?? '';
      const value = m[2] ?? m[3] ?? '';
      if (this.values.size >= MAX_ENTITIES) break;
      if (/[&%<]/.test(value) || value.length > MAX_ENTITY_VALUE) {
        this.refuse(name, value.length > MAX_ENTITY_VALUE ? REFUSED_TOO_LONG : REFUSED_NESTED);
        problem(`ignored entity "${name}"`);
        continue;
      }
      if (!this.values.has(name)) this.values.set(name, value);
    }
  }

  /** The value of a declared entity, or undefined when unknown or the expansion budget is spent. */
  expand(name: string): string | undefined {
    const value = this.values.get(name);
    if (value === undefined || this.budget < value.length) return undefined;
    this.budget -= value.length;
    return value;
  }

  /** Why a reference to `name` was not expanded, or null when it was never declared. */
  refusal(name: string): string | null {
    if (this.values.has(name)) return REFUSED_BUDGET;
    return this.refused.get(name) ?? null;
  }

  private refuse(name: string, reason: string): void {
    if (!this.refused.has(name) && this.refused.size < MAX_ENTITIES) this.refused.set(name, reason);
  }
}
