/**
 * One set of repository cases run on SQLite, MariaDB and PostgreSQL: migrations, CRUD, unique
 * and foreign key violations, rollback, compare-and-swap under concurrency, JSON, datetimes,
 * booleans, numbers, upsert and pagination order.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { ensureDatabaseExists, openDatabase, type Database } from '../../../src/common/db/connection.js';
import {
  addIdColumn,
  affectedRows,
  booleanDefault,
  datetimeType,
  floatType,
  fromJson,
  insertReturningId,
  isDeadlockError,
  isDuplicateKeyError,
  isForeignKeyError,
  jsonType,
  now,
  retryOnDeadlock,
  toJson,
  upsert,
} from '../../../src/common/db/dialect.js';
import { dbVersion, migrate, type Migration } from '../../../src/common/db/migrate.js';
import { addSpanSink, type Span } from '../../../src/common/journey/span.js';
import { engines } from './engines.js';

const migrations: Migration[] = [
  {
    name: '001_instances',
    async up(db, dialect) {
      await addIdColumn(db.schema.createTable('instances'), dialect)
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('hostname', 'varchar(255)')
        .addColumn('vm_state', 'varchar(255)', (c) => c.notNull())
        .addColumn('task_state', 'varchar(255)')
        .addColumn('locked', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false)))
        .addColumn('metadata', jsonType(dialect))
        .addColumn('memory_mb', 'bigint')
        .addColumn('ratio', floatType(dialect))
        .addColumn('created_at', datetimeType(dialect), (c) => c.notNull())
        .addColumn('updated_at', datetimeType(dialect))
        .addUniqueConstraint('uniq_instances0uuid', ['uuid'])
        .execute();
      await db.schema.createIndex('instances_created_at_idx').on('instances').column('created_at').execute();
    },
  },
  {
    name: '002_actions',
    async up(db, dialect) {
      await addIdColumn(db.schema.createTable('instance_actions'), dialect)
        .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull().references('instances.uuid').onDelete('cascade'))
        .addColumn('action', 'varchar(255)', (c) => c.notNull())
        .execute();
    },
  },
];

type Row = Record<string, unknown>;
const all = await engines();

for (const engine of all) {
  void describe(`db conformance: ${engine.name}`, { skip: engine.skip || undefined }, () => {
    let database: Database;
    let db: Kysely<any>;
    let seq = 0;
    const uuid = (): string => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
    const instance = (over: Row = {}): Row => ({ uuid: uuid(), vm_state: 'active', created_at: now(), ...over });

    before(async () => {
      database = await openDatabase(await engine.create(), { service: 'nova', poolSize: 4 });
      db = database.db;
      assert.deepEqual(await migrate(database, 'nova', migrations), { applied: ['001_instances', '002_actions'] });
    });
    after(async () => {
      await database?.close();
      await engine.cleanup();
    });

    void test('migrations are idempotent and versioned', async () => {
      assert.deepEqual(await migrate(database, 'nova', migrations), { applied: [] });
      assert.deepEqual(await dbVersion(database, 'nova'), { current: '002_actions', applied: ['001_instances', '002_actions'] });
      const extra: Migration = {
        name: '003_column',
        async up(d) {
          await d.schema.alterTable('instance_actions').addColumn('message', 'text').execute();
        },
      };
      assert.deepEqual(await migrate(database, 'nova', [...migrations, extra]), { applied: ['003_column'] });
      const broken: Migration = { name: '004_broken', async up() { throw new Error('nope'); } };
      await assert.rejects(migrate(database, 'nova', [...migrations, extra, broken]), /nova\/004_broken failed: nope/);
      assert.equal((await dbVersion(database, 'nova')).current, '003_column');
    });

    void test('CRUD with insertReturningId', async () => {
      const id = await insertReturningId(db, database.dialect, 'instances', instance({ hostname: 'vm1' }));
      const id2 = await insertReturningId(db, database.dialect, 'instances', instance({ hostname: 'vm2' }));
      assert.ok(Number.isInteger(id) && id2 > id);
      const row = await db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.hostname, 'vm1');
      assert.equal(row.locked, false);
      const upd = await db.updateTable('instances').set({ hostname: 'renamed', updated_at: now() }).where('id', '=', id).executeTakeFirst();
      assert.equal(affectedRows(upd), 1);
      assert.equal((await db.selectFrom('instances').select('hostname').where('id', '=', id).executeTakeFirstOrThrow()).hostname, 'renamed');
      const del = await db.deleteFrom('instances').where('id', 'in', [id, id2]).executeTakeFirst();
      assert.equal(affectedRows(del), 2);
      assert.equal(await db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst(), undefined);
    });

    void test('unique and foreign key violations are recognised', async () => {
      const u = uuid();
      await db.insertInto('instances').values(instance({ uuid: u })).execute();
      const dup = await db.insertInto('instances').values(instance({ uuid: u })).execute().catch((e: unknown) => e);
      assert.ok(isDuplicateKeyError(dup), `not a duplicate key error: ${String(dup)}`);
      assert.ok(!isForeignKeyError(dup));
      const fk = await db.insertInto('instance_actions').values({ instance_uuid: uuid(), action: 'create' }).execute().catch((e: unknown) => e);
      assert.ok(isForeignKeyError(fk), `not a foreign key error: ${String(fk)}`);
      assert.ok(!isDuplicateKeyError(fk));
      // ON DELETE CASCADE works (SQLite needs foreign_keys=ON)
      await db.insertInto('instance_actions').values({ instance_uuid: u, action: 'create' }).execute();
      await db.deleteFrom('instances').where('uuid', '=', u).execute();
      assert.equal((await db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', u).execute()).length, 0);
    });

    void test('a transaction that throws is rolled back entirely, and records an error span', async () => {
      const spans: Span[] = [];
      const remove = addSpanSink({ write: (s) => spans.push(s) });
      const a = uuid();
      const b = uuid();
      try {
        await assert.rejects(
          database.transaction(async (trx) => {
            await trx.insertInto('instances').values(instance({ uuid: a })).execute();
            await trx.insertInto('instance_actions').values({ instance_uuid: a, action: 'create' }).execute();
            await trx.insertInto('instances').values(instance({ uuid: b })).execute();
            throw new Error('abort');
          }),
          /abort/,
        );
        // a failing statement aborts too (and PostgreSQL's aborted transaction state is cleared)
        await assert.rejects(
          database.transaction(async (trx) => {
            await trx.insertInto('instances').values(instance({ uuid: a })).execute();
            await trx.insertInto('instances').values(instance({ uuid: a })).execute();
          }),
          (e) => isDuplicateKeyError(e),
        );
      } finally {
        remove();
      }
      const left = await db.selectFrom('instances').select('uuid').where('uuid', 'in', [a, b]).execute();
      assert.deepEqual(left, []);
      const committed = await database.transaction(async (trx) => {
        await trx.insertInto('instances').values(instance({ uuid: a })).execute();
        await trx.insertInto('instance_actions').values({ instance_uuid: a, action: 'create' }).execute();
        return 'ok';
      });
      assert.equal(committed, 'ok');
      assert.equal((await db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', a).execute()).length, 1);
      const tx = spans.filter((s) => s.kind === 'db.transaction');
      assert.equal(tx.length, 2);
      assert.ok(tx.every((s) => s.service === 'nova' && s.status === 'error' && s.attributes['dialect'] === engine.name));
    });

    void test('concurrent compare-and-swap updates: exactly one wins', async () => {
      const u = uuid();
      await db.insertInto('instances').values(instance({ uuid: u, task_state: null })).execute();
      const attempts = ['deleting', 'rebooting', 'resize_prep', 'pausing', 'suspending', 'rebuilding'];
      const results = await Promise.all(
        attempts.map((task) =>
          database.transaction(async (trx) => {
            const r = await trx
              .updateTable('instances')
              .set({ task_state: task, updated_at: now() })
              .where('uuid', '=', u)
              .where('task_state', 'is', null)
              .executeTakeFirst();
            // hold the row lock a little so the others really overlap on server engines
            await new Promise((res) => setTimeout(res, 20));
            return affectedRows(r) === 1 ? task : null;
          }),
        ),
      );
      const winners = results.filter((r) => r !== null);
      assert.equal(winners.length, 1, `winners: ${JSON.stringify(results)}`);
      const row = await db.selectFrom('instances').select('task_state').where('uuid', '=', u).executeTakeFirstOrThrow();
      assert.equal(row.task_state, winners[0]);
    });

    void test('JSON columns round-trip, including large documents and unicode', async () => {
      const doc = { numa: { cells: [{ id: 0, cpus: [0, 1], memory: 2048 }] }, name: 'ünïcødé ☁', nested: null, flag: true };
      const big = { blob: 'x'.repeat(100_000) };
      const a = uuid();
      const b = uuid();
      await db.insertInto('instances').values([instance({ uuid: a, metadata: toJson(doc) }), instance({ uuid: b, metadata: toJson(big) })]).execute();
      const rows = await db.selectFrom('instances').select(['uuid', 'metadata']).where('uuid', 'in', [a, b]).orderBy('uuid').execute();
      assert.deepEqual(fromJson(rows[0]!.metadata), doc);
      assert.deepEqual(fromJson(rows[1]!.metadata), big);
    });

    void test('datetimes: write Date, read Date, compare and order in SQL', async () => {
      const t0 = new Date('2026-03-01T10:00:00.123Z');
      const t1 = new Date('2026-03-01T10:00:01.000Z');
      const t2 = new Date('2026-03-02T00:00:00.999Z');
      const ids: string[] = [];
      for (const t of [t1, t2, t0]) {
        const u = uuid();
        ids.push(u);
        await db.insertInto('instances').values(instance({ uuid: u, created_at: t, hostname: 'dt' })).execute();
      }
      const rows = await db.selectFrom('instances').select(['created_at', 'updated_at']).where('hostname', '=', 'dt').orderBy('created_at').execute();
      assert.ok(rows[0]!.created_at instanceof Date);
      assert.deepEqual(rows.map((r) => (r.created_at as Date).toISOString()), [t0, t1, t2].map((t) => t.toISOString()));
      assert.equal(rows[0]!.updated_at, null);
      const after = await db.selectFrom('instances').select('created_at').where('hostname', '=', 'dt').where('created_at', '>', t1).execute();
      assert.deepEqual(after.map((r) => (r.created_at as Date).toISOString()), [t2.toISOString()]);
      const between = await db
        .selectFrom('instances')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('hostname', '=', 'dt')
        .where('created_at', '>=', t0)
        .where('created_at', '<', t2)
        .executeTakeFirstOrThrow();
      assert.equal(between.n, 2);
      const before = Date.now();
      const u = uuid();
      await db.insertInto('instances').values(instance({ uuid: u })).execute();
      const created = (await db.selectFrom('instances').select('created_at').where('uuid', '=', u).executeTakeFirstOrThrow()).created_at as Date;
      assert.ok(Math.abs(created.getTime() - before) < 60_000, 'now() is stored as UTC');
    });

    void test('booleans and numbers read back the same on every engine', async () => {
      const a = uuid();
      const b = uuid();
      await db.insertInto('instances').values([
        instance({ uuid: a, locked: true, memory_mb: 2 ** 40, ratio: 1.5, hostname: 'num' }),
        instance({ uuid: b, locked: false, memory_mb: 512, ratio: 16, hostname: 'num' }),
      ]).execute();
      const rows = await db.selectFrom('instances').select(['uuid', 'locked', 'memory_mb', 'ratio']).where('hostname', '=', 'num').orderBy('memory_mb', 'desc').execute();
      assert.deepEqual(rows, [
        { uuid: a, locked: true, memory_mb: 2 ** 40, ratio: 1.5 },
        { uuid: b, locked: false, memory_mb: 512, ratio: 16 },
      ]);
      const locked = await db.selectFrom('instances').select('uuid').where('hostname', '=', 'num').where('locked', '=', true).execute();
      assert.deepEqual(locked, [{ uuid: a }]);
      const agg = await db
        .selectFrom('instances')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('memory_mb').as('total'), eb.fn.max('ratio').as('top')])
        .where('hostname', '=', 'num')
        .executeTakeFirstOrThrow();
      assert.deepEqual(agg, { n: 2, total: 2 ** 40 + 512, top: 16 });
    });

    void test('upsert inserts, then updates the chosen columns on conflict', async () => {
      const u = uuid();
      await upsert(db, database.dialect, 'instances', instance({ uuid: u, hostname: 'first', vm_state: 'building' }), ['uuid'], ['hostname']);
      await upsert(db, database.dialect, 'instances', instance({ uuid: u, hostname: 'second', vm_state: 'active' }), ['uuid'], ['hostname']);
      let rows = await db.selectFrom('instances').select(['hostname', 'vm_state']).where('uuid', '=', u).execute();
      assert.deepEqual(rows, [{ hostname: 'second', vm_state: 'building' }]);
      await upsert(db, database.dialect, 'instances', instance({ uuid: u, hostname: 'third' }), ['uuid'], []);
      rows = await db.selectFrom('instances').select(['hostname', 'vm_state']).where('uuid', '=', u).execute();
      assert.deepEqual(rows, [{ hostname: 'second', vm_state: 'building' }]);
    });

    void test('pagination: sort keys, marker and limit give the same pages everywhere; text orders byte-wise', async () => {
      const names = ['b', 'B', 'a', 'A', '_x', 'z1', 'z10', 'z2', 'é'];
      const t = new Date('2026-05-05T05:05:05.000Z');
      for (const n of names) await db.insertInto('instances').values(instance({ hostname: `pg-${n}`, created_at: t, vm_state: 'page' })).execute();
      const byName = await db.selectFrom('instances').select('hostname').where('vm_state', '=', 'page').orderBy('hostname').execute();
      assert.deepEqual(byName.map((r) => r.hostname), ['pg-A', 'pg-B', 'pg-_x', 'pg-a', 'pg-b', 'pg-z1', 'pg-z10', 'pg-z2', 'pg-é']);
      // nova-style paging: (created_at desc, id desc) with a marker row
      const page = async (marker: Row | null, limit: number): Promise<Row[]> => {
        let q = db.selectFrom('instances').select(['id', 'created_at', 'hostname']).where('vm_state', '=', 'page');
        if (marker) {
          q = q.where((eb) =>
            eb.or([eb('created_at', '<', marker.created_at as Date), eb.and([eb('created_at', '=', marker.created_at as Date), eb('id', '<', marker.id as number)])]),
          );
        }
        return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      };
      const seen: string[] = [];
      let marker: Row | null = null;
      for (;;) {
        const rows = await page(marker, 4);
        seen.push(...rows.map((r) => r.hostname as string));
        if (rows.length < 4) break;
        marker = rows[rows.length - 1]!;
      }
      assert.deepEqual(seen, names.map((n) => `pg-${n}`).reverse());
      const offset = await db.selectFrom('instances').select('hostname').where('vm_state', '=', 'page').orderBy('id').limit(3).offset(3).execute();
      assert.deepEqual(offset.map((r) => r.hostname), ['pg-A', 'pg-_x', 'pg-z1']);
    });

    void test('retryOnDeadlock reruns a transaction that lost a deadlock', { skip: engine.name === 'sqlite' ? 'SQLite serializes writers; it cannot deadlock' : undefined }, async () => {
      const a = uuid();
      const b = uuid();
      await db.insertInto('instances').values([instance({ uuid: a }), instance({ uuid: b })]).execute();
      let deadlocks = 0;
      const both = (first: string, second: string) =>
        retryOnDeadlock(async () => {
          try {
            await database.transaction(async (trx) => {
              await trx.updateTable('instances').set({ hostname: first }).where('uuid', '=', first).execute();
              await new Promise((r) => setTimeout(r, 100));
              await trx.updateTable('instances').set({ hostname: second }).where('uuid', '=', second).execute();
            });
          } catch (e) {
            if (isDeadlockError(e)) deadlocks++;
            throw e;
          }
        });
      await Promise.all([both(a, b), both(b, a)]);
      assert.equal(deadlocks, 1, 'exactly one of the two lock orders lost');
      const rows = await db.selectFrom('instances').select('hostname').where('uuid', 'in', [a, b]).execute();
      assert.equal(rows.length, 2);
    });

    void test('a missing server database is a clear error; ensureDatabaseExists is idempotent', { skip: engine.name === 'sqlite' ? 'SQLite creates its file' : undefined }, async () => {
      const missing = database.url.replace(/\/[^/]+$/, '/stratus_test_does_not_exist');
      await assert.rejects(openDatabase(missing), new RegExp(`Cannot connect to ${engine.name} database stratus_test_does_not_exist`));
      await ensureDatabaseExists(database.url);
      assert.deepEqual(await migrate(database, 'nova', migrations), { applied: [] });
    });

    void test('raw SQL through the dialect-neutral sql tag', async () => {
      const r = await sql<{ n: number }>`select count(*) as n from instances where vm_state = ${'page'}`.execute(db);
      assert.equal(Number(r.rows[0]!.n), 9);
    });
  });
}
