/**
 * Debian's `openstack` CLI against Stratus Cinder (with Stratus Keystone and Glance): issue 8's
 * done-when list for the Cinder side.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startVolumeCloud, type VolumeCloud } from './cloud.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
let c: VolumeCloud;

const env = (user: string, project: string, password: string): NodeJS.ProcessEnv => ({
  PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public',
  OS_AUTH_URL: c.authUrl, OS_USERNAME: user, OS_PASSWORD: password, OS_PROJECT_NAME: project,
  OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default',
});

async function os(e: NodeJS.ProcessEnv, ...args: string[]): Promise<any> {
  const { stdout } = await run(CLI, [...args, '-f', 'json'], { env: e, timeout: 60_000 });
  return JSON.parse(stdout);
}
async function osPlain(e: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const { stdout } = await run(CLI, args, { env: e, timeout: 60_000 });
  return stdout;
}
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 120; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const skip = !existsSync(CLI) ? 'openstack CLI not installed' : false;

before(async () => {
  if (!skip) c = await startVolumeCloud();
});
after(async () => {
  await c?.stop();
});

void test('openstack CLI drives Cinder end to end', { skip, timeout: 600_000 }, async (t) => {
  const demo = env('demo', 'demo', c.demoPassword);
  const admin = env('admin', 'admin', c.adminPassword);
  const available = (name: string) => until(() => os(demo, 'volume', 'show', name), (v) => v.status === 'available', `${name} available`);

  await t.test('volume service list: scheduler and volume up', async () => {
    const svcs = await os(admin, 'volume', 'service', 'list');
    assert.deepEqual(svcs.map((s: any) => `${s.Binary} ${s.State}`).sort(), ['cinder-scheduler up', 'cinder-volume up']);
  });

  await t.test('volume create --size 1 v1', async () => {
    const v = await os(demo, 'volume', 'create', '--size', '1', 'v1');
    assert.equal(v.status, 'creating');
    assert.equal(v.type, 'lvmdriver-1');
    const shown = await available('v1');
    assert.equal(shown.size, 1);
  });

  await t.test('volume snapshot create, then volume create --snapshot and --source', async () => {
    await os(demo, 'volume', 'snapshot', 'create', '--volume', 'v1', 's1');
    await until(() => os(demo, 'volume', 'snapshot', 'show', 's1'), (s) => s.status === 'available', 's1 available');
    await os(demo, 'volume', 'create', '--snapshot', 's1', 'v2');
    await os(demo, 'volume', 'create', '--source', 'v1', 'v3');
    assert.equal((await available('v2')).snapshot_id, (await os(demo, 'volume', 'snapshot', 'show', 's1')).id);
    assert.equal((await available('v3')).source_volid, (await os(demo, 'volume', 'show', 'v1')).id);
  });

  await t.test('volume create --image makes a bootable volume', async () => {
    await os(demo, 'volume', 'create', '--image', 'cirros-0.6.2-x86_64-disk', '--size', '1', 'v4');
    const v = await available('v4');
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_name, 'cirros-0.6.2-x86_64-disk');
  });

  await t.test('image create --volume uploads the volume into an active image', async () => {
    const up = await os(demo, 'image', 'create', '--volume', 'v3', 'img-from-v3');
    assert.equal(up.image_name, 'img-from-v3');
    const img = await until(() => os(demo, 'image', 'show', up.image_id), (i) => i.status === 'active', 'image active');
    assert.equal(img.size, 1024 ** 3);
    await available('v3');
    await osPlain(demo, 'image', 'delete', up.image_id);
  });

  await t.test('volume set --read-only / --read-write', async () => {
    await osPlain(demo, 'volume', 'set', '--read-only', 'v1');
    assert.equal((await os(demo, 'volume', 'show', 'v1')).properties.readonly, 'True');
    await osPlain(demo, 'volume', 'set', '--read-write', 'v1');
    assert.equal((await os(demo, 'volume', 'show', 'v1')).properties.readonly, 'False');
  });

  await t.test('volume list, a volume with a snapshot refuses deletion, then everything is deleted', async () => {
    const names = (await os(demo, 'volume', 'list')).map((v: any) => v.Name).sort();
    assert.deepEqual(names, ['v1', 'v2', 'v3', 'v4']);
    await assert.rejects(osPlain(demo, 'volume', 'delete', 'v1'), /Invalid volume/);
    await osPlain(demo, 'volume', 'snapshot', 'delete', 's1');
    await until(() => os(demo, 'volume', 'snapshot', 'list'), (l) => l.length === 0, 'snapshots gone');
    await osPlain(demo, 'volume', 'delete', 'v1', 'v2', 'v3', 'v4');
    await until(() => os(demo, 'volume', 'list'), (l) => l.length === 0, 'volumes gone');
  });
});
