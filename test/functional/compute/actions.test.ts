/**
 * The server lifecycle beyond boot: lock, rebuild, createImage, tags, metadata, the task-state
 * compare-and-swap (409), faults (400/403/404), external events (200/207), keypairs and flavors,
 * and a reschedule to an alternate host when a spawn fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearFailures, injectFailure } from '../../../src/virt/fake.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud } from './helpers.js';

test('lifecycle actions, faults and reschedule', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

    // ---- faults at boot ----
    let r = await demo.call('POST', 'compute', '/servers', { server: { name: 'x', imageRef, flavorRef: 'nope', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 400);
    assert.ok(r.body.badRequest.message);
    r = await demo.call('POST', 'compute', '/servers', { server: { name: 'x', imageRef: '00000000-0000-0000-0000-000000000001', flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 400);
    r = await demo.call('POST', 'compute', '/servers', { server: { name: 'x', imageRef, flavorRef: '1' } }, mv('2.37'));
    assert.equal(r.status, 400, 'networks is required from 2.37');
    r = await demo.call('POST', 'compute', '/servers', { server: { name: 'x', imageRef, flavorRef: '1', networks: [{ uuid: networkId }], min_count: 11 } });
    assert.equal(r.status, 403);
    assert.match(r.body.forbidden.message, /^Quota exceeded for instances/);
    assert.equal((await demo.call('GET', 'compute', '/servers/00000000-0000-0000-0000-000000000000')).status, 404);

    // ---- boot with tags, metadata, key ----
    const kp = await demo.call('POST', 'compute', '/os-keypairs', { keypair: { name: 'k1' } }, mv('2.2'));
    assert.equal(kp.status, 201);
    assert.match(kp.body.keypair.private_key, /BEGIN RSA PRIVATE KEY/);
    assert.match(kp.body.keypair.public_key, /^ssh-rsa /);
    r = await demo.call('POST', 'compute', '/servers', {
      server: { name: 'life', imageRef, flavorRef: '1', networks: [{ uuid: networkId }], key_name: 'k1', metadata: { role: 'web' }, tags: ['a', 'b'] },
    }, mv('2.93'));
    assert.equal(r.status, 406, '2.93 is above what Stratus advertises');
    r = await demo.call('POST', 'compute', '/servers', { server: { name: 'life', imageRef, flavorRef: '1', networks: [{ uuid: networkId }], key_name: 'k1', metadata: { role: 'web' } } });
    assert.equal(r.status, 202);
    const id = r.body.server.id;
    let s = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s.key_name, 'k1');
    assert.deepEqual(s.metadata, { role: 'web' });

    // ---- tags (2.26) and metadata ----
    assert.equal((await demo.call('PUT', 'compute', `/servers/${id}/tags/t1`, undefined, mv('2.26'))).status, 201);
    assert.equal((await demo.call('PUT', 'compute', `/servers/${id}/tags/t1`, undefined, mv('2.26'))).status, 204);
    assert.deepEqual((await demo.call('PUT', 'compute', `/servers/${id}/tags`, { tags: ['z', 'y'] }, mv('2.26'))).body.tags, ['y', 'z']);
    assert.equal((await demo.call('GET', 'compute', `/servers/${id}/tags/y`, undefined, mv('2.26'))).status, 204);
    assert.equal((await demo.call('GET', 'compute', `/servers/${id}/tags`)).status, 404, 'tags need 2.26');
    const tagged = (await demo.call('GET', 'compute', '/servers/detail?tags=y', undefined, mv('2.26'))).body.servers;
    assert.deepEqual(tagged.map((x: any) => x.id), [id]);
    assert.deepEqual(tagged[0].tags, ['y', 'z']);
    assert.deepEqual((await demo.call('POST', 'compute', `/servers/${id}/metadata`, { metadata: { env: 'prod' } })).body.metadata, { role: 'web', env: 'prod' });
    assert.equal((await demo.call('DELETE', 'compute', `/servers/${id}/metadata/role`)).status, 204);
    assert.deepEqual((await demo.call('GET', 'compute', `/servers/${id}/metadata`)).body.metadata, { env: 'prod' });

    // ---- lock: the owner cannot act on a server an admin locked ----
    assert.equal((await admin.call('POST', 'compute', `/servers/${id}/action`, { lock: null })).status, 202);
    s = (await demo.call('GET', 'compute', `/servers/${id}`, undefined, mv('2.9'))).body.server;
    assert.equal(s.locked, true);
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null });
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Instance ${id} is locked`);
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { unlock: null })).status, 403);
    assert.equal((await admin.call('POST', 'compute', `/servers/${id}/action`, { unlock: null })).status, 202);

    // ---- compare-and-swap: a second action while one is in flight gets 409 ----
    const [a1, a2] = await Promise.all([
      demo.call('POST', 'compute', `/servers/${id}/action`, { reboot: { type: 'SOFT' } }),
      demo.call('POST', 'compute', `/servers/${id}/action`, { reboot: { type: 'SOFT' } }),
    ]);
    assert.deepEqual([a1.status, a2.status].sort(), [202, 409]);
    assert.match((a1.status === 409 ? a1 : a2).body.conflictingRequest.message, new RegExp(`^Cannot 'reboot' instance ${id} while it is in task_state reboot`));
    await waitForStatus(demo, id, 'ACTIVE');

    // ---- rebuild and createImage ----
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { rebuild: { imageRef, name: 'life2' } });
    assert.equal(r.status, 202);
    assert.ok(r.body.server.adminPass);
    s = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s.name, 'life2');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { createImage: { name: 'snap' } }, mv('2.45'));
    assert.equal(r.status, 202);
    const imageId = r.body.image_id;
    await waitForStatus(demo, id, 'ACTIVE');
    for (let i = 0; ; i++) {
      const img = (await demo.call('GET', 'image', `/v2/images/${imageId}`)).body;
      if (img.status === 'active') {
        assert.equal(img.image_type, 'snapshot');
        assert.equal(img.instance_uuid, id);
        break;
      }
      assert.ok(i < 200, `snapshot stayed ${img.status}`);
      await new Promise((x) => setTimeout(x, 50));
    }
    const events = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((x: any) => x.action);
    for (const a of ['create', 'lock', 'unlock', 'reboot', 'rebuild', 'createImage']) assert.ok(events.includes(a), a);

    // ---- external events: 200, 207 with per-event codes, 404 when none matched ----
    r = await admin.call('POST', 'compute', '/os-server-external-events', { events: [{ name: 'network-changed', server_uuid: id }] });
    assert.equal(r.status, 200);
    r = await admin.call('POST', 'compute', '/os-server-external-events', { events: [
      { name: 'network-changed', server_uuid: id }, { name: 'network-vif-plugged', server_uuid: '11111111-1111-1111-1111-111111111111', tag: 'x' }] });
    assert.equal(r.status, 207);
    assert.deepEqual(r.body.events.map((e: any) => e.code), [200, 404]);
    r = await admin.call('POST', 'compute', '/os-server-external-events', { events: [{ name: 'bogus', server_uuid: id }] });
    assert.equal(r.status, 400);
    assert.equal((await demo.call('POST', 'compute', '/os-server-external-events', { events: [{ name: 'network-changed', server_uuid: id }] })).status, 403);

    assert.equal((await demo.call('DELETE', 'compute', `/servers/${id}`)).status, 204);
    await waitGone(demo, id);

    // ---- reschedule: compute1 fails every spawn; the build moves to the alternate ----
    injectFailure('compute1', { op: 'spawn', message: 'injected: hypervisor is on fire' });
    try {
      const ids: string[] = [];
      for (const name of ['rs1', 'rs2']) {
        r = await demo.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
        assert.equal(r.status, 202);
        ids.push(r.body.server.id);
        await waitForStatus(demo, r.body.server.id, 'ACTIVE');
      }
      let rescheduled = 0;
      for (const sid of ids) {
        const host = (await admin.call('GET', 'compute', `/servers/${sid}`)).body.server['OS-EXT-SRV-ATTR:host'];
        assert.equal(host, 'compute2');
        const acts = (await admin.call('GET', 'compute', `/servers/${sid}/os-instance-actions`)).body.instanceActions;
        const ev = (await admin.call('GET', 'compute', `/servers/${sid}/os-instance-actions/${acts.find((a: any) => a.action === 'create').request_id}`)).body.instanceAction.events;
        if (ev.some((e: any) => e.result === 'Error')) rescheduled++;
        const ports = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${sid}`)).body.ports;
        assert.equal(ports.length, 1, 'the failed host\'s port was cleaned up');
        assert.equal(ports[0]['binding:host_id'], 'compute2');
      }
      assert.ok(rescheduled >= 1, 'at least one build was rescheduled from compute1');
      for (const sid of ids) await demo.call('DELETE', 'compute', `/servers/${sid}`);
      for (const sid of ids) await waitGone(demo, sid);
    } finally {
      clearFailures();
    }

    // ---- usage: the servers above ran in this window ----
    const demoProject = (await demo.call('GET', 'identity', '/auth/projects')).body.projects[0].id;
    const usage = (await demo.call('GET', 'compute', `/os-simple-tenant-usage/${demoProject}`)).body.tenant_usage;
    assert.ok(usage.server_usages.some((u: any) => u.name === 'life2' && u.state === 'terminated'), JSON.stringify(usage.server_usages.map((u: any) => [u.name, u.state])));
    assert.ok(usage.total_hours > 0);
    assert.equal((await demo.call('GET', 'compute', '/os-simple-tenant-usage')).status, 403);

    // ---- flavors ----
    const fl = (await demo.call('GET', 'compute', '/flavors/detail')).body.flavors.map((f: any) => f.name);
    for (const n of ['m1.nano', 'm1.micro', 'm1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']) assert.ok(fl.includes(n), n);
    assert.equal((await demo.call('POST', 'compute', '/flavors', { flavor: { name: 'f', ram: 1, vcpus: 1, disk: 1 } })).status, 403);
    r = await admin.call('POST', 'compute', '/flavors', { flavor: { name: 'custom', ram: 256, vcpus: 1, disk: 1, id: 'custom' } });
    assert.equal(r.status, 200);
    assert.equal((await admin.call('POST', 'compute', '/flavors/custom/os-extra_specs', { extra_specs: { 'hw:cpu_policy': 'shared' } })).status, 200);
    assert.deepEqual((await admin.call('GET', 'compute', '/flavors/custom/os-extra_specs')).body.extra_specs, { 'hw:cpu_policy': 'shared' });
    assert.equal((await admin.call('DELETE', 'compute', '/flavors/custom')).status, 202);
    assert.equal((await admin.call('GET', 'compute', '/flavors/custom')).status, 404);
  });
});
