/**
 * better-sqlite3 behind Kysely's SqliteDialect, with the value conventions of dialect.ts:
 * booleans are bound as 1/0 and read back as booleans, Dates are bound as naive-UTC text and
 * datetime columns read back as Dates. Prepared statements are cached per SQL text.
 * Transactions start with BEGIN IMMEDIATE so two processes sharing a file queue on the write
 * lock (busy_timeout) instead of failing when a reader upgrades to a writer.
 * @module
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type QueryResult, type SqliteDatabase, type SqliteDialectConfig, type SqliteStatement } from 'kysely';
import { fromDbDatetime, toDbDatetime } from './dialect.js';
import { mapParameters } from './param-driver.js';

type Convert = (v: unknown) => unknown;

const toBool: Convert = (v) => (v === null || v === undefined ? v : v === 1 || v === 1n || v === '1' || v === 'true' || v === true);
const toDate: Convert = (v) => (typeof v === 'string' ? (fromDbDatetime(v) ?? v) : v);

function converterFor(declared: string | null): Convert | null {
  if (!declared) return null;
  const t = declared.toLowerCase();
  if (t === 'boolean' || t === 'bool') return toBool;
  if (t.startsWith('datetime') || t.startsWith('timestamp')) return toDate;
  return null;
}

function bindParams(params: readonly unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p instanceof Date ? toDbDatetime(p) : p));
}

class Statement implements SqliteStatement {
  /** Column converters, worked out once per statement (stmt.columns() was a hot spot per query). */
  private convs: Array<[string, Convert]> | null = null;
  private convColumns = -1;
  constructor(private readonly stmt: BetterSqlite3.Statement) {}

  get reader(): boolean {
    return this.stmt.reader;
  }

  private converters(): Array<[string, Convert]> {
    const out: Array<[string, Convert]> = [];
    for (const c of this.stmt.columns()) {
      const conv = converterFor(c.type);
      if (conv) out.push([c.name, conv]);
    }
    return out;
  }

  private convertRow(row: unknown, convs: Array<[string, Convert]>): unknown {
    const r = row as Record<string, unknown>;
    for (const [name, conv] of convs) if (name in r) r[name] = conv(r[name]);
    return r;
  }

  /** Cached converters; worked out again if the row shape changed (a `select *` after ALTER TABLE). */
  private cachedConverters(row: unknown): Array<[string, Convert]> {
    const n = row && typeof row === 'object' ? Object.keys(row).length : -1;
    if (!this.convs || n !== this.convColumns) {
      this.convs = this.converters();
      this.convColumns = n;
    }
    return this.convs;
  }

  all(parameters: readonly unknown[]): unknown[] {
    const rows = this.stmt.all(bindParams(parameters));
    if (!rows.length) return rows;
    const convs = this.cachedConverters(rows[0]);
    return convs.length ? rows.map((r) => this.convertRow(r, convs)) : rows;
  }

  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.stmt.run(bindParams(parameters));
  }

  /** Raw-mode converters: [column index, converter], worked out again if the column count changed. */
  private rawConvs: Array<[number, Convert]> | null = null;
  private rawColumns = -1;

  /**
   * Rows as arrays of column values in select order (better-sqlite3's raw mode) with the same
   * conversions as all(): large reads without one object per row.
   */
  allRaw(parameters: readonly unknown[]): unknown[][] {
    this.stmt.raw(true);
    let rows: unknown[][];
    try {
      rows = this.stmt.all(bindParams(parameters)) as unknown[][];
    } finally {
      this.stmt.raw(false);
    }
    if (!rows.length) return rows;
    if (!this.rawConvs || rows[0]!.length !== this.rawColumns) {
      this.rawConvs = [];
      this.stmt.columns().forEach((c, i) => {
        const conv = converterFor(c.type);
        if (conv) this.rawConvs!.push([i, conv]);
      });
      this.rawColumns = rows[0]!.length;
    }
    if (this.rawConvs.length) for (const r of rows) for (const [i, conv] of this.rawConvs) r[i] = conv(r[i]);
    return rows;
  }

  *iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
    const convs = this.converters();
    for (const row of this.stmt.iterate(bindParams(parameters))) yield convs.length ? this.convertRow(row, convs) : row;
  }
}

const CACHE_SIZE = 256;

/** The SqliteDatabase Kysely talks to: better-sqlite3 with conversions and a statement cache. */
class StratusSqliteDatabase implements SqliteDatabase {
  private readonly cache = new Map<string, Statement>();
  constructor(readonly raw: BetterSqlite3.Database) {}

  prepare(sqlText: string): SqliteStatement {
    let s = this.cache.get(sqlText);
    if (!s) {
      s = new Statement(this.raw.prepare(sqlText));
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sqlText, s);
    }
    return s;
  }

  close(): void {
    this.cache.clear();
    this.raw.close();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class StratusSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: SqliteDialectConfig & { database: StratusSqliteDatabase }) {
    super(cfg);
  }
  get handle(): StratusSqliteDatabase {
    return this.cfg.database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg);
  }
}

/** Opens (creating if needed) a SQLite file, or memory for ':memory:', as a Kysely dialect. */
export function sqliteDialect(file: string, busyTimeoutMs = 10_000): SqliteDialect {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const raw = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  if (file !== ':memory:') raw.pragma('journal_mode = WAL');
  raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma('synchronous = NORMAL');
  return new StratusSqliteDialect({ database: new StratusSqliteDatabase(raw) });
}

/** The handle behind each Kysely that openSqliteKysely made, for runDirect. */
const handles = new WeakMap<object, StratusSqliteDatabase>();

/** A Kysely on a SQLite file (or ':memory:') whose statements runDirect can also run. */
export function openSqliteKysely(file: string): Kysely<any> {
  const dialect = sqliteDialect(file) as StratusSqliteDialect;
  const db = new Kysely<any>({ dialect: mapParameters(dialect) });
  handles.set(db, dialect.handle);
  return db;
}

/**
 * Runs one compiled statement at once on the SQLite handle behind `db`, as Kysely's
 * SqliteConnection would (same statement cache, conversions and result shape), without
 * Kysely's connection hand-off: about twenty promises per statement, more than the statement
 * itself costs. `inTransaction` says the caller runs inside the transaction that is open (its
 * `trx`); a statement from outside one runs only while none is open. Returns undefined when it
 * may not run here (not SQLite, or a transaction holds the connection): use Kysely then.
 */
export function runDirect<R>(db: Kysely<any>, query: CompiledQuery, inTransaction: boolean): QueryResult<R> | undefined {
  const handle = handles.get(db);
  if (!handle || handle.raw.inTransaction !== inTransaction) return undefined;
  const stmt = handle.prepare(query.sql);
  if (stmt.reader) return { rows: stmt.all(query.parameters) as R[] };
  const { changes, lastInsertRowid } = stmt.run(query.parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/**
 * runDirect for a SELECT whose rows come back as arrays of column values in select order (the
 * same conversions), for callers that read thousands of rows and build their own records:
 * better-sqlite3 makes rows of 20 columns or more as dictionary-mode objects, which cost about
 * twice the arrays to build and are slower to read. Undefined when runDirect would be.
 */
export function runDirectRaw(db: Kysely<any>, query: CompiledQuery, inTransaction: boolean): unknown[][] | undefined {
  const handle = handles.get(db);
  if (!handle || handle.raw.inTransaction !== inTransaction) return undefined;
  const stmt = handle.prepare(query.sql) as Statement;
  if (!stmt.reader) return undefined;
  return stmt.allRaw(query.parameters);
}
