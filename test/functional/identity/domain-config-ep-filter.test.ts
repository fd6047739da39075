import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, ADMIN_PASSWORD, DEMO_PASSWORD, type Harness } from './helpers.js';

let h: Harness;
let admin: string;
before(async () => {
  h = await startIdentity();
  admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
});
after(() => h.close());

void describe('domain-specific configuration', () => {
  void test('defaults; create, show group and option, update, delete; sensitive options hidden; bad groups 403', async () => {
    const def = await h.request('GET', '/v3/domains/config/default', { token: admin });
    assert.equal(def.status, 200);
    assert.ok('driver' in def.body.config.identity && 'url' in def.body.config.ldap);
    assert.deepEqual((await h.request('GET', '/v3/domains/config/identity/driver/default', { token: admin })).body, { config: { driver: 'sql' } });
    const dom = (await h.request('POST', '/v3/domains', { token: admin, body: { domain: { name: 'ldap-dom' } } })).body.domain;
    const base = `/v3/domains/${dom.id}/config`;
    assert.equal((await h.request('GET', base, { token: admin })).status, 404);
    const cfg = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://x:389/', password: 'secret' } };
    const put = await h.request('PUT', base, { token: admin, body: { config: cfg } });
    assert.equal(put.status, 201);
    assert.deepEqual(put.body.config, { identity: { driver: 'ldap' }, ldap: { url: 'ldap://x:389/' } });
    assert.equal((await h.request('PUT', base, { token: admin, body: { config: cfg } })).status, 200);
    assert.deepEqual((await h.request('GET', `${base}/ldap/url`, { token: admin })).body, { config: { url: 'ldap://x:389/' } });
    const g = await h.request('PATCH', `${base}/identity`, { token: admin, body: { config: { identity: { driver: 'sql', list_limit: 5 } } } });
    assert.deepEqual(g.body.config.identity, { driver: 'sql', list_limit: 5 });
    const o = await h.request('PATCH', `${base}/identity/driver`, { token: admin, body: { config: { driver: 'ldap' } } });
    assert.equal(o.body.config.identity.driver, 'ldap');
    assert.equal((await h.request('PUT', base, { token: admin, body: { config: { nope: { a: 1 } } } })).status, 403);
    assert.equal((await h.request('DELETE', `${base}/identity/driver`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `${base}/identity/driver`, { token: admin })).status, 404);
    assert.equal((await h.request('DELETE', base, { token: admin })).status, 204);
    assert.equal((await h.request('GET', base, { token: admin })).status, 404);
  });
});

void describe('endpoint filter', () => {
  void test('endpoint groups narrow the catalog of associated projects only', async () => {
    const compute = (await h.request('GET', '/v3/services?type=compute', { token: admin })).body.services[0];
    const g = await h.request('POST', '/v3/OS-EP-FILTER/endpoint_groups', {
      token: admin,
      body: { endpoint_group: { name: 'compute-public', filters: { service_id: compute.id, interface: 'public' } } },
    });
    assert.equal(g.status, 201);
    const gid = g.body.endpoint_group.id;
    assert.equal((await h.request('HEAD', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { token: admin })).status, 200);
    const eps = await h.request('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/endpoints`, { token: admin });
    assert.equal(eps.body.endpoints.length, 1);
    const demoProject = (await h.request('GET', '/v3/projects?name=demo', { token: admin })).body.projects[0].id;
    const before = (await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: DEMO_PASSWORD } } } } } })).body.token;
    assert.ok(before.catalog.length > 1);
    assert.equal((await h.request('PUT', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/projects/${demoProject}`, { token: admin })).status, 204);
    const after = (await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: DEMO_PASSWORD } } } } } })).body.token;
    assert.deepEqual(after.catalog.map((c: any) => [c.type, c.endpoints.map((e: any) => e.interface)]), [['compute', ['public']]]);
    const upd = await h.request('PATCH', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { token: admin, body: { endpoint_group: { name: 'renamed' } } });
    assert.equal(upd.body.endpoint_group.name, 'renamed');
    assert.equal((await h.request('DELETE', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { token: admin })).status, 204);
    const again = (await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: DEMO_PASSWORD } } } } } })).body.token;
    assert.equal(again.catalog.length, before.catalog.length);
  });
});
