/**
 * A compute driver without diagnostics: the manager raises NotImplementedError, it crosses the
 * bus under that class name, and nova-api answers 501 in Nova's fault format (the fake driver
 * has diagnostics, so the whole-cloud test never sees this path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, APIVersion } from '../../common/http/app.js';
import { createTransport, RpcServer } from '../../common/rpc/index.js';
import { buildOnRig, managerRig } from '../manager-testing.js';
import { NovaObjectSerializer } from '../objects/index.js';
import { ComputeAPI } from '../rpcapi.js';
import { registerDiagnostics } from './diagnostics.js';

test('diagnostics of a driver that has none: NotImplementedError over RPC, 501 from the API', async () => {
  // Drivers other than the fake one (and libvirt) have neither method.
  const rig = await managerRig({ prepare: (driver) => Object.assign(driver, { getDiagnostics: undefined, getInstanceDiagnostics: undefined }) });
  const { cell, ctx, manager } = rig;
  const bus = await createTransport(`inproc://diagnostics-${process.pid}`);
  const server = new RpcServer(bus, { topic: 'compute', server: 'h1', exchange: 'nova' }, [manager], { serializer: new NovaObjectSerializer() });
  await server.start();
  const app = createApp({ service: 'nova-api', faults: 'nova' });
  try {
    const inst = await buildOnRig(rig, 'i-1');
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
