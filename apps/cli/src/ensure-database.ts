import { unreachable } from './errors.js';

/** SQLSTATE: the database named in the URL does not exist / was created concurrently. */
const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The database named in a connection URL (its path), decoded. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name === '' ? 'postgres' : name;
}

/** The same server and credentials, but the `postgres` maintenance database. */
export function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

/**
 * Creates the database named in DATABASE_URL if it does not exist, so `radar migrate` on a
 * fresh machine (or the Docker `migrate` service against a bare Postgres) needs no manual
 * `createdb`. Only when connecting says the database is missing do we touch the server's
 * `postgres` database — a user without access to it can still migrate an existing database.
 * Returns true when it created the database.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { createDatabase } = await import('@aharadar/db');
  const { sql } = await import('kysely');
  const target = createDatabase({ url, maxConnections: 1, applicationName: 'aharadar-migrate' });
  try {
    await target.ping();
    return false;
  } catch (error) {
    if (codeOf(error) !== INVALID_CATALOG_NAME) throw unreachable('Postgres', url, error);
  } finally {
    await target.close();
  }
  const adminUrl = maintenanceUrl(url);
  const admin = createDatabase({ url: adminUrl, maxConnections: 1, applicationName: 'aharadar-migrate' });
  try {
    await sql`CREATE DATABASE ${sql.id(databaseName(url))}`.execute(admin.db);
    return true;
  } catch (error) {
    // Two `migrate` runs racing: the other one created it, which is all we wanted.
    if (codeOf(error) === DUPLICATE_DATABASE) return false;
    throw unreachable('Postgres', adminUrl, error);
  } finally {
    await admin.close();
  }
}
