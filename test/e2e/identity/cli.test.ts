/**
 * Debian's `openstack` CLI against Stratus Keystone: the done-when list.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startKeystone, type RunningKeystone } from './server.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
let k: RunningKeystone;

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public', ...extra };
  return env;
}
const adminEnv = () =>
  baseEnv({ OS_AUTH_URL: k.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: k.adminPassword, OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default' });

async function os(env: NodeJS.ProcessEnv, ...args: string[]): Promise<any> {
  const { stdout } = await run(CLI, [...args, '-f', 'json'], { env, timeout: 30_000 });
  return JSON.parse(stdout);
}
async function osRaw(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(CLI, args, { env, timeout: 30_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

const skip = !existsSync(CLI) ? 'openstack CLI not installed' : false;

before(async () => {
  if (!skip) k = await startKeystone();
});
after(async () => {
  await k?.stop();
});

void test('openstack CLI drives Keystone end to end', { skip, timeout: 120_000 }, async (t) => {
  const admin = adminEnv();

  await t.test('token issue', async () => {
    const tok = await os(admin, 'token', 'issue');
    assert.ok(tok.id.length > 100);
    assert.ok(tok.project_id && tok.user_id && tok.expires);
  });

  await t.test('catalog list and endpoint list', async () => {
    const cat = await os(admin, 'catalog', 'list');
    const types = cat.map((c: any) => c.Type);
    for (const t of ['identity', 'compute', 'image', 'network', 'placement']) assert.ok(types.includes(t), t);
    const eps = await os(admin, 'endpoint', 'list');
    assert.ok(eps.some((e: any) => e['Service Type'] === 'identity' && e.Interface === 'public' && e.URL === k.authUrl));
    assert.ok(eps.some((e: any) => e.Interface === 'internal'));
  });

  await t.test('domain show default', async () => {
    const d = await os(admin, 'domain', 'show', 'default');
    assert.equal(d.id, 'default');
    assert.equal(d.name, 'Default');
    assert.equal(d.enabled, true);
  });

  let userId = '';
  await t.test('project create, user create --password, role add, role assignment list --names', async () => {
    const p = await os(admin, 'project', 'create', 'cli-proj', '--description', 'from the CLI');
    assert.equal(p.name, 'cli-proj');
    assert.equal(p.domain_id, 'default');
    const dup = await osRaw(admin, 'project', 'create', 'cli-proj');
    assert.notEqual(dup.code, 0);
    assert.match(dup.err, /Conflict|409|Duplicate/);
    const u = await os(admin, 'user', 'create', 'cli-user', '--password', 'pw-one', '--project', 'cli-proj');
    userId = u.id;
    assert.equal(u.name, 'cli-user');
    await osRaw(admin, 'role', 'add', '--project', 'cli-proj', '--user', 'cli-user', 'member');
    const ra = await os(admin, 'role', 'assignment', 'list', '--names', '--user', 'cli-user');
    assert.deepEqual(
      ra.map((r: any) => [r.Role, r.User, r.Project]),
      [['member', 'cli-user@Default', 'cli-proj@Default']],
    );
  });

  const userEnv = (password: string) =>
    baseEnv({ OS_AUTH_URL: k.authUrl, OS_USERNAME: 'cli-user', OS_PASSWORD: password, OS_PROJECT_NAME: 'cli-proj', OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default' });

  await t.test('application credential create, then authenticate with it', async () => {
    const ac = await os(userEnv('pw-one'), 'application', 'credential', 'create', 'cli-ac');
    assert.ok(ac.secret);
    assert.equal(ac.name, 'cli-ac');
    const acEnv = baseEnv({
      OS_AUTH_URL: k.authUrl,
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: ac.id,
      OS_APPLICATION_CREDENTIAL_SECRET: ac.secret,
    });
    const tok = await os(acEnv, 'token', 'issue');
    assert.equal(tok.user_id, userId);
    const bad = await osRaw({ ...acEnv, OS_APPLICATION_CREDENTIAL_SECRET: 'wrong' }, 'token', 'issue');
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /401|authentication/i);
  });

  await t.test('user password set', async () => {
    const r = await osRaw(userEnv('pw-one'), 'user', 'password', 'set', '--password', 'pw-two', '--original-password', 'pw-one');
    assert.equal(r.code, 0, r.err);
    const tok = await os(userEnv('pw-two'), 'token', 'issue');
    assert.equal(tok.user_id, userId);
    const old = await osRaw(userEnv('pw-one'), 'token', 'issue');
    assert.notEqual(old.code, 0);
  });
});
