/**
 * Debian's `openstack` CLI (python3-osc-placement) against Stratus placement behind Stratus
 * Keystone: the done-when commands, plus the errors a user sees.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startPlacementCloud, type PlacementCloud } from './cloud.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
const skip = !existsSync(CLI) || !existsSync('/usr/lib/python3/dist-packages/osc_placement') ? 'openstack CLI with osc-placement not installed' : false;
let c: PlacementCloud;

const env = (): NodeJS.ProcessEnv => ({
  PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public',
  OS_AUTH_URL: c.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: c.adminPassword, OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default',
});

async function os(...args: string[]): Promise<any> {
  const { stdout } = await run(CLI, [...args, '-f', 'json'], { env: env(), timeout: 60_000 });
  return JSON.parse(stdout);
}
async function osFail(...args: string[]): Promise<string> {
  try {
    await run(CLI, args, { env: env(), timeout: 60_000 });
  } catch (e: any) {
    return String(e.stderr ?? '');
  }
  throw new Error(`expected failure: ${args.join(' ')}`);
}

before(async () => { if (!skip) c = await startPlacementCloud(); });
after(async () => { await c?.stop(); });

void test('openstack CLI drives placement', { skip, timeout: 240_000 }, async (t) => {
  let rp = '';
  await t.test('resource provider create / list / show', async () => {
    const created = await os('resource', 'provider', 'create', 'cli-cn1');
    assert.equal(created.name, 'cli-cn1');
    assert.equal(created.generation, 0);
    rp = created.uuid;
    const list = await os('resource', 'provider', 'list');
    assert.deepEqual(list.map((r: any) => r.uuid), [rp]);
    const shown = await os('resource', 'provider', 'show', rp);
    assert.equal(shown.root_provider_uuid, rp);
    assert.match(await osFail('resource', 'provider', 'create', 'cli-cn1'), /Conflicting resource provider name: cli-cn1 already exists\. \(HTTP 409\)/);
    assert.match(await osFail('resource', 'provider', 'show', '00000000-0000-0000-0000-000000000001'), /No resource provider with uuid .* found \(HTTP 404\)/);
  });

  await t.test('inventory set / list', async () => {
    const set = await os('resource', 'provider', 'inventory', 'set', rp, '--resource', 'VCPU=8', '--resource', 'MEMORY_MB=4096',
      '--resource', 'DISK_GB:allocation_ratio=1.5', '--resource', 'DISK_GB=100');
    assert.equal(set.length, 3);
    const list = await os('resource', 'provider', 'inventory', 'list', rp);
    const byClass = Object.fromEntries(list.map((i: any) => [i.resource_class, i]));
    assert.equal(byClass.VCPU.total, 8);
    assert.equal(byClass.DISK_GB.allocation_ratio, 1.5);
    assert.equal(byClass.MEMORY_MB.max_unit, 2147483647);
  });

  await t.test('trait list', async () => {
    const traits = await os('trait', 'list');
    const names = traits.map((x: any) => x.name);
    assert.ok(names.includes('COMPUTE_NODE') && names.includes('HW_CPU_X86_AVX2') && names.length > 300);
  });

  await t.test('allocation candidate list --resource VCPU=1', async () => {
    const cands = await os('allocation', 'candidate', 'list', '--resource', 'VCPU=1');
    assert.equal(cands.length, 1);
    assert.equal(cands[0]['resource provider'], rp);
    assert.equal(cands[0].allocation, 'VCPU=1');
    assert.match(cands[0]['inventory used/capacity'], /VCPU=0\/8/);
    const none = await os('allocation', 'candidate', 'list', '--resource', 'VCPU=9');
    assert.deepEqual(none, []);
  });

  await t.test('allocation set and resource provider usage show', async () => {
    const consumer = '11111111-2222-3333-4444-555555555555';
    await os('--os-placement-api-version', '1.39', 'resource', 'provider', 'allocation', 'set', consumer,
      '--allocation', `rp=${rp},VCPU=2,MEMORY_MB=512`, '--project-id', 'p1', '--user-id', 'u1', '--consumer-type', 'INSTANCE');
    const usage = await os('resource', 'provider', 'usage', 'show', rp);
    const byClass = Object.fromEntries(usage.map((u: any) => [u.resource_class, u.usage]));
    assert.deepEqual(byClass, { VCPU: 2, MEMORY_MB: 512, DISK_GB: 0 });
    const cands = await os('allocation', 'candidate', 'list', '--resource', 'VCPU=1');
    assert.match(cands[0]['inventory used/capacity'], /VCPU=2\/8/);
    assert.match(await osFail('resource', 'provider', 'delete', rp), /HTTP 409/);
  });
});
