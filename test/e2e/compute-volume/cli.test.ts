/**
 * Debian's `openstack` CLI against a whole Stratus cloud (`stratus up` in process): issue 8's
 * done-when list for the Nova side — `server add volume`, `server remove volume`,
 * `server create --boot-from-volume`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCloud, type Cloud } from '../../../src/cmd/cloud.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
const skip = !existsSync(CLI) ? 'openstack CLI not installed' : false;
let cloud: Cloud;
let dir: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'stratus-cli-vol-'));
  cloud = await startCloud({ stateDir: dir, randomPorts: true });
});
after(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const u = cloud.demo;
  return {
    PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public',
    OS_AUTH_URL: u.authUrl, OS_USERNAME: u.username, OS_PASSWORD: u.password, OS_PROJECT_NAME: u.projectName,
    OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default', OS_REGION_NAME: u.region,
  };
}
async function os(...args: string[]): Promise<any> {
  const { stdout } = await run(CLI, [...args, '-f', 'json'], { env: env(), timeout: 120_000 });
  return stdout.trim() ? JSON.parse(stdout) : null;
}
async function osPlain(...args: string[]): Promise<string> {
  const { stdout } = await run(CLI, args, { env: env(), timeout: 120_000 });
  return stdout;
}
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 120; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

void test('openstack CLI: server add/remove volume and boot from volume', { skip, timeout: 300_000 }, async () => {
  const images = await os('image', 'list');
  const image = images.find((i: any) => i.Name.startsWith('cirros')).ID;
  // Own polling instead of --wait (the CLI sleeps 5 s between polls).
  const vm = await os('server', 'create', '--image', image, '--flavor', 'm1.tiny', '--network', 'private', 'vm1');
  await os('volume', 'create', '--size', '1', 'v1');
  await until(() => os('server', 'show', 'vm1'), (s) => s.status === 'ACTIVE', 'vm1 ACTIVE');
  await until(() => os('volume', 'show', 'v1'), (v) => v.status === 'available', 'v1 available');

  await osPlain('server', 'add', 'volume', 'vm1', 'v1');
  const inUse = await until(() => os('volume', 'show', 'v1'), (v) => v.status === 'in-use', 'v1 in-use');
  assert.equal(inUse.attachments[0].server_id, vm.id);
  assert.equal(inUse.attachments[0].device, '/dev/vdb');
  const fromNova = await os('server', 'volume', 'list', 'vm1');
  assert.deepEqual(fromNova.map((a: any) => [a['Volume ID'], a.Device]), [[inUse.id, '/dev/vdb']]);

  await osPlain('server', 'remove', 'volume', 'vm1', 'v1');
  const back = await until(() => os('volume', 'show', 'v1'), (v) => v.status === 'available', 'v1 available again');
  assert.deepEqual(back.attachments, []);
  await until(() => os('server', 'volume', 'list', 'vm1'), (l) => l.length === 0, 'no attachments in Nova');

  const created = await os('server', 'create', '--boot-from-volume', '1', '--image', image, '--flavor', 'm1.tiny', '--network', 'private', 'bfv1');
  const bfv = await until(() => os('server', 'show', created.id), (s) => s.status === 'ACTIVE', 'bfv1 ACTIVE');
  assert.match(String(bfv.image), /booted from volume/);
  assert.match(JSON.stringify(bfv.volumes_attached), /[0-9a-f-]{36}/);
  const vols = await os('volume', 'list');
  const root = vols.find((v: any) => (v['Attached to'] as any[]).some((a) => a.server_id === bfv.id));
  assert.ok(root, JSON.stringify(vols));
  assert.equal(root.Status, 'in-use');
  assert.equal(root['Attached to'][0].device, '/dev/vda');

  await osPlain('server', 'delete', 'vm1', 'bfv1');
  // The CLI's boot volume is not delete_on_termination: it stays, detached.
  await until(() => os('volume', 'show', root.ID), (v) => v.status === 'available', 'root volume detached');
});
