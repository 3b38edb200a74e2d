import { Kysely, sql } from 'kysely';
import postgres from 'postgres';
import { SlotPool, slotPoolDialect } from './driver.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  url: string;
  /** Pool size. Workers need one per concurrent run plus one for the tick. */
  maxConnections?: number;
  /** Name shown in pg_stat_activity, to tell processes apart. */
  applicationName?: string;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** The raw postgres.js client, for the few places that need COPY-like bulk or LISTEN. */
  sql: postgres.Sql;
  /** Cheap reachability probe for /readyz: throws when Postgres does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a pooled connection. Nothing is sent until the first query. */
export function createDatabase(options: DatabaseOptions): DatabaseHandle {
  const clientOptions = {
    // Fail fast when Postgres is down so jobs are retried with backoff instead of hanging.
    connect_timeout: 10,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'aharadar' },
  };
  // Kysely runs on our own pool of single-connection clients, never on postgres.js'
  // reserve(): that one crashes the process or hangs when Postgres goes away (driver.ts).
  const pool = new SlotPool((onclose) => postgres(options.url, { ...clientOptions, max: 1, onclose }), options.maxConnections ?? 10);
  const db = new Kysely<Database>({ dialect: slotPoolDialect(pool) });
  // The raw client opens no connection until something uses it (tests, one-off scripts).
  const client = postgres(options.url, { ...clientOptions, max: options.maxConnections ?? 10 });
  return {
    db,
    sql: client,
    async ping() {
      // Through the same pool the work uses, so readiness reflects it.
      await sql`select 1`.execute(db);
    },
    async close() {
      // Kysely's destroy() skips a driver that never ran a query: end the pool and the raw
      // client ourselves too, or an open connection keeps the process alive.
      await Promise.allSettled([db.destroy(), pool.end(), client.end({ timeout: 5 })]);
    },
  };
}
