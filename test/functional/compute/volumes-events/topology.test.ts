/**
 * GET /servers/{id}/topology (2.78) on a whole cloud: 404 below 2.78, owners and admins read
 * it, and an instance without a NUMA topology (the fake driver's) has no nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { at } from './helpers.js';

test('server topology: version, policy, no NUMA topology', { timeout: 60_000 }, async () => {
  raiseMicroversionCeilingForTests('2.92');
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const boot = await demo.call('POST', 'compute', '/servers', { server: { name: 'topo', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(boot.status, 202);
    const id = boot.body.server.id as string;
    await waitForStatus(demo, id, 'ACTIVE');
    const T = `/servers/${id}/topology`;
    assert.equal((await demo.call('GET', 'compute', T, undefined, at('2.77'))).status, 404);
    for (const c of [demo, admin]) {
      const r = await c.call('GET', 'compute', T, undefined, at('2.78'));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { nodes: [], pagesize_kb: null });
    }
    assert.equal((await demo.call('GET', 'compute', '/servers/00000000-0000-4000-8000-000000000000/topology', undefined, at('2.78'))).status, 404);
  });
});
