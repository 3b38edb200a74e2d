import { pruneBatch, type Database } from '@aharadar/db';
import type { Logger } from '@aharadar/log';
import type { Kysely } from 'kysely';

/** Rows per delete statement: short statements, so polls and runs never queue behind a prune. */
export const PRUNE_BATCH_SIZE = 5_000;
/** One prune job stops after this long; the next hour's job continues where it stopped. */
export const PRUNE_BUDGET_MS = 30_000;

export interface PruneDeps {
  db: Kysely<Database>;
  retentionDays: number;
  log: Logger;
  now: () => Date;
}

export interface PruneReport {
  fetchResults: number;
  items: number;
  batches: number;
  complete: boolean;
}

/**
 * Processes the hourly `prune` job (DESIGN §6.1, retention): deletes fetch history and items
 * in no digest older than RETENTION_DAYS, in bounded batches until nothing is left or the time
 * budget is spent. Digests and their items are never touched (libs/db retention).
 */
export async function processPrune(deps: PruneDeps): Promise<PruneReport> {
  const cutoff = new Date(deps.now().getTime() - deps.retentionDays * 86_400_000);
  const started = Date.now();
  const report: PruneReport = { fetchResults: 0, items: 0, batches: 0, complete: false };
  while (Date.now() - started < PRUNE_BUDGET_MS) {
    const pruned = await pruneBatch(deps.db, { cutoff, batchSize: PRUNE_BATCH_SIZE });
    report.batches++;
    report.fetchResults += pruned.fetchResults;
    report.items += pruned.items;
    if (pruned.fetchResults < PRUNE_BATCH_SIZE && pruned.items < PRUNE_BATCH_SIZE) {
      report.complete = true;
      break;
    }
  }
  if (report.fetchResults + report.items > 0) deps.log.info({ cutoff, ...report }, 'retention: pruned old items and fetch history');
  return report;
}
