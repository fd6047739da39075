import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, ADMIN_PASSWORD, passwordAuth, type Harness } from './helpers.js';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.close();
});

async function start(security: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const h = await startIdentity({ overrides: { ...extra, security: security as any } });
  harnesses.push(h);
  const admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
  const user = (await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'sc-user', password: 'pw-0' } } })).body.user;
  return { h, admin, user };
}

void describe('[security_compliance]', () => {
  void test('off by default: no lockout, any password reuse', async () => {
    const { h, user } = await start({});
    for (let i = 0; i < 5; i++) assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'bad') })).status, 401);
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'pw-0') })).status, 201);
    const ch = (from: string, to: string) => h.request('POST', `/v3/users/${user.id}/password`, { body: { user: { original_password: from, password: to } } });
    assert.equal((await ch('pw-0', 'pw-1')).status, 204);
    assert.equal((await ch('pw-1', 'pw-0')).status, 204);
  });

  void test('lockout_failure_attempts locks the account; an admin enabling the user unlocks it', async () => {
    const { h, admin, user } = await start({ lockoutFailureAttempts: 2, lockoutDuration: 600 });
    for (let i = 0; i < 2; i++) assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'bad') })).status, 401);
    const locked = await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'pw-0') });
    assert.equal(locked.status, 401);
    await h.request('PATCH', `/v3/users/${user.id}`, { token: admin, body: { user: { enabled: true } } });
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'pw-0') })).status, 201);
  });

  void test('unique_last_password_count refuses recent passwords with 400', async () => {
    const { h, user } = await start({ uniqueLastPasswordCount: 2 });
    const ch = (from: string, to: string) => h.request('POST', `/v3/users/${user.id}/password`, { body: { user: { original_password: from, password: to } } });
    assert.equal((await ch('pw-0', 'pw-1')).status, 204);
    const again = await ch('pw-1', 'pw-0');
    assert.equal(again.status, 400);
    assert.match(again.body.error.message, /cannot be identical to a previous password/);
    assert.equal((await ch('pw-1', 'pw-2')).status, 204);
    assert.equal((await ch('pw-2', 'pw-0')).status, 204, 'only the last 2 count');
  });

  void test('disable_user_account_days_inactive disables idle users at their next login', async () => {
    const { h, user } = await start({ disableUserAccountDaysInactive: 30 });
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'pw-0') })).status, 201);
    // pretend the last login was 40 days ago
    const db = (h.svc.deps.resource as any).db;
    await db.updateTable('user').set({ last_active_at: Date.now() - 40 * 86_400_000 }).where('id', '=', user.id).execute();
    assert.equal((await h.request('POST', '/v3/auth/tokens', { body: passwordAuth('sc-user', 'pw-0') })).status, 401);
    const admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
    assert.equal((await h.request('GET', `/v3/users/${user.id}`, { token: admin })).body.user.enabled, false);
  });

  void test('[token] expiration and ?allow_expired', async () => {
    const { h } = await start({}, { tokenExpiration: 1 });
    const tok = await h.login('demo', 'secret-demo', 'demo');
    await new Promise((r) => setTimeout(r, 1500));
    // checked on the provider: any caller token would have expired as fast as this one
    await assert.rejects(h.svc.tokens.validate(tok), (e: any) => e.status === 404);
    assert.equal((await h.svc.tokens.validate(tok, { allowExpired: true })).userName, 'demo');
  });

  void test('minimum_password_age, password_expires_days, password_regex', async () => {
    const { h, admin, user } = await start({ minimumPasswordAge: 1, passwordExpiresDays: 90, passwordRegex: '^.{4,}$', passwordRegexDescription: 'at least 4 characters' });
    const ch = (from: string, to: string) => h.request('POST', `/v3/users/${user.id}/password`, { body: { user: { original_password: from, password: to } } });
    const young = await ch('pw-0', 'longer-pw');
    assert.equal(young.status, 400);
    assert.match(young.body.error.message, /minimum password age/);
    const u = (await h.request('GET', `/v3/users/${user.id}`, { token: admin })).body.user;
    assert.ok(u.password_expires_at, 'password_expires_at set');
    const short = await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'short', password: 'abc' } } });
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /at least 4 characters/);
  });
});
