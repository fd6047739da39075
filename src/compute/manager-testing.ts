/**
 * A compute manager on an in-memory cell database with the fake driver, and a build the way the
 * conductor asks for one, for unit tests of the manager and what calls it.
 * @module
 */
import { RequestContext } from '../common/context.js';
import type { Database } from '../common/db/connection.js';
import { FakeDriver } from '../virt/fake.js';
import { memoryDb } from './db/testing.js';
import { ComputeManager } from './manager.js';
import { CellDbBackend } from './objects/backend.js';
import { Flavor } from './objects/flavor.js';
import { Instance } from './objects/instance.js';
import { InstanceAction } from './objects/instance-action.js';
import { RequestSpec } from './objects/request-spec.js';
import { ResourceTracker } from './resource-tracker.js';

export interface ManagerRig {
  cell: Database;
  backend: CellDbBackend;
  ctx: RequestContext;
  driver: FakeDriver;
  manager: ComputeManager;
  /** instance.action / phase of every legacy notification the manager sent. */
  notes: string[];
}

/** Host `h1` with its resources reported; `prepare` may change the driver before the manager sees it. */
export async function managerRig(opts: { maxConcurrentBuilds?: number; prepare?: (driver: FakeDriver) => void } = {}): Promise<ManagerRig> {
  const cell = await memoryDb('cell');
  const backend = new CellDbBackend(cell);
  const ctx = RequestContext.admin({ projectId: 'p', userId: 'u' });
  const driver = new FakeDriver({ host: 'h1' });
  opts.prepare?.(driver);
  const rt = new ResourceTracker('h1', driver, backend, null);
  await rt.updateAvailableResource(ctx);
  const notes: string[] = [];
  const notifier = { instanceAction: async (_c: unknown, _i: unknown, a: string, p: string) => { notes.push(`${a}.${p}`); }, notify: async () => {} };
  const manager = new ComputeManager('h1', driver, backend, {} as never, rt, null, null, null, notifier as never, { vifPluggingTimeoutMs: 1000, vifPluggingIsFatal: true, maxConcurrentBuilds: opts.maxConcurrentBuilds ?? 2 });
  return { cell, backend, ctx, driver, manager, notes };
}

/** Creates instance `uuid` as the API and conductor leave it, builds it (no networks) and waits for the build. */
export async function buildOnRig(rig: ManagerRig, uuid: string): Promise<Instance> {
  const { backend, ctx, manager } = rig;
  const inst = new Instance();
  inst.backend = backend;
  inst.update({ uuid, project_id: 'p', user_id: 'u', vm_state: 'building', task_state: 'scheduling', power_state: 0, display_name: 'vm', hostname: 'vm', memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, locked: false, created_at: new Date().toISOString() });
  inst.flavor = new Flavor().update({ id: 1, flavorid: '1', name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1 });
  await inst.create(ctx);
  await InstanceAction.actionStart(backend, ctx, uuid, 'create');
  const spec = new RequestSpec().update({ instance_uuid: uuid });
  await manager.build_and_run_instance(ctx, { instance: inst, image: { id: 'img', properties: {} }, request_spec: spec, filter_properties: {}, admin_password: null, injected_files: [], requested_networks: [], security_groups: [], block_device_mapping: [], node: 'h1', limits: {}, host_list: [] });
  // the cast returns before the build is done (Nova's spawn_n); the build ends on its own
  await manager.buildsSettled();
  return Instance.getByUuid(backend, ctx, uuid);
}
