/**
 * Resize and cold migration through every hop (openstack-flows §2), on a cloud with two
 * compute hosts: Placement usages on both hosts at every step of resize-confirm and
 * resize-revert, migration records, instance actions and events, and the journey of a cold
 * migration (migrate_server -> select_destinations -> prep_resize on the destination ->
 * resize_instance on the source -> finish_resize on the destination).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { addSpanSink, type Span } from '../../../../src/common/journey/span.js';
import { assertHopsInOrder } from '../support/journey-check.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud, type Client } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };
const TINY = { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 };
const SMALL = { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 };
const NONE = {};

async function providers(admin: Client): Promise<Record<string, string>> {
  const rps = (await admin.call('GET', 'placement', '/resource_providers', undefined, PLACEMENT)).body.resource_providers;
  return Object.fromEntries(rps.map((r: any) => [r.name, r.uuid]));
}

async function usages(admin: Client, rp: string): Promise<Record<string, number>> {
  const u = (await admin.call('GET', 'placement', `/resource_providers/${rp}/usages`, undefined, PLACEMENT)).body.usages;
  return Object.fromEntries(Object.entries(u).filter(([, n]) => n !== 0)) as Record<string, number>;
}

/** consumer -> resources, on one provider. */
async function consumersOn(admin: Client, rp: string): Promise<Record<string, Record<string, number>>> {
  const a = (await admin.call('GET', 'placement', `/resource_providers/${rp}/allocations`, undefined, PLACEMENT)).body.allocations;
  return Object.fromEntries(Object.entries(a).map(([c, v]: [string, any]) => [c, v.resources]));
}

async function allocationsOf(admin: Client, consumer: string): Promise<Record<string, Record<string, number>>> {
  const a = (await admin.call('GET', 'placement', `/allocations/${consumer}`, undefined, PLACEMENT)).body.allocations;
  return Object.fromEntries(Object.entries(a).map(([rp, v]: [string, any]) => [rp, v.resources]));
}

async function boot(demo: Client, admin: Client, name: string): Promise<{ id: string; host: string }> {
  const { imageRef, networkId } = await bootArgs(demo);
  const r = await demo.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.server.id as string;
  await waitForStatus(demo, id, 'ACTIVE');
  const host = (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
  return { id, host };
}

async function migrations(admin: Client, id: string): Promise<any[]> {
  const r = await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`, undefined, { 'X-OpenStack-Nova-API-Version': '2.23' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.migrations;
}

test('resize then confirm: Placement usages on both hosts at every step', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (x) => { if (x.kind === 'notification') spans.push(x); } });
  try {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const rps = await providers(admin);
    const { id, host: source } = await boot(demo, admin, 'rs1');
    const dest = cloud.computeHosts.find((h) => h !== source)!;

    // before: the server's tiny allocation on the source, nothing on the destination.
    assert.deepEqual(await usages(admin, rps[source]!), TINY);
    assert.deepEqual(await usages(admin, rps[dest]!), NONE);

    // errors first: same flavor 400, unknown flavor 400, confirm without a resize 409.
    let r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '1' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'When resizing, instances must change flavor!');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: 'nope' } });
    assert.equal(r.status, 400);
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
    assert.equal(r.status, 409);
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { migrate: null });
    assert.equal(r.status, 403, 'migrate is admin-only');

    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await waitForStatus(demo, id, 'VERIFY_RESIZE');
    assert.equal(s.flavor.original_name ?? s.flavor.id, s.flavor.original_name ? 'm1.small' : '2');
    const asAdmin = (await admin.call('GET', 'compute', `/servers/${id}`)).body.server;
    assert.equal(asAdmin['OS-EXT-SRV-ATTR:host'], dest);
    assert.equal(asAdmin['OS-EXT-STS:vm_state'], 'resized');

    // VERIFY_RESIZE: the instance holds the new flavor on the destination; the migration holds the old one on the source.
    const [mig] = await migrations(admin, id);
    assert.equal(mig.status, 'finished');
    assert.equal(mig.migration_type, 'resize');
    assert.equal(mig.source_compute, source);
    assert.equal(mig.dest_compute, dest);
    assert.equal(mig.old_instance_type_id !== mig.new_instance_type_id, true);
    assert.deepEqual(await usages(admin, rps[source]!), TINY);
    assert.deepEqual(await usages(admin, rps[dest]!), SMALL);
    assert.deepEqual(await allocationsOf(admin, id), { [rps[dest]!]: SMALL });
    const onSource = await consumersOn(admin, rps[source]!);
    const [migrationConsumer] = Object.keys(onSource);
    assert.notEqual(migrationConsumer, id);
    assert.deepEqual(onSource, { [migrationConsumer!]: TINY });

    // a second resize while one is open is refused.
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '3' } });
    assert.equal(r.status, 409);

    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    await waitForStatus(demo, id, 'ACTIVE');
    // after confirm: exactly one allocation, the instance's on the destination.
    assert.deepEqual(await usages(admin, rps[source]!), NONE);
    assert.deepEqual(await usages(admin, rps[dest]!), SMALL);
    assert.deepEqual(await allocationsOf(admin, migrationConsumer!), {});
    assert.equal((await migrations(admin, id))[0].status, 'confirmed');
    const ports = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports;
    assert.equal(ports[0]['binding:host_id'], dest);

    // instance actions and their events.
    const actions = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions;
    assert.deepEqual(actions.map((a: any) => a.action).sort(), ['confirmResize', 'create', 'resize']);
    const resize = actions.find((a: any) => a.action === 'resize');
    const events = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${resize.request_id}`)).body.instanceAction.events.map((e: any) => `${e.event}:${e.result}`).sort();
    assert.deepEqual(events, ['cold_migrate:Success', 'compute_finish_resize:Success', 'compute_prep_resize:Success', 'compute_resize_instance:Success', 'conductor_migrate_server:Success']);
    const confirm = actions.find((a: any) => a.action === 'confirmResize');
    const cev = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${confirm.request_id}`)).body.instanceAction.events.map((e: any) => e.event);
    assert.deepEqual(cev, ['compute_confirm_resize']);

    // A smaller disk: accepted by the API, refused by the source's driver and rolled back.
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    for (let i = 0; i < 100 && (await migrations(admin, id))[0].status !== 'error'; i++) await new Promise((res) => setTimeout(res, 50));
    const down = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(down.flavor.original_name ?? down.flavor.id, down.flavor.original_name ? 'm1.small' : '2');
    assert.equal((await migrations(admin, id))[0].status, 'error');
    assert.deepEqual(await allocationsOf(admin, id), { [rps[dest]!]: SMALL });
    assert.deepEqual(await usages(admin, rps[source]!), NONE);
    assert.equal((await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'], dest);

    // Versioned and legacy notifications of every phase, from the right host.
    const sent = (name: string) => spans.filter((x) => x.name === name).map((x) => x.host);
    for (const [name, host] of [
      ['instance.resize_prep.start', dest], ['instance.resize_prep.end', dest], ['instance.resize.start', source], ['instance.resize.end', source],
      ['instance.resize_finish.start', dest], ['instance.resize_finish.end', dest], ['instance.resize_confirm.start', source], ['instance.resize_confirm.end', source],
      ['compute.instance.resize.prep.start', dest], ['compute.instance.resize.start', source], ['compute.instance.finish_resize.end', dest], ['compute.instance.resize.confirm.end', source],
    ] as const) {
      assert.ok(sent(name).includes(host), `${name} from ${host}: ${JSON.stringify(sent(name))}`);
    }
  });
  } finally {
    remove();
  }
});

test('resize then revert: back on the source with the old flavor, one allocation left', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (x) => spans.push(x) });
  try {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const rps = await providers(admin);
    const { id, host: source } = await boot(demo, admin, 'rv1');
    const dest = cloud.computeHosts.find((h) => h !== source)!;
    let r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202);
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    assert.deepEqual(await usages(admin, rps[source]!), TINY);
    assert.deepEqual(await usages(admin, rps[dest]!), SMALL);

    const reqId = `req-${randomUUID()}`;
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null }, { 'X-OpenStack-Request-ID': reqId });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await waitForStatus(demo, id, 'ACTIVE');
    // The revert's journey: nova-api -> revert_resize on the destination -> finish_revert_resize
    // on the source, which moves the allocation back (POST /allocations). A span is written when
    // it ends: the source's handler ends a moment after the server shows ACTIVE.
    const received = () => spans.some((x) => x.journeyId === reqId && x.kind === 'rpc.receive' && x.name === 'finish_revert_resize');
    for (let i = 0; i < 100 && !received(); i++) await new Promise((res) => setTimeout(res, 50));
    assertHopsInOrder(spans, reqId, [
      ['nova-api POST action', (x) => x.kind === 'http.in' && x.service === 'nova-api'],
      ['revert_resize on the destination', (x) => x.kind === 'rpc.receive' && x.name === 'revert_resize' && x.host === dest],
      ['finish_revert_resize on the source', (x) => x.kind === 'rpc.receive' && x.name === 'finish_revert_resize' && x.host === source],
      ['allocations moved back', (x) => x.kind === 'http.out' && x.host === source && x.name.startsWith('POST placement/allocations')],
    ]);
    assert.equal(s.flavor.original_name ?? s.flavor.id, s.flavor.original_name ? 'm1.tiny' : '1');
    assert.equal((await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'], source);
    assert.deepEqual(await usages(admin, rps[source]!), TINY);
    assert.deepEqual(await usages(admin, rps[dest]!), NONE);
    assert.deepEqual(await allocationsOf(admin, id), { [rps[source]!]: TINY });
    assert.deepEqual(Object.keys(await consumersOn(admin, rps[source]!)), [id]);
    const [mig] = await migrations(admin, id);
    assert.equal(mig.status, 'reverted');
    const ports = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports;
    assert.equal(ports[0]['binding:host_id'], source);
    const actions = (await demo.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions;
    const revert = actions.find((a: any) => a.action === 'revertResize');
    const ev = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${revert.request_id}`)).body.instanceAction.events.map((e: any) => `${e.event}:${e.result}`).sort();
    assert.deepEqual(ev, ['compute_finish_revert_resize:Success', 'compute_revert_resize:Success']);

    // Deleting a server in VERIFY_RESIZE confirms the resize first: nothing is left in Placement.
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202);
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    assert.equal((await demo.call('DELETE', 'compute', `/servers/${id}`)).status, 204);
    await waitGone(demo, id);
    for (let i = 0; i < 100 && (Object.keys(await usages(admin, rps[source]!)).length || Object.keys(await usages(admin, rps[dest]!)).length); i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.deepEqual(await usages(admin, rps[source]!), NONE);
    assert.deepEqual(await usages(admin, rps[dest]!), NONE);
    const last = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations[0];
    assert.equal(last.status, 'confirmed');
  });
  } finally {
    remove();
  }
});

test('cold migrate: each RPC hop in order; a stopped server stays SHUTOFF; NoValidHost is 400', async () => {
  const spans: Span[] = [];
  const remove = addSpanSink({ write: (s) => spans.push(s) });
  try {
    await withCloud(2, async (cloud) => {
      const demo = await login(cloud, 'demo');
      const admin = await login(cloud, 'admin');
      const rps = await providers(admin);
      const { id, host: source } = await boot(demo, admin, 'mg1');
      const dest = cloud.computeHosts.find((h) => h !== source)!;
      let r = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null });
      assert.equal(r.status, 202);
      await waitForStatus(demo, id, 'SHUTOFF');

      const reqId = `req-${randomUUID()}`;
      r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: null }, { 'X-OpenStack-Request-ID': reqId });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const s = await waitForStatus(admin, id, 'VERIFY_RESIZE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], dest);
      assert.equal(s['OS-EXT-STS:power_state'], 4, 'still powered off on the destination');
      const [mig] = await migrations(admin, id);
      assert.equal(mig.migration_type, 'migration');
      assert.equal(mig.old_instance_type_id, mig.new_instance_type_id);
      assert.deepEqual(await usages(admin, rps[source]!), TINY);
      assert.deepEqual(await usages(admin, rps[dest]!), TINY);

      assertHopsInOrder(spans, reqId, [
        ['nova-api POST action', (x) => x.kind === 'http.in' && x.service === 'nova-api'],
        ['super-conductor migrate_server', (x) => x.kind === 'rpc.receive' && x.name === 'migrate_server' && x.service === 'nova-super-conductor'],
        ['allocation swap POST /allocations', (x) => x.kind === 'http.out' && x.name.startsWith('POST placement/allocations')],
        ['scheduler select_destinations', (x) => x.kind === 'rpc.receive' && x.name === 'select_destinations' && x.service === 'nova-scheduler'],
        ['prep_resize on the destination', (x) => x.kind === 'rpc.receive' && x.name === 'prep_resize' && x.host === dest],
        ['resize_instance on the source', (x) => x.kind === 'rpc.receive' && x.name === 'resize_instance' && x.host === source],
        ['finish_resize on the destination', (x) => x.kind === 'rpc.receive' && x.name === 'finish_resize' && x.host === dest],
      ]);

      r = await admin.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
      assert.equal(r.status, 204);
      const after = await waitForStatus(admin, id, 'SHUTOFF');
      assert.equal(after['OS-EXT-SRV-ATTR:host'], dest);
      assert.deepEqual(await usages(admin, rps[source]!), NONE);
      assert.deepEqual(await usages(admin, rps[dest]!), TINY);

      // A flavor no host has the disk for: NoValidHost comes back as 400 and nothing changed.
      const f = await admin.call('POST', 'compute', '/flavors', { flavor: { name: 'bigdisk', ram: 512, vcpus: 1, disk: 100000, id: 'bigdisk' } });
      assert.equal(f.status, 200, JSON.stringify(f.body));
      r = await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: 'bigdisk' } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.badRequest.message, /No valid host/);
      const back = await waitForStatus(admin, id, 'SHUTOFF');
      assert.equal(back['OS-EXT-SRV-ATTR:host'], dest);
      assert.equal(back.flavor.original_name ?? back.flavor.id, back.flavor.original_name ? 'm1.tiny' : '1');
      assert.deepEqual(await allocationsOf(admin, id), { [rps[dest]!]: TINY });
      assert.deepEqual(await usages(admin, rps[source]!), NONE);
      // GET /os-migrations: admin only; filters by host, status, type.
      assert.equal((await demo.call('GET', 'compute', '/os-migrations')).status, 403);
      const q = async (query: string) => (await admin.call('GET', 'compute', `/os-migrations?${query}`, undefined, { 'X-OpenStack-Nova-API-Version': '2.23' })).body.migrations;
      assert.equal((await q(`host=${source}&status=confirmed`)).length, 1);
      assert.equal((await q('migration_type=migration')).length, 1);
      assert.equal((await q('migration_type=resize&status=error')).length, 1);
      assert.equal((await q('status=nonsense')).length, 0);
      const v21 = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations[0];
      assert.equal('migration_type' in v21, false, 'migration_type only from 2.23');
      assert.match(v21.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      const migs = await migrations(admin, id);
      assert.equal(migs.length, 2);
      assert.equal(migs[0].status, 'error');
      assert.equal(migs[0].migration_type, 'resize');
    });
  } finally {
    remove();
  }
});
