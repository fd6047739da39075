/**
 * A server with an attached Cinder volume keeps it through resize (confirm and revert), cold
 * migration, live migration and evacuation: after each move the volume is `in-use`, attached
 * to the server with exactly one attachment whose host is the server's new host (Nova's
 * attachment create/delete + update/complete dance), the BDM still lists it, and the guest on
 * the new host has the disk (server diagnostics, 2.48).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { createVolume, volume, waitVolume } from '../volumes-events/helpers.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';

raiseMicroversionCeilingForTests('2.92');
const MV = (v: string) => ({ 'X-OpenStack-Nova-API-Version': v });

async function hostOf(admin: Client, id: string): Promise<string> {
  return (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
}

/** The volume is in-use, attached to `server` once, from `host`; the guest there has the disk. */
async function assertAttachedOn(admin: Client, demo: Client, volId: string, server: string, host: string, step: string): Promise<void> {
  // host_name is shown to admins only.
  const v = await volume(admin, volId);
  assert.equal(v.status, 'in-use', `${step}: volume status`);
  assert.equal(v.attachments.length, 1, `${step}: one attachment, got ${JSON.stringify(v.attachments)}`);
  assert.equal(v.attachments[0].server_id, server, step);
  assert.equal(v.attachments[0].host_name, host, `${step}: attachment host`);
  assert.equal(v.attachments[0].device, '/dev/vdb', step);
  const atts = (await demo.call('GET', 'compute', `/servers/${server}/os-volume_attachments`)).body.volumeAttachments;
  assert.deepEqual(atts.map((a: any) => a.volumeId), [volId], `${step}: BDM`);
  const diag = await admin.call('GET', 'compute', `/servers/${server}/diagnostics`, undefined, MV('2.48'));
  if (diag.status === 200) assert.equal(diag.body.disk_details.length, 2, `${step}: the guest has its root disk and the volume: ${JSON.stringify(diag.body)}`);
  const cinderAtts = (await admin.call('GET', 'volumev3', `/attachments?all_tenants=1`, undefined, { 'OpenStack-API-Version': 'volume 3.44' })).body.attachments
    .filter((a: any) => a.volume_id === volId);
  assert.equal(cinderAtts.length, 1, `${step}: Cinder holds one attachment of the volume`);
}

test('volumes stay attached through resize, revert, cold and live migration, evacuation', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    let r = await demo.call('POST', 'compute', '/servers', { server: { name: 'vm-vol', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id as string;
    await waitForStatus(demo, id, 'ACTIVE');
    const volId = await createVolume(demo, 'data1');
    r = await demo.call('POST', 'compute', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: volId } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitVolume(demo, volId, 'in-use');
    const h0 = await hostOf(admin, id);
    const other = (h: string) => cloud.computeHosts.find((x) => x !== h)!;
    await assertAttachedOn(admin, demo, volId, id, h0, 'boot');

    // Resize + confirm: the volume follows to the destination.
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    const h1 = await hostOf(admin, id);
    assert.equal(h1, other(h0));
    await assertAttachedOn(admin, demo, volId, id, h1, 'resized');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
    assert.equal(r.status, 204);
    await waitForStatus(demo, id, 'ACTIVE');
    await assertAttachedOn(admin, demo, volId, id, h1, 'confirmed');

    // Resize + revert: back on the source, the volume too.
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '3' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    await assertAttachedOn(admin, demo, volId, id, h0, 'resized back');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null });
    assert.equal(r.status, 202);
    await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(await hostOf(admin, id), h1);
    await assertAttachedOn(admin, demo, volId, id, h1, 'reverted');

    // Cold migration.
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: null });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(admin, id, 'VERIFY_RESIZE');
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
    assert.equal(r.status, 204);
    await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(await hostOf(admin, id), h0);
    await assertAttachedOn(admin, demo, volId, id, h0, 'cold migrated');

    // Live migration: a second attachment for the destination, the source's deleted after.
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, MV('2.68'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForStatus(admin, id, 'ACTIVE');
    for (let i = 0; i < 100 && (await volume(demo, volId)).attachments.length !== 1; i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(await hostOf(admin, id), h1);
    await assertAttachedOn(admin, demo, volId, id, h1, 'live migrated');

    // Evacuation from a forced-down host.
    r = await admin.call('GET', 'compute', `/os-services?binary=nova-compute&host=${h1}`, undefined, MV('2.53'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const svc = r.body.services[0];
    r = await admin.call('PUT', 'compute', `/os-services/${svc.id}`, { forced_down: true }, MV('2.53'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { evacuate: {} }, MV('2.68'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(await hostOf(admin, id), h0);
    await assertAttachedOn(admin, demo, volId, id, h0, 'evacuated');
    // (Forcing it up again is refused until that compute restarts and completes the evacuation.)
    r = await admin.call('PUT', 'compute', `/os-services/${svc.id}`, { forced_down: false }, MV('2.53'));
    assert.equal(r.status, 400, JSON.stringify(r.body));

    // Detach still works after all that.
    r = await demo.call('DELETE', 'compute', `/servers/${id}/os-volume_attachments/${volId}`);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitVolume(demo, volId, 'available');
  });
});
