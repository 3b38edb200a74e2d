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
}

export interface SafeFetcher {
  get(url: string, opts?: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<HttpResponse>;
  close(): Promise<void>;
}
