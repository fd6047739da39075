/**
 * The single-group shortcut and the general tree-by-tree path must agree, on random clouds
 * with trees, traits, aggregates and sharing providers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceClassMap } from '../db/resource-classes.js';
import { PlacementSnapshot, SHARING_TRAIT, type SnapProvider } from './snapshot.js';
import { findAllocationCandidates, type RequestGroup } from './engine.js';

const RCS = new ResourceClassMap(new Map([['VCPU', 0], ['MEMORY_MB', 1], ['DISK_GB', 2]]), new Map([[0, 'VCPU'], [1, 'MEMORY_MB'], [2, 'DISK_GB']]));
const TRAITS = ['T1', 'T2', 'T3'];
const AGGS = ['a1', 'a2'];

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function randomCloud(r: () => number): PlacementSnapshot {
  const providers = new Map<number, SnapProvider>();
  let id = 1;
  for (let t = 0; t < 6; t++) {
    const rootId = id;
    const size = 1 + Math.floor(r() * 3);
    for (let k = 0; k < size; k++) {
      const pid = id++;
      const inv = new Map();
      const used = new Map();
      for (const rc of [0, 1, 2]) {
        if (r() < 0.5) {
          inv.set(rc, { total: 1 + Math.floor(r() * 8), reserved: 0, minUnit: 1, maxUnit: 8, stepSize: 1, ratio: 1 });
          if (r() < 0.3) used.set(rc, 1);
        }
      }
      const traits = new Set(TRAITS.filter(() => r() < 0.3));
      if (k === 0 && t === 5) traits.add(SHARING_TRAIT);
      const aggs = new Set(AGGS.filter(() => r() < 0.4));
      providers.set(pid, {
        id: pid, uuid: `rp-${pid}`, generation: 1, parentId: k === 0 ? null : rootId + Math.floor(r() * k), rootId,
        inv, used, traits, aggs,
      });
    }
  }
  return new PlacementSnapshot(providers);
}

function randomGroup(r: () => number, suffix: string): RequestGroup {
  const resources = new Map<string, number>();
  for (const rc of ['VCPU', 'MEMORY_MB', 'DISK_GB']) if (r() < 0.5) resources.set(rc, 1 + Math.floor(r() * 3));
  if (!resources.size) resources.set('VCPU', 1);
  return {
    suffix, useSameProvider: suffix !== '', resources,
    requiredTraits: r() < 0.3 ? [new Set([TRAITS[Math.floor(r() * 3)]!])] : [],
    forbiddenTraits: r() < 0.2 ? new Set([TRAITS[Math.floor(r() * 3)]!]) : new Set(),
    memberOf: r() < 0.2 ? [new Set([AGGS[Math.floor(r() * 2)]!])] : [],
    forbiddenAggs: new Set(),
  };
}

const keys = (res: ReturnType<typeof findAllocationCandidates>) => res.allocationRequests
  .map((a) => a.resources.map((x) => `${x.rp.uuid}:${x.rcId}=${x.amount}`).sort().join(' ')).sort();

void test('shortcut and general path agree on random clouds', () => {
  let nonEmpty = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const snap = randomCloud(r);
    const g = randomGroup(r, r() < 0.5 ? '' : '1');
    for (const nestedAware of [true, false]) {
      const wide = { sameSubtrees: [], nestedAware };
      const fast = findAllocationCandidates(snap, RCS, [g], wide);
      const general = findAllocationCandidates(snap, RCS, [g], wide, { general: true });
      assert.deepEqual(keys(fast), keys(general), `seed ${seed}`);
      assert.deepEqual(fast.summaries.map((p) => p.id).sort(), general.summaries.map((p) => p.id).sort(), `seed ${seed}`);
      if (fast.allocationRequests.length) nonEmpty++;
    }
  }
  assert.ok(nonEmpty > 100, `random clouds too sparse (${nonEmpty})`);
});

void test('limit cuts the same candidates either way', () => {
  const snap = randomCloud(rng(7));
  const g: RequestGroup = { suffix: '', useSameProvider: false, resources: new Map([['VCPU', 1]]), requiredTraits: [], forbiddenTraits: new Set(), memberOf: [], forbiddenAggs: new Set() };
  const all = findAllocationCandidates(snap, RCS, [g], { sameSubtrees: [], nestedAware: true });
  const two = findAllocationCandidates(snap, RCS, [g], { sameSubtrees: [], nestedAware: true, limit: 2 });
  assert.equal(two.allocationRequests.length, Math.min(2, all.allocationRequests.length));
  assert.deepEqual(keys(two), keys({ ...all, allocationRequests: all.allocationRequests.slice(0, 2) }));
});
