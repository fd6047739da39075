import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, waitFor, PROJECTS, type Cloud } from './helpers.js';
import type { Session } from '../../../src/common/http/client.js';
import { currentContext } from '../../../src/common/context.js';
import { ensureDefaultNetworks } from '../../../src/network/service.js';

/** Stands in for Nova's API: records what the Nova notifier posts. */
function fakeNova() {
  const posts: Array<{ method: string; target: string; path: string; body: any; journey: string | undefined }> = [];
  const session = {
    async request(method: string, target: string, path: string, ro: { body?: unknown } = {}) {
      posts.push({ method, target, path, body: ro.body, journey: currentContext()?.journeyId });
      return { status: 200, headers: new Headers(), body: { events: [] }, requestId: null, url: path };
    },
  } as unknown as Session;
  return { session, posts, events: () => posts.flatMap((p) => p.body.events) };
}

void describe('neutron routers, floating IPs and agents', () => {
  let c: Cloud;
  const nova = fakeNova();
  let pub: any;
  before(async () => {
    c = await startCloud({ agents: true, nova: nova.session });
    await ensureDefaultNetworks(c.server, { demoProjectId: PROJECTS.demo, adminProjectId: PROJECTS.admin });
    pub = (await call(c.app, 'admin', 'GET', '/v2.0/networks?name=public')).body.networks[0];
  });
  after(async () => { await c.close(); });

  const mkNet = async (cidr: string) => {
    const n = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'rn' } })).body.network;
    const s = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr } })).body.subnet;
    return { n, s };
  };

  void test('devstack defaults: public, private, router1', async () => {
    assert.equal(pub['router:external'], true);
    assert.equal(pub['provider:network_type'], 'flat');
    const subs = (await call(c.app, 'admin', 'GET', `/v2.0/subnets?network_id=${pub.id}`)).body.subnets;
    assert.deepEqual(subs.map((s: any) => s.cidr).sort(), ['172.24.4.0/24', '2001:db8::/64']);
    const priv = (await call(c.app, 'demo', 'GET', '/v2.0/networks?name=private')).body.networks[0];
    const psubs = (await call(c.app, 'demo', 'GET', `/v2.0/subnets?network_id=${priv.id}`)).body.subnets;
    assert.ok(psubs.some((s: any) => s.cidr === '10.0.0.0/26'));
    assert.ok(psubs.some((s: any) => s.ipv6_address_mode === 'slaac'));
    const r1 = (await call(c.app, 'demo', 'GET', '/v2.0/routers?name=router1')).body.routers[0];
    assert.equal(r1.external_gateway_info.network_id, pub.id);
    assert.equal(r1.external_gateway_info.external_fixed_ips[0].subnet_id, subs.find((s: any) => s.ip_version === 4).id);
    await ensureDefaultNetworks(c.server, { demoProjectId: PROJECTS.demo, adminProjectId: PROJECTS.admin });
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/routers?name=router1')).body.routers.length, 1, 'idempotent');
  });

  void test('agents report state and are listed alive (admin only)', async () => {
    const r = await call(c.app, 'admin', 'GET', '/v2.0/agents');
    const types = r.body.agents.map((a: any) => a.agent_type).sort();
    assert.deepEqual(types, ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
    assert.ok(r.body.agents.every((a: any) => a.alive === true && a.host === 'net1'));
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/agents')).status, 403);
    const az = await call(c.app, 'demo', 'GET', '/v2.0/availability_zones');
    assert.ok(az.body.availability_zones.some((z: any) => z.name === 'nova' && z.resource === 'router'));
  });

  void test('agent schedulers: which agent hosts a network or router, and moving them', async () => {
    const agents = (await call(c.app, 'admin', 'GET', '/v2.0/agents')).body.agents;
    const dhcp = agents.find((a: any) => a.agent_type === 'DHCP agent');
    const l3 = agents.find((a: any) => a.agent_type === 'L3 agent');
    const { n } = await mkNet('10.26.0.0/24');
    const hosted = await call(c.app, 'admin', 'GET', `/v2.0/networks/${n.id}/dhcp-agents`);
    assert.deepEqual(hosted.body.agents.map((a: any) => a.id), [dhcp.id]);
    const nets = await call(c.app, 'admin', 'GET', `/v2.0/agents/${dhcp.id}/dhcp-networks`);
    assert.ok(nets.body.networks.some((x: any) => x.id === n.id));
    const again = await call(c.app, 'admin', 'POST', `/v2.0/agents/${dhcp.id}/dhcp-networks`, { network_id: n.id });
    assert.equal(again.status, 409);
    assert.equal(again.body.NeutronError.type, 'NetworkHostedByDHCPAgent');
    assert.equal((await call(c.app, 'admin', 'DELETE', `/v2.0/agents/${dhcp.id}/dhcp-networks/${n.id}`)).status, 204);
    assert.deepEqual((await call(c.app, 'admin', 'GET', `/v2.0/networks/${n.id}/dhcp-agents`)).body.agents, []);
    assert.equal((await call(c.app, 'admin', 'POST', `/v2.0/agents/${dhcp.id}/dhcp-networks`, { network_id: n.id })).status, 201);
    const wrongType = await call(c.app, 'admin', 'POST', `/v2.0/agents/${l3.id}/dhcp-networks`, { network_id: n.id });
    assert.equal(wrongType.status, 404);
    const r = (await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { name: 'sched' } })).body.router;
    const onAgent = await call(c.app, 'admin', 'GET', `/v2.0/routers/${r.id}/l3-agents`);
    assert.deepEqual(onAgent.body.agents.map((a: any) => a.id), [l3.id]);
    assert.ok((await call(c.app, 'admin', 'GET', `/v2.0/agents/${l3.id}/l3-routers`)).body.routers.some((x: any) => x.id === r.id));
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/routers/${r.id}/l3-agents`)).status, 403);
    await call(c.app, 'demo', 'DELETE', `/v2.0/routers/${r.id}`);
  });

  void test('router CRUD with gateway, interfaces by subnet and by port, extra routes', async () => {
    const r = await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { name: 'r1', admin_state_up: false, external_gateway_info: { network_id: pub.id } } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const router = r.body.router;
    assert.equal(router.admin_state_up, false);
    assert.equal(router.external_gateway_info.enable_snat, true);
    const { s: s1 } = await mkNet('10.20.0.0/24');
    const { n: n2, s: s2 } = await mkNet('10.21.0.0/24');
    const i1 = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s1.id });
    assert.equal(i1.status, 200, JSON.stringify(i1.body));
    assert.equal(i1.body.subnet_id, s1.id);
    const ip = (await call(c.app, 'demo', 'GET', `/v2.0/ports/${i1.body.port_id}`)).body.port;
    assert.equal(ip.device_id, router.id);
    assert.equal(ip.device_owner, 'network:router_interface');
    assert.equal(ip.fixed_ips[0].ip_address, '10.20.0.1');
    // the L3 agent binds the router ports to its host; the L2 agent brings them up
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${i1.body.port_id}`)).body.port.status === 'ACTIVE', 'router port ACTIVE');
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n2.id } })).body.port;
    // let the DHCP agent serve the port first: binding it later must still end ACTIVE
    await waitFor(async () => (await call(c.app, 'admin', 'GET', `/v2.0/ports?network_id=${n2.id}&device_owner=network:dhcp`)).body.ports[0], 'DHCP port');
    await new Promise((r) => setTimeout(r, 300));
    const i2 = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { port_id: p.id });
    assert.equal(i2.body.port_id, p.id);
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.port.status === 'ACTIVE', 'port interface ACTIVE');
    const byRouter = await call(c.app, 'demo', 'GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_interface`);
    assert.equal(byRouter.body.ports.length, 2);
    const overlap = (await mkNet('10.20.0.0/25')).s;
    const ov = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: overlap.id });
    assert.equal(ov.status, 400);
    const routes = [{ destination: '10.30.0.0/24', nexthop: '10.20.0.5' }, { destination: s2.cidr, nexthop: '10.21.0.9' }];
    const ur = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}`, { router: { routes } });
    assert.equal(ur.status, 200, JSON.stringify(ur.body));
    assert.equal(ur.body.router.routes.length, 2);
    const badRoute = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [{ destination: '10.40.0.0/24', nexthop: '192.168.99.1' }] } });
    assert.equal(badRoute.status, 400);
    assert.equal(badRoute.body.NeutronError.type, 'InvalidRoutes');
    const inUse = await call(c.app, 'demo', 'DELETE', `/v2.0/routers/${router.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.NeutronError.type, 'RouterInUse');
    const byRoute = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: s1.id });
    assert.equal(byRoute.status, 409);
    await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: null } });
    assert.deepEqual((await call(c.app, 'demo', 'GET', `/v2.0/routers/${router.id}`)).body.router.routes, []);
    const direct = await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${i1.body.port_id}`);
    assert.equal(direct.status, 409);
    assert.equal(direct.body.NeutronError.type, 'ServicePortInUse');
    assert.equal((await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: s1.id })).status, 200);
    assert.equal((await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { port_id: p.id })).status, 200);
    const gone = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: s1.id });
    assert.equal(gone.body.NeutronError.type, 'RouterInterfaceNotFoundForSubnet');
    assert.equal((await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}`, { router: { admin_state_up: true } })).body.router.admin_state_up, true);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/routers/${router.id}`)).status, 204);
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/routers/${router.id}`)).body.NeutronError.type, 'RouterNotFound');
  });

  void test('router negatives: gateway on a missing or non-external network, unknown routers', async () => {
    const missing = await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: '00000000-0000-0000-0000-000000000000' } } });
    assert.equal(missing.status, 404);
    const { n } = await mkNet('10.22.0.0/24');
    const notExt = await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: n.id } } });
    assert.equal(notExt.status, 400);
    assert.equal(notExt.body.NeutronError.message, `Bad router request: Network ${n.id} is not an external network.`);
    for (const m of ['GET', 'DELETE']) assert.equal((await call(c.app, 'demo', m, '/v2.0/routers/non_exist_router')).status, 404);
    assert.equal((await call(c.app, 'demo', 'PUT', '/v2.0/routers/non_exist_router', { router: { name: 'x' } })).status, 404);
    const snat = await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: pub.id, enable_snat: false } } });
    assert.equal(snat.status, 403);
  });

  void test('floating IPs: create, associate, status, reassociate, disassociate on port delete, negatives', async () => {
    const { n, s } = await mkNet('10.23.0.0/24');
    const router = (await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { name: 'fr', external_gateway_info: { network_id: pub.id } } })).body.router;
    await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    const p1 = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })).body.port;
    const p2 = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })).body.port;
    const r = await call(c.app, 'demo', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: p1.id } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const fip = r.body.floatingip;
    assert.equal(fip.port_id, p1.id);
    assert.equal(fip.router_id, router.id);
    assert.equal(fip.fixed_ip_address, p1.fixed_ips[0].ip_address);
    assert.match(fip.floating_ip_address, /^172\.24\.4\./);
    assert.equal(fip.port_details.network_id, n.id);
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/floatingips/${fip.id}`)).body.floatingip.status === 'ACTIVE', 'FIP ACTIVE');
    const moved = await call(c.app, 'demo', 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: p2.id } });
    assert.equal(moved.body.floatingip.port_id, p2.id);
    const again = await call(c.app, 'demo', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: p2.id } });
    assert.equal(again.status, 409);
    assert.equal(again.body.NeutronError.type, 'FloatingIPPortAlreadyAssociated');
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${p2.id}`)).status, 204);
    const after = (await call(c.app, 'demo', 'GET', `/v2.0/floatingips/${fip.id}`)).body.floatingip;
    assert.equal(after.port_id, null);
    assert.equal(after.fixed_ip_address, null);
    assert.equal(after.status, 'DOWN');
    // negatives
    const priv = await call(c.app, 'demo', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: n.id } });
    assert.equal(priv.status, 400);
    const { n: lonely } = await mkNet('10.24.0.0/24');
    const lp = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: lonely.id } })).body.port;
    const unreachable = await call(c.app, 'demo', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: lp.id } });
    assert.equal(unreachable.status, 404);
    assert.equal(unreachable.body.NeutronError.type, 'ExternalGatewayForFloatingIPNotFound');
    const assoc = await call(c.app, 'demo', 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: lp.id } });
    assert.equal(assoc.status, 404);
    // an address of the subnet that is not p1's (IPAM picks p1's at random)
    const notP1 = p1.fixed_ips[0].ip_address === '10.23.0.250' ? '10.23.0.251' : '10.23.0.250';
    const badIp = await call(c.app, 'demo', 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: p1.id, fixed_ip_address: notP1 } });
    assert.equal(badIp.status, 400);
    assert.equal((await call(c.app, 'demo', 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } })).body.floatingip.port_id, null);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/floatingips/${fip.id}`)).status, 204);
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/floatingips/${fip.id}`)).body.NeutronError.type, 'FloatingIPNotFound');
  });

  void test('a compute port bound to a host with an L2 agent goes ACTIVE and Nova hears network-vif-plugged', async () => {
    const { n } = await mkNet('10.25.0.0/24');
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, device_id: 'a1b2c3d4-0000-0000-0000-000000000001' } })).body.port;
    const bound = await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'net1', device_owner: 'compute:nova' } });
    assert.equal(bound.body.port['binding:vif_type'], 'bridge');
    assert.equal(bound.body.port['binding:vif_details'].port_filter, true);
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.port.status === 'ACTIVE', 'port ACTIVE');
    const plugged = await waitFor(async () => nova.events().find((e: any) => e.name === 'network-vif-plugged' && e.tag === p.id), 'vif-plugged event');
    assert.deepEqual(plugged, { name: 'network-vif-plugged', server_uuid: 'a1b2c3d4-0000-0000-0000-000000000001', tag: p.id, status: 'completed' });
    assert.equal(nova.posts[0]!.path, '/os-server-external-events');
    assert.equal(nova.posts[0]!.target, 'compute');
    // which journey the event belongs to is asserted in port-active-events.test.ts: here the agents'
    // 100-200 ms resyncs may lift the last block before the notification does on a loaded machine
    // the DHCP agent has a port on the network, bound to its host
    const dhcp = await waitFor(async () => (await call(c.app, 'admin', 'GET', `/v2.0/ports?network_id=${n.id}&device_owner=network:dhcp`)).body.ports[0], 'DHCP port');
    assert.equal(dhcp['binding:host_id'], 'net1');
    await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { admin_state_up: false } });
    await waitFor(async () => (await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.port.status === 'DOWN', 'port DOWN');
    await waitFor(async () => nova.events().some((e: any) => e.name === 'network-vif-unplugged' && e.tag === p.id), 'vif-unplugged event');
    await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${p.id}`);
    await waitFor(async () => nova.events().some((e: any) => e.name === 'network-vif-deleted' && e.tag === p.id), 'vif-deleted event');
  });
});
