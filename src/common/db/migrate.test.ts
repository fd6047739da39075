import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from './connection.js';
import { addIdColumn } from './dialect.js';
import { dbVersion, migrate, type Migration } from './migrate.js';
import { dbSync, dbVersionCommand, getDbSchema, listDbSchemas, registerDbSchema } from './registry.js';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stratus-migrate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const m1: Migration = {
  name: '001_initial',
  async up(db, dialect) {
    await addIdColumn(db.schema.createTable('things'), dialect).addColumn('name', 'varchar(255)').execute();
  },
};
const m2: Migration = {
  name: '002_add_colour',
  async up(db) {
    await db.schema.alterTable('things').addColumn('colour', 'varchar(20)').execute();
  },
};

void describe('migrate (SQLite)', () => {
  void test('applies pending migrations once, in order, and reports the version', async () => {
    const d = await openDatabase('sqlite://');
    try {
      assert.deepEqual(await dbVersion(d, 'svc'), { current: null, applied: [] });
      assert.deepEqual(await migrate(d, 'svc', [m1]), { applied: ['001_initial'] });
      assert.deepEqual(await migrate(d, 'svc', [m1]), { applied: [] });
      assert.deepEqual(await migrate(d, 'svc', [m1, m2]), { applied: ['002_add_colour'] });
      assert.deepEqual(await dbVersion(d, 'svc'), { current: '002_add_colour', applied: ['001_initial', '002_add_colour'] });
      await d.db.insertInto('things').values({ name: 'a', colour: 'red' }).execute();
      // another service in the same database keeps its own history
      assert.deepEqual(await dbVersion(d, 'other'), { current: null, applied: [] });
    } finally {
      await d.close();
    }
  });

  void test('a failing migration is rolled back and not recorded', async () => {
    const d = await openDatabase('sqlite://');
    const bad: Migration = {
      name: '002_bad',
      async up(db) {
        await db.schema.createTable('half').addColumn('x', 'integer').execute();
        throw new Error('broken');
      },
    };
    try {
      await assert.rejects(migrate(d, 'svc', [m1, bad]), /Migration svc\/002_bad failed: broken/);
      assert.deepEqual((await dbVersion(d, 'svc')).applied, ['001_initial']);
      const tables = await d.db.introspection.getTables();
      assert.ok(!tables.some((t) => t.name === 'half'), 'DDL of the failed migration rolled back');
    } finally {
      await d.close();
    }
  });

  void test('duplicate migration names are refused', async () => {
    const d = await openDatabase('sqlite://');
    await assert.rejects(migrate(d, 'svc', [m1, m1]), /Duplicate migration name 001_initial/);
    await d.close();
  });

  void test('two handles on one file in a process share one connection; each migration applies once', async () => {
    const url = `sqlite:///${path.join(dir, 'race.sqlite')}`;
    const a = await openDatabase(url);
    const b = await openDatabase(url);
    try {
      const [ra, rb] = await Promise.all([migrate(a, 'svc', [m1, m2]), migrate(b, 'svc', [m1, m2])]);
      assert.deepEqual([...ra.applied, ...rb.applied].sort(), ['001_initial', '002_add_colour']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

void describe('schema registry', () => {
  void test('dbSync and dbVersionCommand use the registered migrations', async () => {
    registerDbSchema('stratus_test_svc', [m1, m2]);
    assert.deepEqual(getDbSchema('stratus_test_svc').map((m) => m.name), ['001_initial', '002_add_colour']);
    assert.ok(listDbSchemas().includes('stratus_test_svc'));
    assert.throws(() => getDbSchema('nope'), /No database schema registered for nope/);
    const url = `sqlite:///${path.join(dir, 'reg', 'svc.sqlite')}`;
    assert.deepEqual(await dbSync(url, 'stratus_test_svc'), { applied: ['001_initial', '002_add_colour'] });
    assert.deepEqual(await dbSync(url, 'stratus_test_svc'), { applied: [] });
    assert.deepEqual(await dbVersionCommand(url, 'stratus_test_svc'), { current: '002_add_colour', applied: ['001_initial', '002_add_colour'], pending: [] });
    registerDbSchema('stratus_test_svc', [m1, m2, { name: '003_more', async up() {} }]);
    assert.deepEqual((await dbVersionCommand(url, 'stratus_test_svc')).pending, ['003_more']);
  });
});
