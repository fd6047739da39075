/**
 * Issue 9's done-when list with Debian's `openstack` CLI against `stratus up --computes 2` as a
 * real process: `server resize --flavor m1.small --wait` then `server resize confirm`, resize and
 * `server resize revert` on another server, `server migrate --wait` to the other host, and
 * `server migration list` showing the records; `server migrate --live-migration --wait`,
 * `server shelve --wait` / `unshelve --wait`, and `server evacuate --wait` once a host is down.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { skipWithoutCli as skip, startStratusUp, type RunningCloud } from '../support/stratus-up.js';

let cloud: RunningCloud;
let stateDir: string;
const os = (...args: string[]) => cloud.os(...args);
const osPlain = (...args: string[]) => cloud.osPlain(...args);

async function waitStatus(name: string, status: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const s = await os('server', 'show', name);
    if (s.status === status && !s['OS-EXT-STS:task_state']) return s;
    if (s.status === 'ERROR') assert.fail(`server ${name} went to ERROR: ${JSON.stringify(s.fault)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`server ${name} never reached ${status}`);
}

before(async () => {
  if (skip) return;
  cloud = await startStratusUp(['--computes', '2'], 'e2e-move');
  stateDir = cloud.stateDir;
});

after(async () => {
  if (!cloud) return;
  await cloud.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('resize --wait, resize confirm, migrate --wait and migration list', { skip, timeout: 300_000 }, async () => {
  const vm = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2-x86_64-disk', '--network', 'private', '--wait', 'mv-vm1');
  assert.equal(vm.status, 'ACTIVE');
  const first = vm['OS-EXT-SRV-ATTR:host'];

  await osPlain('server', 'resize', '--flavor', 'm1.small', '--wait', 'mv-vm1');
  let s = await os('server', 'show', 'mv-vm1');
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.match(String(s.flavor), /m1\.small/);
  assert.notEqual(s['OS-EXT-SRV-ATTR:host'], first);

  await osPlain('server', 'resize', 'confirm', 'mv-vm1');
  s = await waitStatus('mv-vm1', 'ACTIVE');
  const second = s['OS-EXT-SRV-ATTR:host'];
  assert.notEqual(second, first);

  await osPlain('server', 'migrate', '--wait', 'mv-vm1');
  s = await os('server', 'show', 'mv-vm1');
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], first, 'migrated back to the other host');
  await osPlain('server', 'resize', 'confirm', 'mv-vm1');
  await waitStatus('mv-vm1', 'ACTIVE');

  const migs = await os('server', 'migration', 'list', '--server', 'mv-vm1');
  assert.equal(migs.length, 2);
  const statuses = migs.map((m: any) => m.Status).sort();
  assert.deepEqual(statuses, ['confirmed', 'confirmed']);
  const newest = migs[0];
  assert.equal(newest['Source Compute'], second);
  assert.equal(newest['Dest Compute'], first);
});

test('resize then resize revert puts the server back', { skip, timeout: 300_000 }, async () => {
  const vm = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2-x86_64-disk', '--network', 'private', '--wait', 'mv-vm2');
  const host = vm['OS-EXT-SRV-ATTR:host'];
  await osPlain('server', 'resize', '--flavor', 'm1.small', '--wait', 'mv-vm2');
  await osPlain('server', 'resize', 'revert', 'mv-vm2');
  const s = await waitStatus('mv-vm2', 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], host);
  assert.match(String(s.flavor), /m1\.tiny/);
  const migs = await os('server', 'migration', 'list', '--server', 'mv-vm2');
  assert.equal(migs[0].Status, 'reverted');
});

test('live migration, shelve / unshelve and evacuate', { skip, timeout: 300_000 }, async () => {
  const vm = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2-x86_64-disk', '--network', 'private', '--wait', 'mv-vm3');
  const first = vm['OS-EXT-SRV-ATTR:host'];
  await osPlain('server', 'migrate', '--live-migration', '--wait', 'mv-vm3');
  let s = await waitStatus('mv-vm3', 'ACTIVE');
  const second = s['OS-EXT-SRV-ATTR:host'];
  assert.notEqual(second, first);
  // The destination makes the server ACTIVE; the source then marks the migration completed.
  let migs: any[] = [];
  for (let i = 0; i < 50; i++) {
    migs = await os('server', 'migration', 'list', '--server', 'mv-vm3');
    if (migs[0]?.Status === 'completed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(migs[0].Status, 'completed');

  await osPlain('server', 'shelve', '--wait', 'mv-vm3');
  s = await waitStatus('mv-vm3', 'SHELVED_OFFLOADED');
  assert.ok(!s['OS-EXT-SRV-ATTR:host']);
  await osPlain('server', 'unshelve', '--wait', 'mv-vm3');
  s = await waitStatus('mv-vm3', 'ACTIVE');
  const host = s['OS-EXT-SRV-ATTR:host'];
  assert.ok(host === 'compute1' || host === 'compute2');

  // The host dies: the operator marks its compute service down (as `compute service set --down`
  // records it), then evacuates.
  const db = new Sqlite(path.join(stateDir, 'nova_cell1.db'));
  try {
    db.prepare("UPDATE services SET forced_down = 1 WHERE host = ? AND binary = 'nova-compute'").run(host);
  } finally {
    db.close();
  }
  // Debian's OSC 6.0 sends the evacuate, then fails on novaclient's (resp, body) tuple
  // ("'TupleWithMeta' object has no attribute 'id'") whatever the cloud; wait ourselves.
  await osPlain('server', 'evacuate', 'mv-vm3').catch((e: Error & { stderr?: string }) => {
    if (!String(e.stderr ?? e.message).includes('TupleWithMeta')) throw e;
  });
  s = await waitStatus('mv-vm3', 'ACTIVE');
  assert.notEqual(s['OS-EXT-SRV-ATTR:host'], host);
  const ev = await os('server', 'migration', 'list', '--server', 'mv-vm3');
  assert.equal(ev[0].Status, 'done');
});
