/**
 * Placement on SQLite, MariaDB and PostgreSQL: the same migrations, API flows and candidates on
 * each engine, and many claims racing for a provider's last units through a real connection
 * pool (where only the generation compare-and-swap keeps them honest).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { engines } from '../../conformance/db/engines.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createPlacementApp } from '../../../src/placement/service.js';

setLogDestination('/dev/null');
const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});

for (const engine of all) {
  void describe(`placement on ${engine.name}`, { skip: engine.skip }, () => {
    void test('providers, inventories, traits, aggregates, candidates, and racing claims', async () => {
      const database = await openDatabase(await engine.create(), { service: 'placement', poolSize: 8 });
      const app = await createPlacementApp({ database });
      try {
        const call = async (method: string, url: string, body?: unknown) => {
          const r = await app.inject({
            method: method as 'GET', url,
            headers: { 'openstack-api-version': 'placement 1.39', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
          });
          return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
        };
        // A second app on the same database must find the standard data already synced.
        await (await createPlacementApp({ database })).close();

        const root = (await call('POST', '/resource_providers', { name: 'eng-cn' })).body;
        const child = (await call('POST', '/resource_providers', { name: 'eng-numa', parent_provider_uuid: root.uuid })).body;
        assert.equal(child.root_provider_uuid, root.uuid);
        const inv = await call('PUT', `/resource_providers/${root.uuid}/inventories`, {
          resource_provider_generation: 0, inventories: { MEMORY_MB: { total: 1024, allocation_ratio: 1.5 }, DISK_GB: { total: 50 } },
        });
        assert.equal(inv.status, 200, JSON.stringify(inv.body));
        assert.equal(inv.body.inventories.MEMORY_MB.allocation_ratio, 1.5);
        assert.equal((await call('PUT', `/resource_providers/${child.uuid}/inventories`, {
          resource_provider_generation: 0, inventories: { VCPU: { total: 3 } },
        })).status, 200);
        assert.equal((await call('PUT', '/traits/CUSTOM_ENGINE')).status, 201);
        const tr = await call('PUT', `/resource_providers/${root.uuid}/traits`, { resource_provider_generation: 1, traits: ['CUSTOM_ENGINE', 'COMPUTE_NODE'] });
        assert.equal(tr.status, 200);
        const agg = randomUUID();
        assert.equal((await call('PUT', `/resource_providers/${root.uuid}/aggregates`, { resource_provider_generation: 2, aggregates: [agg] })).status, 200);
        assert.equal((await call('PUT', '/resource_classes/CUSTOM_ENGINE_RC')).status, 201);

        const cands = await call('GET', `/allocation_candidates?resources=VCPU:1,MEMORY_MB:128&required=CUSTOM_ENGINE&member_of=${agg}`);
        assert.equal(cands.status, 200);
        assert.equal(cands.body.allocation_requests.length, 1);
        assert.deepEqual(cands.body.allocation_requests[0].allocations, {
          [root.uuid]: { resources: { MEMORY_MB: 128 } }, [child.uuid]: { resources: { VCPU: 1 } },
        });
        assert.deepEqual(cands.body.provider_summaries[root.uuid].resources.MEMORY_MB, { capacity: 1536, used: 0 });

        // Ten claims race for three VCPUs: exactly three win, the rest get 409.
        const claims = await Promise.all(Array.from({ length: 10 }, () => call('PUT', `/allocations/${randomUUID()}`, {
          allocations: { [child.uuid]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE',
        })));
        const statuses = claims.map((c) => c.status);
        assert.equal(statuses.filter((s) => s === 204).length, 3, JSON.stringify(claims.filter((c) => c.status !== 204).map((c) => c.body)));
        assert.equal(statuses.filter((s) => s === 409).length, 7, JSON.stringify(claims.map((c) => c.body)));
        const usage = await call('GET', `/resource_providers/${child.uuid}/usages`);
        assert.deepEqual(usage.body.usages, { VCPU: 3 });
        assert.deepEqual((await call('GET', '/allocation_candidates?resources=VCPU:1')).body.allocation_requests, []);
        const usages = await call('GET', '/usages?project_id=p');
        assert.deepEqual(usages.body.usages, { INSTANCE: { VCPU: 3, consumer_count: 3 } });
        const traits = await call('GET', '/traits?name=startswith:CUSTOM_');
        assert.deepEqual(traits.body.traits, ['CUSTOM_ENGINE']);
      } finally {
        await app.close();
        await database.close();
      }
    });
  });
}
