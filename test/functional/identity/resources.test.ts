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

void describe('errors', () => {
  void test('409 on duplicates, in Keystone wording', async () => {
    const body = { project: { name: 'dup' } };
    assert.equal((await h.request('POST', '/v3/projects', { token: admin, body })).status, 201);
    const r = await h.request('POST', '/v3/projects', { token: admin, body });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, {
      error: { code: 409, title: 'Conflict', message: 'Conflict occurred attempting to store project - Duplicate entry found with name dup at domain ID default.' },
    });
    const u = await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'demo' } } });
    assert.equal(u.status, 409);
    const role = await h.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'member' } } });
    assert.equal(role.status, 409);
  });
  void test('400 on schema errors, malformed JSON and bad references', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/v3/projects', { project: {} }],
      ['POST', '/v3/projects', { project: { name: 42 } }],
      ['POST', '/v3/projects', { nothing: true }],
      ['POST', '/v3/users', { user: { name: 'x', enabled: 'yes' } }],
      ['POST', '/v3/endpoints', { endpoint: { interface: 'weird', service_id: 'x', url: 'http://x' } }],
      ['POST', '/v3/auth/tokens', { auth: {} }],
      ['PATCH', '/v3/projects/x', { project: {} }],
    ];
    for (const [m, url, body] of cases) {
      const r = await h.request(m, url, { token: admin, body });
      assert.equal(r.status, 400, `${m} ${url} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 400);
      assert.equal(r.body.error.title, 'Bad Request');
    }
    const bad = await h.svc.app.inject({ method: 'POST', url: '/v3/projects', headers: { 'x-auth-token': admin, 'content-type': 'application/json' }, payload: '{"project": ' });
    assert.equal(bad.statusCode, 400);
  });
  void test('404s: missing entities, unknown routes', async () => {
    for (const url of ['/v3/projects/nope', '/v3/users/nope', '/v3/domains/nope', '/v3/roles/nope', '/v3/groups/nope', '/v3/services/nope', '/v3/endpoints/nope', '/v3/regions/nope', '/v3/OS-FEDERATION/identity_providers']) {
      const r = await h.request('GET', url, { token: admin });
      assert.equal(r.status, 404, url);
      assert.equal(r.body.error.code, 404);
    }
    assert.equal((await h.request('GET', '/v3/projects/nope', { token: admin })).body.error.message, 'Could not find project: nope.');
    const noDomain = await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'x', domain_id: 'nodomain' } } });
    assert.equal(noDomain.status, 404);
    assert.equal(noDomain.body.error.message, 'Could not find domain: nodomain.');
  });
  void test('403 for members on admin actions', async () => {
    const demo = await h.login('demo', DEMO_PASSWORD, 'demo');
    const r = await h.request('POST', '/v3/projects', { token: demo, body: { project: { name: 'nope' } } });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body.error, { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action: identity:create_project.' });
    assert.equal((await h.request('GET', '/v3/users', { token: demo })).status, 403);
  });
});

void describe('resources', () => {
  void test('projects: tags, filters, update, delete', async () => {
    const p = (await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'tagged', tags: ['a', 'b'], description: 'd' } } })).body.project;
    assert.deepEqual(p.tags, ['a', 'b']);
    assert.equal(p.is_domain, false);
    assert.equal(p.parent_id, 'default');
    assert.equal(p.links.self, `http://127.0.0.1:5000/v3/projects/${p.id}`);
    const byTag = await h.request('GET', '/v3/projects?tags=a,b', { token: admin });
    assert.deepEqual(byTag.body.projects.map((x: any) => x.name), ['tagged']);
    assert.equal((await h.request('PUT', `/v3/projects/${p.id}/tags/c`, { token: admin })).status, 201);
    assert.deepEqual((await h.request('GET', `/v3/projects/${p.id}/tags`, { token: admin })).body.tags.sort(), ['a', 'b', 'c']);
    const child = await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'child', parent_id: p.id } } });
    assert.equal(child.body.project.parent_id, p.id);
    const upd = await h.request('PATCH', `/v3/projects/${p.id}`, { token: admin, body: { project: { enabled: false, description: 'new' } } });
    assert.equal(upd.body.project.enabled, false);
    assert.equal((await h.request('GET', '/v3/projects?enabled=false', { token: admin })).body.projects.length, 1);
    assert.equal((await h.request('DELETE', `/v3/projects/${child.body.project.id}`, { token: admin })).status, 204);
    assert.equal((await h.request('DELETE', `/v3/projects/${p.id}`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/v3/projects/${p.id}`, { token: admin })).status, 404);
  });
  void test('domains: create, disable before delete, delete cascades to users and projects', async () => {
    const d = (await h.request('POST', '/v3/domains', { token: admin, body: { domain: { name: 'dom2' } } })).body.domain;
    const u = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'in-dom2', domain_id: d.id } } })).body.user;
    const p = (await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'in-dom2', domain_id: d.id } } })).body.project;
    assert.equal((await h.request('DELETE', `/v3/domains/${d.id}`, { token: admin })).status, 403);
    await h.request('PATCH', `/v3/domains/${d.id}`, { token: admin, body: { domain: { enabled: false } } });
    assert.equal((await h.request('DELETE', `/v3/domains/${d.id}`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/v3/users/${u.id}`, { token: admin })).status, 404);
    assert.equal((await h.request('GET', `/v3/projects/${p.id}`, { token: admin })).status, 404);
  });
  void test('projects acting as domains', async () => {
    const r = await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'dom-proj', is_domain: true } } });
    assert.equal(r.status, 201);
    assert.equal(r.body.project.is_domain, true);
    const id = r.body.project.id;
    assert.ok((await h.request('GET', '/v3/projects?is_domain=true', { token: admin })).body.projects.some((x: any) => x.id === id));
    assert.ok(!(await h.request('GET', '/v3/projects', { token: admin })).body.projects.some((x: any) => x.id === id));
    assert.equal((await h.request('GET', `/v3/domains/${id}`, { token: admin })).status, 200);
    await h.request('PATCH', `/v3/projects/${id}`, { token: admin, body: { project: { enabled: false } } });
    assert.equal((await h.request('DELETE', `/v3/projects/${id}`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/v3/domains/${id}`, { token: admin })).status, 404);
  });
  void test('users: password_expires_at, options, extra attributes, groups', async () => {
    const u = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'u-x', password: 'pw', email: 'x@example.org', description: 'hi' } } })).body.user;
    assert.equal(u.password_expires_at, null);
    assert.equal(u.email, 'x@example.org');
    assert.equal(u.password, undefined);
    assert.deepEqual(u.options, {});
    const g = (await h.request('POST', '/v3/groups', { token: admin, body: { group: { name: 'gx' } } })).body.group;
    await h.request('PUT', `/v3/groups/${g.id}/users/${u.id}`, { token: admin });
    assert.equal((await h.request('HEAD', `/v3/groups/${g.id}/users/${u.id}`, { token: admin })).status, 204);
    assert.deepEqual((await h.request('GET', `/v3/users/${u.id}/groups`, { token: admin })).body.groups.map((x: any) => x.name), ['gx']);
    assert.deepEqual((await h.request('GET', `/v3/groups/${g.id}/users`, { token: admin })).body.users.map((x: any) => x.name), ['u-x']);
    const me = await h.login('u-x', 'pw');
    assert.equal((await h.request('GET', `/v3/users/${u.id}`, { token: me })).status, 200, 'a user may read themselves');
  });
  void test('catalog: services, endpoints, regions', async () => {
    const s = (await h.request('POST', '/v3/services', { token: admin, body: { service: { type: 'volumev3', name: 'cinderv3' } } })).body.service;
    assert.equal(s.enabled, true);
    const e = await h.request('POST', '/v3/endpoints', { token: admin, body: { endpoint: { interface: 'public', service_id: s.id, url: 'http://127.0.0.1:8776/v3/$(project_id)s', region_id: 'RegionOne' } } });
    assert.equal(e.status, 201);
    assert.equal(e.body.endpoint.region, 'RegionOne');
    const eps = await h.request('GET', `/v3/endpoints?service_id=${s.id}`, { token: admin });
    assert.equal(eps.body.endpoints.length, 1);
    assert.deepEqual((await h.request('GET', '/v3/regions', { token: admin })).body.regions.map((r: any) => r.id), ['RegionOne']);
    // the token catalog fills in $(project_id)s, as Keystone's format_url does; unscoped tokens have none
    const scoped = await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } } });
    const vol = scoped.body.token.catalog.find((c: any) => c.type === 'volumev3');
    assert.equal(vol.endpoints[0].url, `http://127.0.0.1:8776/v3/${scoped.body.token.project.id}`);
    assert.equal(eps.body.endpoints[0].url, 'http://127.0.0.1:8776/v3/$(project_id)s', 'the endpoint API shows the template');
    assert.equal((await h.request('DELETE', `/v3/services/${s.id}`, { token: admin })).status, 204);
  });
});

void describe('application credentials', () => {
  void test('create (secret once, hashed), list, query by name, authenticate, restrict, delete', async () => {
    const demoTok = await h.login('demo', DEMO_PASSWORD, 'demo');
    const demo = (await h.request('GET', '/v3/auth/tokens', { token: demoTok, headers: { 'x-subject-token': demoTok } })).body.token;
    const uid = demo.user.id;
    const expires = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '123');
    const c = await h.request('POST', `/v3/users/${uid}/application_credentials`, {
      token: demoTok,
      body: { application_credential: { name: 'ac1', description: 'mine', expires_at: expires, roles: [{ name: 'reader' }] } },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const ac = c.body.application_credential;
    assert.ok(ac.secret.length > 40);
    assert.equal(ac.project_id, demo.project.id);
    assert.equal(ac.unrestricted, false);
    assert.deepEqual(ac.roles.map((r: any) => r.name), ['reader']);
    assert.equal(ac.expires_at, expires, 'echoed with microseconds, as Python isoformat()');
    const got = await h.request('GET', `/v3/users/${uid}/application_credentials/${ac.id}`, { token: demoTok });
    assert.equal(got.body.application_credential.secret, undefined);
    assert.equal((await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: demoTok, body: { application_credential: { name: 'ac1' } } })).status, 409);
    assert.equal((await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: demoTok, body: { application_credential: { name: 'ac2', roles: [{ name: 'admin' }] } } })).status, 403);
    const past = await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: demoTok, body: { application_credential: { name: 'ac3', expires_at: '2001-01-01T00:00:00' } } });
    assert.equal(past.status, 400);
    await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: demoTok, body: { application_credential: { name: 'ac4' } } });
    const listed = await h.request('GET', `/v3/users/${uid}/application_credentials`, { token: demoTok });
    assert.deepEqual(listed.body.application_credentials.map((a: any) => a.name), ['ac1', 'ac4']);
    const byName = await h.request('GET', `/v3/users/${uid}/application_credentials?name=ac4`, { token: demoTok });
    assert.deepEqual(byName.body.application_credentials.map((a: any) => a.name), ['ac4']);

    // auth by id, and by name + user
    const auth = await h.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } },
    });
    assert.equal(auth.status, 201);
    const t = auth.body.token;
    assert.deepEqual(t.methods, ['application_credential']);
    assert.deepEqual(t.application_credential, { id: ac.id, name: 'ac1', restricted: true });
    assert.deepEqual(t.roles.map((r: any) => r.name), ['reader']);
    assert.equal(t.project.id, demo.project.id);
    const byUser = await h.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ac1', user: { name: 'demo', domain: { id: 'default' } }, secret: ac.secret } } } },
    });
    assert.equal(byUser.status, 201);
    const wrong = await h.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: 'nope' } } } },
    });
    assert.equal(wrong.status, 401);
    // a restricted app cred token cannot make more app creds
    const acTok = auth.headers['x-subject-token'] as string;
    const more = await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: acTok, body: { application_credential: { name: 'ac5' } } });
    assert.equal(more.status, 403);
    // another user cannot see them
    assert.equal((await h.request('GET', `/v3/users/${uid}/application_credentials`, { token: await h.login('alt_demo', DEMO_PASSWORD, 'alt_demo') })).status, 403);
    // losing a role the credential carries invalidates it
    const extraRole = (await h.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'ac-extra' } } })).body.role.id;
    await h.request('PUT', `/v3/projects/${demo.project.id}/users/${uid}/roles/${extraRole}`, { token: admin });
    const tok2 = await h.login('demo', DEMO_PASSWORD, 'demo');
    const ac2 = (await h.request('POST', `/v3/users/${uid}/application_credentials`, { token: tok2, body: { application_credential: { name: 'ac-x', roles: [{ id: extraRole }] } } })).body.application_credential;
    const acAuth = () => h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac2.id, secret: ac2.secret } } } } });
    assert.equal((await acAuth()).status, 201);
    await h.request('DELETE', `/v3/projects/${demo.project.id}/users/${uid}/roles/${extraRole}`, { token: admin });
    assert.equal((await acAuth()).status, 401);
    assert.equal((await h.request('DELETE', `/v3/users/${uid}/application_credentials/${ac.id}`, { token: demoTok })).status, 204);
    assert.equal((await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': acTok } })).status, 404);
  });
});
