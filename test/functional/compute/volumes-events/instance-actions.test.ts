/**
 * os-instance-actions across 2.21..2.84 on a whole cloud, each answer against Tempest's schema
 * of its microversion: events for owners from 2.51 (traceback admin only), paging with
 * limit / marker / changes-since and `links` (2.58), hostId and host (2.62), changes-before
 * (2.66), the failure's `details` (2.84, admin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { clearFailures, injectFailure } from '../../../../src/virt/fake.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';
import { at, until } from './helpers.js';

test('instance actions: events, paging, hostId, changes-before, details', { timeout: 90_000 }, async () => {
  raiseMicroversionCeilingForTests('2.92');
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const boot = await demo.call('POST', 'compute', '/servers', { server: { name: 'acts', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(boot.status, 202);
    const id = boot.body.server.id as string;
    const server = await waitForStatus(demo, id, 'ACTIVE');
    const P = `/servers/${id}/os-instance-actions`;
    const stopStart = async () => {
      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null })).status, 202);
      await waitForStatus(demo, id, 'SHUTOFF');
      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-start': null })).status, 202);
      await waitForStatus(demo, id, 'ACTIVE');
    };
    await stopStart();
    // A stop whose driver call fails: the event records the error.
    const host = cloud.computeHosts[0]!;
    injectFailure(host, { op: 'powerOff', times: 1, message: 'the fake hypervisor refused to power off' });
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null })).status, 202);
    try {
      await until('failed stop recorded', async () => {
        const acts = (await demo.call('GET', 'compute', P)).body.instanceActions;
        return acts[0].action === 'stop' && acts[0].message === 'Error';
      });
    } finally {
      clearFailures(host);
    }
    await waitForStatus(demo, id, 'ACTIVE');

    // ---- list below 2.58: everything, no paging parameters checked
    let r = await demo.call('GET', 'compute', `${P}?foo=bar`, undefined, at('2.57'));
    assertTempest('v2_1/servers.list_instance_actions', r);
    const all = r.body.instanceActions as any[];
    assert.deepEqual(all.map((a) => a.action), ['stop', 'start', 'stop', 'create']);

    // ---- 2.58: updated_at, limit / marker / links, changes-since
    r = await demo.call('GET', 'compute', P, undefined, at('2.58'));
    assertTempest('v2_58/servers.list_instance_actions', r);
    assert.ok(!('links' in r.body));
    assert.ok(r.body.instanceActions.every((a: any) => a.updated_at));
    r = await demo.call('GET', 'compute', `${P}?limit=2`, undefined, at('2.58'));
    assertTempest('v2_58/servers.list_instance_actions', r);
    assert.deepEqual(r.body.instanceActions.map((a: any) => a.request_id), all.slice(0, 2).map((a) => a.request_id));
    assert.equal(r.body.links.length, 1);
    assert.equal(r.body.links[0].rel, 'next');
    const next = new URL(r.body.links[0].href);
    assert.equal(next.pathname.endsWith(P), true, next.pathname);
    assert.equal(next.searchParams.get('marker'), all[1].request_id);
    assert.equal(next.searchParams.get('limit'), '2');
    r = await demo.call('GET', 'compute', `${P}${next.search}`, undefined, at('2.58'));
    assert.deepEqual(r.body.instanceActions.map((a: any) => a.request_id), all.slice(2, 4).map((a) => a.request_id));
    r = await demo.call('GET', 'compute', `${P}?marker=${all[3].request_id}`, undefined, at('2.58'));
    assert.deepEqual(r.body.instanceActions, []);
    r = await demo.call('GET', 'compute', `${P}?marker=req-nope`, undefined, at('2.58'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Marker req-nope could not be found.');
    for (const bad of ['limit=-1', 'limit=x', 'foo=bar', 'changes-since=yesterday']) {
      assert.equal((await demo.call('GET', 'compute', `${P}?${bad}`, undefined, at('2.58'))).status, 400, bad);
    }
    const updated = (await demo.call('GET', 'compute', P, undefined, at('2.58'))).body.instanceActions as any[];
    const since = encodeURIComponent(`${updated[1].updated_at}Z`);
    r = await demo.call('GET', 'compute', `${P}?changes-since=${since}`, undefined, at('2.58'));
    assert.deepEqual(r.body.instanceActions.map((a: any) => a.request_id), updated.filter((a) => a.updated_at >= updated[1].updated_at).map((a) => a.request_id));
    r = await demo.call('GET', 'compute', `${P}?changes-since=2999-01-01T00:00:00Z`, undefined, at('2.58'));
    assert.deepEqual(r.body.instanceActions, []);

    // ---- 2.66: changes-before (and its order with changes-since)
    assert.equal((await demo.call('GET', 'compute', `${P}?changes-before=${since}`, undefined, at('2.65'))).status, 400);
    r = await demo.call('GET', 'compute', `${P}?changes-before=${since}`, undefined, at('2.66'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.instanceActions.map((a: any) => a.request_id), updated.filter((a) => a.updated_at <= updated[1].updated_at).map((a) => a.request_id));
    r = await demo.call('GET', 'compute', `${P}?changes-since=2999-01-01T00:00:00Z&changes-before=2000-01-01T00:00:00Z`, undefined, at('2.66'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'The value of changes-since must be less than or equal to changes-before.');

    // ---- show: events for owners from 2.51; host / hostId from 2.62; details from 2.84
    const failed = all[0];
    const S = `${P}/${failed.request_id}`;
    r = await demo.call('GET', 'compute', S, undefined, at('2.50'));
    assertTempest('v2_1/servers.show_instance_action', r);
    assert.ok(!('events' in r.body.instanceAction), 'no events for owners below 2.51');
    r = await admin.call('GET', 'compute', S, undefined, at('2.50'));
    assertTempest('v2_1/servers.show_instance_action', r);
    assert.equal(r.body.instanceAction.events[0].event, 'compute_stop_instance');
    assert.equal(r.body.instanceAction.events[0].result, 'Error');
    assert.match(r.body.instanceAction.events[0].traceback, /refused to power off/);
    r = await demo.call('GET', 'compute', S, undefined, at('2.51'));
    assertTempest('v2_51/servers.show_instance_action', r);
    assert.deepEqual(Object.keys(r.body.instanceAction.events[0]).sort(), ['event', 'finish_time', 'result', 'start_time']);
    r = await demo.call('GET', 'compute', S, undefined, at('2.62'));
    assertTempest('v2_62/servers.show_instance_action', r);
    assert.equal(r.body.instanceAction.events[0].hostId, server.hostId);
    assert.ok(!('host' in r.body.instanceAction.events[0]));
    r = await admin.call('GET', 'compute', S, undefined, at('2.62'));
    assertTempest('v2_62/servers.show_instance_action', r);
    assert.equal(r.body.instanceAction.events[0].host, host);
    assert.ok(!('details' in r.body.instanceAction.events[0]));
    r = await admin.call('GET', 'compute', S, undefined, at('2.84'));
    assertTempest('v2_84/servers.show_instance_action', r);
    assert.equal(r.body.instanceAction.events[0].details, 'the fake hypervisor refused to power off');
    r = await demo.call('GET', 'compute', S, undefined, at('2.84'));
    assertTempest('v2_84/servers.show_instance_action', r);
    assert.ok(!('details' in r.body.instanceAction.events[0]), 'details are admin only by default');
    r = await admin.call('GET', 'compute', `${P}/${all[1].request_id}`, undefined, at('2.84'));
    assertTempest('v2_84/servers.show_instance_action', r);
    assert.equal(r.body.instanceAction.events[0].details, null, 'a successful event has no details');
    r = await demo.call('GET', 'compute', `${P}/req-nope`, undefined, at('2.84'));
    assert.equal(r.status, 404);
    assert.equal(r.body.itemNotFound.message, 'Action req-nope not found');
  });
});
