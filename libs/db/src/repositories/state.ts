import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

const GLOBAL_PAUSE_KEY = 'global_pause';

export interface GlobalPause {
  paused: boolean;
  since: Date | null;
}

/**
 * The global pause lives in Postgres, not only in Redis: it must survive Redis losing its
 * data (invariant 5), and each tick re-applies it to the BullMQ queues from here.
 */
export async function readGlobalPause(db: Kysely<Database>): Promise<GlobalPause> {
  const row = await db.selectFrom('system_state').select(['value', 'updated_at']).where('key', '=', GLOBAL_PAUSE_KEY).executeTakeFirst();
  const paused = (row?.value as { paused?: boolean } | undefined)?.paused === true;
  return { paused, since: paused && row ? row.updated_at : null };
}

export async function writeGlobalPause(db: Kysely<Database>, paused: boolean, now: Date): Promise<void> {
  await sql`
    INSERT INTO system_state (key, value, updated_at) VALUES (${GLOBAL_PAUSE_KEY}, ${{ paused } as object}::jsonb, ${now})
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`.execute(db);
}
