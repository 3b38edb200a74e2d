import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_item_sources_recent_idx.js';
import * as m0003 from './0003_polled_feeds.js';

/**
 * Migrations are listed here instead of read from a folder, so the same code works from
 * TypeScript sources and from the compiled `dist/` inside the Docker image.
 * Names sort in apply order; never rename or edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_item_sources_recent_idx': m0002,
  '0003_polled_feeds': m0003,
};
