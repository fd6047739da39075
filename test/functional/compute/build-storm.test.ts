/**
 * More builds cast to one compute than its RPC executor has workers (64) and than
 * `max_concurrent_builds` (10) lets run: every one still reaches ACTIVE. The casts return at
 * once, as Nova's spawn_n makes them, so the network-vif-plugged events the running builds wait
 * for are dispatched instead of queueing behind builds waiting for a slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { login, withCloud } from './helpers.js';

const SERVERS = 90;

test(`${SERVERS} servers in one request on one compute all become ACTIVE`, async () => {
  await withCloud(1, async (cloud) => {
    const c = await login(cloud, 'admin');
    const project = (await c.call('GET', 'identity', '/auth/tokens', undefined, { 'x-subject-token': c.token })).body.token.project.id;
    assert.equal((await c.call('PUT', 'compute', `/os-quota-sets/${project}`, { quota_set: { instances: -1, cores: -1, ram: -1 } })).status, 200);
    assert.equal((await c.call('PUT', 'network', `/v2.0/quotas/${project}`, { quota: { port: -1 } })).status, 200);
    const net = (await c.call('POST', 'network', '/v2.0/networks', { network: { name: 'storm' } })).body.network.id;
    assert.equal((await c.call('POST', 'network', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.77.0.0/20' } })).status, 201);
    const image = (await c.call('GET', 'image', '/v2/images')).body.images[0].id;
    const r = await c.call('POST', 'compute', '/servers', { server: { name: 'storm', imageRef: image, flavorRef: '42', networks: [{ uuid: net }], min_count: SERVERS, max_count: SERVERS, return_reservation_id: true } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const reservation = r.body.reservation_id;
    let statuses: Record<string, number> = {};
    const t0 = Date.now();
    for (;;) {
      const servers = (await c.call('GET', 'compute', `/servers/detail?reservation_id=${reservation}&limit=1000`)).body.servers as any[];
      statuses = {};
      for (const s of servers) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
      if (statuses['ACTIVE'] === SERVERS || statuses['ERROR'] || Date.now() - t0 > 120_000) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.deepEqual(statuses, { ACTIVE: SERVERS });
  });
});
