/**
 * Placement's REST API end to end in one process: providers, inventories, traits, aggregates,
 * allocations, usages and their error codes, as a client sees them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPlacement, provider, type Harness } from './helpers.js';

void describe('placement API', () => {
  let h: Harness;
  before(async () => { h = await startPlacement(); });
  after(async () => { await h.close(); });

  void test('version document and microversion negotiation', async () => {
    const r = await h.call('GET', '/');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.versions[0], { id: 'v1.0', max_version: '1.39', min_version: '1.0', status: 'CURRENT', links: [{ rel: 'self', href: '' }] });
    const bad = await h.call('GET', '/resource_providers', undefined, { version: '1.99' });
    assert.equal(bad.status, 406);
    assert.equal((await h.call('GET', '/resource_providers', undefined, { version: '1.5' })).headers['openstack-api-version'], 'placement 1.5');
  });

  void test('needs a token and an admin', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/resource_providers' });
    assert.equal(r.statusCode, 401);
    const m = await h.call('GET', '/resource_providers', undefined, { token: 'member' });
    assert.equal(m.status, 403);
    assert.match(m.body.errors[0].detail, /Policy does not allow placement:resource_providers:list/);
  });

  void test('provider create, show, rename, duplicate name, delete', async () => {
    const created = await h.call('POST', '/resource_providers', { name: 'rp-crud' });
    assert.equal(created.status, 200);
    assert.equal(created.body.generation, 0);
    assert.equal(created.headers['location'], `/resource_providers/${created.body.uuid}`);
    const old = await h.call('POST', '/resource_providers', { name: 'rp-crud-old' }, { version: '1.19' });
    assert.equal(old.status, 201);
    const dup = await h.call('POST', '/resource_providers', { name: 'rp-crud' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.errors[0].code, 'placement.duplicate_name');
    const upd = await h.call('PUT', `/resource_providers/${created.body.uuid}`, { name: 'rp-crud-2' });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.name, 'rp-crud-2');
    const list = await h.call('GET', '/resource_providers?name=rp-crud-2');
    assert.equal(list.body.resource_providers.length, 1);
    assert.equal((await h.call('DELETE', `/resource_providers/${created.body.uuid}`)).status, 204);
    const gone = await h.call('GET', `/resource_providers/${created.body.uuid}`);
    assert.equal(gone.status, 404);
    // Before 1.23 errors carry no code.
    const v22 = await h.call('GET', `/resource_providers/${created.body.uuid}`, undefined, { version: '1.22' });
    assert.equal(v22.body.errors[0].code, undefined);
    const badBody = await h.call('POST', '/resource_providers', { nam: 'x' });
    assert.equal(badBody.status, 400);
    assert.match(badBody.body.errors[0].detail, /JSON does not validate/);
  });

  void test('inventories: generation conflicts, capacity rules, in-use classes', async () => {
    const rp = await provider(h, 'rp-inv', { VCPU: { total: 4 }, MEMORY_MB: { total: 2048, reserved: 512, allocation_ratio: 1.5 } });
    const inv = await h.call('GET', `/resource_providers/${rp}/inventories`);
    assert.deepEqual(inv.body.inventories.MEMORY_MB, {
      total: 2048, reserved: 512, min_unit: 1, max_unit: 2147483647, step_size: 1, allocation_ratio: 1.5,
    });
    const stale = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: 0, inventories: { VCPU: { total: 8 } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.errors[0].code, 'placement.concurrent_update');
    const gen = inv.body.resource_provider_generation;
    const badReserved = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { VCPU: { total: 4, reserved: 5 } } });
    assert.equal(badReserved.status, 400);
    const unknown = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { CUSTOM_NOPE: { total: 4 } } });
    assert.equal(unknown.status, 400);

    const consumer = randomUUID();
    const claim = await h.call('PUT', `/allocations/${consumer}`, {
      allocations: { [rp]: { resources: { VCPU: 2 } } }, project_id: 'proj', user_id: 'user', consumer_generation: null, consumer_type: 'INSTANCE',
    });
    assert.equal(claim.status, 204);
    const cur = (await h.call('GET', `/resource_providers/${rp}`)).body.generation;
    const drop = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: cur, inventories: { MEMORY_MB: { total: 2048 } } });
    assert.equal(drop.status, 409);
    assert.equal(drop.body.errors[0].code, 'placement.inventory.inuse');
    const delAll = await h.call('DELETE', `/resource_providers/${rp}/inventories`);
    assert.equal(delAll.status, 409);
    assert.equal(delAll.body.errors[0].code, 'placement.inventory.inuse');
    const delRp = await h.call('DELETE', `/resource_providers/${rp}`);
    assert.equal(delRp.status, 409);
    assert.equal(delRp.body.errors[0].code, 'placement.resource_provider.inuse');

    const usage = await h.call('GET', `/resource_providers/${rp}/usages`);
    assert.deepEqual(usage.body.usages, { VCPU: 2, MEMORY_MB: 0 });
    assert.equal((await h.call('DELETE', `/allocations/${consumer}`)).status, 204);
    assert.equal((await h.call('DELETE', `/allocations/${consumer}`)).status, 404);
  });

  void test('allocations: consumer generations, capacity, usages by project and consumer type', async () => {
    const rp = await provider(h, 'rp-alloc', { VCPU: { total: 4, max_unit: 2 }, DISK_GB: { total: 100, step_size: 10 } });
    const c = randomUUID();
    const body = (gen: number | null, res: Record<string, number>) => ({
      allocations: { [rp]: { resources: res } }, project_id: 'proj-a', user_id: 'user-a', consumer_generation: gen, consumer_type: 'INSTANCE',
    });
    assert.equal((await h.call('PUT', `/allocations/${c}`, body(null, { VCPU: 2, DISK_GB: 20 }))).status, 204);
    const again = await h.call('PUT', `/allocations/${c}`, body(null, { VCPU: 1 }));
    assert.equal(again.status, 409);
    assert.equal(again.body.errors[0].code, 'placement.concurrent_update');
    assert.match(again.body.errors[0].detail, /consumer generation conflict - expected 1 but got None|expected 1 but got null/);
    const view = await h.call('GET', `/allocations/${c}`);
    assert.equal(view.body.consumer_generation, 1);
    assert.deepEqual(view.body.allocations[rp].resources, { VCPU: 2, DISK_GB: 20 });
    const maxUnit = await h.call('PUT', `/allocations/${c}`, body(1, { VCPU: 3 }));
    assert.equal(maxUnit.status, 409);
    assert.match(maxUnit.body.errors[0].detail, /violate inventory constraints/);
    const step = await h.call('PUT', `/allocations/${c}`, body(1, { DISK_GB: 15 }));
    assert.equal(step.status, 409);
    const noRp = await h.call('PUT', `/allocations/${c}`, { ...body(1, { VCPU: 1 }), allocations: { [randomUUID()]: { resources: { VCPU: 1 } } } });
    assert.equal(noRp.status, 400);
    assert.match(noRp.body.errors[0].detail, /that does not exist/);

    // POST /allocations moves the claim to a second consumer atomically.
    const c2 = randomUUID();
    const move = await h.call('POST', '/allocations', {
      [c]: { allocations: {}, project_id: 'proj-a', user_id: 'user-a', consumer_generation: 1, consumer_type: 'INSTANCE' },
      [c2]: { allocations: { [rp]: { resources: { VCPU: 2 } } }, project_id: 'proj-a', user_id: 'user-a', consumer_generation: null, consumer_type: 'MIGRATION' },
    });
    assert.equal(move.status, 204);
    assert.deepEqual((await h.call('GET', `/allocations/${c}`)).body, { allocations: {} });
    const usages = await h.call('GET', '/usages?project_id=proj-a');
    assert.deepEqual(usages.body.usages, { MIGRATION: { VCPU: 2, consumer_count: 1 } });
    const oldUsages = await h.call('GET', '/usages?project_id=proj-a', undefined, { version: '1.9' });
    assert.deepEqual(oldUsages.body.usages, { VCPU: 2 });
    const rpAllocs = await h.call('GET', `/resource_providers/${rp}/allocations`);
    assert.deepEqual(rpAllocs.body.allocations[c2], { resources: { VCPU: 2 }, consumer_generation: 1 });
  });

  void test('traits: custom traits, provider traits, filters', async () => {
    assert.equal((await h.call('PUT', '/traits/CUSTOM_GOLD')).status, 201);
    assert.equal((await h.call('PUT', '/traits/CUSTOM_GOLD')).status, 204);
    assert.equal((await h.call('PUT', '/traits/GOLD')).status, 400);
    assert.equal((await h.call('GET', '/traits/CUSTOM_GOLD')).status, 204);
    assert.equal((await h.call('DELETE', '/traits/HW_CPU_X86_AVX2')).status, 400);
    const rp = await provider(h, 'rp-traits', { VCPU: { total: 1 } }, { traits: ['CUSTOM_GOLD', 'HW_CPU_X86_AVX2'] });
    assert.equal((await h.call('DELETE', '/traits/CUSTOM_GOLD')).status, 409);
    const listed = await h.call('GET', `/resource_providers/${rp}/traits`);
    assert.deepEqual(listed.body.traits, ['CUSTOM_GOLD', 'HW_CPU_X86_AVX2']);
    const assoc = await h.call('GET', '/traits?associated=true&name=startswith:CUSTOM_');
    assert.deepEqual(assoc.body.traits, ['CUSTOM_GOLD']);
    const all = await h.call('GET', '/traits');
    assert.ok(all.body.traits.length > 300 && all.body.traits.includes('COMPUTE_NODE'));
    const byTrait = await h.call('GET', '/resource_providers?required=CUSTOM_GOLD');
    assert.deepEqual(byTrait.body.resource_providers.map((r: { uuid: string }) => r.uuid), [rp]);
    const notTrait = await h.call('GET', '/resource_providers?required=!CUSTOM_GOLD');
    assert.ok(!notTrait.body.resource_providers.some((r: { uuid: string }) => r.uuid === rp));
    const bad = await h.call('GET', '/resource_providers?required=CUSTOM_NOPE');
    assert.equal(bad.status, 400);
    const noGen = await h.call('PUT', `/resource_providers/${rp}/traits`, { resource_provider_generation: 0, traits: [] });
    assert.equal(noGen.body.errors[0].code, 'placement.concurrent_update');
  });

  void test('resource classes: standard and custom', async () => {
    const list = await h.call('GET', '/resource_classes');
    assert.ok(list.body.resource_classes.some((r: { name: string }) => r.name === 'VCPU'));
    assert.equal((await h.call('PUT', '/resource_classes/CUSTOM_FPGA_X')).status, 201);
    assert.equal((await h.call('PUT', '/resource_classes/CUSTOM_FPGA_X')).status, 204);
    assert.equal((await h.call('POST', '/resource_classes', { name: 'CUSTOM_FPGA_X' })).status, 409);
    assert.equal((await h.call('DELETE', '/resource_classes/VCPU')).status, 400);
    assert.equal((await h.call('GET', '/resource_classes/CUSTOM_FPGA_X')).body.name, 'CUSTOM_FPGA_X');
    assert.equal((await h.call('DELETE', '/resource_classes/CUSTOM_FPGA_X')).status, 204);
    assert.equal((await h.call('GET', '/resource_classes/CUSTOM_FPGA_X')).status, 404);
  });

  void test('aggregates with generations; nested providers and reparenting', async () => {
    const agg = randomUUID();
    const root = await provider(h, 'rp-root', {});
    const got = await h.call('GET', `/resource_providers/${root}/aggregates`);
    assert.deepEqual(got.body, { aggregates: [], resource_provider_generation: 0 });
    const set = await h.call('PUT', `/resource_providers/${root}/aggregates`, { aggregates: [agg], resource_provider_generation: 0 });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.aggregates, [agg]);
    const stale = await h.call('PUT', `/resource_providers/${root}/aggregates`, { aggregates: [], resource_provider_generation: 0 });
    assert.equal(stale.body.errors[0].code, 'placement.concurrent_update');
    const inAgg = await h.call('GET', `/resource_providers?member_of=${agg}`);
    assert.deepEqual(inAgg.body.resource_providers.map((r: { uuid: string }) => r.uuid), [root]);

    const child = await provider(h, 'rp-child', {}, { parent: root });
    const c = await h.call('GET', `/resource_providers/${child}`);
    assert.equal(c.body.parent_provider_uuid, root);
    assert.equal(c.body.root_provider_uuid, root);
    const tree = await h.call('GET', `/resource_providers?in_tree=${child}`);
    assert.equal(tree.body.resource_providers.length, 2);
    const parentDel = await h.call('DELETE', `/resource_providers/${root}`);
    assert.equal(parentDel.body.errors[0].code, 'placement.resource_provider.cannot_delete_parent');
    const unparentOld = await h.call('PUT', `/resource_providers/${child}`, { name: 'rp-child', parent_provider_uuid: null }, { version: '1.36' });
    assert.equal(unparentOld.status, 400);
    const unparent = await h.call('PUT', `/resource_providers/${child}`, { name: 'rp-child', parent_provider_uuid: null });
    assert.equal(unparent.status, 200);
    assert.equal(unparent.body.root_provider_uuid, child);
    const loop = await h.call('PUT', `/resource_providers/${root}`, { name: 'rp-root', parent_provider_uuid: root });
    assert.equal(loop.status, 400);
  });

  void test('reshaper moves inventory and allocations to a child provider', async () => {
    const cn = await provider(h, 'rp-reshape', { VGPU: { total: 4 } });
    const consumer = randomUUID();
    await h.call('PUT', `/allocations/${consumer}`, {
      allocations: { [cn]: { resources: { VGPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE',
    });
    const child = await provider(h, 'rp-reshape-gpu', {}, { parent: cn });
    const cnGen = (await h.call('GET', `/resource_providers/${cn}`)).body.generation;
    const r = await h.call('POST', '/reshaper', {
      inventories: {
        [cn]: { resource_provider_generation: cnGen, inventories: {} },
        [child]: { resource_provider_generation: 0, inventories: { VGPU: { total: 4 } } },
      },
      allocations: {
        [consumer]: { allocations: { [child]: { resources: { VGPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: 1, consumer_type: 'INSTANCE' },
      },
    });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.deepEqual((await h.call('GET', `/resource_providers/${cn}/inventories`)).body.inventories, {});
    assert.deepEqual((await h.call('GET', `/allocations/${consumer}`)).body.allocations[child].resources, { VGPU: 1 });
  });
});
