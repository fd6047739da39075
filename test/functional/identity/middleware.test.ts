import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKeystone, type RunningKeystone } from '../../e2e/identity/server.js';
import { HttpTokenValidator } from '../../../src/identity/middleware.js';
import { ApiError } from '../../../src/common/errors.js';

let k: RunningKeystone;
before(async () => {
  process.env['STRATUS_TEST'] ??= '1';
  k = await startKeystone();
});
after(() => k.stop());

async function issue(user: string, password: string, project: string): Promise<string> {
  const r = await fetch(`${k.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { id: 'default' } } } }, scope: { project: { name: project, domain: { id: 'default' } } } } }),
  });
  assert.equal(r.status, 201);
  return r.headers.get('x-subject-token')!;
}

void describe('token validation for other services', () => {
  void test('HttpTokenValidator: validates over HTTP with a service user, caches, 401 for bad tokens', async () => {
    const v = new HttpTokenValidator({ authUrl: k.authUrl, username: 'nova', password: 'nova-pw', projectName: 'service' });
    const tok = await issue('demo', k.demoPassword, 'demo');
    const data = await v.validate(tok);
    assert.equal(data.userName, 'demo');
    assert.equal(data.projectName, 'demo');
    assert.deepEqual([...data.roles].sort(), ['member', 'reader']);
    assert.ok(data.catalog?.some((c) => c.type === 'identity'));
    assert.equal(await v.validate(tok), data, 'second call served from the cache');
    await assert.rejects(v.validate('bogus-token'), (e: unknown) => e instanceof ApiError && e.status === 401);
    // revoked at Keystone: a fresh validator (no cache) refuses it
    const admin = await issue('admin', k.adminPassword, 'admin');
    await fetch(`${k.authUrl}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': admin, 'x-subject-token': tok } });
    const fresh = new HttpTokenValidator({ authUrl: k.authUrl, username: 'nova', password: 'nova-pw', projectName: 'service', cacheTtlMs: 0 });
    await assert.rejects(fresh.validate(tok), (e: unknown) => e instanceof ApiError && e.status === 401);
  });

  void test('HttpTokenValidator: bad service credentials are a 503, not a pass', async () => {
    const v = new HttpTokenValidator({ authUrl: k.authUrl, username: 'nova', password: 'wrong', projectName: 'service' });
    await assert.rejects(v.validate('anything'), (e: unknown) => e instanceof ApiError && e.status === 503);
  });

  void test('local validator: same answer in process, 401 after revocation', async () => {
    const tok = await issue('demo', k.demoPassword, 'demo');
    const data = await k.svc.validator.validate(tok);
    assert.equal(data.userName, 'demo');
    assert.equal(data.projectDomainId, 'default');
    const admin = await issue('admin', k.adminPassword, 'admin');
    await fetch(`${k.authUrl}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': admin, 'x-subject-token': tok } });
    await assert.rejects(k.svc.validator.validate(tok), (e: unknown) => e instanceof ApiError && e.status === 401);
  });

  void test('tokens survive a key rotation (old primary becomes a secondary)', async () => {
    const tok = await issue('demo', k.demoPassword, 'demo');
    k.svc.keys.rotate();
    k.svc.tokens.reloadKeys();
    k.svc.tokens.invalidate();
    assert.equal((await k.svc.validator.validate(tok)).userName, 'demo');
    const after = await issue('demo', k.demoPassword, 'demo');
    assert.equal((await k.svc.validator.validate(after)).userName, 'demo');
  });
});
