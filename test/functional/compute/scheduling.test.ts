/**
 * Scheduling through the API: availability zones from host aggregates (fanned out to the
 * scheduler), server groups with anti-affinity, same_host/different_host hints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootArgs, login, waitForStatus, withCloud } from './helpers.js';

test('aggregate AZs, anti-affinity groups and host hints steer the scheduler', async () => {
  await withCloud(2, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(admin);
    const hostOf = async (id: string) => (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
    const boot = async (extra: Record<string, unknown>, hints?: Record<string, unknown>) => {
      const r = await admin.call('POST', 'compute', '/servers', { server: { name: 's', imageRef, flavorRef: '42', networks: [{ uuid: networkId }], ...extra }, ...(hints ? { 'os:scheduler_hints': hints } : {}) });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      await waitForStatus(admin, r.body.server.id, 'ACTIVE');
      return r.body.server.id as string;
    };

    let r = await admin.call('POST', 'compute', '/os-aggregates', { aggregate: { name: 'agg1', availability_zone: 'az1' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const aggId = r.body.aggregate.id;
    r = await admin.call('POST', 'compute', `/os-aggregates/${aggId}/action`, { add_host: { host: 'compute2' } });
    assert.deepEqual(r.body.aggregate.hosts, ['compute2']);
    assert.equal((await admin.call('POST', 'compute', `/os-aggregates/${aggId}/action`, { add_host: { host: 'nohost' } })).status, 404);
    const zones = (await admin.call('GET', 'compute', '/os-availability-zone')).body.availabilityZoneInfo.map((z: any) => z.zoneName).sort();
    assert.deepEqual(zones, ['az1', 'nova']);

    const inAz = await boot({ availability_zone: 'az1' });
    assert.equal(await hostOf(inAz), 'compute2');
    const s = (await admin.call('GET', 'compute', `/servers/${inAz}`)).body.server;
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'az1');

    const same = await boot({}, { same_host: inAz });
    assert.equal(await hostOf(same), 'compute2');
    const diff = await boot({}, { different_host: [inAz] });
    assert.equal(await hostOf(diff), 'compute1');

    // os-interface: attach a second port (a call to the compute), then detach it (a cast).
    r = await admin.call('POST', 'compute', `/servers/${diff}/os-interface`, { interfaceAttachment: { net_id: networkId } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const added = r.body.interfaceAttachment.port_id;
    assert.equal(r.body.interfaceAttachment.net_id, networkId);
    assert.equal((await admin.call('GET', 'compute', `/servers/${diff}/os-interface`)).body.interfaceAttachments.length, 2);
    const bound = (await admin.call('GET', 'network', `/v2.0/ports/${added}`)).body.port;
    assert.equal(bound['binding:host_id'], 'compute1');
    assert.equal((await admin.call('DELETE', 'compute', `/servers/${diff}/os-interface/${added}`)).status, 202);
    for (let i = 0; (await admin.call('GET', 'compute', `/servers/${diff}/os-interface`)).body.interfaceAttachments.length !== 1; i++) {
      assert.ok(i < 200, 'detached port goes away');
      await new Promise((x) => setTimeout(x, 50));
    }

    r = await admin.call('POST', 'compute', '/os-server-groups', { server_group: { name: 'g', policies: ['anti-affinity'] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const group = r.body.server_group.id;
    const g1 = await boot({}, { group });
    const g2 = await boot({}, { group });
    assert.notEqual(await hostOf(g1), await hostOf(g2));
    const members = (await admin.call('GET', 'compute', `/os-server-groups/${group}`)).body.server_group.members.sort();
    assert.deepEqual(members, [g1, g2].sort());
    // A third member has nowhere to go: buried in cell0 with NoValidHost.
    r = await admin.call('POST', 'compute', '/servers', { server: { name: 'g3', imageRef, flavorRef: '42', networks: [{ uuid: networkId }] }, 'os:scheduler_hints': { group } });
    const g3 = await waitForStatus(admin, r.body.server.id, 'ERROR');
    assert.match(g3.fault.message, /^No valid host was found/);
  });
});
