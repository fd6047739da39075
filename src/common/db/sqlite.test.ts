import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, dropDatabase, ensureDatabaseExists } from './connection.js';
import { addIdColumn, datetimeType, isForeignKeyError } from './dialect.js';
import { addSpanSink, type Span } from '../journey/span.js';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stratus-sqlite-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('openDatabase on SQLite', () => {
  void test('a file database uses WAL, a busy timeout and foreign keys; dropDatabase removes it', async () => {
    const file = path.join(dir, 'sub', 'nova.sqlite');
    const url = `sqlite:///${file}`;
    await ensureDatabaseExists(url);
    const d = await openDatabase(url, { service: 'nova' });
    try {
      assert.equal(d.dialect, 'sqlite');
      assert.equal(d.url, url);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(d.db);
      assert.equal(mode.rows[0]!.journal_mode, 'wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(d.db);
      assert.equal(fk.rows[0]!.foreign_keys, 1);
      const bt = await sql<{ timeout: number }>`pragma busy_timeout`.execute(d.db);
      assert.ok(bt.rows[0]!.timeout >= 1000);
      await addIdColumn(d.db.schema.createTable('parent'), d.dialect).execute();
      await d.db.schema
        .createTable('child')
        .addColumn('parent_id', 'integer', (c) => c.references('parent.id'))
        .execute();
      await assert.rejects(d.db.insertInto('child').values({ parent_id: 42 }).execute(), (e) => isForeignKeyError(e));
    } finally {
      await d.close();
    }
    assert.ok(existsSync(file));
    await dropDatabase(url);
    assert.ok(!existsSync(file));
  });

  void test('sqlite:// is an in-memory database', async () => {
    const d = await openDatabase('sqlite://');
    await d.db.schema.createTable('t').addColumn('x', 'integer').execute();
    await d.db.insertInto('t').values({ x: 1 }).execute();
    assert.deepEqual(await d.db.selectFrom('t').selectAll().execute(), [{ x: 1 }]);
    await d.close();
  });

  void test('booleans and datetimes read back typed, even through joins and aliases', async () => {
    const d = await openDatabase('sqlite://');
    await d.db.schema.createTable('t').addColumn('id', 'integer').addColumn('b', 'boolean').addColumn('at', datetimeType('sqlite')).addColumn('n', 'integer').execute();
    const at = new Date('2026-01-02T03:04:05.678Z');
    await d.db.insertInto('t').values([{ id: 1, b: true, at, n: 1 }, { id: 2, b: false, at: null, n: 0 }]).execute();
    const rows = await d.db.selectFrom('t as a').innerJoin('t as c', 'c.id', 'a.id').select(['a.id', 'a.b', 'a.at as when', 'c.n']).orderBy('a.id').execute();
    assert.deepEqual(rows, [
      { id: 1, b: true, when: at, n: 1 },
      { id: 2, b: false, when: null, n: 0 },
    ]);
    const raw = await sql<{ at: string }>`select at || '' as at from t where id = 1`.execute(d.db);
    assert.equal(raw.rows[0]!.at, '2026-01-02 03:04:05.678');
    await d.close();
  });

  void test('transaction() records a db.transaction span with the service name', async () => {
    const spans: Span[] = [];
    const remove = addSpanSink({ write: (s) => spans.push(s) });
    const d = await openDatabase(`sqlite:///${path.join(dir, 'keystone.sqlite')}`, { service: 'keystone' });
    try {
      await d.transaction(async (trx) => sql`select 1`.execute(trx));
      await assert.rejects(d.transaction(async () => { throw new Error('boom'); }), /boom/);
    } finally {
      remove();
      await d.close();
    }
    const tx = spans.filter((s) => s.kind === 'db.transaction');
    assert.equal(tx.length, 2);
    assert.equal(tx[0]!.service, 'keystone');
    assert.equal(tx[0]!.status, 'ok');
    assert.equal(tx[0]!.attributes['dialect'], 'sqlite');
    assert.equal(tx[1]!.status, 'error');
  });
});
