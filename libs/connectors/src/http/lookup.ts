import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-guard.js';
import { privateAddressMessage } from './address-guard.js';

/** Raised inside the connect-time lookup when every resolved address is refused. */
export class PrivateAddressError extends Error {
  constructor(
    readonly address: string,
    readonly host: string,
  ) {
    super(privateAddressMessage(address, host));
    this.name = 'PrivateAddressError';
  }
}

/**
 * A `lookup` for net/tls.connect that resolves the host and drops addresses the policy refuses,
 * so the socket only ever connects to an address that was checked (no DNS-rebinding window).
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { family: options.family ?? 0, hints: options.hints, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const allowed = addresses.filter((a) => policy.permits(a.address));
      const first = allowed[0];
      if (!first) {
        const refused = addresses[0]?.address ?? 'unknown';
        callback(Object.assign(new PrivateAddressError(refused, hostname), { code: 'ERR_PRIVATE_ADDRESS' }), '', 0);
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}
