import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, waitFor } from './helpers.js';
import { createDhcpAgent, createL3Agent } from '../../../src/network/service.js';

void test('DHCP and L3 agents on a host without an L2 agent bring one along; their ports go ACTIVE', async () => {
  const c = await startCloud();
  const dhcp = await createDhcpAgent({ bus: c.bus, host: 'netnode', resyncIntervalMs: 200 });
  const l3 = await createL3Agent({ bus: c.bus, host: 'netnode', resyncIntervalMs: 200 });
  try {
    await dhcp.start();
    await l3.start();
    const agents = (await call(c.app, 'admin', 'GET', '/v2.0/agents?host=netnode')).body.agents;
    assert.deepEqual(agents.map((a: any) => a.agent_type).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent']);
    const n = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'nn' } })).body.network;
    const s = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.77.0.0/24' } })).body.subnet;
    const port = await waitFor(async () => {
      const p = (await call(c.app, 'admin', 'GET', `/v2.0/ports?network_id=${n.id}&device_owner=network:dhcp`)).body.ports[0];
      return p?.status === 'ACTIVE' ? p : null;
    }, 'DHCP port ACTIVE');
    assert.equal(port['binding:host_id'], 'netnode');
    assert.equal(port['binding:vif_type'], 'bridge');
    assert.ok(dhcp.backend.networks().includes(n.id));
    const r = (await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { name: 'r' } })).body.router;
    const i = (await call(c.app, 'demo', 'PUT', `/v2.0/routers/${r.id}/add_router_interface`, { subnet_id: s.id })).body;
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${i.port_id}`)).body.port.status === 'ACTIVE', 'router port ACTIVE');
    assert.ok(l3.backend.routers().includes(r.id));
  } finally {
    await l3.stop();
    await dhcp.stop();
    await c.close();
  }
});
