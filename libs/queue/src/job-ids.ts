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

/**
 * A planned poll's job id: the feed and its claim's sequence number (`feeds.poll_seq`), both
 * from Postgres, so a planned poll enqueued twice — a duplicated tick, a reconcile — is one job,
 * and the next planned poll of the same feed is a different one.
 */
export function pollJobId(feedId: number, seq: number): string {
  return `poll-${feedId}-${seq}`;
}

/** Retention runs at most once an hour: the hour is the job id, so every tick of that hour adds the same job. */
export function pruneJobId(now: Date): string {
  return `prune-${Math.floor(now.getTime() / 3_600_000)}`;
}
