export { hackerNewsConnector, HN_CONCURRENCY } from './connector.js';
export type { HackerNewsConfig, HackerNewsList } from './config.js';
export { parseHackerNewsConfig, HN_LISTS, HN_DEFAULT_LIMIT, HN_MAX_LIMIT } from './config.js';
export type { HackerNewsItem } from './item.js';
export { normalizeHackerNewsItem, hackerNewsItemUrl } from './item.js';
