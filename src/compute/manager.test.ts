import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../common/context.js';
import { FakeDriver } from '../virt/fake.js';
import { memoryDb } from './db/testing.js';
import * as cellApi from './db/cell-api.js';
import { ComputeManager } from './manager.js';
import { CellDbBackend } from './objects/backend.js';
import { Flavor } from './objects/flavor.js';
import { Instance } from './objects/instance.js';
import { InstanceAction } from './objects/instance-action.js';
import { RequestSpec } from './objects/request-spec.js';
import { ResourceTracker } from './resource-tracker.js';

test('compute manager: build without networks, power-state sync, stop/start with CAS, terminate', async () => {
  const cell = await memoryDb('cell');
  const backend = new CellDbBackend(cell);
  const ctx = RequestContext.admin({ projectId: 'p', userId: 'u' });
  const driver = new FakeDriver({ host: 'h1' });
  const rt = new ResourceTracker('h1', driver, backend, null);
  await rt.updateAvailableResource(ctx);
  const notes: string[] = [];
  const notifier = { instanceAction: async (_c: unknown, _i: unknown, a: string, p: string) => { notes.push(`${a}.${p}`); }, notify: async () => {} };
  const m = new ComputeManager('h1', driver, backend, {} as never, rt, null, null, null, notifier as never, { vifPluggingTimeoutMs: 1000, vifPluggingIsFatal: true, maxConcurrentBuilds: 2 });

  const inst = new Instance();
  inst.backend = backend;
  inst.update({ uuid: 'i-1', project_id: 'p', user_id: 'u', vm_state: 'building', task_state: 'scheduling', power_state: 0, display_name: 'vm', hostname: 'vm', memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, locked: false, created_at: new Date().toISOString() });
  inst.flavor = new Flavor().update({ id: 1, flavorid: '1', name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1 });
  await inst.create(ctx);
  await InstanceAction.actionStart(backend, ctx, 'i-1', 'create');
  const spec = new RequestSpec().update({ instance_uuid: 'i-1' });
  await m.build_and_run_instance(ctx, { instance: inst, image: { id: 'img', properties: {} }, request_spec: spec, filter_properties: {}, admin_password: null, injected_files: [], requested_networks: [], security_groups: [], block_device_mapping: [], node: 'h1', limits: {}, host_list: [] });
  // the cast returns before the build is done (Nova's spawn_n); the build ends on its own
  await m.buildsSettled();
  let got = await Instance.getByUuid(backend, ctx, 'i-1');
  assert.equal(got.vm_state, 'active');
  assert.equal(got.task_state, null);
  assert.equal(got.power_state, 1);
  assert.equal(got.host, 'h1');
  assert.deepEqual(notes, ['create.start', 'create.end']);
  const action = (await cellApi.actionsForInstance(cell, 'i-1'))[0]!;
  assert.deepEqual((await cellApi.actionEvents(cell, action['id'])).map((e) => [e['event'], e['result']]), [['compute__do_build_and_run_instance', 'Success']]);

  // The guest shut itself down: the periodic sync believes the hypervisor.
  driver.setDomainState('i-1', 4);
  await m.syncPowerStates(ctx);
  got = await Instance.getByUuid(backend, ctx, 'i-1');
  assert.equal(got.power_state, 4);
  assert.equal(got.vm_state, 'stopped');

  // start: the API set powering-on; a stale copy with another task state is refused.
  await InstanceAction.actionStart(backend, ctx, 'i-1', 'start');
  got.task_state = 'powering-on';
  await got.save(ctx, { expected_task_state: null });
  await m.start_instance(ctx, { instance: got });
  got = await Instance.getByUuid(backend, ctx, 'i-1');
  assert.equal(got.vm_state, 'active');
  assert.equal(got.power_state, 1);
  const stale = await Instance.getByUuid(backend, ctx, 'i-1');
  stale.task_state = 'powering-off';
  await stale.save(ctx, { expected_task_state: null });
  got.task_state = 'powering-off';
  await assert.rejects(got.save(ctx, { expected_task_state: null }), /Conflict updating instance i-1/);

  // A restart finds the instance mid-task (the stop cast was lost): the task is cleared.
  await m.initInstances(ctx);
  got = await Instance.getByUuid(backend, ctx, 'i-1');
  assert.equal(got.task_state, null);
  assert.equal(got.vm_state, 'active');
  await m.terminate_instance(ctx, { instance: stale });
  await assert.rejects(Instance.getByUuid(backend, ctx, 'i-1'), /could not be found/);
  assert.equal(driver.instanceExists(stale), false);
  await cell.close();
});
