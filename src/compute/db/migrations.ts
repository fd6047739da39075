/**
 * Migration sets of Nova's databases, registered with the shared runner:
 * `nova_api` (the API DB) and `nova` (every cell DB, cell0 included), as `nova-manage
 * api_db sync` / `db sync` name them.
 * @module
 */
import { registerDbSchema, type Migration } from '../../common/db/index.js';
import { migrateApiDb } from './api-schema.js';
import { migrateCellDb } from './cell-schema.js';

export const API_DB_MIGRATIONS: Migration[] = [{ name: '001_initial', up: (db, dialect) => migrateApiDb(db, dialect) }];
export const CELL_DB_MIGRATIONS: Migration[] = [{ name: '001_initial', up: (db, dialect) => migrateCellDb(db, dialect) }];

registerDbSchema('nova_api', API_DB_MIGRATIONS);
registerDbSchema('nova', CELL_DB_MIGRATIONS);
