/**
 * Nova's side of volumes against the whole cloud in process (`stratus up` shape, fake driver,
 * file-backed Cinder): attach / detach through os-volume_attachments with Cinder's statuses
 * moving as in OpenStack, the attachment seen from Nova and from Cinder, boot from volume
 * (image -> volume, `image: ""`) and delete with delete_on_termination.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { raiseMicroversionCeilingForTests } from '../../../src/compute/api/common.js';
import { setFakeDelays } from '../../../src/virt/fake.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud, type Client } from '../compute/helpers.js';

const MV = { 'OpenStack-API-Version': 'compute 2.37', 'X-OpenStack-Nova-API-Version': '2.37' };

async function volumeStatus(c: Client, id: string): Promise<any> {
  const r = await c.call('GET', 'volumev3', `/volumes/${id}`);
  return r.status === 404 ? null : r.body.volume;
}

async function waitVolume(c: Client, id: string, status: string | null, seen?: Set<string>): Promise<any> {
  for (let i = 0; i < 600; i++) {
    const v = await volumeStatus(c, id);
    if (seen && v) seen.add(v.status);
    if (status === null && v === null) return null;
    if (v && v.status === status) return v;
    if (v && (v.status === 'error' || v.status === 'error_deleting')) assert.fail(`volume ${id} went to ${v.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`volume ${id} never reached ${status}`);
}

async function createVolume(c: Client, name: string, size = 1): Promise<string> {
  const r = await c.call('POST', 'volumev3', '/volumes', { volume: { size, name } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitVolume(c, r.body.volume.id, 'available');
  return r.body.volume.id;
}

test('os-volume_attachments and boot from volume through Nova and Cinder', { timeout: 120_000 }, async () => {
  raiseMicroversionCeilingForTests('2.51');
  await withCloud(1, async (cloud) => {
    const c = await login(cloud, 'demo');
    const { imageRef, networkId } = await bootArgs(c);
    const flavors = (await c.call('GET', 'compute', '/flavors/detail')).body.flavors.sort((a: any, b: any) => a.ram - b.ram);
    const flavorRef = flavors[0].id;

    const boot = await c.call('POST', 'compute', '/servers', { server: { name: 'vm1', imageRef, flavorRef, networks: [{ uuid: networkId }] } }, MV);
    assert.equal(boot.status, 202, JSON.stringify(boot.body));
    const serverId = boot.body.server.id;
    await waitForStatus(c, serverId, 'ACTIVE');
    const volId = await createVolume(c, 'v1');

    // The compute's driver steps take a while so the intermediate statuses can be seen.
    setFakeDelays(cloud.computeHosts[0]!, { attachVolume: 800, detachVolume: 800 });

    // ---- attach: reserved (API) -> attaching (compute, connector) -> in-use (complete)
    const att = await c.call('POST', 'compute', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } });
    assert.equal(att.status, 200, JSON.stringify(att.body));
    assert.deepEqual(att.body.volumeAttachment, { id: volId, serverId, volumeId: volId, device: '/dev/vdb' });
    const seen = new Set<string>();
    const afterPost = await volumeStatus(c, volId);
    assert.ok(['reserved', 'attaching'].includes(afterPost.status), `after POST the volume is ${afterPost.status}`);
    const inUse = await waitVolume(c, volId, 'in-use', seen);
    assert.ok(seen.has('attaching'), `statuses seen: ${[...seen].join(', ')}`);
    // Cinder shows the attachment to this server at the device Nova chose.
    assert.equal(inUse.attachments.length, 1);
    assert.equal(inUse.attachments[0].server_id, serverId);
    assert.equal(inUse.attachments[0].device, '/dev/vdb');
    const cinderAtt = await c.call('GET', 'volumev3', `/attachments?instance_id=${serverId}`, undefined, { 'OpenStack-API-Version': 'volume 3.44' });
    assert.equal(cinderAtt.status, 200);
    assert.equal(cinderAtt.body.attachments.length, 1);
    assert.equal(cinderAtt.body.attachments[0].status, 'attached');

    // Nova: list, show, volumes_attached, and a second attach of the same volume is refused.
    const list = await c.call('GET', 'compute', `/servers/${serverId}/os-volume_attachments`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.volumeAttachments, [att.body.volumeAttachment]);
    const show = await c.call('GET', 'compute', `/servers/${serverId}/os-volume_attachments/${volId}`);
    assert.equal(show.status, 200);
    assert.deepEqual(show.body.volumeAttachment, att.body.volumeAttachment);
    const server = (await c.call('GET', 'compute', `/servers/${serverId}`)).body.server;
    assert.deepEqual(server['os-extended-volumes:volumes_attached'], [{ id: volId }]);
    const detail = (await c.call('GET', 'compute', '/servers/detail', undefined, MV)).body.servers.find((s: any) => s.id === serverId);
    assert.deepEqual(detail['os-extended-volumes:volumes_attached'], [{ id: volId, delete_on_termination: false }]);
    const again = await c.call('POST', 'compute', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } });
    assert.equal(again.status, 400);
    const missing = await c.call('GET', 'compute', `/servers/${serverId}/os-volume_attachments/00000000-0000-0000-0000-000000000000`);
    assert.equal(missing.status, 404);
    const badBody = await c.call('POST', 'compute', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: 'nope' } });
    assert.equal(badBody.status, 400);

    // ---- volume-extended: Cinder grows the attached volume and tells Nova; the compute's
    // extend_volume runs under an `extend_volume` action.
    const ext = await c.call('POST', 'volumev3', `/volumes/${volId}/action`, { 'os-extend': { new_size: 2 } }, { 'OpenStack-API-Version': 'volume 3.42' });
    assert.equal(ext.status, 202, JSON.stringify(ext.body));
    await waitVolume(c, volId, 'in-use');
    // Cinder posts this event at compute 2.51 (the first version with `volume-extended`); this
    // test raised Nova's ceiling to 2.51 so Cinder's own event arrives.
    const adminC = await login(cloud, 'admin');
    let extended: any = null;
    for (let i = 0; i < 200 && !extended; i++) {
      const acts0 = (await c.call('GET', 'compute', `/servers/${serverId}/os-instance-actions`)).body.instanceActions;
      const a0 = acts0.find((x: any) => x.action === 'extend_volume');
      if (a0) {
        // Below 2.51 only admins see an action's events.
        const ev = (await adminC.call('GET', 'compute', `/servers/${serverId}/os-instance-actions/${a0.request_id}`)).body.instanceAction;
        if (ev.events?.length && ev.events[0].finish_time) extended = ev;
      }
      if (!extended) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(extended, 'an extend_volume action was recorded');
    assert.equal((await volumeStatus(c, volId)).size, 2);

    // ---- detach: detaching (API, os-begin_detaching) -> available (compute deletes the attachment)
    const det = await c.call('DELETE', 'compute', `/servers/${serverId}/os-volume_attachments/${volId}`);
    assert.equal(det.status, 202, JSON.stringify(det.body));
    assert.equal((await volumeStatus(c, volId)).status, 'detaching');
    const avail = await waitVolume(c, volId, 'available');
    assert.deepEqual(avail.attachments, []);
    for (let i = 0; i < 100; i++) {
      const l = await c.call('GET', 'compute', `/servers/${serverId}/os-volume_attachments`);
      if (l.body.volumeAttachments.length === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.deepEqual((await c.call('GET', 'compute', `/servers/${serverId}/os-volume_attachments`)).body.volumeAttachments, []);
    const notAttached = await c.call('DELETE', 'compute', `/servers/${serverId}/os-volume_attachments/${volId}`);
    assert.equal(notAttached.status, 404);

    // Instance actions record both operations with their compute events.
    const actions = (await c.call('GET', 'compute', `/servers/${serverId}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.ok(actions.includes('attach_volume') && actions.includes('detach_volume'), actions.join(','));
    const admin = await login(cloud, 'admin');
    const acts = (await admin.call('GET', 'compute', `/servers/${serverId}/os-instance-actions`)).body.instanceActions;
    const attachAct = acts.find((a: any) => a.action === 'attach_volume');
    const events = (await admin.call('GET', 'compute', `/servers/${serverId}/os-instance-actions/${attachAct.request_id}`)).body.instanceAction.events;
    assert.deepEqual(events.map((e: any) => [e.event, e.result]), [['compute_attach_volume', 'Success']]);
    setFakeDelays(cloud.computeHosts[0]!, { attachVolume: 0, detachVolume: 0 });

    // ---- server delete with an attached volume: the volume is detached and kept
    const att2 = await c.call('POST', 'compute', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } });
    assert.equal(att2.status, 200);
    await waitVolume(c, volId, 'in-use');
    assert.equal((await c.call('DELETE', 'compute', `/servers/${serverId}`)).status, 204);
    await waitGone(c, serverId);
    await waitVolume(c, volId, 'available');

    // ---- boot from volume: image -> volume made by the compute, delete_on_termination
    const bfv = await c.call('POST', 'compute', '/servers', {
      server: {
        name: 'bfv', flavorRef, networks: [{ uuid: networkId }],
        block_device_mapping_v2: [{ uuid: imageRef, boot_index: '0', source_type: 'image', destination_type: 'volume', volume_size: 1, delete_on_termination: true }],
      },
    }, MV);
    assert.equal(bfv.status, 202, JSON.stringify(bfv.body));
    const bfvId = bfv.body.server.id;
    const active = await waitForStatus(c, bfvId, 'ACTIVE');
    assert.equal(active.image, '');
    assert.equal(active['os-extended-volumes:volumes_attached'].length, 1);
    const rootVol = active['os-extended-volumes:volumes_attached'][0].id;
    const rv = await volumeStatus(c, rootVol);
    assert.equal(rv.status, 'in-use');
    assert.equal(rv.bootable, 'true');
    assert.equal(rv.attachments[0].server_id, bfvId);
    assert.equal(rv.attachments[0].device, '/dev/vda');
    const bfvAtt = (await c.call('GET', 'compute', `/servers/${bfvId}/os-volume_attachments`)).body.volumeAttachments;
    assert.deepEqual(bfvAtt, [{ id: rootVol, serverId: bfvId, volumeId: rootVol, device: '/dev/vda' }]);
    const rootDetach = await c.call('DELETE', 'compute', `/servers/${bfvId}/os-volume_attachments/${rootVol}`);
    assert.equal(rootDetach.status, 400);
    assert.equal((await c.call('DELETE', 'compute', `/servers/${bfvId}`)).status, 204);
    await waitGone(c, bfvId);
    await waitVolume(c, rootVol, null);

    // ---- boot from an existing bootable volume (volume -> volume): kept on delete by default
    const bootVol = await c.call('POST', 'volumev3', '/volumes', { volume: { size: 1, name: 'bootvol', imageRef } });
    assert.equal(bootVol.status, 202);
    const bootVolId = bootVol.body.volume.id;
    await waitVolume(c, bootVolId, 'available');
    const missingVol = await c.call('POST', 'compute', '/servers', {
      server: { name: 'nope', flavorRef, networks: [{ uuid: networkId }], block_device_mapping_v2: [{ uuid: '11111111-2222-3333-4444-555555555555', boot_index: 0, source_type: 'volume', destination_type: 'volume' }] },
    }, MV);
    assert.equal(missingVol.status, 400);
    assert.match(missingVol.body.badRequest.message, /failed to get volume/);
    const bfv2 = await c.call('POST', 'compute', '/servers', {
      server: { name: 'bfv2', flavorRef, networks: [{ uuid: networkId }], block_device_mapping_v2: [{ uuid: bootVolId, boot_index: 0, source_type: 'volume', destination_type: 'volume' }] },
    }, MV);
    assert.equal(bfv2.status, 202, JSON.stringify(bfv2.body));
    const active2 = await waitForStatus(c, bfv2.body.server.id, 'ACTIVE');
    assert.equal(active2.image, '');
    assert.deepEqual(active2['os-extended-volumes:volumes_attached'], [{ id: bootVolId }]);
    assert.equal((await volumeStatus(c, bootVolId)).status, 'in-use');
    assert.equal((await c.call('DELETE', 'compute', `/servers/${bfv2.body.server.id}`)).status, 204);
    await waitGone(c, bfv2.body.server.id);
    await waitVolume(c, bootVolId, 'available');
    await c.call('DELETE', 'volumev3', `/volumes/${bootVolId}`);

    await c.call('DELETE', 'volumev3', `/volumes/${volId}`);
    await waitVolume(c, volId, null);

    // ---- local delete (the compute is down): nova-api deletes the attachment and the
    // delete_on_termination volume itself.
    const bfv3 = await c.call('POST', 'compute', '/servers', {
      server: { name: 'bfv3', flavorRef, networks: [{ uuid: networkId }], block_device_mapping_v2: [{ uuid: imageRef, boot_index: 0, source_type: 'image', destination_type: 'volume', volume_size: 1, delete_on_termination: true }] },
    }, MV);
    const active3 = await waitForStatus(c, bfv3.body.server.id, 'ACTIVE');
    const rootVol3 = active3['os-extended-volumes:volumes_attached'][0].id;
    const db = new Sqlite(cloud.state.file('nova_cell1.db'));
    try {
      db.prepare("UPDATE services SET forced_down = 1 WHERE binary = 'nova-compute'").run();
    } finally {
      db.close();
    }
    assert.equal((await c.call('DELETE', 'compute', `/servers/${bfv3.body.server.id}`)).status, 204);
    await waitGone(c, bfv3.body.server.id);
    await waitVolume(c, rootVol3, null);
  });
});
