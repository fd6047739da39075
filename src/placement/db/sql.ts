/**
 * Small SQL helpers placement's repositories share across SQLite, MariaDB and PostgreSQL.
 * @module
 */
import type { Compilable, Kysely, QueryResult, Transaction } from 'kysely';
import { isDuplicateKeyError } from '../../common/db/dialect.js';
import { runPrepared } from '../../common/db/prepared.js';
import type { Database, DialectName } from '../../common/db/connection.js';
import type { PlacementDB } from './schema.js';

export type Db = Kysely<PlacementDB> | Transaction<PlacementDB>;
export type PlacementDatabase = Database<PlacementDB>;

/** A timestamp value each driver accepts for a DATETIME column (oslo.db stores naive UTC). */
export function nowValue(_dialect: DialectName): Date {
  return new Date(); // openDatabase stores Dates as naive UTC on every engine
}

/** A row's timestamp as a Date (drivers return strings or Dates). */
export function toDate(v: string | Date | null | undefined): Date | null {
  if (v == null) return null;
  if (v instanceof Date) return v;
  return new Date(v.includes('T') ? v : `${v.replace(' ', 'T')}Z`);
}

/** True when `e` is a unique-constraint violation, whatever the driver (oslo.db DBDuplicateEntry). */
export function isDuplicateEntry(e: unknown): boolean {
  return isDuplicateKeyError(e);
}

/** Inserts and returns the new row's id (RETURNING on SQLite/PostgreSQL, insertId on MySQL). */
export async function insertReturningId<T extends keyof PlacementDB & string>(
  db: Db, dialect: DialectName, table: T, values: Record<string, unknown>,
): Promise<number> {
  if (dialect === 'mysql') {
    const r = await (db as Kysely<any>).insertInto(table).values(values).executeTakeFirstOrThrow();
    return Number(r.insertId);
  }
  const r = await (db as Kysely<any>).insertInto(table).values(values).returning('id').executeTakeFirstOrThrow();
  return Number((r as { id: number }).id);
}

/**
 * A hot statement compiled once per shape (`key`: whatever changes the SQL text, such as a list's
 * length) and run with `args` in its slots; on SQLite outside Kysely's connection hand-off.
 * `root` is the database's own Kysely when `db` is a transaction on it (omit it otherwise).
 */
export function prepared<R = Record<string, any>>(db: Db, key: string, args: readonly unknown[],
  build: (slots: readonly string[]) => Compilable, root?: Kysely<PlacementDB>): Promise<QueryResult<R>> {
  return runPrepared<R>((root ?? db) as Kysely<any>, db as Kysely<any>, `placement.${key}`, args, build);
}

/** Splits a list for IN (...) clauses, keeping every statement under the drivers' parameter limits. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
