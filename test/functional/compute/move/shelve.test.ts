/**
 * Shelve / unshelve (shelved_offload_time 0, Nova's default): shelve snapshots the server to
 * `<name>-shelved`, offloads it (no host, no allocation, ports unbound); unshelve schedules it
 * again, spawns it from that image, deletes the image and the server is ACTIVE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };

test('shelve offloads, unshelve schedules and spawns again', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'sh1', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202);
    const id = r.body.server.id;
    await waitForStatus(demo, id, 'ACTIVE');

    let a = await demo.call('POST', 'compute', `/servers/${id}/action`, { unshelve: null });
    assert.equal(a.status, 409, 'an ACTIVE server cannot be unshelved');
    a = await demo.call('POST', 'compute', `/servers/${id}/action`, { shelve: null });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const off = await waitForStatus(admin, id, 'SHELVED_OFFLOADED');
    assert.equal(off['OS-EXT-SRV-ATTR:host'], null);
    assert.equal(off['OS-EXT-STS:power_state'], 0);
    const imgs = (await demo.call('GET', 'image', '/v2/images?name=sh1-shelved')).body.images;
    assert.equal(imgs.length, 1);
    assert.equal(imgs[0].status, 'active');
    assert.deepEqual((await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations, {});
    const port = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports[0];
    assert.ok(!port['binding:host_id'], `port unbound, got ${port['binding:host_id']}`);

    a = await demo.call('POST', 'compute', `/servers/${id}/action`, { unshelve: null });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const on = await waitForStatus(admin, id, 'ACTIVE');
    assert.ok(cloud.computeHosts.includes(on['OS-EXT-SRV-ATTR:host']));
    assert.equal(on['OS-EXT-STS:power_state'], 1);
    assert.equal(Object.keys((await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations).length, 1);
    assert.equal((await demo.call('GET', 'image', '/v2/images?name=sh1-shelved')).body.images.length, 0, 'shelved image deleted');
    const port2 = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports[0];
    assert.equal(port2['binding:host_id'], on['OS-EXT-SRV-ATTR:host']);
    const actions = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((x: any) => x.action).sort();
    assert.deepEqual(actions, ['create', 'shelve', 'unshelve']);

    // A stopped server shelves too; shelveOffload is admin-only and needs SHELVED.
    a = await demo.call('POST', 'compute', `/servers/${id}/action`, { shelveOffload: null });
    assert.equal(a.status, 403);
    a = await admin.call('POST', 'compute', `/servers/${id}/action`, { shelveOffload: null });
    assert.equal(a.status, 409);
  });
});
