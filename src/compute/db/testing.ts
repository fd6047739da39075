/**
 * In-memory SQLite databases for unit tests of the Nova DB layer.
 * @module
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { migrateApiDb } from './api-schema.js';
import { migrateCellDb } from './cell-schema.js';

export async function memoryDb(kind: 'api' | 'cell'): Promise<Database> {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  if (kind === 'api') await migrateApiDb(db, 'sqlite');
  else await migrateCellDb(db, 'sqlite');
  return {
    db, dialect: 'sqlite', url: 'sqlite://',
    transaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}
