/**
 * A bound port goes ACTIVE from the server's notifications alone: the L2 agent wires it when
 * the `port_update` fanout arrives and the DHCP agent serves it on `port_create_end` /
 * `port_update_end`. The agents' periodic resyncs are set to an hour, so no periodic pass can
 * be what lifted the provisioning blocks (the DHCP agent's one pass at start-up sees no network).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, waitFor, type Cloud } from './helpers.js';
import type { Session } from '../../../src/common/http/client.js';
import { currentContext } from '../../../src/common/context.js';

const HOUR = 3_600_000;

function fakeNova() {
  const events: any[] = [];
  const journeys = new Map<string, string | undefined>();
  const session = {
    async request(_m: string, _t: string, _p: string, ro: { body?: any } = {}) {
      events.push(...(ro.body?.events ?? []));
      for (const e of ro.body?.events ?? []) journeys.set(`${e.name} ${e.tag}`, currentContext()?.journeyId);
      return { status: 200, headers: new Headers(), body: { events: [] }, requestId: null, url: _p };
    },
  } as unknown as Session;
  return { session, events, journeys };
}

void describe('ports go ACTIVE from agent notifications, not periodic resyncs', () => {
  let c: Cloud;
  const nova = fakeNova();
  let netId = '';
  before(async () => {
    c = await startCloud({ agents: true, nova: nova.session, resyncIntervalMs: HOUR });
    const net = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'ev' } })).body.network;
    netId = net.id;
    const sub = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: netId, ip_version: 4, cidr: '10.77.0.0/24' } });
    assert.equal(sub.status, 201);
  });
  after(async () => { await c.close(); });

  const status = async (id: string) => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${id}`)).body.port.status;

  void test('binding an existing port (Nova\'s update_port) makes it ACTIVE and sends network-vif-plugged', async () => {
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: netId } })).body.port;
    assert.equal(p.status, 'DOWN');
    const bound = await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, {
      port: { 'binding:host_id': 'net1', device_owner: 'compute:nova', device_id: 'b0000000-0000-0000-0000-000000000001' },
    });
    assert.equal(bound.body.port['binding:vif_type'], 'bridge');
    await waitFor(async () => (await status(p.id)) === 'ACTIVE', 'port ACTIVE');
    await waitFor(async () => nova.events.some((e) => e.name === 'network-vif-plugged' && e.tag === p.id && e.status === 'completed'), 'vif-plugged');
    // the event belongs to the journey of the request that bound the port (API -> agents -> server
    // -> Nova); with no periodic pass running, nothing else can have lifted the last block
    assert.equal(nova.journeys.get(`network-vif-plugged ${p.id}`), bound.headers['x-openstack-request-id']);
    // the DHCP agent served the network too (its port exists and is bound here), all without a resync pass
    const dhcp = (await call(c.app, 'admin', 'GET', `/v2.0/ports?network_id=${netId}&device_owner=network:dhcp`)).body.ports;
    assert.equal(dhcp.length, 1);
    assert.equal(dhcp[0]['binding:host_id'], 'net1');
  });

  void test('the DHCP agent serves a new port of a network it serves without re-reading the network', async () => {
    // the network is served already (first test); count the agent's full-network reads from here
    const plugin = (c.dhcp as any).plugin as { call: (ctx: unknown, method: string, args: unknown) => Promise<unknown> };
    const call0 = plugin.call.bind(plugin);
    const methods: string[] = [];
    plugin.call = (ctx, method, args) => { methods.push(method); return call0(ctx, method, args); };
    try {
      await c.dhcp!.settle();
      const p = (await call(c.app, 'admin', 'POST', '/v2.0/ports', {
        port: { network_id: netId, 'binding:host_id': 'net1', device_owner: 'compute:nova', device_id: 'b0000000-0000-0000-0000-000000000003' },
      })).body.port;
      await waitFor(async () => (await status(p.id)) === 'ACTIVE', 'port ACTIVE');
      assert.ok(methods.includes('dhcp_ready_on_ports'), JSON.stringify(methods));
      assert.ok(!methods.includes('get_active_networks_info'), JSON.stringify(methods));
    } finally {
      plugin.call = call0;
    }
  });

  void test('a port created already bound goes ACTIVE; admin down brings it DOWN', async () => {
    const p = (await call(c.app, 'admin', 'POST', '/v2.0/ports', {
      port: { network_id: netId, 'binding:host_id': 'net1', device_owner: 'compute:nova', device_id: 'b0000000-0000-0000-0000-000000000002' },
    })).body.port;
    await waitFor(async () => (await status(p.id)) === 'ACTIVE', 'port ACTIVE');
    await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { admin_state_up: false } });
    await waitFor(async () => (await status(p.id)) === 'DOWN', 'port DOWN');
  });
});
