export { feedConnector, FEED_MAX_ITEMS } from './connector.js';
export type { FeedConfig } from './config.js';
export { parseFeedConfig } from './config.js';
export { parseFeed, parseFeedDocument, toNormalizedItems, entryExternalId, SUMMARY_MAX_CHARS } from './parse.js';
export type { FeedDocument, FeedEntry, FeedFormat, ParsedFeed } from './model.js';
