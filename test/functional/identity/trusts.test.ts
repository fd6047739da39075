import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, ADMIN_PASSWORD, DEMO_PASSWORD, passwordAuth, type Harness } from './helpers.js';

let h: Harness;
let admin: string;
let trustor: string;
let trustorId: string;
let trusteeId: string;
let projectId: string;
let memberRole: string;
before(async () => {
  h = await startIdentity();
  admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
  trustor = await h.login('demo', DEMO_PASSWORD, 'demo');
  const t = (await h.request('GET', '/v3/auth/tokens', { token: trustor, headers: { 'x-subject-token': trustor } })).body.token;
  trustorId = t.user.id;
  projectId = t.project.id;
  memberRole = t.roles.find((r: any) => r.name === 'member').id;
  trusteeId = (await h.request('GET', '/v3/users?name=alt_demo', { token: admin })).body.users[0].id;
});
after(() => h.close());

const create = (body: Record<string, unknown>, token = trustor) =>
  h.request('POST', '/v3/OS-TRUST/trusts', { token, body: { trust: { trustor_user_id: trustorId, trustee_user_id: trusteeId, project_id: projectId, impersonation: false, roles: [{ name: 'member' }], ...body } } });

void describe('trusts', () => {
  void test('create, show, roles, list; bad expiry is 400; only the trustor creates', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const r = await create({ expires_at: expires });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const t = r.body.trust;
    assert.equal(t.expires_at.replace(/\.\d{6}/, ''), expires);
    assert.deepEqual(t.roles.map((x: any) => x.name), ['member']);
    assert.match(t.links.self, /\/v3\/OS-TRUST\/trusts\//);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustor })).status, 200);
    assert.equal((await h.request('HEAD', `/v3/OS-TRUST/trusts/${t.id}/roles/${memberRole}`, { token: trustor })).status, 200);
    const reader = (await h.request('GET', '/v3/roles?name=reader', { token: admin })).body.roles[0].id;
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}/roles/${reader}`, { token: trustor })).status, 404);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts?trustor_user_id=${trustorId}`, { token: trustor })).body.trusts.length, 1);
    assert.equal((await h.request('GET', '/v3/OS-TRUST/trusts', { token: trustor })).status, 403);
    assert.ok((await h.request('GET', '/v3/OS-TRUST/trusts', { token: admin })).body.trusts.some((x: any) => x.id === t.id));
    assert.equal((await create({ expires_at: 'bad.123Z' })).status, 400);
    assert.equal((await create({}, admin)).status, 403, 'someone else cannot create a trust for the trustor');
    assert.equal((await create({ roles: [{ name: 'admin' }] })).status, 403, 'only roles the trustor holds');
    assert.equal((await h.request('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustor })).status, 204);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustor })).status, 404);
  });

  void test('the trustee redeems a trust for a trust-scoped token; deleting the trust kills it', async () => {
    for (const impersonation of [false, true]) {
      const t = (await create({ impersonation })).body.trust;
      const tok = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('alt_demo', DEMO_PASSWORD, { 'OS-TRUST:trust': { id: t.id } }) });
      assert.equal(tok.status, 201, JSON.stringify(tok.body));
      const body = tok.body.token;
      assert.deepEqual(body['OS-TRUST:trust'], { id: t.id, impersonation, trustee_user: { id: trusteeId }, trustor_user: { id: trustorId } });
      assert.equal(body.user.id, impersonation ? trustorId : trusteeId);
      assert.equal(body.project.id, projectId);
      assert.deepEqual(body.roles.map((r: any) => r.name).sort(), ['member', 'reader']);
      const id = tok.headers['x-subject-token'] as string;
      assert.equal((await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': id } })).status, 200);
      // not the trustee: 401
      assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('demo', DEMO_PASSWORD, { 'OS-TRUST:trust': { id: t.id } }) })).status, 401);
      await h.request('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustor });
      assert.equal((await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': id } })).status, 404);
    }
  });

  void test('remaining_uses limits redemptions', async () => {
    const t = (await create({ remaining_uses: 1 })).body.trust;
    const redeem = () => h.request('POST', '/v3/auth/tokens', { body: passwordAuth('alt_demo', DEMO_PASSWORD, { 'OS-TRUST:trust': { id: t.id } }) });
    assert.equal((await redeem()).status, 201);
    assert.equal((await redeem()).status, 401);
  });
});
