/**
 * GET /allocation_candidates over nested trees, granular groups, traits, aggregates and
 * sharing providers, and racing claims for the last unit of a provider.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPlacement, provider, type Harness } from './helpers.js';

type Areq = { allocations: Record<string, { resources: Record<string, number> }>; mappings?: Record<string, string[]> };

/** Each allocation request as "rp:RC=n" strings, sorted, for order-free comparison. */
function shapes(areqs: Areq[], names: Record<string, string>): string[] {
  return areqs.map((a) => Object.entries(a.allocations)
    .flatMap(([rp, x]) => Object.entries(x.resources).map(([rc, n]) => `${names[rp] ?? rp}:${rc}=${n}`))
    .sort().join(' ')).sort();
}

void describe('allocation candidates', () => {
  let h: Harness;
  const names: Record<string, string> = {};
  let cn1: string, numa0: string, numa1: string, pf0: string, pf1: string, cn2: string, ss: string;
  const agg = randomUUID();
  const q = async (qs: string, version?: string) => {
    const r = await h.call('GET', `/allocation_candidates?${qs}`, undefined, version ? { version } : {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { allocation_requests: Areq[]; provider_summaries: Record<string, any> };
  };

  before(async () => {
    h = await startPlacement();
    await h.call('PUT', '/traits/CUSTOM_PHYSNET_A');
    // cn1: a tree. The root has memory and disk, two NUMA children have VCPU, two PFs have VFs.
    cn1 = await provider(h, 'cn1', { MEMORY_MB: { total: 4096 }, DISK_GB: { total: 10 } }, { traits: ['COMPUTE_NODE', 'HW_CPU_X86_AVX2'] });
    numa0 = await provider(h, 'cn1-numa0', { VCPU: { total: 4 } }, { parent: cn1 });
    numa1 = await provider(h, 'cn1-numa1', { VCPU: { total: 4 } }, { parent: cn1, traits: ['HW_NUMA_ROOT'] });
    pf0 = await provider(h, 'cn1-pf0', { SRIOV_NET_VF: { total: 2 } }, { parent: numa0, traits: ['CUSTOM_PHYSNET_A'] });
    pf1 = await provider(h, 'cn1-pf1', { SRIOV_NET_VF: { total: 2 } }, { parent: numa1 });
    // cn2: a flat compute node without disk, sharing disk from ss through an aggregate.
    cn2 = await provider(h, 'cn2', { VCPU: { total: 2 }, MEMORY_MB: { total: 2048 } }, { traits: ['COMPUTE_NODE'], aggregates: [agg] });
    ss = await provider(h, 'shared-storage', { DISK_GB: { total: 1000 } }, { traits: ['MISC_SHARES_VIA_AGGREGATE'], aggregates: [agg] });
    Object.assign(names, { [cn1]: 'cn1', [numa0]: 'numa0', [numa1]: 'numa1', [pf0]: 'pf0', [pf1]: 'pf1', [cn2]: 'cn2', [ss]: 'ss' });
  });
  after(async () => { await h.close(); });

  void test('nested tree: one request spread over a tree, with the tree in the summaries', async () => {
    const r = await q('resources=VCPU:1,MEMORY_MB:512');
    assert.deepEqual(shapes(r.allocation_requests, names), [
      'cn1:MEMORY_MB=512 numa0:VCPU=1', 'cn1:MEMORY_MB=512 numa1:VCPU=1', 'cn2:MEMORY_MB=512 cn2:VCPU=1',
    ]);
    const s = r.provider_summaries[pf0];
    assert.equal(s.parent_provider_uuid, numa0);
    assert.equal(s.root_provider_uuid, cn1);
    assert.deepEqual(s.resources, { SRIOV_NET_VF: { capacity: 2, used: 0 } });
    assert.deepEqual(r.provider_summaries[cn1].traits, ['COMPUTE_NODE', 'HW_CPU_X86_AVX2']);
    // Before 1.29 a client cannot see requests spread over one tree.
    const old = await q('resources=VCPU:1,MEMORY_MB:512', '1.28');
    assert.deepEqual(shapes(old.allocation_requests, names), ['cn2:MEMORY_MB=512 cn2:VCPU=1']);
    assert.deepEqual(Object.keys(old.provider_summaries), [cn2]);
    assert.ok(Array.isArray((await q('resources=VCPU:1', '1.10')).allocation_requests[0]!.allocations));
  });

  void test('sharing provider serves disk to the trees in its aggregate', async () => {
    const r = await q('resources=VCPU:1,DISK_GB:20');
    assert.deepEqual(shapes(r.allocation_requests, names), ['cn2:VCPU=1 ss:DISK_GB=20']);
    const fits = await q('resources=VCPU:1,DISK_GB:5');
    assert.deepEqual(shapes(fits.allocation_requests, names), [
      'cn1:DISK_GB=5 numa0:VCPU=1', 'cn1:DISK_GB=5 numa1:VCPU=1', 'cn2:VCPU=1 ss:DISK_GB=5',
    ]);
    // Anchored on two trees (its own and cn2's), the same request is listed once.
    const diskOnly = await q('resources=DISK_GB:20');
    assert.deepEqual(shapes(diskOnly.allocation_requests, names), ['ss:DISK_GB=20']);
    const inAgg = await q(`resources=VCPU:1,DISK_GB:5&member_of=${agg}`);
    assert.deepEqual(shapes(inAgg.allocation_requests, names), ['cn2:VCPU=1 ss:DISK_GB=5']);
    const notAgg = await q(`resources=VCPU:1,DISK_GB:5&member_of=!${agg}`);
    assert.deepEqual(shapes(notAgg.allocation_requests, names), ['cn1:DISK_GB=5 numa0:VCPU=1', 'cn1:DISK_GB=5 numa1:VCPU=1']);
  });

  void test('traits: required, forbidden, any-of, root_required, unknown trait', async () => {
    // As upstream: the providers of the request together must have the trait; the root's
    // trait counts only when the root serves part of the request (root_required is for that).
    const avx = await q('resources=VCPU:1,MEMORY_MB:1&required=HW_CPU_X86_AVX2');
    assert.deepEqual(shapes(avx.allocation_requests, names), ['cn1:MEMORY_MB=1 numa0:VCPU=1', 'cn1:MEMORY_MB=1 numa1:VCPU=1']);
    assert.deepEqual((await q('resources=VCPU:1&required=HW_CPU_X86_AVX2')).allocation_requests, []);
    const rootAvx = await q('resources=VCPU:1&root_required=HW_CPU_X86_AVX2');
    assert.deepEqual(shapes(rootAvx.allocation_requests, names), ['numa0:VCPU=1', 'numa1:VCPU=1']);
    const noAvx = await q('resources=VCPU:1&required=!HW_NUMA_ROOT');
    assert.deepEqual(shapes(noAvx.allocation_requests, names), ['cn2:VCPU=1', 'numa0:VCPU=1']);
    const anyOf = await q('resources=VCPU:1,MEMORY_MB:1&required=in:HW_NUMA_ROOT,CUSTOM_PHYSNET_A&required=COMPUTE_NODE');
    assert.deepEqual(shapes(anyOf.allocation_requests, names), ['cn1:MEMORY_MB=1 numa1:VCPU=1']);
    const rootReq = await q('resources=VCPU:1&root_required=!HW_CPU_X86_AVX2');
    assert.deepEqual(shapes(rootReq.allocation_requests, names), ['cn2:VCPU=1']);
    const bad = await h.call('GET', '/allocation_candidates?resources=VCPU:1&required=CUSTOM_NOPE');
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].detail, /No such trait\(s\): CUSTOM_NOPE/);
    const oldAny = await h.call('GET', '/allocation_candidates?resources=VCPU:1&required=in:A,B', undefined, { version: '1.38' });
    assert.equal(oldAny.status, 400);
    const badRc = await h.call('GET', '/allocation_candidates?resources=FOO:1');
    assert.equal(badRc.status, 400);
    assert.match(badRc.body.errors[0].detail, /Invalid resource class in resources parameter/);
  });

  void test('granular groups: isolate, none, mappings, group_policy required', async () => {
    const missing = await h.call('GET', '/allocation_candidates?resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1');
    assert.equal(missing.status, 400);
    const iso = await q('resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=isolate');
    assert.deepEqual(shapes(iso.allocation_requests, names), ['pf0:SRIOV_NET_VF=1 pf1:SRIOV_NET_VF=1', 'pf0:SRIOV_NET_VF=1 pf1:SRIOV_NET_VF=1']);
    const m = iso.allocation_requests.map((a) => `${names[a.mappings!['1']![0]!]}/${names[a.mappings!['2']![0]!]}`).sort();
    assert.deepEqual(m, ['pf0/pf1', 'pf1/pf0']);
    const none = await q('resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=none');
    assert.deepEqual(shapes(none.allocation_requests, names), [
      'pf0:SRIOV_NET_VF=1 pf1:SRIOV_NET_VF=1', 'pf0:SRIOV_NET_VF=1 pf1:SRIOV_NET_VF=1', 'pf0:SRIOV_NET_VF=2', 'pf1:SRIOV_NET_VF=2',
    ]);
    const physnet = await q('resources=VCPU:1&resources_NET=SRIOV_NET_VF:1&required_NET=CUSTOM_PHYSNET_A&group_policy=isolate');
    assert.deepEqual(shapes(physnet.allocation_requests, names), ['numa0:VCPU=1 pf0:SRIOV_NET_VF=1', 'numa1:VCPU=1 pf0:SRIOV_NET_VF=1']);
    // same_subtree: the VCPU must come from the NUMA node above the VF.
    const sub = await q('resources_CPU=VCPU:1&resources_NET=SRIOV_NET_VF:1&same_subtree=_CPU,_NET&group_policy=none');
    assert.deepEqual(shapes(sub.allocation_requests, names), ['numa0:VCPU=1 pf0:SRIOV_NET_VF=1', 'numa1:VCPU=1 pf1:SRIOV_NET_VF=1']);
    const resourceless = await q('resources_NET=SRIOV_NET_VF:1&required_NUMA=HW_NUMA_ROOT&same_subtree=_NET,_NUMA&group_policy=none');
    assert.deepEqual(shapes(resourceless.allocation_requests, names), ['pf1:SRIOV_NET_VF=1']);
  });

  void test('in_tree and limit', async () => {
    const inTree = await q(`resources=VCPU:1&in_tree=${numa1}`);
    assert.deepEqual(shapes(inTree.allocation_requests, names), ['numa0:VCPU=1', 'numa1:VCPU=1']);
    const lim = await q('resources=VCPU:1&limit=1');
    assert.equal(lim.allocation_requests.length, 1);
    const rp = Object.keys(lim.allocation_requests[0]!.allocations)[0]!;
    const root = lim.provider_summaries[rp].root_provider_uuid;
    assert.ok(Object.values(lim.provider_summaries).every((s: any) => s.root_provider_uuid === root));
    const zero = await h.call('GET', '/allocation_candidates?resources=VCPU:1&limit=0');
    assert.equal(zero.status, 400);
  });

  void test('candidates follow claims: a used-up provider drops out', async () => {
    const c = randomUUID();
    const put = await h.call('PUT', `/allocations/${c}`, {
      allocations: { [cn2]: { resources: { VCPU: 2 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE',
    });
    assert.equal(put.status, 204);
    const r = await q('resources=VCPU:1,MEMORY_MB:1');
    assert.ok(!shapes(r.allocation_requests, names).some((s) => s.includes('cn2')));
    assert.equal((await h.call('DELETE', `/allocations/${c}`)).status, 204);
    const back = await q('resources=VCPU:1,MEMORY_MB:1');
    assert.ok(shapes(back.allocation_requests, names).some((s) => s.includes('cn2')));
  });

  void test('two racing claims for the last unit: exactly one wins', async () => {
    const rp = await provider(h, 'last-unit', { VCPU: { total: 1 } });
    const claim = (consumer: string) => h.call('PUT', `/allocations/${consumer}`, {
      allocations: { [rp]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE',
    });
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([claim(randomUUID()), claim(randomUUID())]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [204, 409]);
      const loser = a.status === 409 ? a : b;
      assert.match(loser.body.errors[0].detail, /Unable to allocate inventory|changed while attempting to allocate/);
      const allocs = await h.call('GET', `/resource_providers/${rp}/allocations`);
      const [winner] = Object.keys(allocs.body.allocations);
      assert.equal(Object.keys(allocs.body.allocations).length, 1);
      assert.equal((await h.call('DELETE', `/allocations/${winner}`)).status, 204);
    }
  });
});

void test('two placement processes on one database see each other\'s writes', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { openDatabase } = await import('../../../src/common/db/index.js');
  const { createPlacementApp } = await import('../../../src/placement/service.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-placement-two-'));
  const url = `sqlite:///${path.join(dir, 'placement.db')}`;
  const [db1, db2] = [await openDatabase(url, { service: 'placement' }), await openDatabase(url, { service: 'placement' })];
  const [a1, a2] = [await createPlacementApp({ database: db1 }), await createPlacementApp({ database: db2 })];
  const call = async (app: typeof a1, method: string, url2: string, body?: unknown) => {
    const r = await app.inject({
      method: method as 'GET', url: url2,
      headers: { 'openstack-api-version': 'placement 1.39', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return r.body ? JSON.parse(r.body) : null;
  };
  try {
    const rp = await call(a1, 'POST', '/resource_providers', { name: 'shared-db' });
    await call(a1, 'PUT', `/resource_providers/${rp.uuid}/inventories`, { resource_provider_generation: 0, inventories: { VCPU: { total: 2 } } });
    assert.equal((await call(a2, 'GET', '/allocation_candidates?resources=VCPU:2')).allocation_requests.length, 1);
    await call(a1, 'PUT', `/allocations/${randomUUID()}`, {
      allocations: { [rp.uuid]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE',
    });
    assert.equal((await call(a2, 'GET', '/allocation_candidates?resources=VCPU:2')).allocation_requests.length, 0);
    assert.equal((await call(a2, 'GET', '/allocation_candidates?resources=VCPU:1')).provider_summaries[rp.uuid].resources.VCPU.used, 1);
    await call(a1, 'PUT', `/resource_providers/${rp.uuid}/traits`, { resource_provider_generation: 2, traits: ['HW_CPU_X86_AVX2'] });
    assert.equal((await call(a2, 'GET', '/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2')).allocation_requests.length, 1);
    await call(a1, 'DELETE', `/resource_providers/${rp.uuid}/traits`);
    assert.equal((await call(a2, 'GET', '/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2')).allocation_requests.length, 0);
  } finally {
    await a1.close(); await a2.close(); await db1.close(); await db2.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
