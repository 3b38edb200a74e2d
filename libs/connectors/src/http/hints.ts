// The one definition lives with the code that interprets the hints (libs/scheduling, which
// depends on nothing of ours); the fetcher only fills it in from the response.
import type { PublisherHints } from '@aharadar/scheduling';

export type { PublisherHints };

/** No hints: what a response without any of those headers carries. */
export const NO_HINTS: PublisherHints = Object.freeze({ retryAfter: null, cacheControl: null, expires: null, date: null, ttlMinutes: null });

/**
 * What a publisher says about how often it wants to be polled, as the raw header strings.
 * Interpreting them (and clamping) is the poll planner's job; the fetcher only passes them on,
 * also with HTTP errors, so a 429's or 503's Retry-After reaches whoever plans the next poll.
 * Read from lower-cased response headers (repeated headers already joined).
 */
export function publisherHints(headers: Readonly<Record<string, string>>): PublisherHints {
  return {
    retryAfter: headers['retry-after'] ?? null,
    cacheControl: headers['cache-control'] ?? null,
    expires: headers.expires ?? null,
    date: headers.date ?? null,
    ttlMinutes: null,
  };
}
