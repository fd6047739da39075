import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromDbDatetime, fromJson, isDeadlockError, isDuplicateKeyError, isForeignKeyError, retryOnDeadlock, toDbDatetime, toJson, affectedRows } from './dialect.js';

void describe('dialect value helpers', () => {
  void test('datetimes are stored as naive UTC text and parsed back from any engine form', () => {
    const d = new Date('2026-11-25T11:04:06.123Z');
    assert.equal(toDbDatetime(d), '2026-11-25 11:04:06.123');
    assert.equal(fromDbDatetime('2026-11-25 11:04:06.123')!.toISOString(), d.toISOString());
    assert.equal(fromDbDatetime('2026-11-25 11:04:06.123456')!.toISOString(), d.toISOString());
    assert.equal(fromDbDatetime('2026-11-25T11:04:06Z')!.toISOString(), '2026-11-25T11:04:06.000Z');
    assert.equal(fromDbDatetime('2026-11-25 13:04:06+02:00')!.toISOString(), '2026-11-25T11:04:06.000Z');
    assert.equal(fromDbDatetime(d), d);
    assert.equal(fromDbDatetime(null), null);
    assert.equal(fromDbDatetime('garbage'), null);
    assert.throws(() => toDbDatetime('nope'), /Invalid datetime/);
  });

  void test('JSON helpers', () => {
    assert.equal(toJson({ a: [1] }), '{"a":[1]}');
    assert.equal(toJson(undefined), 'null');
    assert.deepEqual(fromJson('{"a":[1]}'), { a: [1] });
    assert.deepEqual(fromJson({ a: 1 }), { a: 1 });
    assert.deepEqual(fromJson(Buffer.from('[2]')), [2]);
    assert.equal(fromJson(null), null);
  });

  void test('driver errors are classified for all three engines', () => {
    for (const e of [{ code: 'SQLITE_CONSTRAINT_UNIQUE' }, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }, { code: 'ER_DUP_ENTRY', errno: 1062 }, { code: '23505' }]) {
      assert.ok(isDuplicateKeyError(e), JSON.stringify(e));
      assert.ok(!isDeadlockError(e));
    }
    for (const e of [{ code: 'ER_LOCK_DEADLOCK', errno: 1213 }, { code: '40P01' }, { code: '40001' }, { code: 'SQLITE_BUSY' }]) assert.ok(isDeadlockError(e));
    for (const e of [{ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }, { errno: 1452 }, { code: '23503' }]) assert.ok(isForeignKeyError(e));
    assert.ok(!isDuplicateKeyError(new Error('x')));
    assert.ok(!isDuplicateKeyError(null));
  });

  void test('retryOnDeadlock retries deadlocks only', async () => {
    let n = 0;
    const r = await retryOnDeadlock(async () => {
      n++;
      if (n < 3) throw Object.assign(new Error('deadlock'), { code: '40P01' });
      return 'done';
    });
    assert.equal(r, 'done');
    assert.equal(n, 3);
    let m = 0;
    await assert.rejects(
      retryOnDeadlock(async () => {
        m++;
        throw new Error('other');
      }),
      /other/,
    );
    assert.equal(m, 1);
  });

  void test('affectedRows sums update/delete results', () => {
    assert.equal(affectedRows({ numUpdatedRows: 1n }), 1);
    assert.equal(affectedRows([{ numDeletedRows: 2n }, { numDeletedRows: 1n }]), 3);
  });
});
