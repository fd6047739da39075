import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../common/context.js';
import { memoryDb } from '../db/testing.js';
import { fromPrimitive } from './base.js';
import { CellDbBackend } from './backend.js';
import { Migration, MigrationNotFound, migrationList } from './migration.js';

test('Migration: create, save, lookups, list filters and the wire form', async () => {
  const cell = await memoryDb('cell');
  try {
    const backend = new CellDbBackend(cell);
    const ctx = RequestContext.admin();
    const m = new Migration();
    m.backend = backend;
    m.update({ status: 'pre-migrating', migration_type: 'resize', instance_uuid: 'i-1', source_compute: 'c1', source_node: 'c1', old_instance_type_id: 1, new_instance_type_id: 2, hidden: false, cross_cell_move: false });
    await m.create(ctx);
    assert.ok(m.id > 0);
    assert.match(m.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(m.hidden, false);

    m.status = 'finished';
    m.dest_compute = 'c2';
    await m.save(ctx);
    const found = await Migration.getByInstanceAndStatus(backend, ctx, 'i-1', ['finished']);
    assert.equal(found.id, m.id);
    assert.equal(found.dest_compute, 'c2');
    await assert.rejects(Migration.getByInstanceAndStatus(backend, ctx, 'i-1', ['confirmed']), MigrationNotFound);

    // Finished long enough ago: unconfirmed by its destination.
    assert.equal((await Migration.getUnconfirmedByDestCompute(backend, ctx, 0, 'c2')).length, 1);
    assert.equal((await Migration.getUnconfirmedByDestCompute(backend, ctx, 3600, 'c2')).length, 0);

    assert.equal((await migrationList(cell, { host: 'c2' })).length, 1);
    assert.equal((await migrationList(cell, { host: 'c1', status: 'error' })).length, 0);
    assert.equal((await migrationList(cell, { migration_type: 'resize', instance_uuid: 'i-1' })).length, 1);

    // The nova_object form round-trips.
    const p = m.toPrimitive();
    assert.equal(p['nova_object.name'], 'Migration');
    const back = fromPrimitive(p) as Migration;
    assert.equal(back.uuid, m.uuid);
    assert.equal(back.status, 'finished');
  } finally {
    await cell.close();
  }
});
