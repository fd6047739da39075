/**
 * Server groups per microversion: `policies` + `metadata` below 2.64, `policy` + `rules` from
 * 2.64 (max_server_per_host only for anti-affinity), members without deleted servers, paging
 * and strict list parameters (2.75); the anti-affinity filter honours max_server_per_host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, waitGone, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('server groups: policy and rules, max_server_per_host in the scheduler', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const call = async (method: string, p: string, v: string, body?: unknown, schema?: string) => {
      const r = await demo.call(method, 'compute', p, body, mv(v));
      if (schema) assertTempest('server_groups', schema, v, r);
      return r;
    };

    // ---- below 2.64: policies and metadata ----
    let r = await call('POST', '/os-server-groups', '2.63', { server_group: { name: 'old', policies: ['soft-affinity'] } }, 'create_show_server_group');
    assert.deepEqual(r.body.server_group.policies, ['soft-affinity']);
    assert.deepEqual(r.body.server_group.metadata, {});
    assert.equal(r.body.server_group.policy, undefined);
    const oldId = r.body.server_group.id;
    assert.equal((await call('POST', '/os-server-groups', '2.14', { server_group: { name: 'x', policies: ['soft-affinity'] } })).status, 400, 'soft policies are 2.15');
    assert.equal((await call('POST', '/os-server-groups', '2.63', { server_group: { name: 'x', policy: 'affinity' } })).status, 400);

    // ---- 2.64: policy and rules ----
    assert.equal((await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'x', policies: ['affinity'] } })).status, 400);
    assert.equal((await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } })).status, 400, 'rules only for anti-affinity');
    r = await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } });
    assert.equal(r.body.badRequest.message, 'Only anti-affinity policy supports rules.');
    assert.equal((await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } } })).status, 400);
    assert.equal((await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'x', policy: 'anti-affinity', rules: { other: 1 } } })).status, 400);
    r = await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'aa2', policy: 'anti-affinity', rules: { max_server_per_host: 2 } } }, 'create_show_server_group');
    const g = r.body.server_group;
    assert.equal(g.policy, 'anti-affinity');
    assert.deepEqual(g.rules, { max_server_per_host: 2 });
    assert.equal(g.policies, undefined);
    assert.equal(g.metadata, undefined);
    r = await call('POST', '/os-server-groups', '2.64', { server_group: { name: 'aff', policy: 'affinity' } }, 'create_show_server_group');
    assert.deepEqual(r.body.server_group.rules, {});
    r = await call('GET', `/os-server-groups/${oldId}`, '2.64', undefined, 'create_show_server_group');
    assert.equal(r.body.server_group.policy, 'soft-affinity');
    r = await call('GET', `/os-server-groups/${g.id}`, '2.63', undefined, 'create_show_server_group');
    assert.deepEqual(r.body.server_group.policies, ['anti-affinity']);

    // ---- the scheduler: at most two members per host ----
    const boot = async (name: string) => {
      const b = await demo.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '42', networks: [{ uuid: networkId }] }, 'os:scheduler_hints': { group: g.id } });
      assert.equal(b.status, 202, JSON.stringify(b.body));
      return b.body.server.id as string;
    };
    const ids: string[] = [];
    for (const n of ['m1', 'm2', 'm3', 'm4']) {
      const id = await boot(n);
      await waitForStatus(demo, id, 'ACTIVE');
      ids.push(id);
    }
    const hosts = await Promise.all(ids.map(async (id) => (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host']));
    assert.deepEqual(hosts.slice().sort(), ['compute1', 'compute1', 'compute2', 'compute2']);
    const fifth = await boot('m5');
    const s5 = await waitForStatus(demo, fifth, 'ERROR');
    assert.match(s5.fault.message, /No valid host/);
    r = await call('GET', `/os-server-groups/${g.id}`, '2.64', undefined, 'create_show_server_group');
    assert.deepEqual(r.body.server_group.members.slice().sort(), [...ids, fifth].sort());
    // Deleted servers leave the member list.
    await demo.call('DELETE', 'compute', `/servers/${ids[0]}`);
    await waitGone(demo, ids[0]!);
    r = await call('GET', `/os-server-groups/${g.id}`, '2.64', undefined, 'create_show_server_group');
    assert.ok(!r.body.server_group.members.includes(ids[0]));

    // ---- list: paging, all_projects, 2.75 ----
    r = await call('GET', '/os-server-groups', '2.64', undefined, 'list_server_groups');
    assert.equal(r.body.server_groups.length, 3);
    r = await call('GET', '/os-server-groups?limit=1&offset=1', '2.64', undefined, 'list_server_groups');
    assert.deepEqual(r.body.server_groups.map((x: any) => x.id), [g.id]);
    assert.equal((await call('GET', '/os-server-groups?foo=1', '2.74')).status, 200);
    assert.equal((await call('GET', '/os-server-groups?foo=1', '2.75')).status, 400);
    r = await admin.call('GET', 'compute', '/os-server-groups?all_projects=True', undefined, mv('2.92'));
    assertTempest('server_groups', 'list_server_groups', '2.92', r);
    assert.equal(r.body.server_groups.length, 3);
    r = await call('DELETE', `/os-server-groups/${oldId}`, '2.64', undefined, 'delete_server_group');
    assert.equal((await call('GET', `/os-server-groups/${oldId}`, '2.64')).status, 404);
  });
});
