/**
 * The admin resources with Debian's `openstack` CLI against `stratus up --computes 2` run with
 * STRATUS_DEV_NOVA_MAX_MICROVERSION=2.92: `compute service set --disable/--enable/--down/--up`
 * (legacy actions and the 2.53 uuid form), `hypervisor list/show`, `flavor create --description`,
 * `server group create --policy anti-affinity --rule max_server_per_host=1`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { skipWithoutCli as skip, startStratusUp, type RunningCloud } from '../support/stratus-up.js';

let cloud: RunningCloud;
const os = (...args: string[]) => cloud.os(...args);
const osPlain = (...args: string[]) => cloud.osPlain(...args);
const compute = (host: string) => async (v: string) =>
  (await os('--os-compute-api-version', v, 'compute', 'service', 'list', '--service', 'nova-compute', '--host', host, '--long'))[0];

before(async () => {
  if (skip) return;
  // The child inherits this: nova-api negotiates up to 2.92 while those versions are being built.
  process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'] = '2.92';
  cloud = await startStratusUp(['--computes', '2'], 'e2e-admin');
});

after(async () => {
  if (!cloud) return;
  await cloud.stop();
  rmSync(cloud.stateDir, { recursive: true, force: true });
});

test('compute service set: disable, enable, down, up (2.11 and 2.53)', { skip }, async () => {
  const c1 = compute('compute1');
  // Below 2.53 the CLI sends the legacy PUT /os-services/{disable-log-reason,force-down}.
  await osPlain('--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--disable', '--disable-reason', 'maint', 'compute1', 'nova-compute');
  await osPlain('--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--down', 'compute1', 'nova-compute');
  let s = await c1('2.11');
  assert.equal(s.Status, 'disabled');
  assert.equal(s['Disabled Reason'], 'maint');
  assert.equal(s.State, 'down');
  assert.equal(s['Forced Down'], true);
  // From 2.53 it looks the service up and sends PUT /os-services/{uuid}.
  await osPlain('--os-compute-api-version', '2.53', 'compute', 'service', 'set', '--enable', '--up', 'compute1', 'nova-compute');
  s = await c1('2.53');
  assert.equal(s.Status, 'enabled');
  assert.equal(s.State, 'up');
  assert.equal(s['Forced Down'], false);
  assert.match(String(s.ID), /^[0-9a-f-]{36}$/, 'uuid ids from 2.53');
});

test('hypervisor list and show', { skip }, async () => {
  const list = await os('--os-compute-api-version', '2.53', 'hypervisor', 'list');
  assert.deepEqual(list.map((h: any) => h['Hypervisor Hostname']).sort(), ['compute1', 'compute2']);
  assert.ok(list.every((h: any) => /^[0-9a-f-]{36}$/.test(String(h.ID))));
  const shown = await os('--os-compute-api-version', '2.88', 'hypervisor', 'show', 'compute2');
  assert.equal(shown.hypervisor_hostname, 'compute2');
  assert.equal(shown.state, 'up');
  // The CLI cuts the uptime(1) line down to its "up" part.
  assert.ok(shown.uptime);
  assert.equal(shown.vcpus, undefined, 'resource fields are gone at 2.88');
});

test('flavor create --description', { skip }, async () => {
  const f = await os('--os-compute-api-version', '2.55', 'flavor', 'create', '--ram', '128', '--vcpus', '1', '--disk', '1', '--description', 'a described flavor', 'described');
  assert.equal(f.description, 'a described flavor');
  await osPlain('--os-compute-api-version', '2.55', 'flavor', 'set', '--description', 'changed', 'described');
  await assert.rejects(osPlain('--os-compute-api-version', '2.86', 'flavor', 'set', '--property', 'hw:cpu_policy=bogus', 'described'), /is not one of/);
  const shown = await os('--os-compute-api-version', '2.61', 'flavor', 'show', 'described');
  assert.equal(shown.description, 'changed');
});

test('server group create --policy anti-affinity --rule max_server_per_host=1', { skip }, async () => {
  const g = await os('--os-compute-api-version', '2.64', 'server', 'group', 'create', '--policy', 'anti-affinity', '--rule', 'max_server_per_host=1', 'g1');
  assert.equal(g.policy, 'anti-affinity');
  assert.match(JSON.stringify(g.rules), /max_server_per_host/);
});
