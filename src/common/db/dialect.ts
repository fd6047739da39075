/**
 * Every SQL dialect difference Stratus cares about, in one place, so migrations and
 * repositories are written once for SQLite, MariaDB/MySQL and PostgreSQL.
 *
 * Value conventions (enforced by the drivers openDatabase builds):
 * - datetime columns (`datetimeType`) hold naive UTC, as oslo.db does; write a `Date` (or
 *   `toDbDatetime()`), read a `Date` back on every engine;
 * - boolean columns (`'boolean'`) read back as `true`/`false` on every engine;
 * - JSON columns (`jsonType`) are text: write `toJson(v)`, read `fromJson(s)`;
 * - integers, bigints, counts and decimals read back as JS numbers.
 * @module
 */
import { sql, type ColumnDataType, type CreateTableBuilder, type Expression, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DialectName } from './connection.js';

export type { DialectName };
type Db = Kysely<any> | Transaction<any>;
type ColumnType = ColumnDataType | Expression<unknown>;

// ---- column types ----------------------------------------------------------------------

/** Adds an auto-increment integer primary key column. */
export function addIdColumn<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  dialect: DialectName,
  name = 'id',
): CreateTableBuilder<T, C | string> {
  if (dialect === 'postgres') return table.addColumn(name, 'serial', (c) => c.primaryKey());
  // SQLite needs exactly "integer primary key" for a rowid alias.
  return table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}

/** Column type for a naive-UTC datetime with sub-second precision. */
export function datetimeType(dialect: DialectName): ColumnType {
  if (dialect === 'mysql') return 'datetime(6)';
  if (dialect === 'postgres') return 'timestamp(6)';
  return 'datetime';
}

/** Column type for JSON documents (stored as text; MySQL's TEXT stops at 64 KiB). */
export function jsonType(dialect: DialectName): ColumnType {
  return dialect === 'mysql' ? sql`longtext` : 'text';
}

/** Column type for long free text. */
export function longTextType(dialect: DialectName): ColumnType {
  return dialect === 'mysql' ? sql`mediumtext` : 'text';
}

/** Column type for floating point numbers. */
export function floatType(dialect: DialectName): ColumnType {
  return dialect === 'sqlite' ? 'real' : 'double precision';
}

/** A literal for a boolean column default (`.defaultTo(booleanDefault(false))`). */
export function booleanDefault(value: boolean): RawBuilder<unknown> {
  // true/false keywords work on all three (SQLite >= 3.23).
  return value ? sql`true` : sql`false`;
}

/** Drops an index (MySQL needs the table name). */
export async function dropIndex(db: Db, dialect: DialectName, table: string, index: string): Promise<void> {
  const q = db.schema.dropIndex(index);
  await (dialect === 'mysql' ? q.on(table) : q).execute();
}

// ---- values -------------------------------------------------------------------------------

/** Current time (write it into datetime columns as is). */
export function now(): Date {
  return new Date();
}

/** The stored form of a datetime: `YYYY-MM-DD HH:MM:SS.mmm`, naive UTC (sorts as text on SQLite). */
export function toDbDatetime(d: Date | string | number): string {
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) throw new TypeError(`Invalid datetime: ${String(d)}`);
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** Parses a stored datetime (a Date already, or naive-UTC / ISO text) into a Date. */
export function fromDbDatetime(v: Date | string | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v.trim());
  if (!m) return null;
  const frac = m[3] ? m[3].slice(0, 4) : '';
  return new Date(`${m[1]}T${m[2]}${frac}${m[4] ?? 'Z'}`);
}

/** JSON text for a JSON column. */
export function toJson(v: unknown): string {
  return JSON.stringify(v ?? null);
}

/** A JSON column's value (text, or an object a driver already parsed). */
export function fromJson<T = unknown>(v: unknown): T | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return JSON.parse(v) as T;
  if (Buffer.isBuffer(v)) return JSON.parse(v.toString('utf8')) as T;
  return v as T;
}

// ---- statements ---------------------------------------------------------------------------

/**
 * INSERT, or UPDATE `updateColumns` (default: every column not in `conflictColumns`) when a
 * row with the same `conflictColumns` (a primary key or unique constraint) exists.
 */
export async function upsert(
  db: Db,
  dialect: DialectName,
  table: string,
  values: Record<string, unknown>,
  conflictColumns: readonly string[],
  updateColumns: readonly string[] = Object.keys(values).filter((k) => !conflictColumns.includes(k)),
): Promise<void> {
  const ins = db.insertInto(table).values(values);
  if (updateColumns.length === 0) {
    if (dialect === 'mysql') {
      // MySQL has no DO NOTHING: assign a conflict column to itself.
      const c = conflictColumns[0]!;
      await ins.onDuplicateKeyUpdate({ [c]: sql.ref(c) }).execute();
    } else await ins.onConflict((oc) => oc.columns(conflictColumns as string[]).doNothing()).execute();
    return;
  }
  if (dialect === 'mysql') {
    const set: Record<string, unknown> = {};
    for (const c of updateColumns) set[c] = sql`values(${sql.ref(c)})`;
    await ins.onDuplicateKeyUpdate(set).execute();
    return;
  }
  await ins
    .onConflict((oc) =>
      oc.columns(conflictColumns as string[]).doUpdateSet(() => {
        const set: Record<string, unknown> = {};
        for (const c of updateColumns) set[c] = sql.ref(`excluded.${c}`);
        return set;
      }),
    )
    .execute();
}

/** Inserts one row and returns its auto-increment id (RETURNING where there is one, insertId on MySQL). */
export async function insertReturningId(
  db: Db,
  dialect: DialectName,
  table: string,
  values: Record<string, unknown>,
  idColumn = 'id',
): Promise<number> {
  if (dialect === 'mysql') {
    const r = await db.insertInto(table).values(values).executeTakeFirstOrThrow();
    return Number(r.insertId);
  }
  const r = await db.insertInto(table).values(values).returning(sql.ref(idColumn).as('id')).executeTakeFirstOrThrow();
  return Number((r as { id: number | string }).id);
}

/** Affected row count of an UPDATE/DELETE result (compare-and-swap checks `=== 1`). */
export function affectedRows(r: { numUpdatedRows?: bigint; numDeletedRows?: bigint } | readonly { numUpdatedRows?: bigint; numDeletedRows?: bigint }[]): number {
  const list = Array.isArray(r) ? r : [r];
  return list.reduce((n: number, x) => n + Number(x.numUpdatedRows ?? x.numDeletedRows ?? 0n), 0);
}

// ---- errors -------------------------------------------------------------------------------

interface DriverError {
  code?: string;
  errno?: number;
  cause?: unknown;
}

const asDriverError = (e: unknown): DriverError | null => (e && typeof e === 'object' ? (e as DriverError) : null);

/** A unique or primary key violation (oslo.db DBDuplicateEntry). */
export function isDuplicateKeyError(e: unknown): boolean {
  const err = asDriverError(e);
  if (!err) return false;
  return (
    err.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    err.code === 'ER_DUP_ENTRY' ||
    err.errno === 1062 ||
    err.code === '23505'
  );
}

/** A deadlock or serialization failure; the transaction may be retried (oslo.db DBDeadlock). */
export function isDeadlockError(e: unknown): boolean {
  const err = asDriverError(e);
  if (!err) return false;
  return (
    err.code === 'ER_LOCK_DEADLOCK' ||
    err.errno === 1213 ||
    err.code === '40P01' ||
    err.code === '40001' ||
    err.code === 'SQLITE_BUSY' ||
    err.code === 'SQLITE_BUSY_SNAPSHOT' ||
    err.code === 'SQLITE_LOCKED'
  );
}

/** A foreign key violation (oslo.db DBReferenceError). */
export function isForeignKeyError(e: unknown): boolean {
  const err = asDriverError(e);
  if (!err) return false;
  return (
    err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    err.code === 'ER_NO_REFERENCED_ROW_2' ||
    err.code === 'ER_ROW_IS_REFERENCED_2' ||
    err.errno === 1452 ||
    err.errno === 1451 ||
    err.code === '23503'
  );
}

/** Runs `fn` again when it fails on a deadlock (oslo.db wrap_db_retry), up to `retries` times. */
export async function retryOnDeadlock<T>(fn: () => Promise<T>, retries = 5): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isDeadlockError(e) || attempt >= retries) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt) * Math.random()));
    }
  }
}
