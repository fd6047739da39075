/**
 * The older shapes of placement's API that clients pinned to old microversions still use.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPlacement, provider, type Harness } from './helpers.js';

let h: Harness;
before(async () => { h = await startPlacement(); });
after(async () => { await h.close(); });

void test('allocations in list form (1.0 - 1.11) and the incomplete consumer (before 1.8)', async () => {
  const rp = await provider(h, 'old-1', { VCPU: { total: 4 }, MEMORY_MB: { total: 1024 } });
  const c = randomUUID();
  const put = await h.call('PUT', `/allocations/${c}`, { allocations: [{ resource_provider: { uuid: rp }, resources: { VCPU: 1 } }] }, { version: '1.0' });
  assert.equal(put.status, 204, JSON.stringify(put.body));
  const got = await h.call('GET', `/allocations/${c}`, undefined, { version: '1.0' });
  assert.deepEqual(got.body, { allocations: { [rp]: { generation: 2, resources: { VCPU: 1 } } } });
  const got12 = await h.call('GET', `/allocations/${c}`, undefined, { version: '1.12' });
  assert.equal(got12.body.project_id, '00000000-0000-0000-0000-000000000000');
  assert.equal(got12.body.consumer_generation, undefined);
  const put8 = await h.call('PUT', `/allocations/${c}`, { allocations: [{ resource_provider: { uuid: rp }, resources: { VCPU: 2 } }] }, { version: '1.8' });
  assert.equal(put8.status, 400, 'project_id and user_id are required from 1.8');
  // Before 1.28 no consumer generation is checked.
  const put12 = await h.call('PUT', `/allocations/${c}`, { allocations: { [rp]: { resources: { VCPU: 2 } } }, project_id: 'p', user_id: 'u' }, { version: '1.12' });
  assert.equal(put12.status, 204);
  const rpAllocs = await h.call('GET', `/resource_providers/${rp}/allocations`, undefined, { version: '1.27' });
  assert.deepEqual(rpAllocs.body.allocations[c], { resources: { VCPU: 2 } });
  const cands = await h.call('GET', '/allocation_candidates?resources=VCPU:1', undefined, { version: '1.10' });
  assert.deepEqual(cands.body.allocation_requests, [{ allocations: [{ resource_provider: { uuid: rp }, resources: { VCPU: 1 } }] }]);
  assert.deepEqual(cands.body.provider_summaries[rp], { resources: { VCPU: { capacity: 4, used: 2 } } });
  const noLimit = await h.call('GET', '/allocation_candidates?resources=VCPU:1&limit=1', undefined, { version: '1.15' });
  assert.equal(noLimit.status, 400, 'limit arrives in 1.16');
  assert.equal((await h.call('GET', '/allocation_candidates?resources=VCPU:1', undefined, { version: '1.9' })).status, 404);
});

void test('routes and fields that arrive with later microversions', async () => {
  const rp = await provider(h, 'old-2', {});
  assert.equal((await h.call('GET', '/traits', undefined, { version: '1.5' })).status, 404);
  assert.equal((await h.call('GET', `/resource_providers/${rp}/aggregates`, undefined, { version: '1.0' })).status, 404);
  assert.equal((await h.call('DELETE', `/resource_providers/${rp}/inventories`, undefined, { version: '1.4' })).status, 405);
  assert.equal((await h.call('GET', '/usages?project_id=x', undefined, { version: '1.8' })).status, 404);
  assert.equal((await h.call('POST', '/allocations', { [randomUUID()]: { allocations: {}, project_id: 'p', user_id: 'u' } }, { version: '1.12' })).status, 404);
  const shown = await h.call('GET', `/resource_providers/${rp}`, undefined, { version: '1.13' });
  assert.equal(shown.body.root_provider_uuid, undefined);
  assert.deepEqual(shown.body.links.map((l: { rel: string }) => l.rel), ['self', 'inventories', 'usages', 'aggregates', 'traits', 'allocations']);
  assert.equal(shown.headers['last-modified'], undefined);
  assert.ok((await h.call('GET', `/resource_providers/${rp}`, undefined, { version: '1.15' })).headers['last-modified']);
  const aggs = await h.call('PUT', `/resource_providers/${rp}/aggregates`, [randomUUID()], { version: '1.1' });
  assert.equal(aggs.status, 200);
  assert.equal(aggs.body.resource_provider_generation, undefined);
  // 1.2 - 1.6: PUT /resource_classes/{name} renames a custom class.
  assert.equal((await h.call('POST', '/resource_classes', { name: 'CUSTOM_OLD' }, { version: '1.2' })).status, 201);
  const renamed = await h.call('PUT', '/resource_classes/CUSTOM_OLD', { name: 'CUSTOM_NEW' }, { version: '1.2' });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, 'CUSTOM_NEW');
  assert.equal((await h.call('PUT', '/resource_classes/VCPU', { name: 'CUSTOM_X' }, { version: '1.2' })).status, 400);
  // reserved == total is refused before 1.26.
  const gen = (await h.call('GET', `/resource_providers/${rp}`)).body.generation;
  const eq = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { VCPU: { total: 2, reserved: 2 } } }, { version: '1.25' });
  assert.equal(eq.status, 400);
  const eq26 = await h.call('PUT', `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { VCPU: { total: 2, reserved: 2 } } }, { version: '1.26' });
  assert.equal(eq26.status, 200);
});
