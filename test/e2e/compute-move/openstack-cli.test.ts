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
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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

const ceiling = process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'];
before(async () => {
  if (skip) return;
  // `stratus up` inherits the environment: nova-api negotiates up to 2.92 (versions still being built).
  process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'] = '2.92';
  cloud = await startStratusUp(['--computes', '2'], 'e2e-move');
  stateDir = cloud.stateDir;
});

after(async () => {
  if (ceiling === undefined) delete process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'];
  else process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'] = ceiling;
  if (!cloud) return;
  await cloud.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** novaclient (Debian's, what `nova` and OSC use underneath) for what OSC 6.0 cannot send. */
async function novaclient(script: string): Promise<string> {
  const py = `import os
from keystoneauth1 import loading, session
from novaclient import client
auth = loading.get_plugin_loader('password').load_from_options(auth_url=os.environ['OS_AUTH_URL'], username=os.environ['OS_USERNAME'], password=os.environ['OS_PASSWORD'], project_name=os.environ['OS_PROJECT_NAME'], user_domain_name=os.environ.get('OS_USER_DOMAIN_NAME', 'Default'), project_domain_name=os.environ.get('OS_PROJECT_DOMAIN_NAME', 'Default'))
nova = client.Client('2.91', session=session.Session(auth=auth))
${script}
`;
  return (await promisify(execFile)('/usr/bin/python3', ['-c', py], { env: cloud.env, timeout: 60_000 })).stdout;
}

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

  // 2.56: to a named host.
  await osPlain('--os-compute-api-version', '2.56', 'server', 'migrate', '--host', second, '--wait', 'mv-vm1');
  s = await os('server', 'show', 'mv-vm1');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], second);
  await osPlain('server', 'resize', 'confirm', 'mv-vm1');
  await waitStatus('mv-vm1', 'ACTIVE');
  await assert.rejects(osPlain('--os-compute-api-version', '2.56', 'server', 'migrate', '--host', second, 'mv-vm1'), /Cannot migrate to the host where the server exists/);

  // 2.59 / 2.80: uuid, paging, changes-since, project and user.
  // (OSC shows the Project / User columns when asked to filter by them.)
  const v280 = await os('--os-compute-api-version', '2.80', 'server', 'migration', 'list', '--server', 'mv-vm1', '--project', 'admin');
  assert.equal(v280.length, 3);
  assert.match(v280[0].UUID, /^[0-9a-f-]{36}$/);
  assert.equal(v280[0].Type, 'migration');
  assert.match(v280[0].Project, /^[0-9a-f]{32}$/);
  const page = await os('--os-compute-api-version', '2.80', 'server', 'migration', 'list', '--server', 'mv-vm1', '--limit', '1', '--marker', v280[0].UUID);
  assert.deepEqual(page.map((m: any) => m.UUID), [v280[1].UUID]);
  const since = await os('--os-compute-api-version', '2.80', 'server', 'migration', 'list', '--server', 'mv-vm1', '--changes-since', '2000-01-01T00:00:00Z');
  assert.equal(since.length, 3);
  await assert.rejects(osPlain('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--marker', '00000000-0000-0000-0000-000000000000'), /Marker 00000000-0000-0000-0000-000000000000 could not be found/);

  const migs = (await os('server', 'migration', 'list', '--server', 'mv-vm1')).slice(1);
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
  assert.ok(['compute1', 'compute2'].includes(s['OS-EXT-SRV-ATTR:host']));

  // 2.77: unshelve into a zone (OSC itself skips servers that are not shelved).
  await osPlain('server', 'shelve', '--wait', 'mv-vm3');
  await assert.rejects(osPlain('--os-compute-api-version', '2.77', 'server', 'unshelve', '--availability-zone', 'nosuchzone', 'mv-vm3'), /The requested availability zone is not available/);
  await osPlain('--os-compute-api-version', '2.77', 'server', 'unshelve', '--availability-zone', 'nova', '--wait', 'mv-vm3');
  s = await waitStatus('mv-vm3', 'ACTIVE');
  assert.equal(s['OS-EXT-AZ:availability_zone'], 'nova');

  // 2.91: unshelve to a chosen host.
  const target = s['OS-EXT-SRV-ATTR:host'] === 'compute1' ? 'compute2' : 'compute1';
  await osPlain('server', 'shelve', '--wait', 'mv-vm3');
  await novaclient(`nova.servers.unshelve(nova.servers.find(name='mv-vm3'), host='${target}')`);
  s = await waitStatus('mv-vm3', 'ACTIVE');
  const host = s['OS-EXT-SRV-ATTR:host'];
  assert.equal(host, target);

  // The host dies: the operator marks its compute service down, then evacuates.
  await osPlain('--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--down', host, 'nova-compute');
  const svcs = await os('compute', 'service', 'list', '--service', 'nova-compute');
  assert.equal(svcs.find((x: any) => x.Host === host).State, 'down');
  // Debian's OSC 6.0 sends the evacuate, then fails on novaclient's (resp, body) tuple
  // ("'TupleWithMeta' object has no attribute 'id'/'to_dict'") whatever the cloud; wait ourselves.
  await osPlain('server', 'evacuate', 'mv-vm3').catch((e: Error & { stderr?: string }) => {
    if (!String(e.stderr ?? e.message).includes('TupleWithMeta')) throw e;
  });
  s = await waitStatus('mv-vm3', 'ACTIVE');
  assert.notEqual(s['OS-EXT-SRV-ATTR:host'], host);
  const ev = await os('server', 'migration', 'list', '--server', 'mv-vm3');
  assert.equal(ev[0].Status, 'done');
});
