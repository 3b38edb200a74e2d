import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Rows deleted by one {@link pruneBatch}. */
export interface PrunedRows {
  fetchResults: number;
  items: number;
}

/**
 * One bounded step of retention (DESIGN §6.1): at most `batchSize` fetch-history rows older
 * than `cutoff`, and at most `batchSize` items first seen before `cutoff` that no digest shows
 * (their entries and claims go with them, by cascade). Digests and their items are never
 * touched. Small batches keep each statement short, so polls and runs never wait long behind
 * a prune; the caller repeats until a batch deletes less than it could.
 *
 * Items older than the retention are far outside any window's lookback (48 h), so pruning
 * never changes a digest still to be built. An undated entry still shown by its feed after
 * the retention is seen again as new: it is a candidate once more (documented in the README).
 */
export async function pruneBatch(db: Kysely<Database>, options: { cutoff: Date; batchSize: number }): Promise<PrunedRows> {
  const history = await sql`
    DELETE FROM fetch_results WHERE id IN (
      SELECT id FROM fetch_results WHERE fetched_at < ${options.cutoff} ORDER BY fetched_at LIMIT ${options.batchSize})`.execute(db);
  const items = await sql`
    DELETE FROM items WHERE id IN (
      SELECT i.id FROM items i
       WHERE i.first_seen_at < ${options.cutoff}
         AND NOT EXISTS (SELECT 1 FROM digest_items di WHERE di.item_id = i.id)
       ORDER BY i.first_seen_at
       LIMIT ${options.batchSize})`.execute(db);
  return { fetchResults: Number(history.numAffectedRows ?? 0n), items: Number(items.numAffectedRows ?? 0n) };
}
