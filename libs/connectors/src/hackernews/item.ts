import { fromUnixSeconds } from '../text/dates.js';
import { htmlToText, plainText, truncateText } from '../text/html.js';
import type { NormalizedItem } from '../types.js';

/** The fields we use of a Firebase API item (https://github.com/HackerNews/API). */
export interface HackerNewsItem {
  id: number;
  type?: string;
  by?: string;
  time?: number;
  title?: string;
  url?: string;
  text?: string;
  score?: number;
  descendants?: number;
  deleted?: boolean;
  dead?: boolean;
}

export function hackerNewsItemUrl(id: number): string {
  return `https://news.ycombinator.com/item?id=${id}`;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Maps a story to a NormalizedItem; null for deleted, dead, non-story or malformed items. */
export function normalizeHackerNewsItem(raw: unknown): NormalizedItem | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const item = raw as Partial<HackerNewsItem>;
  if (typeof item.id !== 'number' || !Number.isSafeInteger(item.id)) return null;
  if (item.deleted === true || item.dead === true || item.type !== 'story') return null;
  const title = typeof item.title === 'string' ? plainText(item.title) : '';
  if (title === '') return null;
  const url = typeof item.url === 'string' && /^https?:\/\//i.test(item.url.trim()) ? item.url.trim() : hackerNewsItemUrl(item.id);
  const text = typeof item.text === 'string' ? htmlToText(item.text) : '';
  return {
    externalId: `hn:${item.id}`,
    url,
    title,
    summary: text === '' ? null : truncateText(text, 1000),
    author: typeof item.by === 'string' && item.by !== '' ? item.by : null,
    publishedAt: fromUnixSeconds(item.time),
    points: finiteOrNull(item.score),
    comments: finiteOrNull(item.descendants),
  };
}
