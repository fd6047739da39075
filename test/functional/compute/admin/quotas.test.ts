/**
 * Quotas through the API: /os-quota-class-sets (admin; 2.50 server groups in, network quotas
 * out; 2.57 personality quotas out), quota-set defaults from the `default` class, /limits at
 * 2.39/2.57 and the 2.75 rule on unknown query parameters, each checked against Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { login, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('quota classes, quota-set defaults and limits per microversion', async () => {
  await withCloud(1, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');

    // ---- quota class sets ----
    for (const v of ['2.1', '2.49', '2.50', '2.56', '2.57', '2.92']) {
      const r = await admin.call('GET', 'compute', '/os-quota-class-sets/default', undefined, mv(v));
      assertTempest('quota_classes', 'get_quota_class_set', v, r);
      assert.equal(r.body.quota_class_set.id, 'default');
      assert.equal('server_groups' in r.body.quota_class_set, Number(v.split('.')[1]) >= 50, `server_groups at ${v}`);
      assert.equal('floating_ips' in r.body.quota_class_set, Number(v.split('.')[1]) < 50, `floating_ips at ${v}`);
      assert.equal('injected_files' in r.body.quota_class_set, Number(v.split('.')[1]) < 57, `injected_files at ${v}`);
    }
    assert.equal((await demo.call('GET', 'compute', '/os-quota-class-sets/default')).status, 403);
    assert.equal((await demo.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { cores: 30 } })).status, 403);

    let r = await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { cores: 33, server_groups: 7 } }, mv('2.50'));
    assertTempest('quota_classes', 'update_quota_class_set', '2.50', r);
    assert.equal(r.body.quota_class_set.cores, 33);
    assert.equal(r.body.quota_class_set.server_groups, 7);
    assert.equal(r.body.quota_class_set.id, undefined, 'update answers without the id');
    // 2.50 refuses network quotas, 2.57 personality quotas, in requests too.
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { floating_ips: 3 } }, mv('2.50'))).status, 400);
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { floating_ips: 3 } }, mv('2.49'))).status, 200);
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { injected_files: 3 } }, mv('2.57'))).status, 400);
    r = await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { injected_files: 3 } }, mv('2.56'));
    assertTempest('quota_classes', 'update_quota_class_set', '2.56', r);
    assert.equal(r.body.quota_class_set.injected_files, 3);
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { cores: 'x' } })).status, 400);
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-class-sets/default', { quota_class_set: { cores: -2 } })).status, 400);
    // Another class: its own values over the config defaults.
    r = await admin.call('PUT', 'compute', '/os-quota-class-sets/gold', { quota_class_set: { ram: 4096 } }, mv('2.57'));
    assertTempest('quota_classes', 'update_quota_class_set', '2.57', r);
    assert.equal(r.body.quota_class_set.ram, 4096);
    assert.equal(r.body.quota_class_set.cores, 20);

    // ---- quota sets take their defaults from the default class ----
    const project = (await admin.call('GET', 'compute', '/os-quota-sets/x/defaults')).body.quota_set.id;
    assert.equal(project, 'x');
    r = await admin.call('GET', 'compute', '/os-quota-sets/any-project/defaults', undefined, mv('2.57'));
    assertTempest('quotas', 'get_quota_set', '2.57', r);
    assert.equal(r.body.quota_set.cores, 33);
    assert.equal(r.body.quota_set.server_groups, 7);
    r = await admin.call('GET', 'compute', '/os-quota-sets/any-project', undefined, mv('2.57'));
    assertTempest('quotas', 'get_quota_set', '2.57', r);
    assert.equal(r.body.quota_set.cores, 33);
    assert.equal(r.body.quota_set.injected_files, undefined);
    r = await admin.call('GET', 'compute', '/os-quota-sets/any-project/detail', undefined, mv('2.57'));
    assertTempest('quotas', 'get_quota_set_details', '2.57', r);
    r = await admin.call('GET', 'compute', '/os-quota-sets/any-project', undefined, mv('2.56'));
    assertTempest('quotas', 'get_quota_set', '2.56', r);
    assert.equal(r.body.quota_set.injected_files, 3);
    r = await admin.call('PUT', 'compute', '/os-quota-sets/any-project', { quota_set: { instances: 4 } }, mv('2.57'));
    assertTempest('quotas', 'update_quota_set', '2.57', r);
    assert.equal(r.body.quota_set.instances, 4);
    assert.equal((await admin.call('PUT', 'compute', '/os-quota-sets/any-project', { quota_set: { injected_files: 4 } }, mv('2.57'))).status, 400);
    // 2.75: unknown query parameters are refused, user_id is known.
    assert.equal((await admin.call('GET', 'compute', '/os-quota-sets/any-project?foo=1', undefined, mv('2.74'))).status, 200);
    r = await admin.call('GET', 'compute', '/os-quota-sets/any-project?foo=1', undefined, mv('2.75'));
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /Additional properties are not allowed/);
    assert.equal((await admin.call('GET', 'compute', '/os-quota-sets/any-project?user_id=u', undefined, mv('2.75'))).status, 200);

    // ---- limits ----
    r = await demo.call('GET', 'compute', '/limits', undefined, mv('2.56'));
    assertTempest('limits', 'get_limit', '2.56', r);
    assert.equal(r.body.limits.absolute.maxPersonality, 3);
    assert.equal(r.body.limits.absolute.maxImageMeta, undefined, '2.39 drops maxImageMeta');
    r = await demo.call('GET', 'compute', '/limits', undefined, mv('2.57'));
    assertTempest('limits', 'get_limit', '2.57', r);
    assert.equal(r.body.limits.absolute.maxPersonality, undefined);
    assert.equal(r.body.limits.absolute.maxPersonalitySize, undefined);
    assert.equal(r.body.limits.absolute.maxTotalCores, 33);
    r = await demo.call('GET', 'compute', '/limits', undefined, mv('2.38'));
    assert.equal(r.body.limits.absolute.maxImageMeta, 128);
    // Another project's limits are for admins.
    assert.equal((await demo.call('GET', 'compute', '/limits?tenant_id=any-project')).status, 403);
    r = await admin.call('GET', 'compute', '/limits?tenant_id=any-project', undefined, mv('2.92'));
    assertTempest('limits', 'get_limit', '2.92', r);
    assert.equal(r.body.limits.absolute.maxTotalInstances, 4);
    assert.equal((await admin.call('GET', 'compute', '/limits?bogus=1', undefined, mv('2.75'))).status, 400);
  });
});
