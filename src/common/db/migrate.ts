/**
 * Migration runner: one ordered migration set per service database, applied once each and
 * recorded in `stratus_migrations` (service, name, seq, applied_at) of that database.
 *
 * Each migration runs in its own transaction together with its record on SQLite and
 * PostgreSQL (transactional DDL). MySQL commits DDL implicitly, so there a migration runs
 * outside a transaction and is recorded when it finished. Concurrent runners (several
 * services starting at once) are serialized by an engine lock: GET_LOCK on MySQL, an
 * advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite, and each migration re-checks
 * that it is still pending under that lock.
 * @module
 */
import { sql, type Kysely } from 'kysely';
import type { Database, DialectName } from './connection.js';
import { datetimeType, now } from './dialect.js';

export interface Migration {
  /** Unique within the service, e.g. `001_initial`; the array order is the apply order. */
  name: string;
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

export const MIGRATIONS_TABLE = 'stratus_migrations';

export interface DbVersion {
  /** Name of the newest applied migration, null on an empty database. */
  current: string | null;
  /** Applied migrations, oldest first. */
  applied: string[];
}

async function ensureTable(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable(MIGRATIONS_TABLE)
    .ifNotExists()
    .addColumn('service', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('applied_at', datetimeType(dialect), (c) => c.notNull())
    .addPrimaryKeyConstraint(`${MIGRATIONS_TABLE}_pkey`, ['service', 'name'])
    .execute();
}

async function appliedRows(db: Kysely<any>, service: string): Promise<Array<{ name: string; seq: number }>> {
  return (await db
    .selectFrom(MIGRATIONS_TABLE)
    .select(['name', 'seq'])
    .where('service', '=', service)
    .orderBy('seq')
    .orderBy('name')
    .execute()) as Array<{ name: string; seq: number }>;
}

async function tableExists(db: Kysely<any>, dialect: DialectName): Promise<boolean> {
  const q =
    dialect === 'sqlite'
      ? sql`select 1 from sqlite_master where type = 'table' and name = ${MIGRATIONS_TABLE}`
      : dialect === 'mysql'
        ? sql`select 1 from information_schema.tables where table_schema = database() and table_name = ${MIGRATIONS_TABLE}`
        : sql`select 1 from information_schema.tables where table_schema = current_schema() and table_name = ${MIGRATIONS_TABLE}`;
  return (await q.execute(db)).rows.length > 0;
}

function checkMigrations(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (!m.name || m.name.length > 255) throw new Error(`Invalid migration name ${JSON.stringify(m.name)}`);
    if (seen.has(m.name)) throw new Error(`Duplicate migration name ${m.name}`);
    seen.add(m.name);
  }
}

async function withLock<T>(db: Kysely<any>, dialect: DialectName, service: string, fn: (conn: Kysely<any>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    const lockName = `stratus_migrate_${service}`.slice(0, 64);
    if (dialect === 'mysql') {
      const r = await sql<{ got: number }>`select get_lock(${lockName}, 120) as got`.execute(conn);
      if (Number(r.rows[0]?.got) !== 1) throw new Error(`Timed out waiting for the migration lock of ${service}`);
    } else if (dialect === 'postgres') {
      await sql`select pg_advisory_lock(hashtext(${lockName}))`.execute(conn);
    }
    try {
      return await fn(conn);
    } finally {
      if (dialect === 'mysql') await sql`select release_lock(${lockName})`.execute(conn);
      else if (dialect === 'postgres') await sql`select pg_advisory_unlock(hashtext(${lockName}))`.execute(conn);
    }
  });
}

/** Applies the pending migrations of `service`, in order. Returns the names it applied. */
export async function migrate(database: Database, service: string, migrations: readonly Migration[]): Promise<{ applied: string[] }> {
  checkMigrations(migrations);
  const { dialect } = database;
  return withLock(database.db, dialect, service, async (conn) => {
    await ensureTable(conn, dialect);
    const done = new Set((await appliedRows(conn, service)).map((r) => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      const apply = async (db: Kysely<any>): Promise<boolean> => {
        const rows = await appliedRows(db, service);
        if (rows.some((r) => r.name === m.name)) return false; // another runner got here first
        await m.up(db, dialect);
        const seq = rows.reduce((max, r) => Math.max(max, Number(r.seq)), 0) + 1;
        await db.insertInto(MIGRATIONS_TABLE).values({ service, name: m.name, seq, applied_at: now() }).execute();
        return true;
      };
      let ran: boolean;
      try {
        ran = dialect === 'mysql' ? await apply(conn) : await conn.transaction().execute(apply);
      } catch (e) {
        throw new Error(`Migration ${service}/${m.name} failed: ${(e as Error).message}`, { cause: e });
      }
      if (ran) applied.push(m.name);
    }
    return { applied };
  });
}

/** The migrations applied to `service`'s database. */
export async function dbVersion(database: Database, service: string): Promise<DbVersion> {
  if (!(await tableExists(database.db, database.dialect))) return { current: null, applied: [] };
  const applied = (await appliedRows(database.db, service)).map((r) => r.name);
  return { current: applied[applied.length - 1] ?? null, applied };
}
