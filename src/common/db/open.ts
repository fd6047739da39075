/**
 * openDatabase: a `Database` for an OpenStack-style connection URL on SQLite (better-sqlite3),
 * MariaDB/MySQL (mysql2 pool) or PostgreSQL (pg pool), with the drivers set up so values read
 * back the same on all three (see dialect.ts). Also what devstack does before `db sync`:
 * create the database when it is missing; and dropping it again, for tests.
 * @module
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Kysely, MysqlDialect, PostgresDialect, type Dialect, type Transaction } from 'kysely';
import { createPool as createMysqlPool, createConnection as createMysqlConnection, type PoolOptions, type TypeCast } from 'mysql2';
import pg from 'pg';
import { withSpan } from '../journey/span.js';
import { getLogger } from '../log.js';
import { parseDbUrl, type Database, type DialectName, type ParsedDbUrl } from './connection.js';
import { fromDbDatetime } from './dialect.js';
import { mapParameters } from './param-driver.js';
import { openSqliteKysely } from './sqlite.js';

export interface OpenDatabaseOptions {
  /** Service the database belongs to (journey spans and logs). */
  service?: string;
  /** Connections in the pool (MySQL/PostgreSQL); oslo.db's max_pool_size. */
  poolSize?: number;
}

const log = getLogger('db');

/** A database name safe to put in CREATE/DROP DATABASE. */
function checkName(name: string | undefined): string {
  if (!name || !/^[A-Za-z0-9_$-]{1,64}$/.test(name)) throw new Error(`Invalid database name: ${JSON.stringify(name)}`);
  return name;
}

// ---- MySQL / MariaDB ----------------------------------------------------------------------

/** TINYINT(1) is MySQL's boolean: read it as true/false like the other engines. */
const mysqlTypeCast: TypeCast = (field, next) => {
  if (field.type === 'TINY' && field.length === 1) {
    const v = field.string();
    return v === null ? null : v === '1';
  }
  return next();
};

function mysqlOptions(u: ParsedDbUrl, withDatabase: boolean): PoolOptions {
  return {
    host: u.host,
    port: u.port,
    user: u.user || 'root',
    password: u.password || undefined,
    database: withDatabase ? u.database : undefined,
    charset: 'utf8mb4',
    timezone: 'Z', // DATETIME columns hold naive UTC
    decimalNumbers: true,
    typeCast: mysqlTypeCast,
  };
}

function mysqlDialect(u: ParsedDbUrl, poolSize: number): Dialect {
  const pool = createMysqlPool({ ...mysqlOptions(u, true), connectionLimit: poolSize, maxIdle: poolSize });
  pool.on('connection', (conn) => {
    // oslo.db's default sql_mode, and UTC for NOW()/CURRENT_TIMESTAMP. NO_AUTO_VALUE_ON_ZERO: an
    // explicit id 0 (Placement's VCPU class) is stored as 0, as on SQLite and PostgreSQL.
    conn.query("SET SESSION sql_mode = 'TRADITIONAL,NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00'");
    conn.on('error', (e: Error) => log.warn({ err: e.message }, 'mysql connection error'));
  });
  return new MysqlDialect({ pool });
}

// ---- PostgreSQL ---------------------------------------------------------------------------

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_TIMESTAMP = 1114;
const PG_DATE = 1082;

/** Type parsers of this pool only: int8/numeric as numbers, naive timestamps as UTC. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (v: string) => unknown {
    if (format === undefined || format === 'text') {
      if (oid === PG_INT8) return (v) => Number(v);
      if (oid === PG_NUMERIC) return (v) => Number(v);
      if (oid === PG_TIMESTAMP) return (v) => fromDbDatetime(v) ?? v;
      if (oid === PG_DATE) return (v) => v;
    }
    return pg.types.getTypeParser(oid, format ?? 'text') as (v: string) => unknown;
  },
};

function pgConfig(u: ParsedDbUrl, database: string | undefined): pg.ClientConfig {
  return {
    host: u.host,
    port: u.port,
    user: u.user || 'postgres',
    password: u.password || undefined,
    database,
    types: pgTypes as pg.CustomTypesConfig,
    options: '-c TimeZone=UTC',
  };
}

function postgresDialect(u: ParsedDbUrl, poolSize: number): Dialect {
  const pool = new pg.Pool({ ...pgConfig(u, u.database), max: poolSize });
  // An idle client that loses its server (restart, drop) must not take the process down.
  pool.on('error', (e) => log.warn({ err: e.message }, 'postgresql idle client error'));
  return new PostgresDialect({ pool });
}

// ---- open ---------------------------------------------------------------------------------

/**
 * SQLite files opened in this process, shared: better-sqlite3 is synchronous, so a second
 * handle waiting on the first one's write lock would block the event loop the first one
 * needs to finish. One handle per file, reference-counted, serializes them instead.
 */
const sharedSqlite = new Map<string, { db: Kysely<any>; refs: number }>();

function openSqlite(file: string): { db: Kysely<any>; release: () => Promise<void> } {
  if (file === ':memory:') {
    const db = openSqliteKysely(file);
    return { db, release: () => db.destroy() };
  }
  const key = path.resolve(file);
  let entry = sharedSqlite.get(key);
  if (!entry) sharedSqlite.set(key, (entry = { db: openSqliteKysely(key), refs: 0 }));
  entry.refs += 1;
  const e = entry;
  let released = false;
  return {
    db: e.db,
    release: async () => {
      if (released) return;
      released = true;
      e.refs -= 1;
      if (e.refs === 0) {
        sharedSqlite.delete(key);
        await e.db.destroy();
      }
    },
  };
}

class StratusDatabase<DB> implements Database<DB> {
  private readonly dbName: string;
  constructor(
    readonly db: Kysely<DB>,
    readonly dialect: DialectName,
    readonly url: string,
    private readonly service: string,
    parsed: ParsedDbUrl,
    private readonly release: () => Promise<void>,
  ) {
    this.dbName = parsed.database ?? parsed.path ?? '';
  }

  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return withSpan(
      { kind: 'db.transaction', name: this.dbName, service: this.service, attributes: { dialect: this.dialect, database: this.dbName } },
      () => this.db.transaction().execute(fn),
    );
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/** Opens a database from an OpenStack connection URL (the database must exist on MySQL/PostgreSQL). */
export async function openDatabase<DB = any>(url: string, opts: OpenDatabaseOptions = {}): Promise<Database<DB>> {
  const u = parseDbUrl(url);
  const poolSize = opts.poolSize ?? 5;
  const service = opts.service ?? u.database ?? 'db';
  if (u.dialect === 'sqlite') {
    const { db, release } = openSqlite(u.path!);
    return new StratusDatabase<DB>(db as Kysely<DB>, u.dialect, url, service, u, release);
  }
  const dialect: Dialect = u.dialect === 'mysql' ? mysqlDialect(u, poolSize) : postgresDialect(u, poolSize);
  const db = new Kysely<DB>({ dialect: mapParameters(dialect) });
  {
    // Fail here, with the URL's host and database, rather than at the first query.
    try {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    } catch (e) {
      await db.destroy().catch(() => {});
      throw new Error(`Cannot connect to ${u.dialect} database ${u.database} on ${u.host}:${u.port}: ${(e as Error).message}`, { cause: e });
    }
  }
  return new StratusDatabase<DB>(db, u.dialect, url, service, u, () => db.destroy());
}

/** Creates the database of `url` when it does not exist (SQLite: creates its directory). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const u = parseDbUrl(url);
  if (u.dialect === 'sqlite') {
    const d = await openDatabase(url);
    await d.close();
    return;
  }
  const name = checkName(u.database);
  if (u.dialect === 'mysql') {
    const conn = createMysqlConnection(mysqlOptions(u, false)).promise();
    try {
      // utf8mb4_bin: byte-wise comparison and order, as on SQLite and PostgreSQL (C collation)
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    } finally {
      await conn.end();
    }
    return;
  }
  const client = new pg.Client(pgConfig(u, 'postgres'));
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount) return;
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    } catch (e) {
      // another process created it first
      const code = (e as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw e;
    }
  } finally {
    await client.end();
  }
}

/** Drops the database of `url` (SQLite: deletes the file and its WAL). For tests. */
export async function dropDatabase(url: string): Promise<void> {
  const u = parseDbUrl(url);
  if (u.dialect === 'sqlite') {
    if (u.path !== ':memory:') for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(u.path + suffix, { force: true });
    return;
  }
  const name = checkName(u.database);
  if (u.dialect === 'mysql') {
    const conn = createMysqlConnection(mysqlOptions(u, false)).promise();
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await conn.end();
    }
    return;
  }
  const client = new pg.Client(pgConfig(u, 'postgres'));
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
