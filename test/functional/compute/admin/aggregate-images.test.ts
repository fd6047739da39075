/**
 * 2.81 POST /os-aggregates/{id}/images: validated in nova-api (images exist, no duplicates),
 * cast to the super-conductor, which calls cache_images on every up compute of the aggregate;
 * the fake driver records what it cached. Aggregate documents checked against Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { fakeDriverFor } from '../../../../src/virt/fake.js';
import { bootArgs, login, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('aggregate image pre-caching reaches the aggregate computes', async () => {
  await withCloud(3, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');
    const { imageRef } = await bootArgs(admin);
    let r = await admin.call('POST', 'compute', '/os-aggregates', { aggregate: { name: 'cache-agg' } }, mv('2.81'));
    assertTempest('aggregates', 'create_aggregate', '2.81', r);
    const agg = r.body.aggregate.id;
    for (const host of ['compute1', 'compute3']) {
      r = await admin.call('POST', 'compute', `/os-aggregates/${agg}/action`, { add_host: { host } }, mv('2.81'));
      assertTempest('aggregates', 'aggregate_add_remove_host', '2.81', r);
    }
    assertTempest('aggregates', 'get_aggregate', '2.81', await admin.call('GET', 'compute', `/os-aggregates/${agg}`, undefined, mv('2.81')));
    // compute3 is forced down: the conductor skips it.
    const c3 = (await admin.call('GET', 'compute', '/os-services?host=compute3&binary=nova-compute', undefined, mv('2.53'))).body.services[0];
    assert.equal((await admin.call('PUT', 'compute', `/os-services/${c3.id}`, { forced_down: true }, mv('2.53'))).status, 200);

    const images = (body: unknown, v = '2.81', c = admin) => c.call('POST', 'compute', `/os-aggregates/${agg}/images`, body, mv(v));
    r = await images({ cache: [{ id: imageRef }] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body, null);
    await until('compute1 to cache the image', () => fakeDriverFor('compute1')!.cachedImages.includes(imageRef));
    // Asked again: already there (existing), still once in the cache.
    assert.equal((await images({ cache: [{ id: imageRef }] })).status, 202);
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(fakeDriverFor('compute1')!.cachedImages, [imageRef]);
    assert.deepEqual(fakeDriverFor('compute2')!.cachedImages, [], 'not in the aggregate');
    assert.deepEqual(fakeDriverFor('compute3')!.cachedImages, [], 'down, skipped');

    // Refusals.
    assert.equal((await images({ cache: [{ id: imageRef }] }, '2.80')).status, 404, 'a 2.81 route');
    assert.equal((await images({ cache: [{ id: imageRef }] }, '2.81', demo)).status, 403);
    r = await images({ cache: [{ id: imageRef }, { id: imageRef }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Duplicate images in request');
    r = await images({ cache: [{ id: '8c1e1c2e-0b0c-4f5e-9c9e-000000000000' }] });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /Image 8c1e1c2e-0b0c-4f5e-9c9e-000000000000 could not be found/);
    assert.equal((await images({ cache: [{ id: 'not-a-uuid' }] })).status, 400);
    assert.equal((await images({ cache: [] })).status, 400);
    assert.equal((await images({ cache: [{ id: imageRef, extra: 1 }] })).status, 400);
    assert.equal((await admin.call('POST', 'compute', '/os-aggregates/999/images', { cache: [{ id: imageRef }] }, mv('2.81'))).status, 404);
    assert.equal((await admin.call('POST', 'compute', '/os-aggregates/abc/images', { cache: [{ id: imageRef }] }, mv('2.81'))).status, 400);
    assertTempest('aggregates', 'list_aggregates', '2.92', await admin.call('GET', 'compute', '/os-aggregates', undefined, mv('2.92')));
  });
});
