/**
 * Small schema-building helpers so one migration runs on SQLite, MariaDB and PostgreSQL.
 * Datetimes are stored as ISO-8601 strings (sortable, identical on all three dialects);
 * booleans as 0/1 integers, as Nova's tinyint columns.
 * @module
 */
import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../../common/db/connection.js';

export type Col = 'id' | 'str' | 'str36' | 'text' | 'int' | 'bool' | 'dt' | 'float';
export type ColSpec = Record<string, Col | `${Col}!` | `${Col} unique` | `${Col}! unique`>;

/** Creates `name` with the given columns ('!' = NOT NULL) and Nova's timestamp/soft-delete columns. */
export async function createTable(
  db: Kysely<any>, dialect: DialectName, name: string, cols: ColSpec,
  opts: { softDelete?: boolean; timestamps?: boolean; unique?: string[][]; indexes?: string[][]; primaryKey?: string[] } = {},
): Promise<void> {
  let t: CreateTableBuilder<string, string> = db.schema.createTable(name).ifNotExists();
  const all: ColSpec = { ...cols };
  if (opts.timestamps !== false) Object.assign(all, { created_at: 'dt', updated_at: 'dt' });
  if (opts.softDelete) Object.assign(all, { deleted_at: 'dt', deleted: 'int' });
  for (const [col, specRaw] of Object.entries(all)) {
    const notNull = specRaw.includes('!');
    const unique = specRaw.includes('unique');
    const spec = specRaw.replace(/[! ].*$/, '') as Col;
    if (spec === 'id') {
      t = dialect === 'postgres'
        ? t.addColumn(col, 'serial', (c) => c.primaryKey())
        : t.addColumn(col, 'integer', (c) => c.primaryKey().autoIncrement());
      continue;
    }
    const type = spec === 'str' ? 'varchar(255)' : spec === 'str36' ? 'varchar(36)' : spec === 'text' ? 'text'
      : spec === 'int' || spec === 'bool' ? 'integer' : spec === 'float' ? 'double precision' : 'varchar(32)';
    t = t.addColumn(col, type as 'text', (c) => {
      let b = c;
      if (notNull) b = b.notNull();
      if (unique) b = b.unique();
      if (col === 'deleted') b = b.defaultTo(0);
      return b;
    });
  }
  if (opts.primaryKey) t = t.addPrimaryKeyConstraint(`${name}_pkey`, opts.primaryKey as never);
  for (const u of opts.unique ?? []) t = t.addUniqueConstraint(`uniq_${name}0${u.join('0')}`, u as never);
  await t.execute();
  for (const ix of opts.indexes ?? []) {
    await db.schema.createIndex(`${name}_${ix.join('_')}_idx`).ifNotExists().on(name).columns(ix).execute();
  }
}

/** Current time in the stored form. */
export function nowIso(): string {
  return new Date().toISOString();
}
