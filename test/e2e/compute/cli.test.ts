/**
 * Debian's `openstack` CLI (python-openstackclient) against an in-process cloud: the server
 * commands of the done-when behave as on OpenStack (create --wait, list, reboot,
 * lock/unlock, rebuild, image create, event list, delete --wait).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCloud } from '../../../src/cmd/cloud.js';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const skip = existsSync(OPENSTACK) ? false : 'python3-openstackclient is not installed';

test('openstack server commands', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-e2e-nova-'));
  const cloud = await startCloud({ stateDir: dir, randomPorts: true, computes: 1 });
  const env = {
    ...process.env, OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: cloud.admin.password, OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default', OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne',
  };
  delete (env as Record<string, string | undefined>)['OS_CLOUD'];
  const os = async (...args: string[]): Promise<any> => {
    const { stdout } = await run(OPENSTACK, args, { env, timeout: 60_000 });
    const t = stdout.trim();
    try { return t ? JSON.parse(t) : null; } catch { return t; }
  };
  try {
    const s = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2-x86_64-disk', '--network', 'private', '--wait', 'cli-vm', '-f', 'json');
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute1');
    await os('server', 'reboot', '--wait', 'cli-vm');
    await os('server', 'lock', 'cli-vm');
    await os('server', 'unlock', 'cli-vm');
    await os('server', 'rebuild', '--wait', '--image', 'cirros-0.6.2-x86_64-disk', 'cli-vm');
    await os('server', 'image', 'create', '--wait', '--name', 'cli-snap', 'cli-vm');
    const events = await os('server', 'event', 'list', 'cli-vm', '-f', 'json');
    assert.deepEqual(events.map((e: any) => e.Action).sort(), ['create', 'createImage', 'lock', 'reboot', 'rebuild', 'unlock']);
    await os('server', 'delete', '--wait', 'cli-vm');
    assert.deepEqual(await os('server', 'list', '-f', 'json'), []);
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
