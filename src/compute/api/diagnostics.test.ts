/**
 * A compute driver without diagnostics: the manager raises NotImplementedError, it crosses the
 * bus under that class name, and nova-api answers 501 in Nova's fault format (the fake driver
 * has diagnostics, so the whole-cloud test never sees this path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../common/context.js';
import { createApp, APIVersion } from '../../common/http/app.js';
import { createTransport, RpcServer } from '../../common/rpc/index.js';
import { FakeDriver } from '../../virt/fake.js';
import { memoryDb } from '../db/testing.js';
import { ComputeManager } from '../manager.js';
import { CellDbBackend } from '../objects/backend.js';
import { NovaObjectSerializer } from '../objects/index.js';
import { Flavor } from '../objects/flavor.js';
import { Instance } from '../objects/instance.js';
import { InstanceAction } from '../objects/instance-action.js';
import { RequestSpec } from '../objects/request-spec.js';
import { ResourceTracker } from '../resource-tracker.js';
import { ComputeAPI } from '../rpcapi.js';
import { registerDiagnostics } from './diagnostics.js';

test('diagnostics of a driver that has none: NotImplementedError over RPC, 501 from the API', async () => {
  const cell = await memoryDb('cell');
  const bus = await createTransport(`inproc://diagnostics-${process.pid}`);
  const ctx = RequestContext.admin({ projectId: 'p', userId: 'u' });
  const backend = new CellDbBackend(cell);
  const driver = new FakeDriver({ host: 'h1' });
  // Drivers other than the fake one (and libvirt) have neither method.
  Object.assign(driver, { getDiagnostics: undefined, getInstanceDiagnostics: undefined });
  const rt = new ResourceTracker('h1', driver, backend, null);
  const manager = new ComputeManager('h1', driver, backend, {} as never, rt, null, null, null, { instanceAction: async () => {}, notify: async () => {} } as never, { vifPluggingTimeoutMs: 1000, vifPluggingIsFatal: true, maxConcurrentBuilds: 1 });
  const server = new RpcServer(bus, { topic: 'compute', server: 'h1', exchange: 'nova' }, [manager], { serializer: new NovaObjectSerializer() });
  await server.start();
  const app = createApp({ service: 'nova-api', faults: 'nova' });
  try {
    // A running guest, built as the conductor asks for it (no networks).
    await rt.updateAvailableResource(ctx);
    const built = new Instance();
    built.backend = backend;
    built.update({ uuid: 'i-1', project_id: 'p', user_id: 'u', vm_state: 'building', task_state: 'scheduling', power_state: 0, display_name: 'vm', hostname: 'vm', memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, locked: false, created_at: new Date().toISOString() });
    built.flavor = new Flavor().update({ id: 1, flavorid: '1', name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1 });
    await built.create(ctx);
    await InstanceAction.actionStart(backend, ctx, 'i-1', 'create');
    await manager.build_and_run_instance(ctx, { instance: built, image: { id: 'img', properties: {} }, request_spec: new RequestSpec().update({ instance_uuid: 'i-1' }), filter_properties: {}, admin_password: null, injected_files: [], requested_networks: [], security_groups: [], block_device_mapping: [], node: 'h1', limits: {}, host_list: [] });
    await manager.buildsSettled();
    const inst = await Instance.getByUuid(backend, ctx, 'i-1');
    assert.equal(inst.power_state, 1);

    await assert.rejects(manager.get_diagnostics(ctx, { instance: inst }), { name: 'NotImplementedError' });
    const rpc = new ComputeAPI(bus);
    await assert.rejects(rpc.getInstanceDiagnostics(ctx, inst), (e: { excType?: string }) => e.excType === 'NotImplementedError');

    app.addHook('onRequest', async (req) => {
      (req as any).ctx = ctx;
      (req as any).microversion = APIVersion.parse(String(req.headers['x-version'] ?? '2.1'));
    });
    const cellRef = { uuid: 'cell1', isCell0: false };
    registerDiagnostics(app, { get: async () => ({ cell: cellRef, instance: inst }), computeRpcFor: async () => rpc } as never);
    for (const version of ['2.1', '2.48']) {
      const r = await app.inject({ method: 'GET', url: '/servers/i-1/diagnostics', headers: { 'x-version': version } });
      assert.equal(r.statusCode, 501, r.body);
      assert.deepEqual(JSON.parse(r.body), { notImplemented: { code: 501, message: 'The requested functionality is not supported.' } });
    }
  } finally {
    await app.close();
    await server.stop();
    await bus.close();
    await cell.close();
  }
});
