import { sql, type Kysely } from 'kysely';

/**
 * Candidate selection (DESIGN §6.3) starts from a topic's sources and takes their links seen
 * within the lookback. Without this index the planner either walks every link a source ever
 * had, or — worse, and what it picks when its statistics lag behind a busy ingest — every item
 * of every topic seen in the last 48 h, so each run cost grew with the whole system's volume
 * (found with `pnpm bench`, EXPLAIN ANALYZE of the candidate query).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX item_sources_source_seen_idx ON item_sources (source_id, first_seen_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS item_sources_source_seen_idx`.execute(db);
}
