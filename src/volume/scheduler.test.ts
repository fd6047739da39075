import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availabilityZoneFilter, capabilitiesFilter, capacityFilter, specMatches, weighHosts, type HostState } from './scheduler.js';

const host = (name: string, free: number, raw: Record<string, unknown> = {}): HostState => ({
  host: name, availabilityZone: 'nova', totalGb: 100, freeGb: free, reservedPercentage: 10, updatedAt: 0, pool: 'lvmdriver-1',
  raw: { volume_backend_name: 'lvmdriver-1', storage_protocol: 'local', vendor_name: 'Open Source', thin_provisioning_support: true, ...raw },
});

void test('capacity filter keeps the reserved share free', () => {
  assert.equal(capacityFilter(host('a', 20), 10), true);
  assert.equal(capacityFilter(host('a', 20), 11), false);
});

void test('availability zone filter', () => {
  assert.equal(availabilityZoneFilter(host('a', 1), 'nova'), true);
  assert.equal(availabilityZoneFilter(host('a', 1), 'other'), false);
  assert.equal(availabilityZoneFilter(host('a', 1), null), true);
});

void test('capacity weigher: most free first, then by name', () => {
  assert.deepEqual(weighHosts([host('b', 5), host('a', 50), host('c', 50)]).map((h) => h.host), ['a', 'c', 'b']);
});

void test('capabilities filter: unscoped and capabilities: specs must match, other scopes are ignored', () => {
  const h = host('a', 50);
  assert.equal(capabilitiesFilter(h, { volume_backend_name: 'lvmdriver-1' }), true);
  assert.equal(capabilitiesFilter(h, { volume_backend_name: 'other' }), false);
  assert.equal(capabilitiesFilter(h, { storage_protocol: 'iSCSI', vendor_name: 'x' }), false);
  assert.equal(capabilitiesFilter(h, { 'capabilities:thin_provisioning_support': '<is> True' }), true);
  assert.equal(capabilitiesFilter(h, { 'RESKEY:availability_zones': 'az1', 'qos:x': '1' }), true);
  assert.equal(capabilitiesFilter(h, { unknown_capability: 'x' }), false);
});

void test('extra spec operators', () => {
  assert.equal(specMatches(10, '>= 5'), true);
  assert.equal(specMatches(10, '<= 5'), false);
  assert.equal(specMatches('iSCSI', '<or> FC <or> iSCSI'), true);
  assert.equal(specMatches('abc', '<in> b'), true);
  assert.equal(specMatches(true, '<is> True'), true);
});
