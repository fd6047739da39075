/**
 * `shelved_offload_time` > 0: shelve leaves the server SHELVED on its host (allocation kept),
 * `_poll_shelved_instances` offloads it once the time has passed; a SHELVED server unshelves by
 * starting again where it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };

test('shelved_offload_time: SHELVED first, offloaded later; unshelve of SHELVED starts in place', async () => {
  process.env['OS_DEFAULT__SHELVED_OFFLOAD_TIME'] = '2';
  try {
    await withCloud(1, async (cloud) => {
      const demo = await login(cloud, 'demo');
      const admin = await login(cloud, 'admin');
      const { imageRef, networkId } = await bootArgs(demo);
      const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'sd', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
      const id = r.body.server.id;
      await waitForStatus(demo, id, 'ACTIVE');

      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { shelve: null })).status, 202);
      let s = await waitForStatus(admin, id, 'SHELVED');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], cloud.computeHosts[0]);
      assert.equal(Object.keys((await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations).length, 1);
      // Unshelve right away: it starts where it is.
      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { unshelve: null })).status, 202);
      s = await waitForStatus(admin, id, 'ACTIVE');
      assert.equal(s['OS-EXT-STS:power_state'], 1);

      assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { shelve: null })).status, 202);
      await waitForStatus(admin, id, 'SHELVED');
      s = await waitForStatus(admin, id, 'SHELVED_OFFLOADED', 30_000);
      assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
      assert.deepEqual((await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations, {});
    });
  } finally {
    delete process.env['OS_DEFAULT__SHELVED_OFFLOAD_TIME'];
  }
});
