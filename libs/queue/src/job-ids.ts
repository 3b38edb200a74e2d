/**
 * Job ids are derived from ledger rows, so adding the same window twice is a no-op in BullMQ.
 * BullMQ reserves ':' in ids (it joins keys with it), hence '-'.
 */
export function windowJobId(windowId: number): string {
  return `window-${windowId}`;
}

/** Inverse of {@link windowJobId}; undefined for ids that are not ours. */
export function windowIdFromJobId(jobId: string): number | undefined {
  const match = /^window-(\d+)$/.exec(jobId);
  return match ? Number(match[1]) : undefined;
}

/** A manual tick (`radar tick`) gets its own id so it never replaces a scheduled one. */
export function manualTickJobId(now: Date): string {
  return `manual-tick-${now.getTime()}-${Math.random().toString(36).slice(2, 8)}`;
}
