/**
 * Evacuate (admin): refused while the server's compute is up; once that compute is forced down
 * the server is rebuilt on the other host (`evacuation` migration `done`, ports and the
 * Placement allocation on the new host).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { addSpanSink, type Span } from '../../../../src/common/journey/span.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };
const MV = { 'X-OpenStack-Nova-API-Version': '2.14' };

test('evacuate rebuilds a server of a forced-down host elsewhere', async () => {
  const notes: Span[] = [];
  const remove = addSpanSink({ write: (x: Span) => { if (x.kind === 'notification') notes.push(x); } });
  try {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'ev1', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202);
    const id = r.body.server.id;
    await waitForStatus(demo, id, 'ACTIVE');
    const source = (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
    const dest = cloud.computeHosts.find((h) => h !== source)!;

    let a = await demo.call('POST', 'compute', `/servers/${id}/action`, { evacuate: {} }, MV);
    assert.equal(a.status, 403);
    a = await admin.call('POST', 'compute', `/servers/${id}/action`, { evacuate: {} }, MV);
    assert.equal(a.status, 400);
    assert.equal(a.body.badRequest.message, `Compute service of ${source} is still in use.`);

    // The operator forces the host down (what `openstack compute service set --down` records).
    const db = new Sqlite(cloud.state.file('nova_cell1.db'));
    try {
      db.prepare("UPDATE services SET forced_down = 1 WHERE host = ? AND binary = 'nova-compute'").run(source);
    } finally {
      db.close();
    }
    a = await admin.call('POST', 'compute', `/servers/${id}/action`, { evacuate: { host: source } }, MV);
    assert.equal(a.status, 400, 'not to the same host');
    a = await admin.call('POST', 'compute', `/servers/${id}/action`, { evacuate: {} }, MV);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const s = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], dest);
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    const migs = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`, undefined, { 'X-OpenStack-Nova-API-Version': '2.23' })).body.migrations;
    assert.equal(migs[0].migration_type, 'evacuation');
    assert.equal(migs[0].status, 'done');
    assert.equal(migs[0].source_compute, source);
    assert.equal(migs[0].dest_compute, dest);
    const allocs = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations;
    const destRp = (await admin.call('GET', 'placement', `/resource_providers?name=${dest}`, undefined, PLACEMENT)).body.resource_providers[0].uuid;
    assert.deepEqual(Object.keys(allocs), [destRp]);
    // The dead host's share stays held (by the migration) until that host comes back and cleans up.
    const srcRp = (await admin.call('GET', 'placement', `/resource_providers?name=${source}`, undefined, PLACEMENT)).body.resource_providers[0].uuid;
    assert.equal((await admin.call('GET', 'placement', `/resource_providers/${srcRp}/usages`, undefined, PLACEMENT)).body.usages.MEMORY_MB, 512);
    const port = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports[0];
    assert.equal(port['binding:host_id'], dest);
    const actions = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((x: any) => x.action).sort();
    assert.deepEqual(actions, ['create', 'evacuate']);
    // Pre-2.14 bodies need onSharedStorage and answer the admin password.
    a = await admin.call('POST', 'compute', `/servers/${id}/action`, { evacuate: {} });
    assert.equal(a.status, 400);
    assert.ok(notes.some((x) => x.name === 'instance.evacuate' && x.host === dest), 'instance.evacuate from the destination');
    assert.ok(notes.some((x) => x.name === 'instance.exists' && x.host === dest), 'instance.exists (the rebuild usage event) from the destination');
  });
  } finally {
    remove();
  }
});
