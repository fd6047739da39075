import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../common/context.js';
import { NoValidHost } from '../compute/exception.js';
import { Flavor } from '../compute/objects/flavor.js';
import { RequestSpec } from '../compute/objects/request-spec.js';
import type { AllocationCandidates, AllocationRequest } from './client/report.js';
import { ALL_FILTERS } from './filters/index.js';
import type { HostState } from './host-state.js';
import { SchedulerManager, resourcesFromSpec } from './manager.js';
import { ramWeigher, weighHosts } from './weights/index.js';

function host(name: string, o: Partial<HostState> = {}): HostState {
  return {
    host: name, nodename: name, uuid: `rp-${name}`, cellUuid: 'c1', hypervisorType: 'fake', vcpusTotal: 16, vcpusUsed: 0,
    totalUsableRamMb: 32768, freeRamMb: 32768, freeDiskMb: 1024 * 1024, cpuAllocationRatio: 16, ramAllocationRatio: 1.5,
    diskAllocationRatio: 1, aggregates: [], instances: new Set(), serviceUp: true, serviceDisabled: false, numInstances: 0, ...o,
  };
}

function spec(o: Record<string, unknown> = {}): RequestSpec {
  const s = new RequestSpec();
  s.update({ instance_uuid: 'i1', project_id: 'p', user_id: 'u', scheduler_hints: {}, image: { id: 'img', properties: {} }, availability_zone: null, instance_group: null, ...o });
  s.flavor = new Flavor().update({ id: 1, flavorid: '1', name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} });
  return s;
}

test('filters: AZ, compute up, same/different host, anti-affinity, image hypervisor type', () => {
  const zoned = host('a', { aggregates: [{ id: 1, name: 'ag', hosts: ['a'], metadata: { availability_zone: 'az1' } }] });
  assert.equal(ALL_FILTERS['AvailabilityZoneFilter']!.hostPasses(zoned, spec({ availability_zone: 'az1' })), true);
  assert.equal(ALL_FILTERS['AvailabilityZoneFilter']!.hostPasses(host('b'), spec({ availability_zone: 'az1' })), false);
  assert.equal(ALL_FILTERS['AvailabilityZoneFilter']!.hostPasses(host('b'), spec({ availability_zone: 'nova' })), true);
  assert.equal(ALL_FILTERS['ComputeFilter']!.hostPasses(host('a', { serviceUp: false }), spec()), false);
  const withVm = host('a', { instances: new Set(['vm1']) });
  assert.equal(ALL_FILTERS['SameHostFilter']!.hostPasses(withVm, spec({ scheduler_hints: { same_host: ['vm1'] } })), true);
  assert.equal(ALL_FILTERS['SameHostFilter']!.hostPasses(host('b'), spec({ scheduler_hints: { same_host: ['vm1'] } })), false);
  assert.equal(ALL_FILTERS['DifferentHostFilter']!.hostPasses(withVm, spec({ scheduler_hints: { different_host: ['vm1'] } })), false);
  const group = { uuid: 'g', name: 'g', policy: 'anti-affinity', members: ['x'], hosts: ['a'] };
  assert.equal(ALL_FILTERS['ServerGroupAntiAffinityFilter']!.hostPasses(host('a'), spec({ instance_group: group })), false);
  assert.equal(ALL_FILTERS['ServerGroupAntiAffinityFilter']!.hostPasses(host('b'), spec({ instance_group: group })), true);
  assert.equal(ALL_FILTERS['ServerGroupAffinityFilter']!.hostPasses(host('b'), spec({ instance_group: { ...group, policy: 'affinity' } })), false);
  assert.equal(ALL_FILTERS['ImagePropertiesFilter']!.hostPasses(host('a'), spec({ image: { id: 'i', properties: { hypervisor_type: 'qemu' } } })), false);
});

test('weighers normalize and prefer the emptier host', () => {
  const w = weighHosts([host('full', { freeRamMb: 100 }), host('empty', { freeRamMb: 30000 })], [ramWeigher()]);
  assert.equal(w[0]!.host.host, 'empty');
  assert.equal(w[0]!.weight, 1);
  assert.equal(w[1]!.weight, 0);
});

test('resources come from the flavor, extra specs override', () => {
  const s = spec();
  assert.deepEqual(resourcesFromSpec(s), { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  s.flavor.extra_specs = { 'resources:VCPU': '0', 'resources:CUSTOM_X': '2' };
  assert.deepEqual(resourcesFromSpec(s), { VCPU: 0, MEMORY_MB: 512, DISK_GB: 1, CUSTOM_X: 2 });
});

test('select_destinations claims the best host, moves on when a claim fails, returns alternates', async () => {
  const hosts = [host('a', { freeRamMb: 1000 }), host('b', { freeRamMb: 30000 }), host('c', { freeRamMb: 20000 })];
  const ar = (h: string): AllocationRequest => ({ allocations: { [`rp-${h}`]: { resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } } } });
  const candidates: AllocationCandidates = {
    allocation_requests: hosts.map((h) => ar(h.host)),
    provider_summaries: Object.fromEntries(hosts.map((h) => [h.uuid, { resources: { VCPU: { capacity: 256, used: 0 }, MEMORY_MB: { capacity: 49152, used: 0 } } }])),
  };
  const claims: string[] = [];
  const placement = {
    getAllocationCandidates: async () => candidates,
    claimResources: async (_c: unknown, _u: string, a: AllocationRequest) => {
      const rp = Object.keys(a.allocations)[0]!;
      claims.push(rp);
      return rp !== 'rp-b'; // b's capacity was taken meanwhile
    },
    deleteAllocationForInstance: async () => {},
  };
  const hm = { hostStatesForProviders: async () => hosts.map((h) => ({ ...h, instances: new Set<string>() })), addInstance() {}, invalidateAggregates() {} };
  const m = new SchedulerManager(hm as never, placement as never, null, { host: 's', maxAttempts: 3 });
  const res = await m.selectDestinations(RequestContext.admin(), spec(), ['i1'], true);
  assert.deepEqual(claims, ['rp-b', 'rp-c']);
  assert.equal(res[0]![0]!.service_host, 'c');
  assert.deepEqual(res[0]!.slice(1).map((s) => s.service_host), ['b', 'a']);
  assert.ok(JSON.parse(res[0]![1]!.allocation_request!).allocations['rp-b']);

  const none = { ...placement, getAllocationCandidates: async () => ({ allocation_requests: [], provider_summaries: {} }) };
  const m2 = new SchedulerManager(hm as never, none as never, null, { host: 's' });
  await assert.rejects(m2.selectDestinations(RequestContext.admin(), spec(), ['i1'], false), (e: unknown) => e instanceof NoValidHost && /^No valid host was found/.test((e as Error).message));
});
