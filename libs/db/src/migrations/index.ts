import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';

/**
 * Migrations are listed here instead of read from a folder, so the same code works from
 * TypeScript sources and from the compiled `dist/` inside the Docker image.
 * Names sort in apply order; never rename or edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
};
