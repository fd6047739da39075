/**
 * os-volume_attachments and os-interface across 2.49..2.89 on a whole cloud, every answer
 * checked against Tempest's schema of its microversion: device tags (2.49 request, 2.70
 * answer; refused for a shelved-offloaded server), multiattach (2.60), delete_on_termination
 * (2.79, honoured by the server delete; 2.85 PUT updates it), swap answered as Nova does when
 * Cinder is not migrating the volume, attachment_id / bdm_uuid (2.89).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud, type Client } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';
import { at, createMultiattachVolume, createVolume, until, volume, waitVolume } from './helpers.js';

async function boot(c: Client, name: string, imageRef: string, networkId: string): Promise<string> {
  const r = await c.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.server.id;
}

test('volume attachments and interfaces, 2.49 to 2.89', { timeout: 120_000 }, async () => {
  raiseMicroversionCeilingForTests('2.92');
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const a = await boot(demo, 'va', imageRef, networkId);
    const b = await boot(demo, 'vb', imageRef, networkId);
    await waitForStatus(demo, a, 'ACTIVE');
    await waitForStatus(demo, b, 'ACTIVE');
    const vA = `/servers/${a}/os-volume_attachments`;

    // ---- interfaces: tag accepted from 2.49, shown from 2.70
    const iP = `/servers/${a}/os-interface`;
    let r = await demo.call('POST', 'compute', iP, { interfaceAttachment: { net_id: networkId, tag: 'nic1' } }, at('2.48'));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    r = await demo.call('POST', 'compute', iP, { interfaceAttachment: { net_id: networkId, tag: 'a/b' } }, at('2.49'));
    assert.equal(r.status, 400, 'a tag may not contain a slash');
    r = await demo.call('POST', 'compute', iP, { interfaceAttachment: { net_id: networkId, tag: 'nic1' } }, at('2.49'));
    assertTempest('v2_1/interfaces.get_create_interfaces', r);
    const portId = r.body.interfaceAttachment.port_id;
    r = await demo.call('GET', 'compute', iP, undefined, at('2.70'));
    assertTempest('v2_70/interfaces.list_interfaces', r);
    assert.equal(r.body.interfaceAttachments.length, 2);
    assert.deepEqual(r.body.interfaceAttachments.map((x: any) => x.tag).sort(), ['nic1', null]);
    r = await demo.call('GET', 'compute', `${iP}/${portId}`, undefined, at('2.70'));
    assertTempest('v2_70/interfaces.get_create_interfaces', r);
    assert.equal(r.body.interfaceAttachment.tag, 'nic1');
    r = await demo.call('GET', 'compute', `${iP}/${portId}`, undefined, at('2.69'));
    assert.ok(!('tag' in r.body.interfaceAttachment));
    r = await demo.call('POST', 'compute', iP, { interfaceAttachment: { net_id: networkId } }, at('2.70'));
    assertTempest('v2_70/interfaces.get_create_interfaces', r);
    assert.equal(r.body.interfaceAttachment.tag, null);
    assert.equal((await demo.call('DELETE', 'compute', `${iP}/${portId}`)).status, 202);
    await until('port detached', async () => (await demo.call('GET', 'compute', iP)).body.interfaceAttachments.length === 2);
    r = await demo.call('GET', 'compute', iP, undefined, at('2.70'));
    assert.deepEqual(r.body.interfaceAttachments.map((x: any) => x.tag), [null, null]);

    // ---- volumes: tag from 2.49, shown from 2.70
    const v1 = await createVolume(demo, 'v1');
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: v1, tag: 'disk1' } }, at('2.48'));
    assert.equal(r.status, 400);
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: v1, tag: 'disk1' } }, at('2.49'));
    assertTempest('v2_48/servers.attach_volume', r);
    assert.deepEqual(r.body.volumeAttachment, { id: v1, serverId: a, volumeId: v1, device: '/dev/vdb' });
    await waitVolume(demo, v1, 'in-use');
    r = await demo.call('GET', 'compute', `${vA}/${v1}`, undefined, at('2.70'));
    assertTempest('v2_70/servers.show_volume_attachment', r);
    assert.equal(r.body.volumeAttachment.tag, 'disk1');
    r = await demo.call('GET', 'compute', vA, undefined, at('2.79'));
    assertTempest('v2_79/servers.list_volume_attachments', r);
    assert.deepEqual(r.body.volumeAttachments, [{ id: v1, volumeId: v1, serverId: a, device: '/dev/vdb', tag: 'disk1', delete_on_termination: false }]);
    // 2.89: the Cinder attachment and the BDM, no more `id`.
    r = await demo.call('GET', 'compute', vA, undefined, at('2.89'));
    assertTempest('v2_89/servers.list_volume_attachments', r);
    const cinderAtt = (await volume(demo, v1)).attachments[0];
    const att89 = r.body.volumeAttachments[0];
    assert.equal(att89.attachment_id, cinderAtt.attachment_id);
    assert.ok(!('id' in att89));
    assert.match(att89.bdm_uuid, /^[0-9a-f-]{36}$/);
    r = await demo.call('GET', 'compute', `${vA}/${v1}`, undefined, at('2.89'));
    assertTempest('v2_89/servers.show_volume_attachment', r);
    assert.deepEqual(r.body.volumeAttachment, att89);
    // 2.75: unknown query parameters are refused.
    assert.equal((await demo.call('GET', 'compute', `${vA}?foo=1`, undefined, at('2.74'))).status, 200);
    assert.equal((await demo.call('GET', 'compute', `${vA}?foo=1`, undefined, at('2.75'))).status, 400);

    // ---- 2.79: delete_on_termination in the request and the answers
    const v2 = await createVolume(demo, 'v2');
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: v2, delete_on_termination: true } }, at('2.78'));
    assert.equal(r.status, 400);
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: v2, delete_on_termination: 'yes' } }, at('2.79'));
    assertTempest('v2_79/servers.attach_volume', r);
    assert.equal(r.body.volumeAttachment.delete_on_termination, true);
    assert.equal(r.body.volumeAttachment.tag, null);
    await waitVolume(demo, v2, 'in-use');
    r = await demo.call('GET', 'compute', `${vA}/${v2}`, undefined, at('2.79'));
    assertTempest('v2_79/servers.show_volume_attachment', r);
    assert.equal(r.body.volumeAttachment.delete_on_termination, true);

    // ---- 2.85: PUT with the same volumeId updates delete_on_termination; other fields are immutable
    r = await demo.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v1, delete_on_termination: true } }, at('2.84'));
    assert.equal(r.status, 400, 'below 2.85 the body has only volumeId');
    r = await demo.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v1 } }, at('2.84'));
    assert.equal(r.status, 403, 'below 2.85 a PUT is the admin swap');
    r = await demo.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v1, delete_on_termination: true, tag: 'other' } }, at('2.85'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'The tag property is not mutable');
    r = await demo.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v1, delete_on_termination: true, tag: 'disk1', serverId: a, device: '/dev/vdb', id: v1 } }, at('2.85'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await demo.call('GET', 'compute', `${vA}/${v1}`, undefined, at('2.79'))).body.volumeAttachment.delete_on_termination, true);
    r = await demo.call('PUT', 'compute', `${vA}/00000000-0000-4000-8000-000000000000`, { volumeAttachment: { volumeId: '00000000-0000-4000-8000-000000000000' } }, at('2.85'));
    assert.equal(r.status, 404);
    // A different volumeId is the swap: admin only, and only while Cinder migrates the old volume.
    const v3 = await createVolume(demo, 'v3');
    r = await demo.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v3 } }, at('2.85'));
    assert.equal(r.status, 403);
    for (const v of ['2.1', '2.85']) {
      r = await admin.call('PUT', 'compute', `${vA}/${v1}`, { volumeAttachment: { volumeId: v3 } }, at(v));
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.conflictingRequest.message, `volume ${v1} is not migrating; this API should only be called by Cinder`);
    }

    // ---- 2.60: multiattach volumes on several servers
    const shared = await createMultiattachVolume(admin, demo, 'shared');
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: shared } }, at('2.59'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Multiattach volumes are only supported starting with compute API version 2.60.');
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: shared } }, at('2.60'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitVolume(demo, shared, 'in-use');
    r = await demo.call('POST', 'compute', `/servers/${b}/os-volume_attachments`, { volumeAttachment: { volumeId: shared } }, at('2.60'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const both = await until('two attachments', async () => {
      const v = await volume(demo, shared);
      return v.status === 'in-use' && v.attachments.length === 2 ? v : null;
    });
    assert.deepEqual(both.attachments.map((x: any) => x.server_id).sort(), [a, b].sort());
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: shared } }, at('2.60'));
    assert.equal(r.status, 400, 'not twice on one server');
    // Detaching from one server leaves the other's attachment (the volume stays in-use).
    assert.equal((await demo.call('DELETE', 'compute', `${vA}/${shared}`)).status, 202);
    const one = await until('one attachment left', async () => {
      const v = await volume(demo, shared);
      return v.status === 'in-use' && v.attachments.length === 1 ? v : null;
    });
    assert.equal(one.attachments[0].server_id, b);
    await until('gone from a', async () => !(await demo.call('GET', 'compute', vA)).body.volumeAttachments.some((x: any) => x.volumeId === shared));
    r = await demo.call('POST', 'compute', vA, { volumeAttachment: { volumeId: shared } }, at('2.60'));
    assert.equal(r.status, 200, 'attached again while in use by b');
    await until('two attachments again', async () => (await volume(demo, shared)).attachments.length === 2);
    r = await demo.call('POST', 'compute', `/servers/${b}/os-volume_attachments`, { volumeAttachment: { volumeId: v1 } }, at('2.60'));
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, new RegExp(`volume ${v1} is already attached to instances: ${a}|status must be 'available'`));

    // A suspended server keeps its ports (detach_interface needs ACTIVE, PAUSED or STOPPED).
    const bPort = (await demo.call('GET', 'compute', `/servers/${b}/os-interface`)).body.interfaceAttachments[0].port_id;
    assert.equal((await demo.call('POST', 'compute', `/servers/${b}/action`, { suspend: null })).status, 202);
    await waitForStatus(demo, b, 'SUSPENDED');
    r = await demo.call('DELETE', 'compute', `/servers/${b}/os-interface/${bPort}`);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.conflictingRequest.message, `Cannot 'detach_interface' instance ${b} while it is in vm_state suspended`);
    assert.equal((await demo.call('POST', 'compute', `/servers/${b}/action`, { resume: null })).status, 202);
    await waitForStatus(demo, b, 'ACTIVE');

    // ---- shelved-offloaded: no tags (and nothing below 2.20), the attachment has no device yet
    assert.equal((await demo.call('POST', 'compute', `/servers/${b}/action`, { shelve: null })).status, 202);
    await waitForStatus(admin, b, 'SHELVED_OFFLOADED');
    const vB = `/servers/${b}/os-volume_attachments`;
    r = await demo.call('POST', 'compute', vB, { volumeAttachment: { volumeId: v3 } }, at('2.19'));
    assert.equal(r.status, 409);
    r = await demo.call('POST', 'compute', vB, { volumeAttachment: { volumeId: v3, tag: 'late' } }, at('2.49'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Tagged volume attachment is not supported for shelved-offloaded instances.');
    r = await demo.call('POST', 'compute', vB, { volumeAttachment: { volumeId: v3 } }, at('2.79'));
    assertTempest('v2_79/servers.attach_volume', r);
    assert.equal(r.body.volumeAttachment.device, null);
    await waitVolume(demo, v3, 'in-use');
    r = await demo.call('GET', 'compute', `${vB}/${v3}`, undefined, at('2.89'));
    assertTempest('v2_89/servers.show_volume_attachment', r);
    assert.ok(!('device' in r.body.volumeAttachment));

    // ---- the server delete honours delete_on_termination (v1 set by PUT, v2 by the attach)
    assert.equal((await demo.call('DELETE', 'compute', `/servers/${a}`)).status, 204);
    await waitGone(demo, a);
    await waitVolume(demo, v1, null);
    await waitVolume(demo, v2, null);
    const left = await until('shared volume left on b', async () => {
      const v = await volume(demo, shared);
      return v.attachments.length === 1 ? v : null;
    });
    assert.equal(left.attachments[0].server_id, b);
    assert.equal(left.status, 'in-use');
  });
});
