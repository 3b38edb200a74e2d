import type { PublisherHints } from './http/hints.js';

/** Why fetching or reading a source failed. Stable strings: they are stored with per-source health. */
export type FetchErrorCode =
  | 'timeout'
  | 'too_large'
  | 'private_address'
  | 'redirect_limit'
  | 'http_status'
  /** No slot to the host within the gate-wait budget: our own per-host limit, not the publisher. */
  | 'host_busy'
  /** HTTP 410: the publisher retired the feed; polling it again is pointless. */
  | 'gone'
  /** A bot challenge page (Cloudflare `cf-mitigated: challenge`) instead of the feed. */
  | 'bot_challenge'
  | 'dns'
  | 'connection'
  | 'bad_url'
  | 'decode'
  | 'parse'
  /** An HTML page where a feed was expected (usually the site's home page, not its feed). */
  | 'not_a_feed'
  | 'config';

/** The one error type connectors and the safe fetcher throw. `message` is one clear line. */
export class SourceError extends Error {
  readonly code: FetchErrorCode;
  readonly httpStatus: number | null;
  readonly url: string;
  /** The publisher's polling hints when the error came with an HTTP response (e.g. a 429's Retry-After). */
  readonly hints?: PublisherHints;

  constructor(code: FetchErrorCode, message: string, options: { url?: string; httpStatus?: number | null; hints?: PublisherHints; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SourceError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? null;
    this.url = options.url ?? '';
    if (options.hints !== undefined) this.hints = options.hints;
  }
}

export function isSourceError(err: unknown): err is SourceError {
  return err instanceof SourceError;
}

/** A short, single-line description of any thrown value. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim() || 'unknown error';
}
