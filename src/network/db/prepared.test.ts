import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kysely, MysqlDialect, PostgresDialect, sql } from 'kysely';
import { openDatabase } from '../../common/db/index.js';
import { arg, prepared } from './prepared.js';

void test('a prepared query binds its arguments where the placeholders were and keeps constants', async () => {
  const d = await openDatabase('sqlite://');
  try {
    const db = d.db as Kysely<any>;
    await sql`create table t (id text primary key, kind text, n integer)`.execute(db);
    const ins = prepared((q) => q.insertInto('t').values({ id: arg(0), kind: 'fixed', n: arg(1) }));
    await ins.execute(db, 'a', 1);
    await d.transaction(async (trx) => { await ins.execute(trx, 'b', 2); });
    // the same argument may appear twice; constants in the query stay bound
    const find = prepared<{ id: string; n: number }>((q) => q.selectFrom('t').select(['id', 'n'])
      .where((eb) => eb.or([eb('id', '=', arg(0)), eb('n', '=', arg(1))])).where('kind', '=', 'fixed').where('id', '!=', arg(1)).orderBy('id'));
    assert.deepEqual(await find.rows(db, 'a', 2), [{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    assert.deepEqual(await find.rows(db, 'zz', 5), []);
    assert.deepEqual(await find.first(db, 'b', 0), { id: 'b', n: 2 });
    // a failing statement fails like the builder's would (duplicate key)
    await assert.rejects(ins.execute(db, 'a', 9), (e: any) => e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
  } finally {
    await d.close();
  }
});

void test('each dialect gets its own compiled SQL from one prepared query', () => {
  // compile only: these Kysely instances never connect
  const my = new Kysely<any>({ dialect: new MysqlDialect({ pool: {} as any }) });
  const pg = new Kysely<any>({ dialect: new PostgresDialect({ pool: {} as any }) });
  const seen: string[] = [];
  const q = prepared((db) => db.selectFrom('t').selectAll().where('id', '=', arg(0)));
  for (const db of [my, pg]) {
    (db as any).executeQuery = async (c: any) => { seen.push(`${c.sql} ${JSON.stringify(c.parameters)}`); return { rows: [] }; };
  }
  return Promise.all([q.rows(my, 'x'), q.rows(pg, 'y')]).then(() => {
    assert.deepEqual(seen, ['select * from `t` where `id` = ? ["x"]', 'select * from "t" where "id" = $1 ["y"]']);
  });
});
