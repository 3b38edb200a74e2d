import { SourceError } from '../errors.js';
import { publisherHints } from './hints.js';

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const NOT_MODIFIED = 304;
const GONE = 410;

/**
 * Cloudflare marks the challenge page it serves in place of the real response with this header
 * (https://developers.cloudflare.com/cloudflare-challenges/challenge-types/challenge-pages/detect-response/).
 */
const CHALLENGE_HEADER = 'cf-mitigated';
const CHALLENGE_VALUE = 'challenge';

/**
 * The error a response stands for, or null when it is usable (2xx, 304) or a redirect to follow.
 * Every error carries the publisher's hints, so a 429's or 503's Retry-After reaches the caller.
 * A bot challenge is recognised whatever the status: it is never the feed.
 */
export function statusFailure(status: number, headers: Readonly<Record<string, string>>, url: string): SourceError | null {
  const hints = publisherHints(headers);
  if (headers[CHALLENGE_HEADER]?.trim().toLowerCase() === CHALLENGE_VALUE) {
    return new SourceError(
      'bot_challenge',
      `bot challenge (Cloudflare) served instead of the feed from ${url} (HTTP ${status}; hint: the publisher blocks automated readers: ask them to allow this reader, or use another feed URL)`,
      { url, httpStatus: status, hints },
    );
  }
  if ((status >= 200 && status <= 299) || status === NOT_MODIFIED || REDIRECT_STATUSES.has(status)) return null;
  if (status === GONE) {
    return new SourceError('gone', `HTTP 410 Gone from ${url}: the publisher says this feed is gone for good`, { url, httpStatus: status, hints });
  }
  return new SourceError('http_status', `HTTP ${status} from ${url}`, { url, httpStatus: status, hints });
}
