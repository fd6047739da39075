/**
 * Two Keystone instances on one database and one key repository (Keystone behind a load
 * balancer): a token from one validates on the other, and a revocation made on one reaches the
 * other without a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../../src/common/db/index.js';
import { createIdentityService } from '../../../src/identity/service.js';
import { passwordAuth } from './helpers.js';

void test('two instances share tokens and revocations', async () => {
  process.env['STRATUS_TEST'] ??= '1';
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-ks-shared-'));
  const url = `sqlite:///${path.join(stateDir, 'keystone.db')}`;
  const dbA = await openDatabase(url, { service: 'keystone' });
  const a = await createIdentityService({ database: dbA, stateDir, publicUrl: 'http://a:5000' });
  await a.bootstrap({ adminPassword: 'adm', demoPassword: 'dem', region: 'RegionOne', services: [], serviceUsers: [] });
  const dbB = await openDatabase(url, { service: 'keystone' });
  const b = await createIdentityService({ database: dbB, stateDir, publicUrl: 'http://b:5000' });
  try {
    const issue = await a.app.inject({ method: 'POST', url: '/v3/auth/tokens', payload: passwordAuth('demo', 'dem', 'demo') });
    assert.equal(issue.statusCode, 201);
    const tok = issue.headers['x-subject-token'] as string;
    assert.equal((await b.validator.validate(tok)).userName, 'demo');
    const user = (await b.validator.validate(tok)).userId;
    const ch = await a.app.inject({ method: 'POST', url: `/v3/users/${user}/password`, payload: { user: { password: 'dem2', original_password: 'dem' } } });
    assert.equal(ch.statusCode, 204);
    let rejected = false;
    for (let i = 0; i < 40 && !rejected; i++) {
      rejected = await b.validator.validate(tok).then(() => false, () => true);
      if (!rejected) await sleep(250);
    }
    assert.ok(rejected, 'the revocation made on A reached B');
  } finally {
    await a.close();
    await b.close();
    await dbA.close();
    await dbB.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
