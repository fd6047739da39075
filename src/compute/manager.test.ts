import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as cellApi from './db/cell-api.js';
import { buildOnRig, managerRig } from './manager-testing.js';
import { Instance } from './objects/instance.js';
import { InstanceAction } from './objects/instance-action.js';

test('compute manager: build without networks, power-state sync, stop/start with CAS, terminate', async () => {
  const rig = await managerRig();
  const { cell, backend, ctx, driver, manager: m, notes } = rig;
  let got = await buildOnRig(rig, 'i-1');
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
