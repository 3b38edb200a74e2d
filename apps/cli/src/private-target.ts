import { lookup } from 'node:dns/promises';

/** How long `source add` waits for DNS before giving up on the early warning (it is only advice). */
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * Whether a feed URL points at a private, loopback or link-local address, said at once by
 * `radar source add` (issue 13.13): without FETCH_ALLOW_PRIVATE every poll of it will be
 * refused by the SSRF guard, and the user would otherwise learn that only from the first
 * poll's error. Null when the host is public, or cannot be resolved now (the poll will say).
 */
export async function privateTargetWarning(rawUrl: string): Promise<string | null> {
  const { isPrivateAddress } = await import('@aharadar/connectors');
  const url = new URL(rawUrl);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: string[];
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), LOOKUP_TIMEOUT_MS).unref());
    addresses = (await Promise.race([lookup(host, { all: true, verbatim: true }), timeout])).map((a) => a.address);
  } catch {
    return null;
  }
  const blocked = addresses.filter((a) => isPrivateAddress(a));
  if (blocked.length === 0) return null;
  return `${host} resolves to ${blocked.join(', ')} (private, loopback or link-local): polls will be refused unless FETCH_ALLOW_PRIVATE=true`;
}
