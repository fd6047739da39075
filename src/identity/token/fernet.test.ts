import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Fernet, MultiFernet, InvalidToken, generateKey, tokenTimestamp } from './fernet.js';
import { KeyRepository } from './key-repository.js';
import { TokenFormatter, methodsToInt, intToMethods } from './formatter.js';

// fernet/spec generate.json / verify.json vector
const SPEC = {
  token: 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
  now: 499162800,
  secret: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=',
  src: 'hello',
};

void describe('Fernet', () => {
  void test('generates the spec token', () => {
    const f = new Fernet(SPEC.secret);
    const iv = Buffer.from([...Array(16).keys()]);
    assert.equal(f.encrypt(Buffer.from(SPEC.src), SPEC.now, iv), SPEC.token);
  });
  void test('verifies the spec token, with and without padding', () => {
    const f = new Fernet(SPEC.secret);
    assert.equal(f.decrypt(SPEC.token, 60, SPEC.now + 10).toString(), 'hello');
    assert.equal(f.decrypt(SPEC.token.replace(/=+$/, '')).toString(), 'hello');
    assert.equal(tokenTimestamp(SPEC.token), SPEC.now);
  });
  void test('rejects expired, tampered, wrong-key and garbage tokens', () => {
    const f = new Fernet(SPEC.secret);
    assert.throws(() => f.decrypt(SPEC.token, 60, SPEC.now + 120), InvalidToken);
    const raw = Buffer.from(SPEC.token, 'base64url');
    raw[30] ^= 1;
    assert.throws(() => f.decrypt(raw.toString('base64url')), InvalidToken);
    assert.throws(() => new Fernet(generateKey()).decrypt(SPEC.token), InvalidToken);
    assert.throws(() => f.decrypt('not a token!'), InvalidToken);
    assert.throws(() => f.decrypt(''), InvalidToken);
  });
  void test('MultiFernet encrypts with the first key and decrypts with any', () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const old = new Fernet(k2).encrypt(Buffer.from('x'));
    const m = new MultiFernet([k1, k2]);
    assert.equal(m.decrypt(old).toString(), 'x');
    assert.equal(new Fernet(k1).decrypt(m.encrypt(Buffer.from('y'))).toString(), 'y');
  });
});

void describe('KeyRepository', () => {
  void test('setup creates staged + primary; rotate promotes and purges', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'fernet-')), 'keys');
    try {
      const repo = new KeyRepository(dir, 3);
      repo.setup();
      assert.deepEqual(readdirSync(dir).sort(), ['0', '1']);
      const [primary1] = repo.load();
      repo.setup(); // idempotent
      assert.deepEqual(readdirSync(dir).sort(), ['0', '1']);
      const staged = repo.load().at(-1);
      repo.rotate();
      assert.deepEqual(readdirSync(dir).sort(), ['0', '1', '2']);
      assert.equal(repo.load()[0], staged, 'the staged key became primary');
      repo.rotate();
      assert.deepEqual(readdirSync(dir).sort(), ['0', '2', '3']);
      assert.ok(!repo.load().includes(primary1!), 'the oldest key was purged');
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

void describe('TokenFormatter', () => {
  const key = generateKey();
  const fmt = new TokenFormatter(() => new MultiFernet([key]));
  const user = '0123456789abcdef0123456789abcdef';
  const project = 'fedcba9876543210fedcba9876543210';
  const audit = 'AAECAwQFBgcICQoLDA0ODw';

  void test('method bitmask follows Keystone default [auth] methods', () => {
    assert.equal(methodsToInt(['password']), 2);
    assert.equal(methodsToInt(['password', 'token']), 6);
    assert.equal(methodsToInt(['application_credential']), 32);
    assert.deepEqual(intToMethods(6), ['password', 'token']);
  });

  for (const [name, extra] of [
    ['unscoped', {}],
    ['project', { projectId: project }],
    ['domain (uuid)', { domainId: project }],
    ['domain default', { domainId: 'default' }],
    ['system', { system: 'all' }],
    ['app cred', { projectId: project, appCredId: user }],
    ['non-uuid ids', { projectId: 'admin-project' }],
  ] as const) {
    void test(`round-trips a ${name} payload, without padding`, () => {
      const token = fmt.pack({ userId: user, methods: ['password'], expiresAt: 1700000000.5, auditIds: [audit], ...extra });
      assert.ok(!token.endsWith('='));
      const p = fmt.unpack(token);
      assert.equal(p.userId, user);
      assert.deepEqual(p.methods, ['password']);
      assert.equal(p.expiresAt, 1700000000.5);
      assert.deepEqual(p.auditIds, [audit]);
      assert.ok(Math.abs(p.issuedAt! - Date.now() / 1000) < 5);
      for (const [k, v] of Object.entries(extra)) assert.equal((p as any)[k], v);
    });
  }
});
