export * from './schema.js';
export { createDatabase, type DatabaseHandle, type DatabaseOptions } from './connection.js';
export { migrateToLatest, type MigrationReport } from './migrate.js';
export * from './repositories/topics.js';
export * from './repositories/sources.js';
export * from './repositories/windows.js';
export * from './repositories/items.js';
export * from './repositories/digests.js';
export * from './repositories/state.js';
