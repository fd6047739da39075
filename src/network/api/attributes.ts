/**
 * Resource attribute maps (neutron_lib/api/definitions/*.py RESOURCE_ATTRIBUTE_MAP plus the
 * extensions Stratus enables): what may be sent on POST/PUT, defaults, validators, converters,
 * visibility, filters, and which attributes only admins may set or see (Neutron's policy
 * defaults for `provider:*`, `binding:*`, `router:external`, `shared`, ...).
 * @module
 */
import * as v from './validators.js';

export const REQUIRED = Symbol('required');
/** neutron_lib.constants.ATTR_NOT_SPECIFIED: "the client left it out", distinct from null. */
export const NOT_SPECIFIED = Symbol('ATTR_NOT_SPECIFIED');
export type Sentinel = typeof REQUIRED | typeof NOT_SPECIFIED;

export interface AttrDef {
  post: boolean;
  put: boolean;
  default?: unknown;
  validate?: v.Validator;
  convert?: (x: unknown) => unknown;
  visible: boolean;
  filter?: boolean;
  /** Only admins may set it on create/update. */
  adminSet?: boolean;
  /** Only admins see it. */
  adminVisible?: boolean;
  /** The network owner (or admin) may set it: mac_address, fixed_ips ip_address. */
  sort?: boolean;
}

const ro = (filter = true): AttrDef => ({ post: false, put: false, visible: true, filter, sort: filter });
const id = (): AttrDef => ({ post: false, put: false, visible: true, filter: true, sort: true, validate: v.uuid });
const name = (): AttrDef => ({ post: true, put: true, default: '', validate: v.string(255), visible: true, filter: true, sort: true });
const description = (): AttrDef => ({ post: true, put: true, default: '', validate: v.string(255), visible: true, filter: true, sort: true });
const project = (): AttrDef => ({ post: true, put: false, validate: v.string(255), visible: true, filter: true, sort: true });
const bool = (def: unknown, extra: Partial<AttrDef> = {}): AttrDef => ({
  post: true, put: true, default: def, convert: v.toBoolean, visible: true, filter: true, sort: true, ...extra,
});
const stdAttrs = (): Record<string, AttrDef> => ({
  description: description(),
  revision_number: ro(),
  created_at: ro(),
  updated_at: ro(),
  tags: { post: false, put: false, visible: true },
});

export const RESOURCES: Record<string, { collection: string; attrs: Record<string, AttrDef> }> = {
  network: {
    collection: 'networks',
    attrs: {
      id: id(),
      name: name(),
      subnets: { post: false, put: false, default: [], visible: true },
      admin_state_up: bool(true),
      status: ro(),
      project_id: project(),
      tenant_id: project(),
      shared: bool(false, { adminSet: true }),
      'router:external': bool(false, { adminSet: true }),
      'provider:network_type': { post: true, put: true, default: NOT_SPECIFIED, validate: v.string(255), visible: true, filter: true, adminSet: true, adminVisible: true },
      'provider:physical_network': { post: true, put: true, default: NOT_SPECIFIED, validate: v.string(64), visible: true, filter: true, adminSet: true, adminVisible: true },
      'provider:segmentation_id': { post: true, put: true, default: NOT_SPECIFIED, convert: v.toIntOrNone, visible: true, filter: true, adminSet: true, adminVisible: true },
      mtu: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toIntOrNone, visible: true, filter: true, sort: true },
      port_security_enabled: bool(true),
      availability_zone_hints: { post: true, put: false, default: [], validate: v.listOfStrings(255), visible: true },
      availability_zones: { post: false, put: false, visible: true },
      ipv4_address_scope: ro(false),
      ipv6_address_scope: ro(false),
      is_default: bool(false, { adminSet: true }),
      l2_adjacency: ro(false),
      ...stdAttrs(),
    },
  },
  subnet: {
    collection: 'subnets',
    attrs: {
      id: id(),
      name: name(),
      ip_version: { post: true, put: false, default: REQUIRED, convert: v.toInt, validate: v.values([4, 6]), visible: true, filter: true, sort: true },
      network_id: { post: true, put: false, default: REQUIRED, validate: v.uuid, visible: true, filter: true, sort: true },
      subnetpool_id: { post: true, put: false, default: NOT_SPECIFIED, validate: v.uuidOrNone, visible: true, filter: true, sort: true },
      prefixlen: { post: true, put: false, default: NOT_SPECIFIED, convert: v.toInt, visible: false },
      use_default_subnetpool: { post: true, put: false, default: false, convert: v.toBoolean, visible: false },
      cidr: { post: true, put: false, default: NOT_SPECIFIED, validate: v.subnetOrNone, visible: true, filter: true, sort: true },
      gateway_ip: { post: true, put: true, default: NOT_SPECIFIED, validate: v.ipAddressOrNone, visible: true, filter: true, sort: true },
      allocation_pools: { post: true, put: true, default: NOT_SPECIFIED, validate: v.allocationPools, visible: true },
      dns_nameservers: { post: true, put: true, default: NOT_SPECIFIED, validate: v.nameservers, visible: true },
      host_routes: { post: true, put: true, default: NOT_SPECIFIED, validate: v.hostRoutes, visible: true },
      project_id: project(),
      tenant_id: project(),
      enable_dhcp: bool(true),
      ipv6_ra_mode: { post: true, put: false, default: NOT_SPECIFIED, validate: v.values(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac', null]), visible: true, filter: true, sort: true },
      ipv6_address_mode: { post: true, put: false, default: NOT_SPECIFIED, validate: v.values(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac', null]), visible: true, filter: true, sort: true },
      service_types: { post: true, put: true, default: [], validate: v.listOfStrings(255), visible: true },
      segment_id: { post: true, put: true, default: null, validate: v.uuidOrNone, visible: true, filter: true },
      dns_publish_fixed_ip: bool(false),
      ...stdAttrs(),
    },
  },
  subnetpool: {
    collection: 'subnetpools',
    attrs: {
      id: id(),
      name: { post: true, put: true, default: REQUIRED, validate: v.notEmptyString(255), visible: true, filter: true, sort: true },
      project_id: project(),
      tenant_id: project(),
      prefixes: { post: true, put: true, default: REQUIRED, validate: (x) => (Array.isArray(x) ? x.map(v.subnet).find((m) => m) ?? null : `'${String(x)}' is not a list`), visible: true },
      default_quota: { post: true, put: true, default: null, convert: v.toIntOrNone, visible: true, filter: true },
      ip_version: ro(),
      default_prefixlen: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toInt, visible: true, filter: true },
      min_prefixlen: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toInt, visible: true, filter: true },
      max_prefixlen: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toInt, visible: true, filter: true },
      is_default: bool(false, { adminSet: true }),
      shared: { post: true, put: false, default: false, convert: v.toBoolean, visible: true, filter: true, adminSet: true },
      address_scope_id: { post: true, put: true, default: null, validate: v.uuidOrNone, visible: true, filter: true },
      ...stdAttrs(),
    },
  },
  port: {
    collection: 'ports',
    attrs: {
      id: id(),
      name: name(),
      network_id: { post: true, put: false, default: REQUIRED, validate: v.uuid, visible: true, filter: true, sort: true },
      admin_state_up: bool(true),
      mac_address: { post: true, put: true, default: NOT_SPECIFIED, validate: v.macAddress, visible: true, filter: true, sort: true },
      fixed_ips: { post: true, put: true, default: NOT_SPECIFIED, validate: v.fixedIps, visible: true, filter: true },
      device_id: { post: true, put: true, default: '', validate: v.string(255), visible: true, filter: true, sort: true },
      device_owner: { post: true, put: true, default: '', validate: v.string(255), visible: true, filter: true, sort: true },
      project_id: project(),
      tenant_id: project(),
      status: ro(),
      security_groups: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toList, validate: v.uuidList, visible: true, filter: true },
      allowed_address_pairs: { post: true, put: true, default: NOT_SPECIFIED, validate: v.allowedAddressPairs, visible: true },
      port_security_enabled: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toBoolean, visible: true },
      'binding:host_id': { post: true, put: true, default: NOT_SPECIFIED, convert: (x) => (x === null ? '' : x), validate: v.string(255), visible: true, filter: true, adminSet: true, adminVisible: true },
      'binding:profile': { post: true, put: true, default: NOT_SPECIFIED, validate: v.dictOrEmpty, visible: true, adminSet: true, adminVisible: true },
      'binding:vnic_type': { post: true, put: true, default: 'normal', validate: v.values(['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'remote-managed', 'vdpa']), visible: true, filter: true },
      'binding:vif_type': { post: false, put: false, visible: true, filter: true, adminVisible: true },
      'binding:vif_details': { post: false, put: false, visible: true, adminVisible: true },
      ip_allocation: { post: false, put: false, visible: true },
      ...stdAttrs(),
    },
  },
  security_group: {
    collection: 'security_groups',
    attrs: {
      id: id(),
      name: name(),
      project_id: project(),
      tenant_id: project(),
      security_group_rules: { post: false, put: false, visible: true },
      stateful: bool(true),
      shared: ro(),
      ...stdAttrs(),
    },
  },
  security_group_rule: {
    collection: 'security_group_rules',
    attrs: {
      id: id(),
      security_group_id: { post: true, put: false, default: REQUIRED, visible: true, filter: true, sort: true },
      remote_group_id: { post: true, put: false, default: null, visible: true, filter: true, sort: true },
      direction: { post: true, put: false, default: REQUIRED, validate: v.values(['ingress', 'egress']), visible: true, filter: true, sort: true },
      protocol: { post: true, put: false, default: null, visible: true, filter: true, sort: true },
      port_range_min: { post: true, put: false, default: null, visible: true, filter: true, sort: true },
      port_range_max: { post: true, put: false, default: null, visible: true, filter: true, sort: true },
      ethertype: { post: true, put: false, default: 'IPv4', visible: true, filter: true, sort: true },
      remote_ip_prefix: { post: true, put: false, default: null, visible: true, filter: true, sort: true },
      remote_address_group_id: { post: true, put: false, default: null, validate: v.uuidOrNone, visible: true, filter: true },
      normalized_cidr: ro(),
      belongs_to_default_sg: ro(),
      project_id: project(),
      tenant_id: project(),
      description: { post: true, put: true, default: '', validate: v.string(255), visible: true, filter: true },
      revision_number: ro(),
      created_at: ro(),
      updated_at: ro(),
    },
  },
  router: {
    collection: 'routers',
    attrs: {
      id: id(),
      name: name(),
      admin_state_up: bool(true),
      status: ro(),
      project_id: project(),
      tenant_id: project(),
      external_gateway_info: { post: true, put: true, default: null, validate: v.dictOrNone, visible: true },
      routes: { post: false, put: true, default: NOT_SPECIFIED, validate: (x) => (x === null || Array.isArray(x) ? null : `'${JSON.stringify(x)}' is not a list`), visible: true },
      distributed: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toBoolean, visible: true, adminSet: true, adminVisible: true },
      ha: { post: true, put: true, default: NOT_SPECIFIED, convert: v.toBoolean, visible: true, adminSet: true, adminVisible: true },
      availability_zone_hints: { post: true, put: false, default: [], validate: v.listOfStrings(255), visible: true },
      availability_zones: { post: false, put: false, visible: true },
      flavor_id: { post: true, put: false, default: NOT_SPECIFIED, visible: true },
      ...stdAttrs(),
    },
  },
  floatingip: {
    collection: 'floatingips',
    attrs: {
      id: id(),
      floating_ip_address: { post: true, put: false, default: NOT_SPECIFIED, validate: v.ipAddressOrNone, visible: true, filter: true, sort: true, adminSet: true },
      subnet_id: { post: true, put: false, default: NOT_SPECIFIED, validate: v.uuidOrNone, visible: false },
      floating_network_id: { post: true, put: false, default: REQUIRED, validate: v.uuid, visible: true, filter: true, sort: true },
      router_id: ro(),
      port_id: { post: true, put: true, default: null, validate: v.uuidOrNone, visible: true, filter: true, sort: true },
      fixed_ip_address: { post: true, put: true, default: null, validate: v.ipAddressOrNone, visible: true, filter: true, sort: true },
      project_id: project(),
      tenant_id: project(),
      status: ro(),
      port_details: { post: false, put: false, visible: true },
      port_forwardings: { post: false, put: false, visible: true },
      ...stdAttrs(),
    },
  },
  rbac_policy: {
    collection: 'rbac_policies',
    attrs: {
      id: id(),
      object_type: { post: true, put: false, default: REQUIRED, validate: v.values(['network', 'qos_policy', 'security_group', 'address_scope', 'subnetpool', 'address_group', 'bgpvpn']), visible: true, filter: true, sort: true },
      object_id: { post: true, put: false, default: REQUIRED, validate: v.uuid, visible: true, filter: true, sort: true },
      target_tenant: { post: true, put: true, default: REQUIRED, validate: v.string(255), visible: true, filter: true, sort: true },
      target_project: { post: true, put: true, default: NOT_SPECIFIED, validate: v.string(255), visible: true, filter: true },
      project_id: project(),
      tenant_id: project(),
      action: { post: true, put: false, default: REQUIRED, validate: v.values(['access_as_shared', 'access_as_external']), visible: true, filter: true, sort: true },
    },
  },
  agent: {
    collection: 'agents',
    attrs: {
      id: id(),
      agent_type: ro(),
      binary: ro(),
      topic: ro(),
      host: ro(),
      admin_state_up: { post: false, put: true, convert: v.toBoolean, visible: true, filter: true, sort: true },
      created_at: ro(),
      started_at: ro(),
      heartbeat_timestamp: ro(),
      alive: ro(),
      configurations: ro(false),
      description: { post: false, put: true, validate: v.stringOrNone(255), visible: true, filter: true },
      availability_zone: ro(),
      resources_synced: ro(),
      resource_versions: ro(false),
    },
  },
};

export const COLLECTION_TO_RESOURCE: Record<string, string> = Object.fromEntries(
  Object.entries(RESOURCES).map(([r, d]) => [d.collection, r]),
);
