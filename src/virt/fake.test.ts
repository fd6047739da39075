import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InstanceEvents } from '../compute/instance-events.js';
import { VirtualInterfaceCreateException } from '../compute/exception.js';
import { Instance } from '../compute/objects/instance.js';
import { clearFailures, FakeDriver, injectFailure } from './fake.js';

function inst(uuid: string): Instance {
  const i = new Instance();
  i.update({ uuid, memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0 });
  return i;
}
const vif = (id: string, active: boolean) => ({ id, address: 'fa:16:3e:00:00:01', network: { id: 'n', label: 'private', subnets: [] }, type: 'ovs', details: {}, devname: `tap${id}`, active, vnic_type: 'normal', preserve_on_delete: false });

test('spawn waits for network-vif-plugged of inactive ports, then runs; power actions change the domain', async () => {
  const d = new FakeDriver({ host: 'h1' });
  const ev = new InstanceEvents();
  const i = inst('u1');
  let resumed = false;
  const p = d.spawn({
    instance: i, image: { id: 'img', properties: {} }, networkInfo: [vif('p1', false), vif('p2', true)], allocations: {}, adminPassword: null,
    waitForEvents: (events, run) => {
      assert.deepEqual(events, [['network-vif-plugged', 'p1']]);
      return ev.waitFor(i.uuid, events, run, { timeoutMs: 5000, fatal: true });
    },
  }).then(() => (resumed = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(resumed, false, 'still paused until the event arrives');
  assert.equal(d.getInfo(i).state, 3);
  assert.equal(ev.pop('u1', 'network-vif-plugged', 'p1', 'completed'), true);
  await p;
  assert.equal(d.getInfo(i).state, 1);
  await d.powerOff(i);
  assert.equal(d.getInfo(i).state, 4);
  await d.powerOn(i);
  assert.equal(d.getAvailableResource('h1').memory_mb_used, 512);
  await d.destroy(i);
  assert.equal(d.instanceExists(i), false);
});

test('an event that arrives before the wait is not lost; a failed event is fatal; failures inject per host', async () => {
  const ev = new InstanceEvents();
  ev.pop('u2', 'network-vif-plugged', 'p1', 'completed');
  await ev.waitFor('u2', [['network-vif-plugged', 'p1']], async () => 1, { timeoutMs: 1000, fatal: true });
  const failed = ev.waitFor('u3', [['network-vif-plugged', 'p1']], async () => 1, { timeoutMs: 1000, fatal: true });
  setImmediate(() => ev.pop('u3', 'network-vif-plugged', 'p1', 'failed'));
  await assert.rejects(failed, (e: unknown) => e instanceof VirtualInterfaceCreateException);
  await assert.rejects(ev.waitFor('u4', [['network-vif-plugged', 'p9']], async () => 1, { timeoutMs: 20, fatal: true }));

  const d = new FakeDriver({ host: 'h2' });
  injectFailure('h2', { op: 'spawn', times: 1 });
  const args = { instance: inst('u5'), image: { id: 'i', properties: {} }, networkInfo: [], allocations: {}, adminPassword: null, waitForEvents: async <T>(_e: unknown, run: () => Promise<T>) => run() };
  await assert.rejects(d.spawn(args), /injected spawn failure/);
  await d.spawn(args);
  assert.equal(d.getInfo(args.instance).state, 1);
  clearFailures();
});
