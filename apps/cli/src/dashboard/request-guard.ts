import { isLoopbackHost } from '@aharadar/config';

/**
 * Browser-side attacks on a dashboard the operator has open (or can reach) on their machine.
 * Basic auth alone does not stop them: a browser attaches the saved credentials to requests
 * that any other site's page makes, and a dashboard without a password has none to attach.
 */

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `127.0.0.1:3000` -> `127.0.0.1`, `[::1]:3000` -> `::1`; undefined when it is no host. */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader.trim() === '') return undefined;
  try {
    const { hostname } = new URL(`http://${hostHeader.trim()}`);
    return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * A write (POST, PUT, DELETE, ...) sent by a page of another origin (CSRF): browsers send
 * `Origin` with every such request, so an `Origin` whose host:port is not the one the request
 * was addressed to (`Host`, or `X-Forwarded-Host` behind a reverse proxy) is refused. Requests
 * without `Origin` (curl, scripts) are not from a browser page and pass.
 */
export function isCrossSiteWrite(method: string, headers: { origin?: string | undefined; host?: string | undefined; forwardedHost?: string | undefined }): boolean {
  if (READ_METHODS.has(method.toUpperCase())) return false;
  if (headers.origin === undefined) return false;
  let originHost: string;
  try {
    originHost = new URL(headers.origin).host.toLowerCase();
  } catch {
    return true; // `Origin: null` (sandboxed frames, file:// pages) and garbage
  }
  const targets = [headers.host, ...(headers.forwardedHost?.split(',') ?? [])].map((h) => h?.trim().toLowerCase()).filter(Boolean);
  return !targets.includes(originHost);
}

/**
 * DNS rebinding: a site whose name is made to resolve to 127.0.0.1 would be "same origin" with
 * an unauthenticated loopback dashboard. Without a password, only requests addressed to a
 * loopback name or address (`localhost`, `127.0.0.1`, `[::1]`) are answered.
 */
export function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  const hostname = hostnameOf(hostHeader);
  return hostname !== undefined && isLoopbackHost(hostname);
}
