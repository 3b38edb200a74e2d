export { buildDigest, buildManualDigest, LATE_ITEM_LOOKBACK_MS, type DigestBuild, type DigestDeps } from './build-digest.js';
export { pollFeed, type PollDeps, type PollRequest, type PollResult } from './poll-feed.js';
export { ensureFresh, needsFreshnessPoll, FRESHNESS_WAIT_MS, type FeedLocks, type FreshnessDeps, type FreshnessOutcome } from './freshness.js';
export { feedIdentity, type FeedIdentity } from './feed-identity.js';
export { mapWithConcurrency } from './concurrency.js';
export { toItemInput } from './normalize.js';
export * from './rank.js';
export { addSource, type AddSourceInput } from './subscribe.js';
