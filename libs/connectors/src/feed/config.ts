import { expectObject, httpUrl, rejectUnknownKeys } from '../config-helpers.js';

export interface FeedConfig {
  /** The feed's http(s) URL. */
  url: string;
}

export function parseFeedConfig(json: unknown): FeedConfig {
  const obj = expectObject('feed', json);
  rejectUnknownKeys('feed', obj, ['url']);
  return { url: httpUrl('feed', 'url', obj.url) };
}
