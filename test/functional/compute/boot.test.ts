/**
 * Boot through every real hop (openstack-flows §1.2): nova-api -> super-conductor
 * (schedule_and_build_instances) -> scheduler (select_destinations, Placement claim) -> cell
 * conductor -> compute (build_and_run_instance) -> Neutron port update -> network-vif-plugged ->
 * ACTIVE; then list/show, stop/start/reboot, delete; and a boot buried in cell0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { addSpanSink, type Span } from '../../../src/common/journey/span.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud } from './helpers.js';
import { assertHopsInOrder } from './support/journey-check.js';

test('boot a server through every hop, then list, power actions and delete', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  try {
    await withCloud(2, async (cloud) => {
      const demo = await login(cloud, 'demo');
      const admin = await login(cloud, 'admin');
      const { imageRef, networkId } = await bootArgs(demo);
      const reqId = `req-${randomUUID()}`;
      const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'vm1', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } }, { 'X-OpenStack-Request-ID': reqId });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.ok(r.headers.get('location')?.endsWith(`/servers/${r.body.server.id}`));
      assert.ok(r.headers.get('x-compute-request-id')?.startsWith('req-'));
      assert.ok(r.body.server.adminPass);
      const id = r.body.server.id as string;

      const s = await waitForStatus(demo, id, 'ACTIVE');
      assert.equal(s['OS-EXT-STS:vm_state'], 'active');
      assert.equal(s['OS-EXT-STS:power_state'], 1);
      assert.ok(s.addresses.private?.length >= 1, JSON.stringify(s.addresses));
      assert.ok(s['OS-SRV-USG:launched_at']);

      const asAdmin = (await admin.call('GET', 'compute', `/servers/${id}`)).body.server;
      const host = asAdmin['OS-EXT-SRV-ATTR:host'];
      assert.ok(cloud.computeHosts.includes(host));
      const ports = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports;
      assert.equal(ports.length, 1);
      assert.equal(ports[0].status, 'ACTIVE');
      assert.equal(ports[0]['binding:host_id'], host);
      assert.equal(ports[0].device_owner, 'compute:nova');

      // Placement: one allocation for the server on its compute node.
      const allocs = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, { 'OpenStack-API-Version': 'placement 1.28' })).body;
      assert.equal(Object.keys(allocs.allocations).length, 1);

      // The journey of the boot request, hop by hop, in order.
      const j = assertHopsInOrder(spans, reqId, [
        ['nova-api POST /servers', (x) => x.kind === 'http.in' && x.service === 'nova-api' && x.name.startsWith('POST')],
        ['super-conductor schedule_and_build_instances', (x) => x.kind === 'rpc.receive' && x.name === 'schedule_and_build_instances' && x.service === 'nova-super-conductor'],
        ['scheduler select_destinations', (x) => x.kind === 'rpc.receive' && x.name === 'select_destinations' && x.service === 'nova-scheduler'],
        ['Placement claim', (x) => x.kind === 'http.out' && x.service === 'nova-scheduler' && x.name.startsWith('PUT placement/allocations')],
        ['compute build_and_run_instance', (x) => x.kind === 'rpc.receive' && x.name === 'build_and_run_instance' && x.service === 'nova-compute'],
        ['cell conductor object_action', (x) => x.kind === 'rpc.receive' && x.name === 'object_action' && x.service === 'nova-cell-conductor'],
        ['Neutron port update (binding)', (x) => x.kind === 'http.out' && x.service === 'nova-compute' && /^PUT network\/v2\.0\/ports\//.test(x.name)],
      ]);
      // network-vif-plugged arrives from Neutron (its own request) and reaches the compute before the server is ACTIVE.
      const vif = spans.filter((x) => x.kind === 'rpc.receive' && x.name === 'external_instance_event' && x.service === 'nova-compute');
      assert.ok(vif.length >= 1, 'external_instance_event reached the compute');
      const events = spans.filter((x) => x.kind === 'http.in' && x.service === 'nova-api' && x.name.includes('os-server-external-events'));
      assert.ok(events.length >= 1, 'neutron posted os-server-external-events');
      const activeSave = j.filter((x) => x.kind === 'rpc.receive' && x.name === 'object_action').at(-1)!;
      assert.ok(vif[0]!.start <= activeSave.start, 'vif plugged before the final save to ACTIVE');

      // list / detail
      const list = (await demo.call('GET', 'compute', '/servers')).body.servers;
      assert.deepEqual(list.map((x: any) => x.id), [id]);
      const detail = (await demo.call('GET', 'compute', '/servers/detail')).body.servers;
      assert.equal(detail[0].status, 'ACTIVE');

      // power actions
      let a = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null });
      assert.equal(a.status, 202);
      const stopped = await waitForStatus(demo, id, 'SHUTOFF');
      assert.equal(stopped['OS-EXT-STS:power_state'], 4);
      a = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null });
      assert.equal(a.status, 409);
      assert.equal(a.body.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
      a = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-start': null });
      assert.equal(a.status, 202);
      await waitForStatus(demo, id, 'ACTIVE');
      a = await demo.call('POST', 'compute', `/servers/${id}/action`, { reboot: { type: 'HARD' } });
      assert.equal(a.status, 202);
      await waitForStatus(demo, id, 'ACTIVE');

      const actions = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions;
      assert.deepEqual(actions.map((x: any) => x.action).sort(), ['create', 'reboot', 'start', 'stop']);
      const create = actions.find((x: any) => x.action === 'create');
      assert.equal(create.request_id, r.headers.get('x-compute-request-id'));
      // Below 2.51 only admins see an action's events.
      assert.equal((await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions/${create.request_id}`)).body.instanceAction.events, undefined);
      const ev = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${create.request_id}`)).body.instanceAction.events;
      assert.equal(ev[0].event, 'compute__do_build_and_run_instance');
      assert.equal(ev[0].result, 'Success');

      // delete: 204, then 404; ports and allocations gone
      const d = await demo.call('DELETE', 'compute', `/servers/${id}`);
      assert.equal(d.status, 204);
      await waitGone(demo, id);
      assert.equal((await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports.length, 0);
      const after = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, { 'OpenStack-API-Version': 'placement 1.28' })).body;
      assert.deepEqual(after.allocations, {});
    });
  } finally {
    remove();
  }
});

test('a boot nobody can host is buried in cell0: ERROR with a fault, listable, deletable', async () => {
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const f = await admin.call('POST', 'compute', '/flavors', { flavor: { name: 'huge', ram: 10_000_000, vcpus: 1, disk: 1, id: 'huge' } });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    // Past the default RAM quota of the admin project: raise it, as an operator would.
    const projectId = (await admin.call('GET', 'identity', '/auth/projects')).body.projects.find((p: any) => p.name === 'admin').id;
    assert.equal((await admin.call('PUT', 'compute', `/os-quota-sets/${projectId}`, { quota_set: { ram: -1 } })).status, 200);
    const r = await admin.call('POST', 'compute', '/servers', { server: { name: 'nope', imageRef, flavorRef: 'huge', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    const s = await waitForStatus(admin, id, 'ERROR');
    assert.equal(s.fault.code, 500);
    assert.match(s.fault.message, /^No valid host was found/);
    const list = (await admin.call('GET', 'compute', '/servers')).body.servers;
    assert.ok(list.some((x: any) => x.id === id));
    const ev = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions;
    const detail = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${ev[0].request_id}`)).body.instanceAction;
    assert.equal(detail.events[0].event, 'conductor_schedule_and_build_instances');
    assert.equal(detail.events[0].result, 'Error');
    assert.equal((await admin.call('DELETE', 'compute', `/servers/${id}`)).status, 204);
    await waitGone(admin, id);
  });
});
