/**
 * `allow_resize_to_same_host` on a one-host cloud (devstack's setting): resize lands on the same
 * host, revert and confirm work there and Placement ends with one allocation of the right
 * flavor; a cold migrate (same flavor) to the same host is refused, since the fake driver
 * cannot migrate to itself (UnableToMigrateToSelf).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };

test('resize to the same host: revert, confirm; one host', async () => {
  process.env['OS_DEFAULT__ALLOW_RESIZE_TO_SAME_HOST'] = 'true';
  try {
    await withCloud(1, async (cloud) => {
      const demo = await login(cloud, 'demo');
      const admin = await login(cloud, 'admin');
      const { imageRef, networkId } = await bootArgs(demo);
      const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'sh', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
      const id = r.body.server.id;
      await waitForStatus(demo, id, 'ACTIVE');
      const rp = (await admin.call('GET', 'placement', '/resource_providers', undefined, PLACEMENT)).body.resource_providers[0].uuid;
      const usage = async () => (await admin.call('GET', 'placement', `/resource_providers/${rp}/usages`, undefined, PLACEMENT)).body.usages.MEMORY_MB;

      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } })).status, 202);
      let s = await waitForStatus(demo, id, 'VERIFY_RESIZE');
      assert.equal(await usage(), 512 + 2048, 'old flavor (migration) and new flavor (instance) on the one host');
      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null })).status, 202);
      s = await waitForStatus(demo, id, 'ACTIVE');
      assert.equal(s['OS-EXT-STS:power_state'], 1);
      assert.equal(await usage(), 512);

      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } })).status, 202);
      await waitForStatus(demo, id, 'VERIFY_RESIZE');
      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null })).status, 204);
      s = await waitForStatus(demo, id, 'ACTIVE');
      assert.equal(s['OS-EXT-STS:power_state'], 1);
      assert.equal(await usage(), 2048);
      assert.equal(Object.keys((await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations).length, 1);

      // migrate keeps the flavor: the compute refuses to migrate to itself; the server is left as it was.
      assert.equal((await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: null })).status, 202);
      for (let i = 0; i < 100; i++) {
        const m = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations[0];
        if (m.status === 'error') break;
        await new Promise((res) => setTimeout(res, 50));
      }
      s = await waitForStatus(admin, id, 'ACTIVE');
      assert.equal(await usage(), 2048);
      assert.equal((await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations[0].status, 'error');
    });
  } finally {
    delete process.env['OS_DEFAULT__ALLOW_RESIZE_TO_SAME_HOST'];
  }
});
