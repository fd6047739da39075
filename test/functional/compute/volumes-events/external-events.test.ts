/**
 * os-server-external-events across 2.51..2.82 on a whole cloud: names per microversion,
 * per-event codes (404 / 400 / 207), Cinder's own `volume-extended` after an in-use extend
 * (the fake guest sees the new size, under an `extend_volume` action), `power-update`
 * (POWER_OFF / POWER_ON move the server like a stop / start, recorded as those actions),
 * `accelerator-request-bound` accepted without Cyborg.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { fakeDriverFor } from '../../../../src/virt/fake.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';
import { at, createVolume, finishedAction, until, waitVolume } from './helpers.js';

test('external events: volume-extended from Cinder, power-update, accelerator-request-bound', { timeout: 90_000 }, async () => {
  raiseMicroversionCeilingForTests('2.92');
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const host = cloud.computeHosts[0]!;
    const { imageRef, networkId } = await bootArgs(demo);
    const boot = await demo.call('POST', 'compute', '/servers', { server: { name: 'ev', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(boot.status, 202);
    const id = boot.body.server.id as string;
    await waitForStatus(demo, id, 'ACTIVE');
    const E = '/os-server-external-events';
    const post = (v: string, events: Record<string, unknown>[], c = admin) => c.call('POST', 'compute', E, { events }, at(v));

    // ---- Cinder extends an in-use volume and tells Nova at 2.51
    const vol = await createVolume(demo, 'grow');
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } })).status, 200);
    await waitVolume(demo, vol, 'in-use');
    const disk = () => fakeDriverFor(host)!.volumesOf(id).find((d) => d.volumeId === vol);
    assert.ok(disk(), 'the guest has the volume');
    const ext = await demo.call('POST', 'volumev3', `/volumes/${vol}/action`, { 'os-extend': { new_size: 3 } }, { 'OpenStack-API-Version': 'volume 3.42' });
    assert.equal(ext.status, 202, JSON.stringify(ext.body));
    await until('the guest sees 3 GiB', async () => disk()?.sizeGb === 3);
    const act = await finishedAction(demo, id, 'extend_volume', at('2.51'));
    assert.deepEqual(act.body.instanceAction.events.map((e: any) => [e.event, e.result]), [['compute_extend_volume', 'Success']]);
    assert.equal((await waitVolume(demo, vol, 'in-use')).size, 3);

    // ---- names by microversion; admin only
    assert.equal((await post('2.50', [{ name: 'volume-extended', server_uuid: id, tag: vol }])).status, 400);
    assert.equal((await post('2.75', [{ name: 'power-update', server_uuid: id, tag: 'POWER_OFF' }])).status, 400);
    assert.equal((await post('2.81', [{ name: 'accelerator-request-bound', server_uuid: id, tag: 'arq' }])).status, 400);
    assert.equal((await post('2.82', [{ name: 'network-changed', server_uuid: id }], demo)).status, 403);

    // ---- per-event outcomes: unknown server 404, a tag-requiring event without tag 400
    const unknown = '00000000-0000-4000-8000-000000000000';
    let r = await post('2.51', [{ name: 'network-changed', server_uuid: id }, { name: 'network-changed', server_uuid: unknown, tag: 'x' }, { name: 'volume-extended', server_uuid: id }]);
    assert.equal(r.status, 207);
    assert.deepEqual(r.body.events, [
      { name: 'network-changed', server_uuid: id, status: 'completed', code: 200 },
      { name: 'network-changed', server_uuid: unknown, tag: 'x', status: 'failed', code: 404 },
      { name: 'volume-extended', server_uuid: id, status: 'failed', code: 400 },
    ]);
    r = await post('2.1', [{ name: 'network-vif-plugged', server_uuid: unknown, status: 'completed' }]);
    assert.equal(r.status, 207, 'no instance at all is still a 207');
    assert.equal(r.body.events[0].code, 404);
    r = await post('2.1', [{ name: 'network-changed', server_uuid: id }]);
    assertTempest('v2_1/server_external_events.create', r);

    // ---- power-update (2.76): the guest powered off / on outside Nova
    r = await post('2.76', [{ name: 'power-update', server_uuid: id, tag: 'POWER_OFF' }]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.events, [{ name: 'power-update', server_uuid: id, tag: 'POWER_OFF', status: 'completed', code: 200 }]);
    let s = await waitForStatus(demo, id, 'SHUTOFF');
    assert.equal(s['OS-EXT-STS:power_state'], 4);
    assert.equal(fakeDriverFor(host)!.getInfo({ uuid: id } as never).state, 4, 'the domain is shut down');
    const stop = await finishedAction(admin, id, 'stop', at('2.62'));
    assert.deepEqual(stop.body.instanceAction.events.map((e: any) => [e.event, e.result, e.host]), [['compute_power_update', 'Success', host]]);
    r = await post('2.76', [{ name: 'power-update', server_uuid: id, tag: 'POWER_ON' }]);
    assert.equal(r.status, 200);
    s = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    await finishedAction(demo, id, 'start', at('2.51'));
    // Already running: POWER_ON changes nothing (the action still records the no-op).
    const before = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.length;
    assert.equal((await post('2.76', [{ name: 'power-update', server_uuid: id, tag: 'POWER_ON' }])).status, 200);
    await until('no-op start recorded', async () => (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.length === before + 1);
    // An unknown power state is accepted but not acted on.
    assert.equal((await post('2.76', [{ name: 'power-update', server_uuid: id, tag: 'POWER_SAVE' }])).status, 200);
    assert.equal((await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.length, before + 1);
    assert.equal((await demo.call('GET', 'compute', `/servers/${id}`)).body.server.status, 'ACTIVE');

    // ---- accelerator-request-bound (2.82): accepted; nothing waits for it outside a build
    r = await post('2.82', [{ name: 'accelerator-request-bound', server_uuid: id, tag: '11111111-2222-4333-8444-555555555555', status: 'completed' }]);
    assert.equal(r.status, 200);
    assert.equal(r.body.events[0].code, 200);
    r = await post('2.82', [{ name: 'accelerator-request-bound', server_uuid: id }]);
    assert.equal(r.status, 207);
    assert.equal(r.body.events[0].code, 400);
    assert.equal((await demo.call('GET', 'compute', `/servers/${id}`)).body.server.status, 'ACTIVE');
  });
});
