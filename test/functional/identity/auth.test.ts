import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, passwordAuth, ADMIN_PASSWORD, DEMO_PASSWORD, type Harness } from './helpers.js';

let h: Harness;
let admin: string;
before(async () => {
  h = await startIdentity();
  admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
});
after(() => h.close());

const UNAUTH = { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } };

void describe('discovery', () => {
  void test('GET / answers 300 with the v3 version', async () => {
    const r = await h.request('GET', '/');
    assert.equal(r.status, 300);
    const v = r.body.versions.values[0];
    assert.equal(v.id, 'v3.14');
    assert.equal(v.status, 'stable');
    assert.deepEqual(v['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }]);
  });
  void test('GET /v3 answers the version document', async () => {
    const r = await h.request('GET', '/v3');
    assert.equal(r.status, 200);
    assert.equal(r.body.version.links[0].href, 'http://127.0.0.1:5000/v3/');
    assert.ok(r.body.version.updated);
  });
});

void describe('password authentication and scopes', () => {
  void test('project scope by name: roles with implied roles, catalog, X-Subject-Token', async () => {
    const r = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('demo', DEMO_PASSWORD, 'demo') });
    assert.equal(r.status, 201);
    assert.ok(r.headers['x-subject-token']);
    const t = r.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.project.name, 'demo');
    assert.deepEqual(t.project.domain, { id: 'default', name: 'Default' });
    assert.deepEqual(t.roles.map((x: any) => x.name).sort(), ['member', 'reader']);
    assert.ok(t.catalog.some((c: any) => c.type === 'compute' && c.endpoints.length === 2));
    assert.equal(t.audit_ids.length, 1);
    assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
  void test('user by id, project by id; nocatalog', async () => {
    const u = (await h.request('GET', '/v3/users?name=demo', { token: admin })).body.users[0];
    const p = (await h.request('GET', '/v3/projects?name=demo', { token: admin })).body.projects[0];
    const r = await h.request('POST', '/v3/auth/tokens?nocatalog', {
      body: { auth: { identity: { methods: ['password'], password: { user: { id: u.id, password: DEMO_PASSWORD } } }, scope: { project: { id: p.id } } } },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.token.catalog, undefined);
    assert.equal(r.body.token.project.id, p.id);
  });
  void test('no scope: the default project when the user has a role there, else unscoped', async () => {
    const demo = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('demo', DEMO_PASSWORD) });
    assert.equal(demo.body.token.project.name, 'demo');
    const adm = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD) });
    assert.equal(adm.body.token.project, undefined);
    assert.equal(adm.body.token.roles, undefined);
    const unscoped = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('demo', DEMO_PASSWORD, undefined, { scope: 'unscoped' }) });
    assert.equal(unscoped.body.token.project, undefined);
  });
  void test('system and domain scopes', async () => {
    const sys = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD, { system: { all: true } }) });
    assert.equal(sys.status, 201);
    assert.deepEqual(sys.body.token.system, { all: true });
    // no domain role yet: 401
    const noDom = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD, { domain: { id: 'default' } }) });
    assert.equal(noDom.status, 401);
    const adminUser = (await h.request('GET', '/v3/users?name=admin', { token: admin })).body.users[0];
    const role = (await h.request('GET', '/v3/roles?name=admin', { token: admin })).body.roles[0];
    assert.equal((await h.request('PUT', `/v3/domains/default/users/${adminUser.id}/roles/${role.id}`, { token: admin })).status, 204);
    const dom = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD, { domain: { name: 'Default' } }) });
    assert.equal(dom.status, 201);
    assert.deepEqual(dom.body.token.domain, { id: 'default', name: 'Default' });
  });
  void test('every bad credential is the same 401, naming no part', async () => {
    const cases = [
      passwordAuth('demo', 'wrong', 'demo'),
      passwordAuth('nobody', DEMO_PASSWORD, 'demo'),
      passwordAuth('demo', DEMO_PASSWORD, { project: { name: 'nope', domain: { id: 'default' } } }),
      passwordAuth('demo', DEMO_PASSWORD, 'admin'), // no role there
      { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'nodomain' }, password: DEMO_PASSWORD } } } } },
    ];
    for (const body of cases) {
      const r = await h.request('POST', '/v3/auth/tokens', { body });
      assert.equal(r.status, 401, JSON.stringify(body));
      assert.deepEqual(r.body, UNAUTH);
    }
  });
  void test('the token method with an invalid or revoked token is 404, as in Keystone', async () => {
    const r = await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: 'garbage' } } } } });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 404);
  });
  void test('token method re-scopes and keeps the audit chain and expiry', async () => {
    const r1 = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD) });
    const unscoped = r1.headers['x-subject-token'] as string;
    const r2 = await h.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    assert.equal(r2.status, 201);
    assert.deepEqual(r2.body.token.methods.sort(), ['password', 'token']);
    assert.equal(r2.body.token.audit_ids[1], r1.body.token.audit_ids[0]);
    assert.equal(r2.body.token.expires_at, r1.body.token.expires_at);
  });
});

void describe('validate, check, revoke', () => {
  void test('GET/HEAD validate with X-Subject-Token; DELETE revokes; then 404', async () => {
    const tok = await h.login('demo', DEMO_PASSWORD, 'demo');
    const g = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } });
    assert.equal(g.status, 200);
    assert.equal(g.headers['x-subject-token'], tok);
    assert.equal(g.body.token.user.name, 'demo');
    assert.equal((await h.request('HEAD', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } })).status, 200);
    // a user may validate their own token
    assert.equal((await h.request('GET', '/v3/auth/tokens', { token: tok, headers: { 'x-subject-token': tok } })).status, 200);
    assert.equal((await h.request('DELETE', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } })).status, 204);
    const after = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } });
    assert.equal(after.status, 404);
    assert.equal(after.body.error.code, 404);
    assert.equal((await h.request('GET', '/v3/projects', { token: tok })).status, 401);
  });
  void test("a member cannot validate someone else's token", async () => {
    const demo = await h.login('demo', DEMO_PASSWORD, 'demo');
    const r = await h.request('GET', '/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': admin } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.title, 'Forbidden');
  });
  void test('a tampered or unknown subject token is 404; a missing X-Auth-Token is 401 with WWW-Authenticate', async () => {
    const r = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin.slice(0, -4) + 'AAAA' } });
    assert.equal(r.status, 404);
    const n = await h.request('GET', '/v3/projects');
    assert.equal(n.status, 401);
    assert.deepEqual(n.body, UNAUTH);
    assert.equal(n.headers['www-authenticate'], 'Keystone uri="http://127.0.0.1:5000"');
  });
  void test('tokens stop validating when the user is disabled or loses the role', async () => {
    const p = (await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'p-revoke' } } })).body.project;
    const u = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'u-revoke', password: 'pw' } } })).body.user;
    const member = (await h.request('GET', '/v3/roles?name=member', { token: admin })).body.roles[0];
    await h.request('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${member.id}`, { token: admin });
    const tok = await h.login('u-revoke', 'pw', 'p-revoke');
    const check = () => h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } });
    assert.equal((await check()).status, 200);
    await h.request('DELETE', `/v3/projects/${p.id}/users/${u.id}/roles/${member.id}`, { token: admin });
    assert.equal((await check()).status, 404);
    await h.request('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${member.id}`, { token: admin });
    assert.equal((await check()).status, 200);
    await h.request('PATCH', `/v3/users/${u.id}`, { token: admin, body: { user: { enabled: false } } });
    assert.equal((await check()).status, 404);
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('u-revoke', 'pw', 'p-revoke') })).status, 401);
  });
  void test('/v3/auth/projects, /domains, /system, /catalog', async () => {
    const demo = await h.login('demo', DEMO_PASSWORD, 'demo');
    const ps = await h.request('GET', '/v3/auth/projects', { token: demo });
    assert.deepEqual(ps.body.projects.map((p: any) => p.name), ['demo']);
    assert.deepEqual((await h.request('GET', '/v3/auth/domains', { token: demo })).body.domains, []);
    assert.deepEqual((await h.request('GET', '/v3/auth/system', { token: demo })).body.system, []);
    assert.deepEqual((await h.request('GET', '/v3/auth/system', { token: admin })).body.system, [{ all: true }]);
    const cat = await h.request('GET', '/v3/auth/catalog', { token: demo });
    assert.ok(cat.body.catalog.some((c: any) => c.type === 'identity'));
  });
});

void describe('password change', () => {
  void test('self-service change revokes old tokens and the old password', async () => {
    const u = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'pw-user', password: 'old-pw', default_project_id: undefined } } })).body.user;
    const tok = await h.login('pw-user', 'old-pw');
    const wrong = await h.request('POST', `/v3/users/${u.id}/password`, { token: tok, body: { user: { password: 'new-pw', original_password: 'bad' } } });
    assert.equal(wrong.status, 401);
    const bad = await h.request('POST', `/v3/users/${u.id}/password`, { token: tok, body: { user: { password: 'new-pw' } } });
    assert.equal(bad.status, 400);
    const ok = await h.request('POST', `/v3/users/${u.id}/password`, { token: tok, body: { user: { password: 'new-pw', original_password: 'old-pw' } } });
    assert.equal(ok.status, 204);
    assert.equal((await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': tok } })).status, 404);
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('pw-user', 'old-pw') })).status, 401);
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('pw-user', 'new-pw') })).status, 201);
  });
});

void describe('multi-factor rules', () => {
  void test('a user whose rules need password + token cannot log in with the password alone', async () => {
    const u = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'mfa-user', password: 'pw', options: { multi_factor_auth_enabled: true, multi_factor_auth_rules: [['password', 'totp']] } } } })).body.user;
    assert.deepEqual(u.options, { multi_factor_auth_enabled: true, multi_factor_auth_rules: [['password', 'totp']] });
    const r = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('mfa-user', 'pw') });
    assert.equal(r.status, 401);
    await h.request('PATCH', `/v3/users/${u.id}`, { token: admin, body: { user: { options: { multi_factor_auth_rules: [['password']] } } } });
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('mfa-user', 'pw') })).status, 201);
  });
});

void describe('bootstrap', () => {
  void test('runs again without duplicating anything and restores the admin password', async () => {
    const before = (await h.request('GET', '/v3/role_assignments', { token: admin })).body.role_assignments.length;
    const adminUser = (await h.request('GET', '/v3/users?name=admin', { token: admin })).body.users[0];
    await h.request('PATCH', `/v3/users/${adminUser.id}`, { token: admin, body: { user: { password: 'changed' } } });
    await h.svc.bootstrap({
      adminPassword: ADMIN_PASSWORD,
      region: 'RegionOne',
      services: [{ type: 'compute', name: 'nova', publicUrl: 'http://127.0.0.1:8774/v2.1' }, { type: 'image', name: 'glance', publicUrl: 'http://127.0.0.1:9292' }],
      serviceUsers: [{ name: 'nova', password: 'nova-pw' }],
      demoPassword: DEMO_PASSWORD,
    });
    const again = await h.login('admin', ADMIN_PASSWORD, 'admin');
    assert.equal((await h.request('GET', '/v3/role_assignments', { token: again })).body.role_assignments.length, before);
    assert.equal((await h.request('GET', '/v3/projects?name=admin', { token: again })).body.projects.length, 1);
    assert.equal((await h.request('GET', '/v3/endpoints', { token: again })).body.endpoints.length, 6);
    assert.deepEqual((await h.request('GET', '/v3/roles', { token: again })).body.roles.map((r: any) => r.name).sort(), ['admin', 'member', 'reader', 'service']);
  });
});
