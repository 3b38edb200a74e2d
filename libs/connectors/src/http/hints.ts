/**
 * What a publisher says about how often it wants to be polled, as the raw header strings.
 * Interpreting them (and clamping) is the poll planner's job; the fetcher only passes them on,
 * also with HTTP errors, so a 429's or 503's Retry-After reaches whoever plans the next poll.
 */
export interface PublisherHints {
  /** `Retry-After`: seconds or an HTTP date. */
  retryAfter: string | null;
  cacheControl: string | null;
  expires: string | null;
  /** `Date`: the server's clock, to read `Expires` and `Retry-After` dates against. */
  date: string | null;
  /** RSS `<channel><ttl>` in minutes; set by the feed connector, always null from the fetcher. */
  ttlMinutes: number | null;
}

export const NO_HINTS: PublisherHints = Object.freeze({ retryAfter: null, cacheControl: null, expires: null, date: null, ttlMinutes: null });

/** Hints from lower-cased response headers (repeated headers already joined). */
export function publisherHints(headers: Readonly<Record<string, string>>): PublisherHints {
  return {
    retryAfter: headers['retry-after'] ?? null,
    cacheControl: headers['cache-control'] ?? null,
    expires: headers.expires ?? null,
    date: headers.date ?? null,
    ttlMinutes: null,
  };
}
