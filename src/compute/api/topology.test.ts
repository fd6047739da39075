import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topologyView } from './topology.js';

test('topology: no NUMA topology, and a two-cell one with and without the host side', () => {
  assert.deepEqual(topologyView(null, true), { nodes: [], pagesize_kb: null });
  assert.deepEqual(topologyView('not json', false), { nodes: [], pagesize_kb: null });
  // An InstanceNUMATopology primitive as Nova stores it.
  const cell = (id: number, cpus: number[], memory: number, extra: Record<string, unknown> = {}) => ({
    'nova_object.name': 'InstanceNUMACell', 'nova_object.data': { id, cpuset: [], pcpuset: cpus, memory, pagesize: 2048, cpu_topology: { threads: 2 }, ...extra },
  });
  const stored = JSON.stringify({
    'nova_object.name': 'InstanceNUMATopology',
    'nova_object.data': { cells: [cell(0, [1, 0, 3, 2], 1024, { cpu_pinning_raw: { 0: 10, 1: 11, 2: 12, 3: 13 } }), cell(1, [4, 5, 6], 512)] },
  });
  assert.deepEqual(topologyView(stored, false), {
    nodes: [
      { vcpu_set: [0, 1, 2, 3], siblings: [[0, 1], [2, 3]], memory_mb: 1024 },
      { vcpu_set: [4, 5, 6], siblings: [[4, 5]], memory_mb: 512 },
    ],
    pagesize_kb: 2048,
  });
  const admin = topologyView(stored, true);
  assert.equal(admin.nodes[0]!['host_node'], 0);
  assert.deepEqual(admin.nodes[0]!['cpu_pinning'], { 0: 10, 1: 11, 2: 12, 3: 13 });
  assert.deepEqual(admin.nodes[1]!['cpu_pinning'], {});
});
