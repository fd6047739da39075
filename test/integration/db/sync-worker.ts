/**
 * Child process of migrate-processes.test.ts: registers a schema and runs `db sync` on the URL
 * given in argv, then prints what it applied as JSON. Several run at once against one database.
 */
import { registerDbSchema, dbSync } from '../../../src/common/db/registry.js';
import type { Migration } from '../../../src/common/db/migrate.js';
import { addIdColumn } from '../../../src/common/db/dialect.js';

const migrations: Migration[] = ['a', 'b', 'c', 'd'].map((t, i) => ({
  name: `00${i + 1}_${t}`,
  async up(db, dialect) {
    await addIdColumn(db.schema.createTable(`table_${t}`), dialect).addColumn('name', 'varchar(64)').execute();
    // slow enough that the other runners pile up behind the lock
    await new Promise((r) => setTimeout(r, 50));
    await db.insertInto(`table_${t}`).values({ name: t }).execute();
  },
}));

registerDbSchema('stratus_it', migrations);
const r = await dbSync(process.argv[2]!, 'stratus_it');
process.stdout.write(JSON.stringify(r));
