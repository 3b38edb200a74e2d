import { configError, expectObject, rejectUnknownKeys } from '../config-helpers.js';

export const HN_LISTS = ['top', 'new', 'best'] as const;
export type HackerNewsList = (typeof HN_LISTS)[number];

export interface HackerNewsConfig {
  list: HackerNewsList;
  /** How many stories from the head of the list (1..100, default 30). */
  limit: number;
}

export const HN_DEFAULT_LIMIT = 30;
export const HN_MAX_LIMIT = 100;

export function parseHackerNewsConfig(json: unknown): HackerNewsConfig {
  const obj = expectObject('hackernews', json);
  rejectUnknownKeys('hackernews', obj, ['list', 'limit']);
  const list = obj.list;
  if (typeof list !== 'string' || !(HN_LISTS as readonly string[]).includes(list)) {
    throw configError('hackernews', `"list" must be one of ${HN_LISTS.join(', ')}, got ${JSON.stringify(list) ?? 'nothing'}`);
  }
  let limit = HN_DEFAULT_LIMIT;
  if (obj.limit !== undefined) {
    if (typeof obj.limit !== 'number' || !Number.isInteger(obj.limit) || obj.limit < 1 || obj.limit > HN_MAX_LIMIT) {
      throw configError('hackernews', `"limit" must be an integer from 1 to ${HN_MAX_LIMIT}, got ${JSON.stringify(obj.limit)}`);
    }
    limit = obj.limit;
  }
  return { list: list as HackerNewsList, limit };
}
