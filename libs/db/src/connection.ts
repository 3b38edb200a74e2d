import { Kysely } from 'kysely';
import { PostgresJSDialect } from 'kysely-postgres-js';
import postgres from 'postgres';
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
  const client = postgres(options.url, {
    max: options.maxConnections ?? 10,
    // Fail fast when Postgres is down so jobs are retried with backoff instead of hanging.
    connect_timeout: 10,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'aharadar' },
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: client }) });
  return {
    db,
    sql: client,
    async ping() {
      await client`select 1`;
    },
    async close() {
      // Kysely's destroy() skips a driver that never ran a query, yet ping() may have opened
      // a connection on the client: end the client too, or it keeps the process alive.
      await Promise.allSettled([db.destroy(), client.end({ timeout: 5 })]);
    },
  };
}
