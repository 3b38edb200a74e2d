import { SourceError } from './errors.js';
import { feedConnector } from './feed/index.js';
import { hackerNewsConnector } from './hackernews/index.js';
import type { Connector } from './types.js';

/**
 * Every source type, by its `type`. Adding a source type = one new folder under src/ exporting a
 * Connector, plus one line here.
 */
const all: readonly Connector[] = [feedConnector, hackerNewsConnector];

export const connectors: ReadonlyMap<string, Connector> = new Map(all.map((c) => [c.type, c]));

export function connectorTypes(): string[] {
  return [...connectors.keys()].sort();
}

/** The connector for a source type; throws SourceError('config') naming the known types. */
export function getConnector(type: string): Connector {
  const connector = connectors.get(type);
  if (!connector) {
    throw new SourceError('config', `unknown source type "${type}" (known: ${connectorTypes().join(', ')})`);
  }
  return connector;
}
