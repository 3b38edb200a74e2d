import { SourceError, describeError } from '../errors.js';
import type { HostGate } from './types.js';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** The key requests to one server share: lower-case host (IPv6 without brackets) + ':' + port. */
export function hostKey(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return `${host.toLowerCase()}:${url.port || (DEFAULT_PORTS[url.protocol] ?? '')}`;
}

/** A release that is called once and never lets a failing gate spoil a finished request. */
export type Release = () => Promise<void>;

/**
 * Waits for the gate's slot, giving up when `signal` aborts even if the gate ignores it. A slot
 * granted after we gave up is handed straight back, so every acquisition is released once.
 */
export function acquireHostGate(gate: HostGate, key: string, signal: AbortSignal): Promise<Release> {
  return new Promise<Release>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<() => Promise<void>>;
    try {
      pending = gate(key, signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (release) => {
        signal.removeEventListener('abort', onAbort);
        const once = onceQuietly(release, key);
        if (signal.aborted) void once(); // we already gave up: free the slot now
        else resolve(once);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? signal.reason : new SourceError('connection', `waiting for a request slot for ${key} failed: ${describeError(err)}`, { cause: err }));
      },
    );
  });
}

/**
 * Wraps a gate's release: runs it at most once and swallows its failure. By the time we release,
 * the response is in hand (or the request already failed for its own reason); a gate that cannot
 * release must expire its own leases rather than turn a fetched feed into an error.
 */
function onceQuietly(release: () => Promise<void>, key: string): Release {
  let called = false;
  return async () => {
    if (called) return;
    called = true;
    try {
      await release();
    } catch (err) {
      process.emitWarning(`host gate release for ${key} failed: ${describeError(err)}`, 'HostGateWarning');
    }
  };
}
