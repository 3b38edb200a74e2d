export { buildDigest, buildManualDigest, LATE_ITEM_LOOKBACK_MS, type DigestBuild } from './build-digest.js';
export { ingestSources, type IngestDeps, type IngestSummary, type SourceOutcome } from './ingest.js';
export { mapWithConcurrency } from './concurrency.js';
export { toItemInput } from './normalize.js';
export * from './rank.js';
