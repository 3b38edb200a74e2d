import { createHash } from 'node:crypto';
import { canonicalUrl, canonicalUrlHash, type NormalizedItem } from '@aharadar/connectors';
import type { ItemInput } from '@aharadar/db';

/** Titles and summaries are capped so one hostile feed can't bloat the items table. */
export const MAX_TITLE_CHARS = 500;
export const MAX_SUMMARY_CHARS = 2_000;
export const MAX_URL_CHARS = 2_048;

/**
 * Turns a connector's item into the row we store. The dedupe key is the canonical URL's
 * hash; an item without a URL is keyed by (feed, external id) instead — prefixed so the
 * two key spaces can never collide.
 */
export function toItemInput(feedId: number, item: NormalizedItem): ItemInput {
  const url = item.url && item.url.length <= MAX_URL_CHARS ? item.url : null;
  const canonical = url ? canonicalUrl(url) : null;
  const key = canonical ? canonicalUrlHash(canonical) : `src-${createHash('sha256').update(`feed-${feedId}\u0000${item.externalId}`).digest('hex')}`;
  return {
    externalId: item.externalId.slice(0, 1_000),
    url,
    canonicalUrl: canonical,
    urlHash: key,
    title: (item.title || url || '(untitled)').slice(0, MAX_TITLE_CHARS),
    summary: item.summary ? item.summary.slice(0, MAX_SUMMARY_CHARS) : null,
    author: item.author ? item.author.slice(0, 200) : null,
    publishedAt: item.publishedAt && !Number.isNaN(item.publishedAt.getTime()) ? item.publishedAt : null,
    points: finiteInt(item.points),
    comments: finiteInt(item.comments),
  };
}

function finiteInt(value: number | null): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Math.round(value)));
}
