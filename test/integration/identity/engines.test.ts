/**
 * Keystone on SQLite, MariaDB and PostgreSQL: the same migrations and flows on each engine.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { engines } from '../../conformance/db/engines.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { createIdentityService } from '../../../src/identity/service.js';

process.env['STRATUS_TEST'] ??= '1';
const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});

const auth = (user: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
  },
});

for (const engine of all) {
  void describe(`keystone on ${engine.name}`, { skip: engine.skip }, () => {
    void test('migrate, bootstrap twice, authenticate, manage, assign, app creds, revoke', async () => {
      const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-ks-engine-'));
      const database = await openDatabase(await engine.create(), { service: 'keystone' });
      const svc = await createIdentityService({ database, stateDir, publicUrl: 'http://127.0.0.1:5000' });
      try {
        const spec = { adminPassword: 'adm', demoPassword: 'dem', region: 'RegionOne', services: [{ type: 'compute', name: 'nova', publicUrl: 'http://x:8774/v2.1' }], serviceUsers: [{ name: 'nova', password: 'n' }] };
        await svc.bootstrap(spec);
        await svc.bootstrap(spec); // idempotent
        const req = async (method: string, url: string, token?: string, body?: unknown) => {
          const r = await svc.app.inject({ method: method as any, url, headers: token ? { 'x-auth-token': token } : {}, ...(body ? { payload: body as any } : {}) });
          return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, token: r.headers['x-subject-token'] as string };
        };
        const login = await req('POST', '/v3/auth/tokens', undefined, auth('admin', 'adm', 'admin'));
        assert.equal(login.status, 201);
        const admin = login.token;
        assert.equal((await req('GET', '/v3/endpoints', admin)).body.endpoints.length, 4, 'identity + compute, public + internal, not duplicated');
        const p = (await req('POST', '/v3/projects', admin, { project: { name: 'eng-p', tags: ['t1'] } })).body.project;
        assert.deepEqual(p.tags, ['t1']);
        assert.equal((await req('POST', '/v3/projects', admin, { project: { name: 'eng-p' } })).status, 409);
        const u = (await req('POST', '/v3/users', admin, { user: { name: 'eng-u', password: 'pw', email: 'e@x' } })).body.user;
        assert.equal(u.enabled, true);
        const member = (await req('GET', '/v3/roles?name=member', admin)).body.roles[0];
        assert.equal((await req('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${member.id}`, admin)).status, 204);
        const eff = (await req('GET', `/v3/role_assignments?user.id=${u.id}&effective&include_names`, admin)).body.role_assignments;
        assert.deepEqual(eff.map((a: any) => a.role.name).sort(), ['member', 'reader']);
        const ul = await req('POST', '/v3/auth/tokens', undefined, auth('eng-u', 'pw', 'eng-p'));
        assert.equal(ul.status, 201);
        const ac = (await req('POST', `/v3/users/${u.id}/application_credentials`, ul.token, { application_credential: { name: 'ac', expires_at: '2099-01-01T00:00:00.123456' } })).body.application_credential;
        assert.equal(ac.expires_at, '2099-01-01T00:00:00.123456');
        const acl = await req('POST', '/v3/auth/tokens', undefined, { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } });
        assert.equal(acl.status, 201);
        assert.equal((await req('POST', `/v3/users/${u.id}/password`, undefined, { user: { password: 'pw2', original_password: 'pw' } })).status, 204);
        const check = await svc.app.inject({ method: 'GET', url: '/v3/auth/tokens', headers: { 'x-auth-token': admin, 'x-subject-token': ul.token } });
        assert.equal(check.statusCode, 404, 'password change revoked the old token');
        const g = (await req('POST', '/v3/groups', admin, { group: { name: 'eng-g' } })).body.group;
        assert.equal((await req('PUT', `/v3/groups/${g.id}/users/${u.id}`, admin)).status, 204);
        assert.equal((await req('DELETE', `/v3/users/${u.id}`, admin)).status, 204);
        assert.equal((await req('GET', `/v3/users/${u.id}`, admin)).status, 404);
      } finally {
        await svc.close();
        await database.close();
        rmSync(stateDir, { recursive: true, force: true });
      }
    });
  });
}
