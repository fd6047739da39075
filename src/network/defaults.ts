/**
 * What devstack creates after stacking (openstack-flows §7.3): the shared default subnet pools,
 * the external flat network `public` (172.24.4.0/24 and 2001:db8::/64, no DHCP), the demo
 * project's `private` network with an IPv4 subnet and a SLAAC IPv6 subnet from the pools, and
 * `router1` joining them. Idempotent: anything already there (by name) is kept.
 * @module
 */
import { RequestContext } from '../common/context.js';
import type { NeutronCore } from './plugin/index.js';
import type { Dict } from './plugin/core.js';
import { emptyList } from './plugin/dbutil.js';

async function findByName(list: Promise<{ items: Dict[] }>, name: string): Promise<Dict | undefined> {
  return (await list).items.find((x) => x['name'] === name);
}

export async function createDevstackDefaults(n: NeutronCore, opts: { demoProjectId: string; adminProjectId: string }): Promise<void> {
  const admin = RequestContext.admin({ projectId: opts.adminProjectId, userName: 'admin' });
  const demo = new RequestContext({ projectId: opts.demoProjectId, roles: ['member', 'reader'] });
  const byName = (name: string) => ({ ...emptyList(), filters: { name: [name] } });

  let pool4 = await findByName(n.subnetPools.list(admin, byName('shared-default-subnetpool-v4')), 'shared-default-subnetpool-v4');
  pool4 ??= await n.subnetPools.create(admin, {
    name: 'shared-default-subnetpool-v4', prefixes: ['10.0.0.0/22'], default_prefixlen: 26, shared: true, is_default: true, project_id: opts.adminProjectId,
  });
  let pool6 = await findByName(n.subnetPools.list(admin, byName('shared-default-subnetpool-v6')), 'shared-default-subnetpool-v6');
  pool6 ??= await n.subnetPools.create(admin, {
    name: 'shared-default-subnetpool-v6', prefixes: ['2001:db8:8000::/48'], default_prefixlen: 64, shared: true, is_default: true, project_id: opts.adminProjectId,
  });

  let pub = await findByName(n.core.listNetworks(admin, byName('public')), 'public');
  pub ??= await n.core.createNetwork(admin, {
    name: 'public', project_id: opts.adminProjectId, 'router:external': true, is_default: true,
    'provider:network_type': 'flat', 'provider:physical_network': 'public',
  });
  const pubSubnets = (await n.core.listSubnets(admin, { ...emptyList(), filters: { network_id: [pub['id']] } })).items;
  if (!pubSubnets.some((s) => s['name'] === 'public-subnet')) {
    await n.core.createSubnet(admin, {
      name: 'public-subnet', network_id: pub['id'], ip_version: 4, cidr: '172.24.4.0/24', gateway_ip: '172.24.4.1',
      enable_dhcp: false, project_id: opts.adminProjectId,
    });
  }
  if (!pubSubnets.some((s) => s['name'] === 'ipv6-public-subnet')) {
    await n.core.createSubnet(admin, {
      name: 'ipv6-public-subnet', network_id: pub['id'], ip_version: 6, cidr: '2001:db8::/64', gateway_ip: '2001:db8::2',
      enable_dhcp: false, project_id: opts.adminProjectId,
    });
  }

  let priv = await findByName(n.core.listNetworks(demo, byName('private')), 'private');
  priv ??= await n.core.createNetwork(demo, { name: 'private', project_id: opts.demoProjectId });
  const privSubnets = (await n.core.listSubnets(demo, { ...emptyList(), filters: { network_id: [priv['id']] } })).items;
  let sub4 = privSubnets.find((s) => s['name'] === 'private-subnet');
  sub4 ??= await n.core.createSubnet(demo, {
    name: 'private-subnet', network_id: priv['id'], ip_version: 4, subnetpool_id: pool4['id'], project_id: opts.demoProjectId,
  });
  let sub6 = privSubnets.find((s) => s['name'] === 'ipv6-private-subnet');
  sub6 ??= await n.core.createSubnet(demo, {
    name: 'ipv6-private-subnet', network_id: priv['id'], ip_version: 6, subnetpool_id: pool6['id'],
    ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', project_id: opts.demoProjectId,
  });

  let router = await findByName(n.l3.list(demo, byName('router1')), 'router1');
  if (!router) {
    router = await n.l3.create(demo, { name: 'router1', project_id: opts.demoProjectId, external_gateway_info: { network_id: pub['id'] } });
    await n.l3.addInterface(demo, router['id'], { subnet_id: sub4['id'] });
    await n.l3.addInterface(demo, router['id'], { subnet_id: sub6['id'] });
  }
}
