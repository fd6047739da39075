/**
 * The README's promise, end to end: `stratus up` as a real process, then Debian's `openstack`
 * CLI (python-openstackclient, nobody here wrote it) against its openrc: a server boots through
 * every service and is stopped, started and deleted, and `stratus journey` shows the boot.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { OPENSTACK, bin, skipWithoutCli as skip, startStratusUp, type RunningCloud } from '../support/stratus-up.js';

const run = promisify(execFile);
let cloud: RunningCloud;
let stateDir: string;
let env: NodeJS.ProcessEnv;
const os = (...args: string[]) => cloud.os(...args);

before(async () => {
  if (skip) return;
  cloud = await startStratusUp([], 'e2e');
  ({ stateDir, env } = cloud);
});

after(async () => {
  if (!cloud) return;
  await cloud.stop();
  assert.equal(existsSync(path.join(stateDir, 'stratus.pid')), false, 'a clean stop releases the lock');
});

test('token issue and catalog list through the openrc', { skip }, async () => {
  const tok = await os('token', 'issue');
  assert.match(tok.id, /^gAAAAA/, 'a Fernet token');
  const catalog = await os('catalog', 'list');
  const types = catalog.map((c: any) => c.Type).sort();
  for (const t of ['compute', 'identity', 'image', 'network', 'placement']) assert.ok(types.includes(t), t);
});

test('a server boots ACTIVE with an ACTIVE port bound to its host, stops, starts and is deleted', { skip }, async () => {
  const server = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2-x86_64-disk', '--network', 'private', '--wait', 'e2e-vm1');
  assert.equal(server.status, 'ACTIVE');
  const host = server['OS-EXT-SRV-ATTR:host'];
  assert.equal(host, 'compute1');
  const ports = await os('port', 'list', '--server', server.id, '--long');
  assert.equal(ports.length, 1);
  const port = await os('port', 'show', ports[0].ID);
  assert.equal(port.status, 'ACTIVE');
  assert.equal(port.binding_host_id, host);
  assert.equal(port.device_owner, 'compute:nova');

  await run(OPENSTACK, ['server', 'stop', server.id], { env });
  await waitFor(async () => (await os('server', 'show', server.id)).status === 'SHUTOFF');
  await run(OPENSTACK, ['server', 'start', server.id], { env });
  await waitFor(async () => (await os('server', 'show', server.id)).status === 'ACTIVE');
  const events = await os('server', 'event', 'list', server.id);
  assert.deepEqual(events.map((e: any) => e.Action).sort(), ['create', 'start', 'stop']);

  await run(OPENSTACK, ['server', 'delete', '--wait', server.id], { env, timeout: 120_000 });
  assert.deepEqual(await os('server', 'list'), []);
  assert.deepEqual(await os('port', 'list', '--device-id', server.id), []);
});

test('stratus journey shows the boot crossing nova-api, conductor, scheduler, placement, compute and neutron', { skip }, async () => {
  const { stdout: list } = await run(process.execPath, [bin, 'journey', '--list', '500', '--state-dir', stateDir]);
  const line = list.split('\n').find((l) => l.includes('POST /v2.1/servers'));
  assert.ok(line, 'the boot request is listed');
  const id = /req-[0-9a-f-]{36}/.exec(line!)![0];
  const { stdout } = await run(process.execPath, [bin, 'journey', id, '--state-dir', stateDir]);
  const order = ['POST /v2.1/servers', 'schedule_and_build_instances', 'select_destinations', '/allocation_candidates', 'build_and_run_instance', 'POST /v2.0/ports', 'driver.spawn'];
  let at = -1;
  for (const hop of order) {
    const i = stdout.indexOf(hop, at + 1);
    assert.ok(i > at, `${hop} comes after the previous hop`);
    at = i;
  }
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('condition not met in time');
}
