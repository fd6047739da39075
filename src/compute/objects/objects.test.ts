import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../common/context.js';
import { memoryDb } from '../db/testing.js';
import { NovaObjectSerializer, fromPrimitive } from './base.js';
import { CellDbBackend } from './backend.js';
import { Flavor } from './flavor.js';
import { Instance } from './instance.js';
import { statusFromState, statesFromStatus } from '../states.js';
import { UnexpectedTaskStateError } from '../exception.js';

test('status mapping follows nova/api/openstack/common.py', () => {
  assert.equal(statusFromState('active', null), 'ACTIVE');
  assert.equal(statusFromState('active', 'rebooting_hard'), 'HARD_REBOOT');
  assert.equal(statusFromState('building', 'spawning'), 'BUILD');
  assert.equal(statusFromState('stopped', 'resize_prep'), 'RESIZE');
  assert.equal(statusFromState('resized', 'resize_confirming'), 'VERIFY_RESIZE');
  assert.equal(statusFromState('resized', 'resize_reverting'), 'REVERT_RESIZE');
  assert.equal(statusFromState('soft-delete', null), 'SOFT_DELETED');
  assert.deepEqual(statesFromStatus('SHUTOFF').vmStates, ['stopped']);
});

test('objects round-trip through nova_object primitives with their changes', () => {
  const f = new Flavor().update({ id: 1, name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1, flavorid: '1' });
  const i = new Instance();
  i.update({ uuid: 'u1', vm_state: 'building', task_state: 'scheduling', power_state: 0 });
  i.flavor = f;
  const p = i.toPrimitive();
  assert.equal(p['nova_object.name'], 'Instance');
  assert.equal(p['nova_object.version'], '2.4');
  assert.equal((p['nova_object.data'] as any).flavor['nova_object.name'], 'Flavor');
  assert.ok((p['nova_object.changes'] as string[]).includes('vm_state'));
  const back = fromPrimitive(JSON.parse(JSON.stringify(p))) as Instance;
  assert.ok(back instanceof Instance);
  assert.equal(back.flavor.memory_mb, 512);
  assert.ok(back.whatChanged().includes('task_state'));
  const s = new NovaObjectSerializer();
  const wire = s.serializeEntity(null, { instance: i, n: 3 }) as any;
  assert.equal(wire.instance['nova_object.name'], 'Instance');
  assert.ok((s.deserializeEntity(null, wire) as any).instance instanceof Instance);
});

test('Instance create/save with compare-and-swap on task_state', async () => {
  const cell = await memoryDb('cell');
  const backend = new CellDbBackend(cell);
  const ctx = RequestContext.admin();
  const i = new Instance();
  i.backend = backend;
  i.update({ uuid: 'u2', project_id: 'p', user_id: 'u', vm_state: 'building', task_state: 'scheduling', power_state: 0, display_name: 'vm', locked: false });
  i.flavor = new Flavor().update({ id: 1, name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1, flavorid: '1' });
  i.metadata = { a: 'b' };
  i.tags = ['t1'];
  await i.create(ctx);
  assert.ok(i.id > 0);
  i.task_state = null;
  await i.save(ctx, { expected_task_state: ['scheduling', null] });
  const again = await Instance.getByUuid(backend, ctx, 'u2');
  assert.equal(again.task_state, null);
  assert.equal(again.flavor.name, 'm1.tiny');
  assert.deepEqual(again.metadata, { a: 'b' });
  assert.deepEqual(again.tags, ['t1']);
  again.task_state = 'spawning';
  await assert.rejects(again.save(ctx, { expected_task_state: 'block_device_mapping' }), (e: unknown) => e instanceof UnexpectedTaskStateError);
  await again.destroy(ctx);
  await assert.rejects(Instance.getByUuid(backend, ctx, 'u2'));
  await cell.close();
});
