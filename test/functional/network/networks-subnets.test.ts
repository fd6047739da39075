import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, type Cloud } from './helpers.js';

void describe('neutron networks and subnets', () => {
  let c: Cloud;
  before(async () => { c = await startCloud(); });
  after(async () => { await c.close(); });

  const net = async (who = 'demo', body: Record<string, unknown> = {}) =>
    (await call(c.app, who, 'POST', '/v2.0/networks', { network: { name: 'n', ...body } })).body.network;

  void test('GET / is the public version document', async () => {
    const r = await c.app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
    const v = JSON.parse(r.body).versions;
    assert.deepEqual(v.map((x: any) => [x.id, x.status]), [['v2.0', 'CURRENT']]);
    assert.ok(v[0].links[0].href.endsWith('/v2.0/'));
  });

  void test('requests without a token get 401 with WWW-Authenticate', async () => {
    const r = await c.app.inject({ method: 'GET', url: '/v2.0/networks' });
    assert.equal(r.statusCode, 401);
    assert.match(String(r.headers['www-authenticate']), /Keystone uri=/);
  });

  void test('network create/show/update/delete with standard attributes', async () => {
    const r = await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'net1', description: 'd1' } });
    assert.equal(r.status, 201);
    const n = r.body.network;
    assert.equal(n.status, 'ACTIVE');
    assert.equal(n.admin_state_up, true);
    assert.equal(n.shared, false);
    assert.equal(n['router:external'], false);
    assert.equal(n.mtu, 1450);
    assert.equal(n.revision_number, 1);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(n.project_id, n.tenant_id);
    assert.equal('provider:network_type' in n, false, 'provider attributes are admin-only');
    const u = await call(c.app, 'demo', 'PUT', `/v2.0/networks/${n.id}`, { network: { name: 'New_network', description: 'd2' } });
    assert.equal(u.status, 200);
    assert.equal(u.body.network.name, 'New_network');
    assert.equal(u.body.network.revision_number, 2);
    const f = await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}?fields=id&fields=name&fields=mtu`);
    assert.deepEqual(Object.keys(f.body.network).sort(), ['id', 'mtu', 'name']);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    const g = await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}`);
    assert.equal(g.status, 404);
    assert.equal(g.body.NeutronError.type, 'NetworkNotFound');
    assert.equal(g.body.NeutronError.message, `Network ${n.id} could not be found.`);
  });

  void test('bad bodies get Neutron 400s', async () => {
    let r = await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'x', bogus: 1 } });
    assert.equal(r.status, 400);
    assert.equal(r.body.NeutronError.message, "Unrecognized attribute(s) 'bogus'");
    r = await call(c.app, 'demo', 'POST', '/v2.0/networks', { net: {} });
    assert.equal(r.status, 400);
    assert.equal(r.body.NeutronError.message, "Unable to find 'network' in request body");
    r = await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { admin_state_up: 'maybe' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.NeutronError.type, 'InvalidInput');
    r = await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { 'router:external': true } });
    assert.equal(r.status, 403);
    r = await call(c.app, 'demo', 'PUT', '/v2.0/networks/x', { network: { status: 'DOWN' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.NeutronError.message, 'Cannot update read-only attribute status');
    r = await call(c.app, 'demo', 'GET', '/v2.0/frobnicators');
    assert.equal(r.status, 404);
  });

  void test('provider networks (admin): flat, vlan, vxlan and conflicts', async () => {
    const flat = await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { name: 'f', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet9' } });
    assert.equal(flat.status, 201);
    assert.equal(flat.body.network['provider:physical_network'], 'physnet9');
    assert.equal(flat.body.network.mtu, 1500);
    const dup = await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'physnet9' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'FlatNetworkInUse');
    const vlan = await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 1234 } });
    assert.equal(vlan.body.network['provider:segmentation_id'], 1234);
    const vdup = await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 1234 } });
    assert.equal(vdup.body.NeutronError.type, 'VlanIdInUse');
    const bad = await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 5000 } });
    assert.equal(bad.status, 400);
    const a = await call(c.app, 'admin', 'GET', `/v2.0/networks/${(await net('demo')).id}`);
    assert.equal(a.body.network['provider:network_type'], 'vxlan');
    assert.ok(a.body.network['provider:segmentation_id'] >= 1);
  });

  void test('subnet with all attributes, normalised cidr, default pools', async () => {
    const n = await net();
    const r = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: {
      network_id: n.id, ip_version: 4, cidr: '10.100.0.0/28', gateway_ip: '10.100.0.1', enable_dhcp: true,
      dns_nameservers: ['8.8.4.4', '8.8.8.8'], host_routes: [{ destination: '10.20.0.0/32', nexthop: '10.100.1.1' }],
    } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const s = r.body.subnet;
    assert.deepEqual(s.allocation_pools, [{ start: '10.100.0.2', end: '10.100.0.14' }]);
    assert.deepEqual(s.dns_nameservers, ['8.8.4.4', '8.8.8.8']);
    assert.deepEqual(s.host_routes, [{ destination: '10.20.0.0/32', nexthop: '10.100.1.1' }]);
    const g = await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}`);
    assert.deepEqual(g.body.network.subnets, [s.id]);
    const n2 = await net();
    const x = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n2.id, ip_version: 4, cidr: '10.9.9.7/24', gateway_ip: null } });
    assert.equal(x.body.subnet.cidr, '10.9.9.0/24');
    assert.equal(x.body.subnet.gateway_ip, null);
    assert.deepEqual(x.body.subnet.allocation_pools, [{ start: '10.9.9.1', end: '10.9.9.254' }]);
  });

  void test('allocation pools: custom, out of bounds, overlapping, gateway conflict', async () => {
    const n = await net();
    const ok = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.5.0.0/24', allocation_pools: [{ start: '10.5.0.3', end: '10.5.0.7' }] } });
    assert.deepEqual(ok.body.subnet.allocation_pools, [{ start: '10.5.0.3', end: '10.5.0.7' }]);
    const n2 = await net();
    const oob = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n2.id, ip_version: 4, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.3', end: '10.6.1.7' }] } });
    assert.equal(oob.body.NeutronError.type, 'OutOfBoundsAllocationPool');
    const ov = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n2.id, ip_version: 4, cidr: '10.6.0.0/24', allocation_pools: [{ start: '10.6.0.3', end: '10.6.0.9' }, { start: '10.6.0.8', end: '10.6.0.20' }] } });
    assert.equal(ov.status, 409);
    assert.equal(ov.body.NeutronError.type, 'OverlappingAllocationPools');
    const gw = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n2.id, ip_version: 4, cidr: '10.6.0.0/24', gateway_ip: '10.6.0.5', allocation_pools: [{ start: '10.6.0.3', end: '10.6.0.9' }] } });
    assert.equal(gw.body.NeutronError.type, 'GatewayConflictWithAllocationPools');
  });

  void test('overlapping subnets on one network: 400 "overlaps with another subnet"', async () => {
    const n = await net();
    await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.7.0.0/24' } });
    const r = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.7.0.0/25' } });
    assert.equal(r.status, 400);
    assert.match(r.body.NeutronError.message, /overlaps with another subnet/);
  });

  void test('subnet update: gateway, dns, host routes, dhcp', async () => {
    const n = await net();
    const s = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.8.0.0/28', gateway_ip: '10.8.0.1', allocation_pools: [{ start: '10.8.0.3', end: '10.8.0.7' }] } })).body.subnet;
    const u = await call(c.app, 'demo', 'PUT', `/v2.0/subnets/${s.id}`, { subnet: {
      name: 'New_subnet', gateway_ip: '10.8.0.2', dns_nameservers: ['7.8.8.8', '7.8.4.4'], host_routes: [{ destination: '10.20.0.0/32', nexthop: '10.100.1.2' }], enable_dhcp: true,
    } });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.subnet.gateway_ip, '10.8.0.2');
    assert.equal(u.body.subnet.name, 'New_subnet');
    assert.deepEqual(u.body.subnet.host_routes, [{ destination: '10.20.0.0/32', nexthop: '10.100.1.2' }]);
    const bad = await call(c.app, 'demo', 'PUT', `/v2.0/subnets/${s.id}`, { subnet: { dns_nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] } });
    assert.equal(bad.body.NeutronError.type, 'DNSNameServersExhausted');
  });

  void test('deleting a network deletes its subnets', async () => {
    const n = await net();
    const s = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.10.0.0/24' } })).body.subnet;
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    const g = await call(c.app, 'demo', 'GET', `/v2.0/subnets/${s.id}`);
    assert.equal(g.status, 404);
    assert.equal(g.body.NeutronError.type, 'SubnetNotFound');
  });

  void test('network with a port in use cannot be deleted', async () => {
    const n = await net();
    await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.11.0.0/24' } });
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })).body.port;
    const d = await call(c.app, 'demo', 'DELETE', `/v2.0/networks/${n.id}`);
    assert.equal(d.status, 409);
    assert.equal(d.body.NeutronError.type, 'NetworkInUse');
    const ds = await call(c.app, 'demo', 'DELETE', `/v2.0/subnets/${p.fixed_ips[0].subnet_id}`);
    assert.equal(ds.status, 409);
    assert.equal(ds.body.NeutronError.type, 'SubnetInUse');
  });

  void test('external networks: visible to all, their subnets only to the owner; router:external filter', async () => {
    const ext = (await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { name: 'ext', 'router:external': true } })).body.network;
    await call(c.app, 'admin', 'POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '172.30.0.0/24' } });
    const l = await call(c.app, 'demo', 'GET', '/v2.0/networks?router:external=True');
    assert.ok(l.body.networks.some((x: any) => x.id === ext.id));
    assert.ok(l.body.networks.every((x: any) => x['router:external'] === true));
    const subs = await call(c.app, 'demo', 'GET', `/v2.0/subnets?network_id=${ext.id}`);
    assert.deepEqual(subs.body.subnets, []);
    const other = await call(c.app, 'alt', 'GET', '/v2.0/networks');
    assert.ok(!other.body.networks.some((x: any) => x.project_id === (l.body.networks.find((y: any) => !y['router:external'])?.project_id ?? 'none')));
  });

  void test('shared networks are visible and usable by other projects', async () => {
    const sh = (await call(c.app, 'admin', 'POST', '/v2.0/networks', { network: { name: 'shared', shared: true } })).body.network;
    assert.equal(sh.shared, true);
    await call(c.app, 'admin', 'POST', '/v2.0/subnets', { subnet: { network_id: sh.id, ip_version: 4, cidr: '10.50.0.0/24' } });
    const subs = await call(c.app, 'alt', 'GET', `/v2.0/subnets?network_id=${sh.id}`);
    assert.equal(subs.body.subnets.length, 1);
    const p = await call(c.app, 'alt', 'POST', '/v2.0/ports', { port: { network_id: sh.id } });
    assert.equal(p.status, 201);
    const unshare = await call(c.app, 'admin', 'PUT', `/v2.0/networks/${sh.id}`, { network: { shared: false } });
    assert.equal(unshare.status, 409);
    assert.equal(unshare.body.NeutronError.type, 'InvalidSharedSetting');
    const rbac = await call(c.app, 'admin', 'GET', `/v2.0/rbac-policies?object_id=${sh.id}`);
    assert.equal(rbac.body.rbac_policies[0].target_tenant, '*');
  });

  void test('sorting and marker pagination with links', async () => {
    for (const name of ['pg-c', 'pg-a', 'pg-b']) await net('alt', { name });
    const p1 = await call(c.app, 'alt', 'GET', '/v2.0/networks?limit=2&sort_key=name&sort_dir=asc&router:external=False&shared=False');
    assert.deepEqual(p1.body.networks.map((x: any) => x.name), ['pg-a', 'pg-b']);
    const next = p1.body.networks_links.find((l: any) => l.rel === 'next');
    assert.ok(next);
    const url = new URL(next.href);
    const p2 = await call(c.app, 'alt', 'GET', `${url.pathname}${url.search}`);
    assert.deepEqual(p2.body.networks.map((x: any) => x.name), ['pg-c']);
    assert.ok(p2.body.networks_links.some((l: any) => l.rel === 'previous'));
    const bad = await call(c.app, 'alt', 'GET', '/v2.0/networks?sort_key=bogus');
    assert.equal(bad.status, 400);
  });

  void test('IPv6 subnets: mode validation, EUI-64 SLAAC addresses, stateful allocation', async () => {
    const n = await net();
    for (const [ra, am] of [['dhcpv6-stateless', 'dhcpv6-stateful'], ['slaac', 'dhcpv6-stateful'], ['dhcpv6-stateful', 'slaac']]) {
      const r = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:1::/64', ipv6_ra_mode: ra, ipv6_address_mode: am } });
      assert.equal(r.status, 400, `${ra}/${am}`);
    }
    const v4modes = await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.60.0.0/24', ipv6_address_mode: 'slaac' } });
    assert.equal(v4modes.status, 400);
    const slaac = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).body.subnet;
    const stateful = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:2::/64', ipv6_address_mode: 'dhcpv6-stateful' } })).body.subnet;
    assert.deepEqual(stateful.allocation_pools, [{ start: '2001:db8:2::2', end: '2001:db8:2:0:ffff:ffff:ffff:ffff' }]);
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: '00:16:3e:12:34:56' } })).body.port;
    const ips = Object.fromEntries(p.fixed_ips.map((f: any) => [f.subnet_id, f.ip_address]));
    assert.equal(ips[slaac.id], '2001:db8:1:0:216:3eff:fe12:3456');
    assert.ok(ips[stateful.id].startsWith('2001:db8:2:'));
    const dup = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: ips[stateful.id] }] } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'IpAddressInUse');
    const out = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:3::5' }] } });
    assert.equal(out.status, 400);
    assert.equal(out.body.NeutronError.type, 'InvalidIpForSubnet');
  });

  void test('a SLAAC subnet added later gives existing ports their EUI-64 address (router ports excepted)', async () => {
    const n = await net();
    await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.61.0.0/24' } });
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: '00:16:3e:00:00:07' } })).body.port;
    assert.equal(p.fixed_ips.length, 1);
    const s6 = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:61::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).body.subnet;
    const after = (await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.port;
    assert.deepEqual(after.fixed_ips.map((f: any) => f.subnet_id).includes(s6.id), true);
    assert.ok(after.fixed_ips.some((f: any) => f.ip_address === '2001:db8:61:0:216:3eff:fe00:7'));
    const del = await call(c.app, 'demo', 'DELETE', `/v2.0/subnets/${s6.id}`);
    assert.equal(del.status, 204, 'auto addresses do not keep a subnet in use');
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.port.fixed_ips.length, 1);
  });

  void test('subnet pools: CRUD and allocation of a prefix', async () => {
    const r = await call(c.app, 'demo', 'POST', '/v2.0/subnetpools', { subnetpool: { name: 'pool1', prefixes: ['10.200.0.0/16'], default_prefixlen: 24 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const pool = r.body.subnetpool;
    assert.equal(pool.ip_version, 4);
    assert.equal(pool.min_prefixlen, 8);
    assert.equal(pool.max_prefixlen, 32);
    const n = await net();
    const s1 = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: pool.id } })).body.subnet;
    const s2 = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: pool.id, prefixlen: 26 } })).body.subnet;
    assert.equal(s1.cidr, '10.200.0.0/24');
    assert.equal(s2.cidr, '10.200.1.0/26');
    const u = await call(c.app, 'demo', 'PUT', `/v2.0/subnetpools/${pool.id}`, { subnetpool: { name: 'renamed' } });
    assert.equal(u.body.subnetpool.name, 'renamed');
    const inUse = await call(c.app, 'demo', 'DELETE', `/v2.0/subnetpools/${pool.id}`);
    assert.equal(inUse.status, 409);
    const empty = await call(c.app, 'demo', 'POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: [] } });
    assert.equal(empty.body.NeutronError.type, 'EmptySubnetPoolPrefixList');
  });

  void test('tags: set, add, check, filter, remove', async () => {
    const n = await net();
    let r = await call(c.app, 'demo', 'PUT', `/v2.0/networks/${n.id}/tags`, { tags: ['red', 'blue'] });
    assert.deepEqual(r.body.tags.sort(), ['blue', 'red']);
    assert.equal((await call(c.app, 'demo', 'PUT', `/v2.0/networks/${n.id}/tags/green`)).status, 201);
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}/tags/green`)).status, 204);
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}/tags/purple`)).status, 404);
    r = await call(c.app, 'demo', 'GET', '/v2.0/networks?tags=red,green');
    assert.deepEqual(r.body.networks.map((x: any) => x.id), [n.id]);
    r = await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}`);
    assert.deepEqual(r.body.network.tags.sort(), ['blue', 'green', 'red']);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/networks/${n.id}/tags`)).status, 204);
    r = await call(c.app, 'demo', 'GET', `/v2.0/networks/${n.id}/tags`);
    assert.deepEqual(r.body.tags, []);
  });

  void test('quotas: show, update, over quota 409, details, reset', async () => {
    const pid = (await net('alt')).project_id;
    let r = await call(c.app, 'alt', 'GET', `/v2.0/quotas/${pid}`);
    assert.equal(r.body.quota.network, 100);
    assert.equal((await call(c.app, 'alt', 'PUT', `/v2.0/quotas/${pid}`, { quota: { network: 1 } })).status, 403);
    r = await call(c.app, 'admin', 'PUT', `/v2.0/quotas/${pid}`, { quota: { router: 0 } });
    assert.equal(r.body.quota.router, 0);
    r = await call(c.app, 'alt', 'POST', '/v2.0/routers', { router: { name: 'r' } });
    assert.equal(r.status, 409);
    assert.equal(r.body.NeutronError.type, 'OverQuota');
    r = await call(c.app, 'alt', 'GET', `/v2.0/quotas/${pid}/details`);
    assert.equal(r.body.quota.router.limit, 0);
    assert.ok(r.body.quota.network.used >= 1);
    assert.equal((await call(c.app, 'admin', 'DELETE', `/v2.0/quotas/${pid}`)).status, 204);
    r = await call(c.app, 'alt', 'GET', `/v2.0/quotas/${pid}`);
    assert.equal(r.body.quota.router, 10);
  });

  void test('extensions list is truthful and lookups 404', async () => {
    const r = await call(c.app, 'demo', 'GET', '/v2.0/extensions');
    const aliases = r.body.extensions.map((e: any) => e.alias);
    for (const a of ['router', 'external-net', 'extraroute', 'security-group', 'quotas', 'subnet_allocation', 'standard-attr-tag', 'binding']) assert.ok(aliases.includes(a), a);
    assert.ok(!aliases.includes('dvr'));
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/extensions/router')).body.extension.alias, 'router');
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/extensions/dvr')).status, 404);
  });
});
