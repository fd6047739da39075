/**
 * /os-services: the list per microversion (integer ids, forced_down at 2.11, uuids at 2.53),
 * the legacy PUT /os-services/{enable,disable,disable-log-reason,force-down} bodies below 2.53,
 * PUT /os-services/{uuid} from 2.53, DELETE by id or uuid; a disabled compute gets no new
 * servers (ComputeFilter), a forced-down one is `down` and can be evacuated; Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('services: enable, disable, force down, delete, per microversion', async () => {
  await withCloud(2, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');
    const { imageRef, networkId } = await bootArgs(admin);
    const list = async (v: string, q = '') => {
      const r = await admin.call('GET', 'compute', `/os-services${q}`, undefined, mv(v));
      assertTempest('services', 'list_services', v, r);
      return r.body.services as any[];
    };
    const compute = async (v: string, host: string) => (await list(v, `?binary=nova-compute&host=${host}`))[0];

    // ---- list per version ----
    let svcs = await list('2.1');
    assert.ok(svcs.some((s) => s.binary === 'nova-scheduler' && s.zone === 'internal'));
    assert.ok(svcs.every((s) => typeof s.id === 'number' && !('forced_down' in s)));
    svcs = await list('2.11');
    assert.ok(svcs.every((s) => s.forced_down === false));
    svcs = await list('2.53');
    assert.ok(svcs.every((s) => /^[0-9a-f-]{36}$/.test(s.id)));
    assert.deepEqual((await list('2.92', '?binary=nova-compute')).map((s) => [s.host, s.zone, s.status, s.state]).sort(),
      [['compute1', 'nova', 'enabled', 'up'], ['compute2', 'nova', 'enabled', 'up']]);
    assert.equal((await demo.call('GET', 'compute', '/os-services')).status, 403);
    assert.equal((await admin.call('GET', 'compute', '/os-services?foo=1', undefined, mv('2.74'))).status, 200);
    assert.equal((await admin.call('GET', 'compute', '/os-services?foo=1', undefined, mv('2.75'))).status, 400);

    // ---- legacy actions (below 2.53) ----
    let r = await admin.call('PUT', 'compute', '/os-services/disable', { host: 'compute1', binary: 'nova-compute' }, mv('2.10'));
    assertTempest('services', 'enable_disable_service', '2.10', r);
    assert.deepEqual(r.body, { service: { host: 'compute1', binary: 'nova-compute', status: 'disabled' } });
    r = await admin.call('PUT', 'compute', '/os-services/disable-log-reason', { host: 'compute1', binary: 'nova-compute', disabled_reason: 'maint' }, mv('2.10'));
    assertTempest('services', 'disable_log_reason', '2.10', r);
    assert.deepEqual(r.body, { service: { host: 'compute1', binary: 'nova-compute', status: 'disabled', disabled_reason: 'maint' } });
    assert.equal((await compute('2.10', 'compute1')).disabled_reason, 'maint');
    assert.equal((await admin.call('PUT', 'compute', '/os-services/disable-log-reason', { host: 'compute1', binary: 'nova-compute' }, mv('2.10'))).status, 400);
    r = await admin.call('PUT', 'compute', '/os-services/enable', { host: 'compute1', binary: 'nova-compute' }, mv('2.52'));
    assertTempest('services', 'enable_disable_service', '2.52', r);
    assert.equal((await compute('2.52', 'compute1')).status, 'enabled');
    assert.equal((await compute('2.52', 'compute1')).disabled_reason, null);
    // force-down exists from 2.11.
    assert.equal((await admin.call('PUT', 'compute', '/os-services/force-down', { host: 'compute1', binary: 'nova-compute', forced_down: true }, mv('2.10'))).status, 400, 'forced_down is not a 2.10 field');
    r = await admin.call('PUT', 'compute', '/os-services/force-down', { host: 'compute1', binary: 'nova-compute', forced_down: true }, mv('2.11'));
    assertTempest('services', 'update_forced_down', '2.11', r);
    assert.deepEqual(r.body, { service: { host: 'compute1', binary: 'nova-compute', forced_down: true } });
    const c1 = await compute('2.11', 'compute1');
    assert.equal(c1.state, 'down');
    assert.equal(c1.forced_down, true);
    r = await admin.call('PUT', 'compute', '/os-services/force-down', { host: 'compute1', binary: 'nova-compute', forced_down: 'false' }, mv('2.11'));
    assert.equal(r.body.service.forced_down, false);
    assert.equal((await compute('2.11', 'compute1')).state, 'up');
    assert.equal((await admin.call('PUT', 'compute', '/os-services/bogus', { host: 'compute1', binary: 'nova-compute' }, mv('2.11'))).status, 404);
    assert.equal((await admin.call('PUT', 'compute', '/os-services/disable', { host: 'nohost', binary: 'nova-compute' }, mv('2.11'))).status, 404);
    r = await admin.call('PUT', 'compute', '/os-services/disable', { host: 'compute1', binary: 'nova-scheduler' }, mv('2.11'));
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /Only nova-compute services can be updated/);
    assert.equal((await demo.call('PUT', 'compute', '/os-services/disable', { host: 'compute1', binary: 'nova-compute' })).status, 403);
    // At 2.53 the path is a uuid, the action names are not.
    assert.equal((await admin.call('PUT', 'compute', '/os-services/disable', { status: 'disabled' }, mv('2.53'))).status, 400);

    // ---- 2.53: PUT /os-services/{uuid} ----
    const c1id = (await compute('2.53', 'compute1')).id;
    const c2id = (await compute('2.53', 'compute2')).id;
    r = await admin.call('PUT', 'compute', `/os-services/${c1id}`, { status: 'disabled', disabled_reason: 'draining' }, mv('2.53'));
    assertTempest('services', 'update_service', '2.53', r);
    assert.equal(r.body.service.id, c1id);
    assert.equal(r.body.service.status, 'disabled');
    assert.equal(r.body.service.disabled_reason, 'draining');
    assert.equal(r.body.service.forced_down, false);
    assert.equal(r.body.service.zone, 'nova');
    assert.equal((await admin.call('PUT', 'compute', `/os-services/${c1id}`, {}, mv('2.53'))).status, 400);
    assert.equal((await admin.call('PUT', 'compute', `/os-services/${c1id}`, { status: 'enabled', disabled_reason: 'x' }, mv('2.53'))).status, 400);
    assert.equal((await admin.call('PUT', 'compute', `/os-services/${c1id}`, { status: 'bogus' }, mv('2.53'))).status, 400);
    assert.equal((await admin.call('PUT', 'compute', '/os-services/00000000-0000-0000-0000-000000000001', { status: 'enabled' }, mv('2.53'))).status, 404);
    const sched = (await list('2.53', '?binary=nova-scheduler'))[0].id;
    assert.equal((await admin.call('PUT', 'compute', `/os-services/${sched}`, { status: 'disabled' }, mv('2.53'))).status, 400);

    // The scheduler skips the disabled compute1.
    const boot = async (name: string) => {
      const b = await admin.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '42', networks: [{ uuid: networkId }] } });
      assert.equal(b.status, 202, JSON.stringify(b.body));
      return (await waitForStatus(admin, b.body.server.id, 'ACTIVE'));
    };
    const s1 = await boot('on-2');
    assert.equal(s1['OS-EXT-SRV-ATTR:host'], 'compute2');
    assert.equal((await boot('on-2-again'))['OS-EXT-SRV-ATTR:host'], 'compute2');
    await admin.call('DELETE', 'compute', `/servers/${(await admin.call('GET', 'compute', '/servers?name=on-2-again')).body.servers[0].id}`);
    r = await admin.call('PUT', 'compute', `/os-services/${c1id}`, { status: 'enabled' }, mv('2.92'));
    assertTempest('services', 'update_service', '2.92', r);
    assert.equal(r.body.service.disabled_reason, null);

    // ---- forced down: down in the list and evacuable ----
    assert.equal((await admin.call('POST', 'compute', `/servers/${s1.id}/action`, { evacuate: {} }, mv('2.53'))).status, 400, 'compute2 is up');
    r = await admin.call('PUT', 'compute', `/os-services/${c2id}`, { forced_down: true }, mv('2.53'));
    assertTempest('services', 'update_service', '2.53', r);
    assert.equal(r.body.service.state, 'down');
    assert.equal(r.body.service.forced_down, true);
    const hv = (await admin.call('GET', 'compute', '/os-hypervisors', undefined, mv('2.53'))).body.hypervisors.find((h: any) => h.hypervisor_hostname === 'compute2');
    assert.equal(hv.state, 'down');
    r = await admin.call('POST', 'compute', `/servers/${s1.id}/action`, { evacuate: {} }, mv('2.53'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await waitForStatus(admin, s1.id, 'ACTIVE'))['OS-EXT-SRV-ATTR:host'], 'compute1');
    // The `done` evacuation record keeps compute2 from being forced up until it restarts.
    r = await admin.call('PUT', 'compute', `/os-services/${c2id}`, { forced_down: false }, mv('2.53'));
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /Unable to force up host compute2/);

    // ---- delete ----
    assert.equal((await admin.call('DELETE', 'compute', `/os-services/${c1id}`, undefined, mv('2.53'))).status, 409, 'compute1 hosts a server');
    assert.equal((await admin.call('DELETE', 'compute', '/os-services/abc', undefined, mv('2.53'))).status, 400);
    assert.equal((await admin.call('DELETE', 'compute', '/os-services/abc', undefined, mv('2.52'))).status, 400);
    assert.equal((await admin.call('DELETE', 'compute', '/os-services/99999', undefined, mv('2.52'))).status, 404);
    assert.equal((await demo.call('DELETE', 'compute', `/os-services/${c2id}`, undefined, mv('2.53'))).status, 403);
    const agg = (await admin.call('POST', 'compute', '/os-aggregates', { aggregate: { name: 'a1' } })).body.aggregate;
    await admin.call('POST', 'compute', `/os-aggregates/${agg.id}/action`, { add_host: { host: 'compute2' } });
    r = await admin.call('DELETE', 'compute', `/os-services/${c2id}`, undefined, mv('2.53'));
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal(r.body, null);
    assert.ok(!(await list('2.53')).some((s) => s.id === c2id));
    assert.deepEqual((await admin.call('GET', 'compute', `/os-aggregates/${agg.id}`)).body.aggregate.hosts, [], 'out of its aggregates');
    // Its Placement provider stays, as upstream's: the evacuation's migration still holds allocations on it (409, logged).
  });
});
