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
import { schedulingInstance } from './testing.js';

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
  const i = schedulingInstance(backend, 'u2');
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

test('change tracking: scalars by value, dicts and nested objects by content (in-place edits count)', () => {
  const i = fromPrimitive(new Instance().update({ uuid: 'u3', vm_state: 'active', task_state: null, power_state: 1, metadata: { a: '1' }, launched_at: '2026-01-01T00:00:00.000Z' })
    .toPrimitive()) as Instance;
  i.flavor = new Flavor().update({ id: 1, name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1, flavorid: '1' });
  i.resetChanges();
  assert.deepEqual(i.whatChanged(), []);
  i.vm_state = 'active';
  i.metadata = { a: '1' };
  assert.deepEqual(i.whatChanged(), [], 'equal values set again are no change');
  i.metadata['b'] = '2';
  i.flavor.memory_mb = 1024;
  i.power_state = 4;
  assert.deepEqual(i.whatChanged().sort(), ['flavor', 'metadata', 'power_state']);
  i.resetChanges(['metadata']);
  assert.deepEqual(i.whatChanged().sort(), ['flavor', 'power_state']);
  const marks = i.captureFields();
  i.task_state = 'deleting';
  assert.deepEqual(i.changedSince(marks), ['task_state']);
  assert.deepEqual(i.changedBetween(marks, i.captureFields()), ['task_state']);
  assert.deepEqual(i.whatChanged(i.captureFields()).sort(), ['flavor', 'power_state', 'task_state']);
});

test('a decoded object keeps what its sender sent; its listed changes stay changes', () => {
  const src = new Instance().update({ uuid: 'u4', vm_state: 'building', task_state: 'scheduling', system_metadata: { k: 'v' } });
  src.resetChanges();
  src.task_state = 'networking';
  const got = fromPrimitive(JSON.parse(JSON.stringify(src.toPrimitive()))) as Instance;
  assert.deepEqual(got.whatChanged(), ['task_state']);
  const sent = got.sentFields()!;
  got.system_metadata = { k: 'w' };
  got.resetChanges();
  assert.deepEqual(got.changedSince(sent), ['system_metadata'], 'the diff against what was sent survives resets');
  assert.deepEqual(got.whatChanged(), []);
});
