/**
 * neutron-server and its agents over RabbitMQ, each with its own connection as separate
 * processes would have: report_state heartbeats, the port_update fanout to the L2 agent,
 * device details / device up calls, DHCP port creation, ports going ACTIVE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { openDatabase } from '../../../src/common/db/index.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createTransport } from '../../../src/common/rpc/index.js';
import { createNeutronServer, createL2Agent, createDhcpAgent } from '../../../src/network/service.js';
import { testValidator, waitFor } from '../../functional/network/helpers.js';

setLogDestination('/dev/null');
const RABBIT_URL = process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/';
const reachable = await new Promise<boolean>((resolve) => {
  const u = new URL(RABBIT_URL.replace(/^rabbit:/, 'http:'));
  const s = net.connect(Number(u.port || 5672), u.hostname);
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

void test('server and agents over RabbitMQ: heartbeats, binding, ports ACTIVE', { skip: reachable ? false : 'RabbitMQ not reachable', timeout: 60_000 }, async () => {
  const database = await openDatabase('sqlite://', { service: 'neutron' });
  const serverBus = await createTransport(RABBIT_URL);
  const l2Bus = await createTransport(RABBIT_URL);
  const dhcpBus = await createTransport(RABBIT_URL);
  const host = `rmq-${process.pid}`;
  const server = await createNeutronServer({ database, bus: serverBus, host: 'srv', validator: testValidator });
  await server.start();
  const l2 = await createL2Agent({ bus: l2Bus, host, resyncIntervalMs: 200 });
  const dhcp = await createDhcpAgent({ bus: dhcpBus, host, resyncIntervalMs: 300 });
  try {
    await l2.start();
    await dhcp.start();
    const call = async (who: string, method: string, url: string, body?: unknown) => {
      const r = await server.app.inject({ method: method as 'GET', url, headers: { 'x-auth-token': who, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
      return JSON.parse(r.body || 'null');
    };
    const agents = (await call('admin', 'GET', '/v2.0/agents')).agents;
    assert.deepEqual(agents.map((a: any) => a.agent_type).sort(), ['DHCP agent', 'Linux bridge agent']);
    const n = (await call('demo', 'POST', '/v2.0/networks', { network: { name: 'rmq' } })).network;
    await call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.88.0.0/24' } });
    const p = (await call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })).port;
    const bound = (await call('admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: 'vm' } })).port;
    assert.equal(bound['binding:vif_type'], 'bridge');
    await waitFor(async () => (await call('admin', 'GET', `/v2.0/ports/${p.id}`)).port.status === 'ACTIVE', 'port ACTIVE over AMQP');
    await waitFor(async () => (await call('admin', 'GET', `/v2.0/ports?network_id=${n.id}&device_owner=network:dhcp`)).ports[0]?.status === 'ACTIVE', 'DHCP port ACTIVE');
  } finally {
    await dhcp.stop();
    await l2.stop();
    await server.stop();
    for (const b of [dhcpBus, l2Bus, serverBus]) await b.close();
    await database.close();
  }
});
