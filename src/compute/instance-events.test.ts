import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InstanceEvents } from './instance-events.js';
import { VirtualInterfaceCreateException } from './exception.js';

const plugged: [string, string][] = [['network-vif-plugged', 'port-1']];

test('an event that comes while waiting, and one that came before the wait, both end it', async () => {
  const ev = new InstanceEvents();
  const waited = ev.waitFor('i-1', plugged, async () => {
    setImmediate(() => assert.ok(ev.pop('i-1', 'network-vif-plugged', 'port-1', 'completed')));
    return 'spawned';
  }, { timeoutMs: 5000, fatal: true });
  assert.equal(await waited, 'spawned');
  assert.equal(ev.pop('i-2', 'network-vif-plugged', 'port-1', 'completed'), false, 'kept as an early event');
  assert.equal(await ev.waitFor('i-2', plugged, async () => 'spawned', { timeoutMs: 5000, fatal: true }), 'spawned');
});

test('cancelAll (the compute stops): waits in flight and later ones fail at once', async () => {
  const ev = new InstanceEvents();
  const inFlight = ev.waitFor('i-1', plugged, async () => undefined, { timeoutMs: 60_000, fatal: true });
  await new Promise((r) => setImmediate(r));
  ev.cancelAll();
  await assert.rejects(inFlight, VirtualInterfaceCreateException);
  await assert.rejects(ev.waitFor('i-2', plugged, async () => undefined, { timeoutMs: 60_000, fatal: true }), VirtualInterfaceCreateException);
  assert.equal(await ev.waitFor('i-3', plugged, async () => 'not fatal', { timeoutMs: 60_000, fatal: false }), 'not fatal');
});
