import type { PublisherHints } from './hints.js';

/**
 * Waits for a slot to request `hostKey` ("host:port", lower case, IPv6 without brackets) and
 * resolves to the function that frees it. The fetcher calls it before every request hop and
 * calls the release exactly once when that hop's body is read or discarded, or the hop failed.
 * `signal` aborts when the whole request times out or the caller gives up: waiting for a slot
 * counts against the request's timeout. This is how requests per host are capped across workers.
 */
export type HostGate = (hostKey: string, signal: AbortSignal) => Promise<() => Promise<void>>;

export interface FetchOptions {
  /** Budget for the whole request: DNS, connect, redirects, headers and the full body. */
  timeoutMs: number;
  /** Largest body accepted, counted both on the wire and after decompression. */
  maxBytes: number;
  maxRedirects: number;
  /** Allow loopback, private, link-local and other non-public addresses (FETCH_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  userAgent?: string;
  /**
   * Addresses or CIDR ranges exempt from the private-address guard even when allowPrivate is
   * false (e.g. one known internal feed server). Empty by default.
   */
  allowedAddresses?: readonly string[];
  /** Politeness: a per-host slot to hold for each request hop (see HostGate). None by default. */
  hostGate?: HostGate;
}

export interface HttpResponse {
  status: number;
  /** Final URL after redirects. */
  url: string;
  /** Lower-cased header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Decompressed body; empty for 304. */
  body: Buffer;
  durationMs: number;
  notModified: boolean;
  /**
   * When the chain of redirects began with permanent ones (301/308), the URL the last of those
   * pointed to: the URL to store from now on. Null without redirects or when the first was
   * temporary (302/303/307); a temporary hop later in the chain ends the permanent part.
   */
  permanentRedirect: string | null;
  /** The publisher's polling hints from the final response's headers. */
  hints: PublisherHints;
}

export interface SafeFetcher {
  get(url: string, opts?: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<HttpResponse>;
  close(): Promise<void>;
}
