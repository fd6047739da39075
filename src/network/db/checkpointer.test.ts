import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openDatabase } from '../../common/db/index.js';
import { startCheckpointer } from './checkpointer.js';

const autocheckpoint = async (db: Kysely<any>) =>
  Number((await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows[0]!.wal_autocheckpoint);

void test('a SQLite file gets its WAL checkpointed by the worker, not by commits; stop hands checkpoints back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-ckpt-'));
  const d = await openDatabase(`sqlite:///${join(dir, 'n.db')}`);
  const db = d.db as Kysely<any>;
  try {
    const ck = await startCheckpointer(d, 20);
    assert.ok(ck, 'started');
    assert.equal(await autocheckpoint(db), 0);
    await sql`create table t (id integer primary key, v text)`.execute(db);
    // well past SQLite's 1000-page automatic threshold
    for (let k = 0; k < 300; k++) await d.transaction(async (trx) => { await sql`insert into t (v) values (${'x'.repeat(8000)})`.execute(trx); });
    const deadline = Date.now() + 10_000;
    while (ck.checkpointed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ck.checkpointed > 0, 'the worker copied WAL frames into the database file');
    assert.ok(statSync(join(dir, 'n.db')).size > 2_000_000, 'rows reached the database file');
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]!.n), 300);
    await ck.stop();
    assert.equal(await autocheckpoint(db), 1000);
  } finally {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('no worker for in-memory SQLite', async () => {
  const d = await openDatabase('sqlite://');
  try {
    assert.equal(await startCheckpointer(d), null);
  } finally {
    await d.close();
  }
});
