/**
 * A bootstrap that runs again (every `stratus up`) trusts the checks an earlier run made of its
 * own users' passwords, and only those: a changed password or a changed hash is checked again
 * with bcrypt and reset as keystone-manage bootstrap resets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../src/common/db/index.js';
import { createIdentityService, type BootstrapSpec } from '../../../src/identity/service.js';
import { VerifiedPasswordFile, type VerifiedPasswords } from '../../../src/identity/verified-memo.js';
import { passwordAuth } from './helpers.js';

/** The memo, with a record of what the bootstrap asked it. */
class Recording implements VerifiedPasswords {
  asked: boolean[] = [];
  constructor(private readonly inner: VerifiedPasswords) {}
  knows(hash: string, password: string): boolean {
    const k = this.inner.knows(hash, password);
    this.asked.push(k);
    return k;
  }
  remember(hash: string, password: string): void {
    this.inner.remember(hash, password);
  }
}

test('the memo file: remembered pairs only, kept across instances, unreadable file tolerated', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-memo-'));
  try {
    const file = path.join(dir, 'verified.json');
    const a = new VerifiedPasswordFile(file);
    assert.equal(a.knows('$2b$04$hash', 'pw'), false);
    a.remember('$2b$04$hash', 'pw');
    assert.ok(a.knows('$2b$04$hash', 'pw'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const b = new VerifiedPasswordFile(file);
    assert.ok(b.knows('$2b$04$hash', 'pw'));
    assert.equal(b.knows('$2b$04$hash', 'pw2'), false, 'another password');
    assert.equal(b.knows('$2b$04$other', 'pw'), false, 'another hash');
    writeFileSync(file, '{not json');
    assert.equal(new VerifiedPasswordFile(file).knows('$2b$04$hash', 'pw'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bootstrap again: known passwords skip the check, changed ones are checked and reset', async () => {
  process.env['STRATUS_TEST'] ??= '1';
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-ks-memo-'));
  const db = await openDatabase(`sqlite:///${path.join(stateDir, 'keystone.db')}`, { service: 'keystone' });
  const ks = await createIdentityService({ database: db, stateDir, publicUrl: 'http://ks:5000' });
  const memoFile = path.join(stateDir, 'bootstrap-verified.json');
  const spec = (adminPassword: string, verified: VerifiedPasswords): BootstrapSpec => ({
    adminPassword, demoPassword: 'dem', region: 'RegionOne', services: [], serviceUsers: [{ name: 'nova', password: 'svc' }], verified,
  });
  const login = async (user: string, pw: string, project: string) =>
    (await ks.app.inject({ method: 'POST', url: '/v3/auth/tokens', payload: passwordAuth(user, pw, project) })).statusCode;
  const identity = ks.deps.identity;
  const adminId = async () => (await identity.findUserByName('admin', 'default'))!.id;
  try {
    const first = new Recording(new VerifiedPasswordFile(memoFile));
    await ks.bootstrap(spec('adm', first));
    assert.deepEqual(first.asked, [], 'new users are hashed, not checked');
    assert.ok(existsSync(memoFile));
    const hash1 = await identity.currentPasswordHash(await adminId());

    const second = new Recording(new VerifiedPasswordFile(memoFile));
    await ks.bootstrap(spec('adm', second));
    assert.deepEqual(second.asked, [true, true], 'admin and nova: both known');
    assert.equal(await identity.currentPasswordHash(await adminId()), hash1, 'no reset');
    assert.equal(await login('admin', 'adm', 'admin'), 201);
    assert.equal(await login('nova', 'svc', 'service'), 201);

    // A new admin password (stratus up --admin-password): checked, reset, remembered.
    const third = new Recording(new VerifiedPasswordFile(memoFile));
    await ks.bootstrap(spec('adm2', third));
    assert.deepEqual(third.asked, [false, true]);
    assert.notEqual(await identity.currentPasswordHash(await adminId()), hash1);
    assert.equal(await login('admin', 'adm2', 'admin'), 201);
    assert.equal(await login('admin', 'adm', 'admin'), 401);

    // The password changed through the API: the stored hash is new, so the memo has no say.
    await identity.setPassword(await adminId(), 'changed-by-api', { selfService: false });
    const fourth = new Recording(new VerifiedPasswordFile(memoFile));
    await ks.bootstrap(spec('adm2', fourth));
    assert.deepEqual(fourth.asked, [false, true]);
    assert.equal(await login('admin', 'adm2', 'admin'), 201, 'bootstrap reset it, as keystone-manage does');
    assert.equal(await login('admin', 'changed-by-api', 'admin'), 401);
  } finally {
    await ks.close();
    await db.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('bootstrap hashes each distinct password once; users the API creates get their own salt', async () => {
  process.env['STRATUS_TEST'] ??= '1';
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-ks-shared-'));
  const db = await openDatabase(`sqlite:///${path.join(stateDir, 'keystone.db')}`, { service: 'keystone' });
  const ks = await createIdentityService({ database: db, stateDir, publicUrl: 'http://ks:5000' });
  const identity = ks.deps.identity;
  const hashOf = async (name: string) => identity.currentPasswordHash((await identity.findUserByName(name, 'default'))!.id);
  const login = async (user: string, pw: string, project: string) =>
    (await ks.app.inject({ method: 'POST', url: '/v3/auth/tokens', payload: passwordAuth(user, pw, project) })).statusCode;
  try {
    const serviceUsers = ['nova', 'neutron', 'glance'].map((name) => ({ name, password: 'svc' }));
    await ks.bootstrap({ adminPassword: 'adm', demoPassword: 'dem', region: 'RegionOne', services: [], serviceUsers });
    const [nova, neutron, glance, demo, altDemo, admin] = await Promise.all(['nova', 'neutron', 'glance', 'demo', 'alt_demo', 'admin'].map(hashOf));
    assert.ok(nova?.startsWith('$2'));
    assert.equal(neutron, nova);
    assert.equal(glance, nova);
    assert.equal(altDemo, demo);
    assert.notEqual(demo, nova);
    assert.notEqual(admin, nova);
    assert.equal(await login('neutron', 'svc', 'service'), 201);
    assert.equal(await login('alt_demo', 'dem', 'alt_demo'), 201);
    assert.equal(await login('glance', 'dem', 'service'), 401);

    const u1 = await identity.createUser({ name: 'u1', domain_id: 'default', password: 'same' });
    const u2 = await identity.createUser({ name: 'u2', domain_id: 'default', password: 'same' });
    assert.notEqual(await identity.currentPasswordHash(u1.id), await identity.currentPasswordHash(u2.id));
  } finally {
    await ks.close();
    await db.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
