import { getConnector } from '@aharadar/connectors';

/** A feed's identity: its type, its canonical configuration, and the key built from both. */
export interface FeedIdentity {
  type: string;
  config: object;
  /** Unique per polled feed (`feeds.key`): the same URL added to two topics is one feed. */
  key: string;
}

/**
 * The identity of a source configuration (DESIGN §6.1): type + canonical configuration.
 * - feed: `feed:<URL>` with the URL as WHATWG parses it (lower-case scheme and host, no default
 *   port, percent-encoding normalised) and without its fragment, which never reaches a server.
 *   Query parameters are kept: unlike an item's link, a feed URL's query often selects the feed.
 * - hackernews: `hackernews:<list>:<limit>`.
 * - any other type: its name and its configuration as JSON with sorted keys.
 * Migration 0003 computes the same keys in SQL for the sources it converts; keep them in step.
 * The configuration is validated by the connector first, so a key is never built from a
 * config the worker would reject.
 */
export function feedIdentity(type: string, rawConfig: unknown): FeedIdentity {
  const connector = getConnector(type);
  const config = connector.parseConfig(rawConfig) as object;
  if (type === 'feed') {
    const url = new URL((config as { url: string }).url);
    url.hash = '';
    return { type, config: { ...config, url: url.href }, key: `feed:${url.href}` };
  }
  if (type === 'hackernews') {
    const hn = config as { list: string; limit: number };
    return { type, config, key: `hackernews:${hn.list}:${hn.limit}` };
  }
  return { type, config, key: `${type}:${stableJson(config)}` };
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
