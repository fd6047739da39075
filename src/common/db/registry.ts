/**
 * Which migrations belong to which service database, so `stratus manage <service> db sync`
 * and `db version` work for every service that registered its schema.
 * @module
 */
import { ensureDatabaseExists, openDatabase } from './open.js';
import { dbVersion, migrate, type DbVersion, type Migration } from './migrate.js';

const schemas = new Map<string, readonly Migration[]>();

/** Registers (or replaces) the migration set of a service database, e.g. `keystone`, `nova_api`. */
export function registerDbSchema(service: string, migrations: readonly Migration[]): void {
  schemas.set(service, migrations);
}

/** The migration set of a service database; throws naming the registered ones when unknown. */
export function getDbSchema(service: string): readonly Migration[] {
  const m = schemas.get(service);
  if (!m) throw new Error(`No database schema registered for ${service} (known: ${listDbSchemas().join(', ') || 'none'})`);
  return m;
}

export function listDbSchemas(): string[] {
  return [...schemas.keys()].sort();
}

/** `db sync`: creates the database if missing and applies the pending migrations. */
export async function dbSync(url: string, service: string): Promise<{ applied: string[] }> {
  const migrations = getDbSchema(service);
  await ensureDatabaseExists(url);
  const database = await openDatabase(url, { service });
  try {
    return await migrate(database, service, migrations);
  } finally {
    await database.close();
  }
}

export interface DbVersionInfo extends DbVersion {
  /** Registered migrations not applied yet. */
  pending: string[];
}

/** `db version`: what is applied and what is pending. */
export async function dbVersionCommand(url: string, service: string): Promise<DbVersionInfo> {
  const migrations = getDbSchema(service);
  const database = await openDatabase(url, { service });
  try {
    const v = await dbVersion(database, service);
    const done = new Set(v.applied);
    return { ...v, pending: migrations.map((m) => m.name).filter((n) => !done.has(n)) };
  } finally {
    await database.close();
  }
}
