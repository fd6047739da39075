import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../common/context.js';
import { memoryDb } from '../db/testing.js';
import { CellDbBackend } from '../objects/backend.js';
import { fromPrimitive } from '../objects/base.js';
import { BlockDeviceMapping, VolumeBDMNotFound } from '../objects/block-device.js';
import { nextDeviceName } from './volume.js';

test('nextDeviceName: vda is the root, free names in order, a free requested name is honoured', () => {
  assert.equal(nextDeviceName([]), '/dev/vdb');
  assert.equal(nextDeviceName(['/dev/vdb', 'vdc']), '/dev/vdd');
  assert.equal(nextDeviceName(['/dev/vdb'], '/dev/vdf'), '/dev/vdf');
  // libvirt names disks vdX whatever the bus prefix asked for; a taken name is not reused.
  assert.equal(nextDeviceName([], '/dev/sdc'), '/dev/vdc');
  assert.equal(nextDeviceName(['/dev/vdc'], '/dev/vdc'), '/dev/vdb');
  const many = Array.from({ length: 25 }, (_, i) => `/dev/vd${String.fromCharCode(98 + i)}`);
  assert.equal(nextDeviceName(many), '/dev/vdaa');
});

test('BlockDeviceMapping: create, find by volume, save, destroy, wire round trip', async () => {
  const cell = await memoryDb('cell');
  try {
    const backend = new CellDbBackend(cell);
    const ctx = RequestContext.admin();
    const bdm = new BlockDeviceMapping();
    bdm.backend = backend;
    bdm.update({ instance_uuid: 'i-1', source_type: 'volume', destination_type: 'volume', volume_id: 'v-1', device_name: '/dev/vdb', boot_index: null, delete_on_termination: false });
    await bdm.create(ctx);
    assert.ok(bdm.id > 0 && bdm.uuid);
    bdm.attachment_id = 'a-1';
    await bdm.save(ctx);
    const found = await BlockDeviceMapping.getByVolumeAndInstance(backend, ctx, 'v-1', 'i-1');
    assert.equal(found.attachment_id, 'a-1');
    assert.equal(found.delete_on_termination, false);
    assert.equal(found.isRoot, false);
    // What travels over the bus decodes to the same record.
    const copy = fromPrimitive(found.toPrimitive()) as BlockDeviceMapping;
    assert.equal(copy.volume_id, 'v-1');
    assert.equal(copy.device_name, '/dev/vdb');
    assert.equal((await BlockDeviceMapping.listByInstance(backend, ctx, 'i-1')).length, 1);
    await found.destroy(ctx);
    assert.deepEqual(await BlockDeviceMapping.listByInstance(backend, ctx, 'i-1'), []);
    await assert.rejects(BlockDeviceMapping.getByVolumeAndInstance(backend, ctx, 'v-1', 'i-1'), VolumeBDMNotFound);
  } finally {
    await cell.close();
  }
});
