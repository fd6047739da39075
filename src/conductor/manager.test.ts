import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../common/context.js';
import { memoryDb } from '../compute/db/testing.js';
import { NovaObjectSerializer } from '../compute/objects/base.js';
import { CellDbBackend } from '../compute/objects/backend.js';
import type { Instance } from '../compute/objects/instance.js';
import { ConductorManager } from './manager.js';
import { schedulingInstance } from '../compute/objects/testing.js';

test('object_action answers the fields that differ from what the compute sent, and what is still changed', async () => {
  const cell = await memoryDb('cell');
  const backend = new CellDbBackend(cell);
  const ctx = RequestContext.admin();
  const i = schedulingInstance(backend, 'u1');
  i.system_metadata = { image_min_ram: '0' };
  i.info_cache = { network_info: [] };
  await i.create(ctx);

  // What nova-compute sends: the instance with task_state changed, decoded as the conductor's dispatcher does.
  i.task_state = 'networking';
  const wire = JSON.parse(JSON.stringify(new NovaObjectSerializer().serializeEntity(null, i)));
  const objinst = new NovaObjectSerializer(backend).deserializeEntity(null, wire) as Instance;
  const [updates, result] = await new ConductorManager(backend).object_action(ctx, { objinst, objmethod: 'save', kwargs: { expected_task_state: 'scheduling' } });
  assert.equal(result, null);
  assert.ok('updated_at' in updates && updates['updated_at'], 'the row the save wrote comes back');
  assert.ok(!('task_state' in updates) && !('flavor' in updates) && !('system_metadata' in updates), 'fields the compute already has are not sent back');
  assert.deepEqual(updates['obj_what_changed'], []);

  // The compare-and-swap still refuses a stale expectation.
  const again = new NovaObjectSerializer(backend).deserializeEntity(null, wire) as Instance;
  await assert.rejects(new ConductorManager(backend).object_action(ctx, { objinst: again, objmethod: 'save', kwargs: { expected_task_state: 'scheduling' } }));
  await cell.close();
});
