/**
 * `resize_confirm_window`: a resize left in VERIFY_RESIZE is confirmed by the destination
 * compute's `_poll_unconfirmed_resizes` once the window has passed (here 1 s, set through
 * OS_DEFAULT__RESIZE_CONFIRM_WINDOW, oslo.config's environment source for nova.conf's [DEFAULT]resize_confirm_window).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

test('a resize is confirmed automatically after resize_confirm_window', async () => {
  process.env['OS_DEFAULT__RESIZE_CONFIRM_WINDOW'] = '1';
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'ac1', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202);
    const id = r.body.server.id;
    await waitForStatus(demo, id, 'ACTIVE');
    const rs = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(rs.status, 202);
    // Nobody confirms: the poller does.
    const s = await waitForStatus(demo, id, 'ACTIVE', 30_000);
    assert.equal(s['OS-EXT-STS:vm_state'], 'active');
    const migs = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations;
    assert.equal(migs[0].status, 'confirmed');
    const actions = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action).sort();
    assert.deepEqual(actions, ['confirmResize', 'create', 'resize']);
    const mine = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, { 'OpenStack-API-Version': 'placement 1.28' })).body.allocations;
    assert.equal(Object.keys(mine).length, 1);
  });
  delete process.env['OS_DEFAULT__RESIZE_CONFIRM_WINDOW'];
});
