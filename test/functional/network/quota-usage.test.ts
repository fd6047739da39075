/**
 * The port quota is checked against a kept counter (quotausages), not a count per create: it must
 * stay exact through creates, failed creates, deletes (one by one and with their network), and
 * when a quota goes from unlimited (no counter kept) to enforced.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, PROJECTS, type Cloud } from './helpers.js';

void describe('neutron port quota usage', () => {
  let c: Cloud;
  before(async () => { c = await startCloud(); });
  after(async () => { await c.close(); });

  const pid = PROJECTS.demo;
  const counter = async () => {
    const row = await c.server.plugin.core.db.selectFrom('quotausages').select(['in_use', 'dirty'])
      .where('project_id', '=', pid).where('resource', '=', 'port').executeTakeFirst();
    return row ? { inUse: Number(row.in_use), dirty: Number(row.dirty) } : null;
  };
  const realCount = async () => Number((await c.server.plugin.core.db.selectFrom('ports')
    .select((eb: any) => eb.fn.countAll().as('n')).where('project_id', '=', pid).executeTakeFirstOrThrow() as { n: number | string }).n);
  const mkNet = async () => {
    const n = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'q' } })).body.network;
    await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.77.0.0/24' } });
    return n;
  };
  const port = (networkId: string, extra: Record<string, unknown> = {}) =>
    call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: networkId, ...extra } });

  void test('creates count up to the quota, deletes give places back, failed creates take none', async () => {
    assert.equal((await call(c.app, 'admin', 'PUT', `/v2.0/quotas/${pid}`, { quota: { port: 3 } })).status, 200);
    const n = await mkNet();
    const made = [];
    for (let k = 0; k < 3; k++) {
      const r = await port(n.id);
      assert.equal(r.status, 201);
      made.push(r.body.port);
    }
    const over = await port(n.id);
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
    assert.deepEqual(await counter(), { inUse: 3, dirty: 0 });
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${made[0].id}`)).status, 204);
    assert.deepEqual(await counter(), { inUse: 2, dirty: 0 });
    // a create that fails after the quota check (address taken) leaves the counter as it was
    const dup = await port(n.id, { fixed_ips: [{ ip_address: made[1].fixed_ips[0].ip_address }] });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'IpAddressInUse');
    assert.deepEqual(await counter(), { inUse: 2, dirty: 0 });
    assert.equal((await port(n.id)).status, 201);
    assert.equal((await port(n.id)).status, 409);
  });

  void test('the counter follows the ports when a network goes with its DHCP port', async () => {
    const before = await realCount();
    const n = await mkNet();
    for (const p of (await call(c.app, 'demo', 'GET', `/v2.0/ports?project_id=${pid}`)).body.ports) {
      await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${p.id}`);
    }
    assert.equal(await realCount(), 0, `had ${before}`);
    assert.deepEqual(await counter(), { inUse: 0, dirty: 0 });
    // ports the network owns itself (DHCP) go with it
    assert.equal((await port(n.id, { device_owner: 'network:dhcp' })).status, 201);
    assert.equal((await port(n.id, { device_owner: 'network:dhcp' })).status, 201);
    assert.deepEqual(await counter(), { inUse: 2, dirty: 0 });
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    assert.equal(await realCount(), 0);
    assert.deepEqual(await counter(), { inUse: 0, dirty: 0 });
  });

  void test('an unlimited quota keeps no counter; enforcing one again counts the ports first', async () => {
    assert.equal((await call(c.app, 'admin', 'PUT', `/v2.0/quotas/${pid}`, { quota: { port: -1 } })).status, 200);
    const n = await mkNet();
    for (let k = 0; k < 4; k++) assert.equal((await port(n.id)).status, 201);
    assert.equal((await counter())?.dirty, 1);
    assert.equal((await call(c.app, 'admin', 'PUT', `/v2.0/quotas/${pid}`, { quota: { port: 5 } })).status, 200);
    assert.equal((await port(n.id)).status, 201);
    assert.deepEqual(await counter(), { inUse: 5, dirty: 0 });
    assert.equal((await port(n.id)).status, 409);
    assert.equal(await realCount(), 5);
  });
});
