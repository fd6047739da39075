import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, call, type Cloud } from './helpers.js';

void describe('neutron ports and security groups', () => {
  let c: Cloud;
  let net: any;
  let subnet: any;
  before(async () => {
    c = await startCloud();
    net = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'pnet' } })).body.network;
    subnet = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.1.0.0/24' } })).body.subnet;
  });
  after(async () => { await c.close(); });

  void test('port create/update/delete; defaults match Neutron', async () => {
    const r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id, name: 'p1' } });
    assert.equal(r.status, 201);
    const p = r.body.port;
    assert.equal(p.status, 'DOWN');
    assert.equal(p.admin_state_up, true);
    assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(p.fixed_ips.length, 1);
    assert.equal(p.fixed_ips[0].subnet_id, subnet.id);
    assert.equal(p.security_groups.length, 1, 'the default group');
    assert.equal(p.port_security_enabled, true);
    assert.equal('binding:vif_type' in p, false, 'binding attributes are admin-only');
    const admin = (await call(c.app, 'admin', 'GET', `/v2.0/ports/${p.id}`)).body.port;
    assert.equal(admin['binding:vif_type'], 'unbound');
    assert.equal(admin['binding:vnic_type'], 'normal');
    const u = await call(c.app, 'demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { name: 'New_Port', admin_state_up: false } });
    assert.equal(u.body.port.name, 'New_Port');
    assert.equal(u.body.port.admin_state_up, false);
    const f = await call(c.app, 'demo', 'GET', `/v2.0/ports?fields=id&fields=mac_address`);
    for (const x of f.body.ports) assert.deepEqual(Object.keys(x).sort(), ['id', 'mac_address']);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${p.id}`)).status, 204);
    assert.equal((await call(c.app, 'demo', 'GET', `/v2.0/ports/${p.id}`)).body.NeutronError.type, 'PortNotFound');
  });

  void test('bulk port create is all-or-nothing', async () => {
    const other = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'n2' } })).body.network;
    const ok = await call(c.app, 'demo', 'POST', '/v2.0/ports', { ports: [{ network_id: net.id }, { network_id: other.id }] });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.body.ports.map((p: any) => p.network_id), [net.id, other.id]);
    const before = (await call(c.app, 'demo', 'GET', '/v2.0/ports')).body.ports.length;
    const bad = await call(c.app, 'demo', 'POST', '/v2.0/ports', { ports: [{ network_id: net.id }, { network_id: '00000000-0000-0000-0000-000000000000' }] });
    assert.equal(bad.status, 404);
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/ports')).body.ports.length, before);
  });

  void test('fixed IPs: in pool, explicit, duplicate, invalid, MAC in use', async () => {
    const n = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'fx' } })).body.network;
    const s = (await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.2.0.0/24', allocation_pools: [{ start: '10.2.0.2', end: '10.2.0.254' }] } })).body.subnet;
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '10.2.0.77' }], mac_address: 'fa:16:3e:00:00:01' } })).body.port;
    assert.equal(p.fixed_ips[0].ip_address, '10.2.0.77');
    let r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '10.2.0.77' }] } });
    assert.equal(r.status, 409);
    assert.equal(r.body.NeutronError.type, 'IpAddressInUse');
    r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '10.3.0.5' }] } });
    assert.equal(r.body.NeutronError.type, 'InvalidIpForSubnet');
    r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: 'fa:16:3e:00:00:01' } });
    assert.equal(r.status, 409);
    assert.equal(r.body.NeutronError.type, 'MacAddressInUse');
    r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: 'nope' }] } });
    assert.equal(r.status, 400);
    r = await call(c.app, 'demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { fixed_ips: [{ subnet_id: s.id, ip_address: '10.2.0.78' }] } });
    assert.equal(r.body.port.fixed_ips[0].ip_address, '10.2.0.78');
    r = await call(c.app, 'demo', 'GET', `/v2.0/ports?fixed_ips=ip_address%3D10.2.0.78`);
    assert.deepEqual(r.body.ports.map((x: any) => x.id), [p.id]);
  });

  void test('an exhausted subnet gives IpAddressGenerationFailure; concurrent creates never share an address', async () => {
    const n = (await call(c.app, 'demo', 'POST', '/v2.0/networks', { network: { name: 'tiny' } })).body.network;
    await call(c.app, 'demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '10.4.0.0/28', enable_dhcp: false } });
    const results = await Promise.all(Array.from({ length: 16 }, () => call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })));
    const ok = results.filter((r) => r.status === 201);
    assert.equal(ok.length, 13, 'a /28 has 13 usable addresses besides the gateway');
    const ips = ok.map((r) => r.body.port.fixed_ips[0].ip_address);
    assert.equal(new Set(ips).size, ips.length);
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.NeutronError.type, 'IpAddressGenerationFailure');
    }
  });

  void test('binding to a host without an L2 agent fails the binding', async () => {
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port;
    const r = await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'nohost', device_owner: 'compute:nova', device_id: 'vm1' } });
    assert.equal(r.body.port['binding:vif_type'], 'binding_failed');
    assert.equal(r.body.port.status, 'DOWN');
    const forbidden = await call(c.app, 'demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'x' } });
    assert.equal(forbidden.status, 403);
    // Nova unbinds with null host and an empty profile
    const unbound = await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { device_id: '', device_owner: '', 'binding:host_id': null, 'binding:profile': {} } });
    assert.equal(unbound.status, 200, JSON.stringify(unbound.body));
    assert.equal(unbound.body.port['binding:vif_type'], 'unbound');
    assert.equal(unbound.body.port['binding:host_id'], '');
    // an unknown attribute (no dns-integration extension) names itself, so Nova can retry without it
    const dns = await call(c.app, 'admin', 'PUT', `/v2.0/ports/${p.id}`, { port: { dns_name: 'vm1' } });
    assert.equal(dns.status, 400);
    assert.match(dns.body.NeutronError.message, /dns_name/);
  });

  void test('default security group exists once, with its four rules', async () => {
    const l = await call(c.app, 'alt', 'GET', '/v2.0/security-groups');
    const defs = l.body.security_groups.filter((g: any) => g.name === 'default');
    assert.equal(defs.length, 1);
    const rules = defs[0].security_group_rules;
    assert.equal(rules.length, 4);
    assert.equal(rules.filter((r: any) => r.direction === 'ingress' && r.remote_group_id === defs[0].id).length, 2);
    const again = await call(c.app, 'alt', 'POST', '/v2.0/security-groups', { security_group: { name: 'default' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
    const del = await call(c.app, 'alt', 'DELETE', `/v2.0/security-groups/${defs[0].id}`);
    assert.equal(del.status, 409);
  });

  void test('security group CRUD and rules with Neutron validation', async () => {
    const g = (await call(c.app, 'demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'web', description: 'd' } })).body.security_group;
    assert.equal(g.security_group_rules.length, 2, 'egress IPv4 and IPv6');
    const u = await call(c.app, 'demo', 'PUT', `/v2.0/security-groups/${g.id}`, { security_group: { name: 'web2' } });
    assert.equal(u.body.security_group.name, 'web2');
    const rule = (b: Record<string, unknown>) => call(c.app, 'demo', 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: g.id, direction: 'ingress', ...b } });
    let r = await rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/8' });
    assert.equal(r.status, 201);
    assert.equal(r.body.security_group_rule.ethertype, 'IPv4');
    const dup = await rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/8' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'SecurityGroupRuleExists');
    assert.match(dup.body.NeutronError.message, new RegExp(r.body.security_group_rule.id));
    r = await rule({ protocol: 17, port_range_min: 53, port_range_max: 53 });
    assert.equal(r.body.security_group_rule.protocol, '17');
    r = await rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 });
    assert.equal(r.status, 201);
    r = await rule({ protocol: 'tcp', remote_group_id: g.id });
    assert.equal(r.body.security_group_rule.remote_group_id, g.id);
    const cases: Array<[Record<string, unknown>, number, string | RegExp]> = [
      [{ protocol: 'bad_protocol_name' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ ethertype: 'bad_ethertype', protocol: 'udp' }, 400, 'SecurityGroupRuleInvalidEtherType'],
      [{ protocol: 'tcp', remote_ip_prefix: '192.168.1./24' }, 400, 'InvalidCIDR'],
      [{ protocol: 'tcp', remote_ip_prefix: '192.168.1.1/33' }, 400, 'InvalidCIDR'],
      [{ protocol: 'tcp', remote_ip_prefix: '256' }, 400, 'InvalidCIDR'],
      [{ protocol: 'tcp', port_range_min: -16, port_range_max: 80 }, 400, /Invalid value for port -16/],
      [{ protocol: 'tcp', port_range_min: 80, port_range_max: 79 }, 400, /port_range_min must be <= port_range_max/],
      [{ protocol: 'tcp', port_range_min: 80, port_range_max: 65536 }, 400, /Invalid value for port 65536/],
      [{ protocol: 'tcp', port_range_min: null, port_range_max: 6 }, 400, /port_range_min must be <= port_range_max/],
      [{ protocol: 'icmp', port_range_min: 1, port_range_max: 256 }, 400, /Invalid value for ICMP code/],
      [{ protocol: 'icmp', port_range_min: 300, port_range_max: 1 }, 400, /Invalid value for ICMP type/],
      [{ protocol: 'tcp', remote_ip_prefix: '10.0.0.0/24', remote_group_id: g.id }, 400, 'SecurityGroupMultipleRemoteEntites'],
      [{ protocol: 'tcp', remote_group_id: 'bad_group_id' }, 404, 'SecurityGroupNotFound'],
      [{ protocol: 'tcp', remote_group_id: '00000000-0000-0000-0000-000000000000' }, 404, 'SecurityGroupNotFound'],
      [{ protocol: 'tcp', ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/24' }, 400, 'SecurityGroupRuleParameterConflict'],
    ];
    for (const [body, status, expect] of cases) {
      const res = await rule(body);
      assert.equal(res.status, status, JSON.stringify(body));
      if (typeof expect === 'string') assert.equal(res.body.NeutronError.type, expect, JSON.stringify(body));
      else assert.match(res.body.NeutronError.message, expect, JSON.stringify(body));
    }
    const noSg = await call(c.app, 'demo', 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: '00000000-0000-0000-0000-000000000000', direction: 'ingress' } });
    assert.equal(noSg.status, 404);
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/security-groups/00000000-0000-0000-0000-000000000000')).status, 404);
    assert.equal((await call(c.app, 'demo', 'GET', '/v2.0/security-group-rules/00000000-0000-0000-0000-000000000000')).body.NeutronError.type, 'SecurityGroupRuleNotFound');
    const shown = (await call(c.app, 'demo', 'GET', `/v2.0/security-groups/${g.id}`)).body.security_group;
    assert.equal(shown.security_group_rules.length, 6);
    // in use by a port
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id, security_groups: [g.id] } })).body.port;
    assert.deepEqual(p.security_groups, [g.id]);
    const inUse = await call(c.app, 'demo', 'DELETE', `/v2.0/security-groups/${g.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.NeutronError.type, 'SecurityGroupInUse');
    const two = (await call(c.app, 'demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'two' } })).body.security_group;
    const upd = await call(c.app, 'demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { security_groups: [g.id, two.id], name: 'p2' } });
    assert.deepEqual(upd.body.port.security_groups.sort(), [g.id, two.id].sort());
    const byGroup = await call(c.app, 'demo', 'GET', `/v2.0/ports?security_groups=${two.id}`);
    assert.deepEqual(byGroup.body.ports.map((x: any) => x.id), [p.id]);
    await call(c.app, 'demo', 'DELETE', `/v2.0/ports/${p.id}`);
    assert.equal((await call(c.app, 'demo', 'DELETE', `/v2.0/security-groups/${g.id}`)).status, 204);
  });

  void test('port security off: no groups, and groups need port security', async () => {
    const p = (await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id, port_security_enabled: false } })).body.port;
    assert.deepEqual(p.security_groups, []);
    const sg = (await call(c.app, 'demo', 'GET', '/v2.0/security-groups?name=default')).body.security_groups[0];
    const r = await call(c.app, 'demo', 'POST', '/v2.0/ports', { port: { network_id: net.id, port_security_enabled: false, security_groups: [sg.id] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.NeutronError.type, 'PortSecurityAndIPRequiredForSecurityGroups');
    const pairs = await call(c.app, 'demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { allowed_address_pairs: [{ ip_address: '10.1.0.200' }] } });
    assert.equal(pairs.status, 409);
  });
});
