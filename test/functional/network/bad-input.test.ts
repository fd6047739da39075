import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, type Cloud } from './helpers.js';

let c: Cloud;
before(async () => { c = await startCloud(); });
after(async () => { await c.close(); });

const junk: unknown[] = [null, 1, 'x', [], [1], { a: 1 }, true, { id: 'x' }, '', -1, 1e20, { '': null }];

void test('malformed bodies and values get a Neutron 4xx, never a 500', async () => {
  const net = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'b' } })).body.network;
  const sub = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.1.0.0/24' } })).body.subnet;
  const port = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port;
  const sg = (await call(c.app, 'demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'b' } })).body.security_group;
  const router = (await call(c.app, 'demo', 'POST', '/v2.0/routers', { router: { name: 'b' } })).body.router;
  const targets: Array<[string, string, string, Record<string, unknown>]> = [
    ['POST', '/v2.0/networks', 'network', { name: 'x' }],
    ['PUT', `/v2.0/networks/${net.id}`, 'network', {}],
    ['POST', '/v2.0/subnets', 'subnet', { network_id: net.id, ip_version: 4, cidr: '10.2.0.0/24' }],
    ['PUT', `/v2.0/subnets/${sub.id}`, 'subnet', {}],
    ['POST', '/v2.0/ports', 'port', { network_id: net.id }],
    ['PUT', `/v2.0/ports/${port.id}`, 'port', {}],
    ['POST', '/v2.0/security-group-rules', 'security_group_rule', { security_group_id: sg.id, direction: 'ingress' }],
    ['PUT', `/v2.0/routers/${router.id}`, 'router', {}],
    ['POST', '/v2.0/floatingips', 'floatingip', { floating_network_id: net.id }],
    ['POST', '/v2.0/subnetpools', 'subnetpool', { name: 'p', prefixes: ['10.9.0.0/16'] }],
  ];
  const attrs = ['name', 'admin_state_up', 'cidr', 'ip_version', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'fixed_ips',
    'mac_address', 'security_groups', 'allowed_address_pairs', 'port_security_enabled', 'protocol', 'port_range_min', 'port_range_max',
    'ethertype', 'remote_ip_prefix', 'remote_group_id', 'external_gateway_info', 'routes', 'port_id', 'prefixes', 'default_prefixlen', 'mtu',
    'subnetpool_id', 'ipv6_address_mode', 'enable_dhcp', 'device_id', 'description', 'tags'];
  let checked = 0;
  for (const [method, url, resource, base] of targets) {
    for (const attr of attrs) {
      for (const v of junk) {
        const r = await call(c.app, 'admin', method, url, { [resource]: { ...base, [attr]: v } });
        assert.ok(r.status < 500, `${method} ${url} ${attr}=${JSON.stringify(v)} -> ${r.status} ${JSON.stringify(r.body)}`);
        if (r.status >= 400) assert.ok(r.body.NeutronError?.type, `${method} ${url} ${attr}: fault body`);
        checked++;
      }
    }
    for (const whole of junk) {
      const r = await call(c.app, 'admin', method, url, whole);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${url} body=${JSON.stringify(whole)} -> ${r.status}`);
    }
  }
  for (const v of junk) {
    for (const action of ['add_router_interface', 'remove_router_interface']) {
      const r = await call(c.app, 'demo', 'PUT', `/v2.0/routers/${router.id}/${action}`, v);
      assert.ok(r.status >= 400 && r.status < 500, `${action} ${JSON.stringify(v)} -> ${r.status}`);
    }
  }
  const r = await c.app.inject({ method: 'POST', url: '/v2.0/networks', headers: { 'x-auth-token': 'demo', 'content-type': 'application/json' }, payload: '{"network": ' });
  assert.equal(r.statusCode, 400);
  assert.equal(JSON.parse(r.body).NeutronError.message, 'Body contains invalid data');
  assert.ok(checked > 3000);
});

void test('queries with odd filters, fields and paging stay 4xx or 200', async () => {
  for (const q of ['limit=-1', 'limit=abc', 'marker=nope&limit=2', 'sort_dir=up&sort_key=name', 'admin_state_up=maybe', 'fields=', 'fixed_ips=bogus',
    'page_reverse=True&limit=1', 'tags=', 'not-tags-any=a,b', 'ip_version=x', 'mtu=abc']) {
    for (const coll of ['networks', 'ports', 'subnets', 'routers', 'security-groups', 'floatingips']) {
      const r = await call(c.app, 'demo', 'GET', `/v2.0/${coll}?${q}`);
      assert.ok(r.status < 500, `${coll}?${q} -> ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
});
