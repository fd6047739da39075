/**
 * Debian's `openstack` CLI against Stratus Glance (with Stratus Keystone): issue 5's done-when list.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startImageCloud, type ImageCloud } from './cloud.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
let c: ImageCloud;

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

const skip = !existsSync(CLI) ? 'openstack CLI not installed' : false;

before(async () => {
  if (!skip) c = await startImageCloud();
});
after(async () => {
  await c?.stop();
});

void test('openstack CLI drives Glance end to end', { skip, timeout: 300_000 }, async (t) => {
  const admin = env('admin', 'admin', c.adminPassword);
  const demo = env('demo', 'demo', c.demoPassword);
  const file = path.join(c.dir, 'upload.img');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(file, data);
  let id = '';

  await t.test('default images are active and public', async () => {
    const list = await os(admin, 'image', 'list', '--long');
    const names = list.map((i: any) => i.Name);
    assert.ok(names.includes('cirros-0.6.2-x86_64-disk'));
    assert.ok(names.includes('stratus-alt-disk'));
    for (const i of list) assert.equal(i.Status, 'active');
  });

  await t.test('image create --file', async () => {
    const img = await os(demo, 'image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'e2e-image');
    id = img.id;
    // The CLI prints the image as POST returned it; the upload follows.
    const shown = await os(demo, 'image', 'show', id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.visibility, 'shared');
  });

  await t.test('image save', async () => {
    const out = path.join(c.dir, 'saved.img');
    await osPlain(demo, 'image', 'save', '--file', out, id);
    assert.deepEqual(await readFile(out), data);
  });

  await t.test('image set --property and image list --property', async () => {
    await osPlain(demo, 'image', 'set', '--property', 'hw_disk_bus=virtio', '--property', 'purpose=e2e', id);
    const shown = await os(demo, 'image', 'show', id);
    const props = typeof shown.properties === 'string' ? shown.properties : JSON.stringify(shown.properties);
    assert.match(props, /hw_disk_bus/);
    const listed = await os(demo, 'image', 'list', '--property', 'purpose=e2e');
    assert.deepEqual(listed.map((i: any) => i.ID), [id]);
  });

  await t.test('image add project shares with another project', async () => {
    const member = await os(demo, 'image', 'add', 'project', id, 'alt_demo');
    assert.equal(member.status, 'pending');
    const members = await os(demo, 'image', 'member', 'list', id);
    assert.equal(members.length, 1);
  });

  await t.test('image set --deactivate forbids download, --activate restores it', async () => {
    await osPlain(demo, 'image', 'set', '--deactivate', id);
    assert.equal((await os(demo, 'image', 'show', id)).status, 'deactivated');
    await assert.rejects(osPlain(demo, 'image', 'save', '--file', path.join(c.dir, 'no.img'), id));
    await osPlain(demo, 'image', 'set', '--activate', id);
    assert.equal((await os(demo, 'image', 'show', id)).status, 'active');
  });

  await t.test('image delete', async () => {
    await osPlain(demo, 'image', 'delete', id);
    const list = await os(demo, 'image', 'list');
    assert.ok(!list.some((i: any) => i.ID === id));
  });
});
