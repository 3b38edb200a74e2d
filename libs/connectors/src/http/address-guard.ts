import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard's notion of "not a public address". Checked on every address we are about to
 * connect to (IP literals up front, host names on the resolved address at connect time).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Parses an IPv6 address (optionally with an embedded dotted quad) into eight 16-bit groups. */
function ipv6Groups(address: string): number[] | null {
  let text = (address.toLowerCase().split('%')[0] ?? '').trim();
  const tail: number[] = [];
  if (text.includes('.')) {
    const idx = text.lastIndexOf(':');
    const parts = text.slice(idx + 1).split('.').map((n) => (/^\d{1,3}$/.test(n) ? Number(n) : NaN));
    if (parts.length !== 4 || parts.some((n) => !(n >= 0 && n <= 255))) return null;
    const [a = 0, b = 0, c = 0, d = 0] = parts;
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, idx + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : NaN));
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if ([...head, ...rest].some((g) => Number.isNaN(g))) return null;
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length - tail.length;
    if (missing < 1) return null;
    return [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  }
  const all = [...head, ...tail];
  return all.length === 8 ? all : null;
}

/** The IPv4 address embedded in an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address. */
function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = g;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return v4(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002 && g1 !== undefined && g2 !== undefined) return v4(g1, g2); // 6to4
  return null;
}

/** True when `address` (an IP literal) is loopback, private, link-local or otherwise non-public. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const bare = address.split('%')[0] ?? address;
    if (blocked.check(bare, 'ipv6')) return true;
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return v4 === '0.0.0.0' ? true : blocked.check(v4, 'ipv4');
    return false;
  }
  // Not an IP literal: refuse rather than guess.
  return true;
}

/** An address check honouring allowPrivate and an explicit allow-list of addresses / CIDRs. */
export class AddressPolicy {
  private readonly allowList = new BlockList();
  private readonly hasAllowList: boolean;

  constructor(
    readonly allowPrivate: boolean,
    allowedAddresses: readonly string[] = [],
  ) {
    for (const entry of allowedAddresses) {
      const [addr = '', bits] = entry.trim().split('/');
      const family = isIP(addr);
      if (family === 0) throw new Error(`invalid allowed address "${entry}"`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`invalid allowed address "${entry}"`);
      }
      this.allowList.addSubnet(addr, prefix, type);
    }
    this.hasAllowList = allowedAddresses.length > 0;
  }

  /** True when connecting to this IP literal is allowed. */
  permits(address: string): boolean {
    if (this.allowPrivate) return true;
    if (!isPrivateAddress(address)) return true;
    if (!this.hasAllowList) return false;
    const family = isIP(address);
    return family !== 0 && this.allowList.check(address.split('%')[0] ?? address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export function privateAddressMessage(address: string, host: string): string {
  return `refused private address ${address} for host ${host} (set FETCH_ALLOW_PRIVATE=true to allow)`;
}
