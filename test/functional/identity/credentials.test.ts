import { test, describe, before, after } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { startIdentity, ADMIN_PASSWORD, DEMO_PASSWORD, type Harness } from './helpers.js';

let h: Harness;
let admin: string;
let demo: string;
let demoUser: string;
let demoProject: string;
before(async () => {
  h = await startIdentity();
  admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
  demo = await h.login('demo', DEMO_PASSWORD, 'demo');
  const t = (await h.request('GET', '/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': demo } })).body.token;
  demoUser = t.user.id;
  demoProject = t.project.id;
});
after(() => h.close());

void describe('credentials', () => {
  void test('CRUD; ec2 ids are sha256(access); blobs are encrypted at rest', async () => {
    const blob = JSON.stringify({ access: 'AK1', secret: 'SK1' });
    const c = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { blob, type: 'ec2', user_id: demoUser, project_id: demoProject } } });
    assert.equal(c.status, 201);
    assert.equal(c.body.credential.id, createHash('sha256').update('AK1').digest('hex'));
    assert.equal(c.body.credential.blob, blob);
    const row = await (h.svc.deps.resource as any).db.selectFrom('credential').selectAll().executeTakeFirst();
    assert.ok(!row.encrypted_blob.includes('SK1'), 'not stored in clear');
    const upd = await h.request('PATCH', `/v3/credentials/${c.body.credential.id}`, { token: admin, body: { credential: { blob: JSON.stringify({ access: 'AK1', secret: 'SK2' }) } } });
    assert.equal(JSON.parse(upd.body.credential.blob).secret, 'SK2');
    assert.equal((await h.request('GET', `/v3/credentials/${c.body.credential.id}`, { token: demo })).status, 200, 'the owner reads it');
    assert.equal((await h.request('GET', '/v3/credentials', { token: demo })).body.credentials.length, 1);
    const alt = await h.login('alt_demo', DEMO_PASSWORD, 'alt_demo');
    assert.equal((await h.request('GET', `/v3/credentials/${c.body.credential.id}`, { token: alt })).status, 403);
    assert.equal((await h.request('GET', '/v3/credentials', { token: alt })).body.credentials.length, 0);
    assert.equal((await h.request('DELETE', `/v3/credentials/${c.body.credential.id}`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/v3/credentials/${c.body.credential.id}`, { token: admin })).status, 404);
  });

  void test('EC2 credentials: create for an own project, list, show, delete', async () => {
    const r = await h.request('POST', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo, body: { tenant_id: demoProject } });
    assert.equal(r.status, 201);
    const c = r.body.credential;
    assert.equal(c.user_id, demoUser);
    assert.equal(c.tenant_id, demoProject);
    assert.ok(c.access && c.secret);
    const adminProject = (await h.request('GET', '/v3/projects?name=admin', { token: admin })).body.projects[0].id;
    assert.equal((await h.request('POST', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo, body: { tenant_id: adminProject } })).status, 403);
    assert.deepEqual((await h.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo })).body.credentials.map((x: any) => x.access), [c.access]);
    const shown = await h.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo });
    assert.equal(shown.body.credential.secret, c.secret);
    assert.equal((await h.request('DELETE', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo })).status, 204);
    assert.equal((await h.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo })).status, 404);
  });

  void test('policies and OAuth1 consumers are admin-managed records', async () => {
    const p = await h.request('POST', '/v3/policies', { token: admin, body: { policy: { blob: '{"a": "b"}', type: 'application/json' } } });
    assert.equal(p.status, 201);
    assert.equal(p.body.policy.blob, '{"a": "b"}');
    assert.equal((await h.request('PATCH', `/v3/policies/${p.body.policy.id}`, { token: admin, body: { policy: { type: 'x' } } })).body.policy.type, 'x');
    assert.equal((await h.request('POST', '/v3/policies', { token: demo, body: { policy: { blob: '{}', type: 't' } } })).status, 403);
    assert.equal((await h.request('DELETE', `/v3/policies/${p.body.policy.id}`, { token: admin })).status, 204);
    const c = await h.request('POST', '/v3/OS-OAUTH1/consumers', { token: admin, body: { consumer: { description: 'c1' } } });
    assert.equal(c.status, 201);
    assert.ok(c.body.consumer.secret);
    const got = await h.request('GET', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`, { token: admin });
    assert.equal(got.body.consumer.secret, undefined);
    assert.equal((await h.request('PATCH', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`, { token: admin, body: { consumer: { description: 'c2' } } })).body.consumer.description, 'c2');
    assert.equal((await h.request('DELETE', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`, { token: admin })).status, 204);
  });
});
