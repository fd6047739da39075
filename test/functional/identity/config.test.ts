/**
 * keystone.conf drives the service: [security_compliance], [token] expiration and an
 * [oslo_policy] policy_file beside the config file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigOpts } from '../../../src/common/config/index.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { createIdentityService } from '../../../src/identity/service.js';
import { passwordAuth } from './helpers.js';

void test('keystone.conf options reach the service', async () => {
  process.env['STRATUS_TEST'] ??= '1';
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-ks-conf-'));
  const confFile = path.join(dir, 'keystone.conf');
  writeFileSync(confFile, ['[token]', 'expiration = 600', '', '[security_compliance]', 'lockout_failure_attempts = 1', 'lockout_duration = 600', ''].join('\n'));
  writeFileSync(path.join(dir, 'policy.yaml'), '"identity:list_regions": "role:admin"\n');
  const conf = new ConfigOpts();
  conf.load({ configFiles: [confFile] });
  const database = await openDatabase(`sqlite:///${path.join(dir, 'keystone.db')}`, { service: 'keystone' });
  const svc = await createIdentityService({ database, stateDir: dir, publicUrl: 'http://127.0.0.1:5000', config: conf });
  try {
    await svc.bootstrap({ adminPassword: 'adm', demoPassword: 'dem', region: 'RegionOne', services: [], serviceUsers: [] });
    const post = (body: unknown) => svc.app.inject({ method: 'POST', url: '/v3/auth/tokens', payload: body as any });
    const ok = await post(passwordAuth('admin', 'adm', 'admin'));
    assert.equal(ok.statusCode, 201);
    const t = JSON.parse(ok.body).token;
    const life = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    assert.ok(life > 590_000 && life < 610_000, `token lives [token] expiration seconds (${life} ms)`);
    // a user created through the API is subject to the lockout
    const admin = ok.headers['x-subject-token'] as string;
    const u = await svc.app.inject({ method: 'POST', url: '/v3/users', headers: { 'x-auth-token': admin }, payload: { user: { name: 'lock-me', password: 'pw' } } });
    assert.equal(u.statusCode, 201);
    assert.equal((await post(passwordAuth('lock-me', 'bad'))).statusCode, 401);
    assert.equal((await post(passwordAuth('lock-me', 'pw'))).statusCode, 401, 'locked after one failure');
    // the policy file beside keystone.conf overrides a default (regions are open to all by default)
    const demo = (await post(passwordAuth('demo', 'dem', 'demo'))).headers['x-subject-token'] as string;
    assert.equal((await svc.app.inject({ method: 'GET', url: '/v3/regions', headers: { 'x-auth-token': demo } })).statusCode, 403);
  } finally {
    await svc.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
