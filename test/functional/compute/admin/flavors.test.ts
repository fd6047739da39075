/**
 * Flavors per microversion: description (2.55: create, PUT /flavors/{id}), extra_specs in the
 * document (2.61), swap 0 and strict list parameters (2.75), extra spec validation (2.86),
 * paging links; each answer checked against Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { login, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('flavors: description, extra specs, swap, validation', async () => {
  await withCloud(1, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');
    const call = async (c: typeof admin, method: string, p: string, v: string, body?: unknown, schema?: [string, string]) => {
      const r = await c.call(method, 'compute', p, body, mv(v));
      if (schema) assertTempest(schema[0], schema[1], v, r);
      return r;
    };

    // ---- 2.55 description ----
    let r = await call(admin, 'POST', '/flavors', '2.55', { flavor: { name: 'd1', ram: 64, vcpus: 1, disk: 1, id: 'd1', description: 'small one' } }, ['flavors', 'create_update_get_flavor_details']);
    assert.equal(r.body.flavor.description, 'small one');
    assert.equal(r.body.flavor.extra_specs, undefined, 'no extra_specs before 2.61');
    assert.equal(r.body.flavor.swap, '');
    assert.equal((await call(admin, 'POST', '/flavors', '2.54', { flavor: { name: 'd2', ram: 64, vcpus: 1, disk: 1, description: 'x' } })).status, 400, 'description is 2.55');
    r = await call(admin, 'GET', '/flavors/d1', '2.54', undefined, ['flavors', 'create_update_get_flavor_details']);
    assert.equal(r.body.flavor.description, undefined);
    r = await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: { description: 'changed' } }, ['flavors', 'create_update_get_flavor_details']);
    assert.equal(r.body.flavor.description, 'changed');
    r = await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: { description: null } }, ['flavors', 'create_update_get_flavor_details']);
    assert.equal(r.body.flavor.description, null);
    assert.equal((await call(admin, 'PUT', '/flavors/d1', '2.54', { flavor: { description: 'x' } })).status, 404);
    assert.equal((await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: { name: 'x' } })).status, 400);
    assert.equal((await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: {} })).status, 400);
    assert.equal((await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: { description: 'bell\u0007' } })).status, 400, 'printable characters only');
    assert.equal((await call(admin, 'PUT', '/flavors/d1', '2.55', { flavor: { description: 'caf\u00e9 \u00fcber' } })).status, 200);
    assert.equal((await call(admin, 'PUT', '/flavors/nope', '2.55', { flavor: { description: 'x' } })).status, 404);
    assert.equal((await call(demo, 'PUT', '/flavors/d1', '2.55', { flavor: { description: 'x' } })).status, 403);
    r = await call(demo, 'GET', '/flavors', '2.55', undefined, ['flavors', 'list_flavors']);
    assert.ok(r.body.flavors.every((f: any) => 'description' in f));

    // ---- 2.61 extra specs in the document ----
    r = await call(admin, 'POST', '/flavors/d1/os-extra_specs', '2.61', { extra_specs: { 'hw:cpu_policy': 'dedicated', custom: 'x' } }, ['flavors_extra_specs', 'set_get_flavor_extra_specs']);
    r = await call(demo, 'GET', '/flavors/d1', '2.61', undefined, ['flavors', 'create_update_get_flavor_details']);
    assert.deepEqual(r.body.flavor.extra_specs, { 'hw:cpu_policy': 'dedicated', custom: 'x' });
    r = await call(demo, 'GET', '/flavors/detail', '2.61', undefined, ['flavors', 'list_flavors_details']);
    assert.deepEqual(r.body.flavors.find((f: any) => f.id === 'd1').extra_specs, { 'hw:cpu_policy': 'dedicated', custom: 'x' });
    assert.ok(r.body.flavors.every((f: any) => typeof f.extra_specs === 'object'));
    r = await call(admin, 'POST', '/flavors', '2.61', { flavor: { name: 'e1', ram: 64, vcpus: 1, disk: 1, swap: 512, id: 7 } }, ['flavors', 'create_update_get_flavor_details']);
    assert.deepEqual(r.body.flavor.extra_specs, {});
    assert.equal(r.body.flavor.id, '7', 'a numeric id becomes a string');
    assert.equal(r.body.flavor.swap, 512);

    // ---- 2.75 swap 0, strict query ----
    r = await call(demo, 'GET', '/flavors/d1', '2.75', undefined, ['flavors', 'create_update_get_flavor_details']);
    assert.equal(r.body.flavor.swap, 0);
    r = await call(demo, 'GET', '/flavors/d1', '2.74');
    assert.equal(r.body.flavor.swap, '');
    assert.equal((await call(demo, 'GET', '/flavors?foo=1', '2.74')).status, 200);
    assert.equal((await call(demo, 'GET', '/flavors?foo=1', '2.75')).status, 400);
    assert.equal((await call(demo, 'GET', '/flavors/detail?foo=1', '2.75')).status, 400);
    assert.equal((await call(demo, 'GET', '/flavors?sort_key=bogus', '2.1')).status, 400);
    assert.equal((await call(demo, 'GET', '/flavors?minRam=abc', '2.1')).status, 400);

    // ---- paging ----
    r = await call(demo, 'GET', '/flavors?limit=2', '2.92', undefined, ['flavors', 'list_flavors']);
    assert.equal(r.body.flavors.length, 2);
    const next = new URL(r.body.flavors_links[0].href);
    assert.equal(next.searchParams.get('marker'), r.body.flavors[1].id);
    r = await call(demo, 'GET', `/flavors${next.search}`, '2.92', undefined, ['flavors', 'list_flavors']);
    assert.notEqual(r.body.flavors[0].id, next.searchParams.get('marker'));
    assert.equal((await call(demo, 'GET', '/flavors?marker=nope', '2.92')).status, 400);

    // ---- 2.86 extra spec validation ----
    const spec = (v: string, specs: Record<string, unknown>) => call(admin, 'POST', '/flavors/d1/os-extra_specs', v, { extra_specs: specs });
    r = await spec('2.86', { 'hw:cpu_policy': 'bogus' });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.");
    assert.equal((await spec('2.85', { 'hw:cpu_policy': 'bogus' })).status, 200, 'not validated before 2.86');
    r = await spec('2.86', { 'hw:nonsense': '1' });
    assert.equal(r.body.badRequest.message, "Validation failed; extra spec 'hw:nonsense' does not appear to be a valid extra spec.");
    assert.equal((await spec('2.86', { 'hw:numa_nodes': 'two' })).status, 400);
    assert.equal((await spec('2.86', { 'resources:VCPU': '2', 'trait:HW_CPU_X86_AVX': 'required', 'hw_rng:allowed': 'True', 'os:secure_boot': 'required', 'quota:cpu_quota': 10000, 'aggregate_instance_extra_specs:ssd': 'true', 'mine:whatever': 'x' })).status, 200);
    assert.equal((await spec('2.86', { 'trait:HW_CPU_X86_AVX': 'maybe' })).status, 400);
    r = await call(admin, 'PUT', '/flavors/d1/os-extra_specs/hw:cpu_policy', '2.86', { 'hw:cpu_policy': 'shared' }, ['flavors_extra_specs', 'set_get_flavor_extra_specs_key']);
    assert.deepEqual(r.body, { 'hw:cpu_policy': 'shared' });
    assert.equal((await call(admin, 'PUT', '/flavors/d1/os-extra_specs/hw:cpu_policy', '2.86', { 'hw:cpu_policy': 'nope' })).status, 400);
    assert.equal((await call(admin, 'PUT', '/flavors/d1/os-extra_specs/hw:cpu_policy', '2.86', { 'hw:mem_page_size': 'large' })).status, 400, 'URI mismatch');
    assert.equal((await call(admin, 'POST', '/flavors/d1/os-extra_specs', '2.86', { extra_specs: { k: true } })).status, 400, 'booleans are not extra spec values');
    r = await call(admin, 'DELETE', '/flavors/d1/os-extra_specs/custom', '2.86', undefined, ['flavors_extra_specs', 'unset_flavor_extra_specs']);
    r = await call(admin, 'DELETE', '/flavors/d1', '2.92', undefined, ['flavors', 'delete_flavor']);
  });
});
