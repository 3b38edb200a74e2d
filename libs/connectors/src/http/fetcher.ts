import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { SourceError, describeError } from '../errors.js';
import { AddressPolicy, privateAddressMessage } from './address-guard.js';
import { contentCodings, readBody } from './body.js';
import { publisherHints } from './hints.js';
import { acquireHostGate, hostKey } from './host-gate.js';
import { PrivateAddressError, guardedLookup } from './lookup.js';
import { PermanentRedirects } from './redirects.js';
import { REDIRECT_STATUSES, statusFailure } from './status.js';
import type { FetchOptions, HttpResponse, SafeFetcher } from './types.js';

/** Names the project and a contact URL, so a publisher seeing our requests can reach us. */
export const DEFAULT_USER_AGENT = 'aharadar/0.2 (+https://github.com/aharadar/aharadar; self-hosted feed reader)';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Waiting for a host slot may take up to this many request timeouts before `host_busy`. */
export const GATE_WAIT_TIMEOUTS = 6;

/**
 * The whole-request timeout as a clock that can be paused: it counts DNS, connect, redirects,
 * headers and body, but not the time spent queued for a host slot (see gatedHop).
 */
class RequestClock {
  private remainingMs: number;
  private runningSince: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    budgetMs: number,
    private readonly onExpired: () => void,
  ) {
    this.remainingMs = budgetMs;
    this.resume();
  }

  pause(): void {
    if (this.runningSince === null) return;
    clearTimeout(this.timer);
    this.remainingMs -= performance.now() - this.runningSince;
    this.runningSince = null;
  }

  resume(): void {
    if (this.runningSince !== null) return;
    this.runningSince = performance.now();
    this.timer = setTimeout(this.onExpired, Math.max(0, this.remainingMs));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.runningSince = null;
  }
}

/** Parses a URL we are about to request; only http and https are allowed. */
export function parseHttpUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw new SourceError('bad_url', `invalid URL "${raw.slice(0, 200)}"`, { url: raw });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceError('bad_url', `unsupported URL scheme "${url.protocol.replace(/:$/, '')}" in ${url.href.slice(0, 200)} (only http and https)`, {
      url: url.href,
    });
  }
  if (url.hostname === '') throw new SourceError('bad_url', `URL has no host: ${raw.slice(0, 200)}`, { url: raw });
  return url;
}

/** The host of a URL without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Drops a body we don't need without leaving an unhandled stream error behind. */
async function discard(body: { dump(opts?: { limit: number }): Promise<void> }): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed anyway
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function findInCauses<T>(err: unknown, test: (e: unknown) => e is T): T | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (test(current)) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

function validateOptions(options: FetchOptions): void {
  const positive = (name: string, value: number, allowZero = false): void => {
    if (!Number.isFinite(value) || value < (allowZero ? 0 : 1)) {
      throw new SourceError('config', `fetch option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
    }
  };
  positive('timeoutMs', options.timeoutMs);
  positive('maxBytes', options.maxBytes);
  positive('maxRedirects', options.maxRedirects, true);
}

/**
 * An HTTP GET client for untrusted URLs: whole-request timeout, body cap (also after
 * decompression), manual redirects with per-hop checks, and an SSRF guard applied to the
 * address actually connected to.
 */
export function createSafeFetcher(options: FetchOptions): SafeFetcher {
  validateOptions(options);
  let policy: AddressPolicy;
  try {
    policy = new AddressPolicy(options.allowPrivate, options.allowedAddresses ?? []);
  } catch (err) {
    throw new SourceError('config', describeError(err));
  }
  const agent = new Agent({
    connect: { lookup: guardedLookup(policy), timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 4_000,
    connections: 32,
  });
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;

  /** One request hop: a redirect to follow, or the final response (body read, headers flattened). */
  type Hop = { kind: 'redirect' | 'final'; status: number; headers: Record<string, string>; body: Buffer };

  /**
   * Requests `url` once and reads or discards the body before returning, so the host slot held
   * for this hop can be given back as soon as it settles. Non-2xx statuses throw here.
   */
  async function requestHop(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<Hop> {
    const res = await request(url, { method: 'GET', headers, dispatcher: agent, signal });
    const status = res.statusCode;
    const responseHeaders = flattenHeaders(res.headers);
    const failure = statusFailure(status, responseHeaders, url.href);
    if (failure) {
      await discard(res.body);
      throw failure;
    }
    if (REDIRECT_STATUSES.has(status)) {
      await discard(res.body);
      return { kind: 'redirect', status, headers: responseHeaders, body: Buffer.alloc(0) };
    }
    if (status === 304) {
      await discard(res.body);
      return { kind: 'final', status, headers: responseHeaders, body: Buffer.alloc(0) };
    }
    const declared = responseHeaders['content-length'];
    if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > options.maxBytes) {
      await discard(res.body);
      throw new SourceError('too_large', `response larger than ${options.maxBytes} bytes (Content-Length ${declared.trim()})`, { url: url.href });
    }
    const codings = contentCodings(responseHeaders['content-encoding']);
    const body = await readBody(res.body, codings, options.maxBytes, url.href);
    if (codings.length > 0) {
      // The body handed out is decoded: drop headers that describe the encoded form.
      delete responseHeaders['content-encoding'];
      delete responseHeaders['content-length'];
    }
    return { kind: 'final', status, headers: responseHeaders, body };
  }

  /**
   * requestHop inside the host gate's slot, released exactly once whatever happens. Waiting for
   * the slot is not the publisher's time: the request clock is paused meanwhile, and the wait
   * has its own budget ({@link GATE_WAIT_TIMEOUTS} request timeouts), past which the fetch fails
   * as `host_busy` — our own congestion — instead of as the publisher's `timeout` (found by the
   * fault suite: 20 feeds on one host queued behind two slow ones all "timed out").
   */
  async function gatedHop(url: URL, headers: Record<string, string>, signal: AbortSignal, clock: RequestClock): Promise<Hop> {
    if (!options.hostGate) return requestHop(url, headers, signal);
    const key = hostKey(url);
    const waitBudgetMs = options.timeoutMs * GATE_WAIT_TIMEOUTS;
    const waitLimit = AbortSignal.timeout(waitBudgetMs);
    clock.pause();
    let release;
    try {
      release = await acquireHostGate(options.hostGate, key, AbortSignal.any([signal, waitLimit]));
    } catch (error) {
      if (waitLimit.aborted && !signal.aborted) {
        throw new SourceError('host_busy', `no free request slot for ${key} within ${waitBudgetMs} ms (FETCH_PER_HOST_CONCURRENCY requests to one host at once, across all workers)`, { url: url.href });
      }
      throw error;
    } finally {
      clock.resume();
    }
    try {
      return await requestHop(url, headers, signal);
    } finally {
      await release();
    }
  }

  async function get(rawUrl: string, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<HttpResponse> {
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    let callerAborted = false;
    const clock = new RequestClock(options.timeoutMs, () => {
      timedOut = true;
      controller.abort(new SourceError('timeout', `request timed out after ${options.timeoutMs} ms`, { url: rawUrl }));
    });
    const onCallerAbort = (): void => {
      callerAborted = true;
      controller.abort(new SourceError('connection', 'request aborted', { url: rawUrl }));
    };
    if (opts.signal?.aborted) onCallerAbort();
    else opts.signal?.addEventListener('abort', onCallerAbort, { once: true });

    const headers: Record<string, string> = {
      'user-agent': userAgent,
      accept: '*/*',
      ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      'accept-encoding': 'gzip, deflate, br',
    };

    let current: URL | null = null;
    try {
      current = parseHttpUrl(rawUrl);
      const visited = new Set<string>();
      const permanent = new PermanentRedirects();
      for (let redirects = 0; ; redirects++) {
        const host = bareHost(current);
        // IP literals never go through DNS, so the connect-time lookup would not see them.
        if (isIP(host) !== 0 && !policy.permits(host)) {
          throw new SourceError('private_address', privateAddressMessage(host, host), { url: current.href });
        }
        visited.add(current.href);
        if (controller.signal.aborted) throw controller.signal.reason;
        const hop = await gatedHop(current, headers, controller.signal, clock);

        if (hop.kind === 'final') {
          return {
            status: hop.status,
            url: current.href,
            headers: hop.headers,
            body: hop.body,
            durationMs: Math.round(performance.now() - started),
            notModified: hop.status === 304,
            permanentRedirect: permanent.url,
            hints: publisherHints(hop.headers),
          };
        }
        const { status } = hop;
        const location = hop.headers.location;
        if (!location) {
          const hints = publisherHints(hop.headers);
          throw new SourceError('http_status', `HTTP ${status} without a Location header from ${current.href}`, { url: current.href, httpStatus: status, hints });
        }
        const next = parseHttpUrl(location.trim(), current);
        if (visited.has(next.href)) {
          throw new SourceError('redirect_limit', `redirect loop: ${current.href} redirects back to ${next.href}`, { url: current.href, httpStatus: status });
        }
        if (redirects >= options.maxRedirects) {
          throw new SourceError('redirect_limit', `more than ${options.maxRedirects} redirects starting at ${rawUrl}`, { url: current.href, httpStatus: status });
        }
        permanent.follow(status, next.href);
        current = next;
      }
    } catch (err) {
      throw toSourceError(err, current?.href ?? rawUrl, current ? bareHost(current) : rawUrl, { timedOut, callerAborted, timeoutMs: options.timeoutMs });
    } finally {
      clock.stop();
      opts.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    get,
    async close() {
      await agent.close();
    },
  };
}

function toSourceError(err: unknown, url: string, host: string, state: { timedOut: boolean; callerAborted: boolean; timeoutMs: number }): SourceError {
  if (state.timedOut) return new SourceError('timeout', `request timed out after ${state.timeoutMs} ms`, { url, cause: err });
  if (state.callerAborted) return new SourceError('connection', 'request aborted', { url, cause: err });
  if (err instanceof SourceError) {
    if (err.url !== '') return err;
    return new SourceError(err.code, err.message, { url, httpStatus: err.httpStatus, cause: err.cause, ...(err.hints ? { hints: err.hints } : {}) });
  }
  const refused = findInCauses(err, (e): e is PrivateAddressError => e instanceof PrivateAddressError);
  if (refused) return new SourceError('private_address', refused.message, { url, cause: err });
  const code = errorCode(err);
  if (code !== undefined && DNS_CODES.has(code)) return new SourceError('dns', `DNS lookup failed for ${host} (${code})`, { url, cause: err });
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new SourceError('timeout', `request timed out after ${state.timeoutMs} ms (${code})`, { url, cause: err });
  if (code === 'ERR_INVALID_URL' || code === 'UND_ERR_INVALID_ARG') return new SourceError('bad_url', `invalid request for ${url}: ${describeError(err)}`, { url, cause: err });
  const detail = describeError(err);
  return new SourceError('connection', `connection to ${host} failed: ${detail}${code && !detail.includes(code) ? ` (${code})` : ''}`, { url, cause: err });
}
