/**
 * neutron.conf / ml2_conf.ini options the plugin reads, with Neutron's defaults (and
 * devstack's choices where devstack changes them).
 * @module
 */
export interface NeutronConfig {
  /** [ml2] tenant_network_types (devstack: vxlan). */
  tenantNetworkTypes: string[];
  /** [ml2] type_drivers */
  typeDrivers: string[];
  /** [ml2_type_flat] flat_networks ('*' = any). */
  flatNetworks: string[];
  /** [ml2_type_vlan] network_vlan_ranges: physnet -> ranges available to projects (empty = provider only). */
  networkVlanRanges: Record<string, Array<[number, number]>>;
  /** [ml2_type_vxlan] vni_ranges */
  vniRanges: Array<[number, number]>;
  /** [DEFAULT] global_physnet_mtu */
  globalPhysnetMtu: number;
  /** [DEFAULT] agent_down_time, seconds */
  agentDownTime: number;
  maxDnsNameservers: number;
  maxSubnetHostRoutes: number;
  maxRoutes: number;
  maxAllowedAddressPair: number;
  /** [DEFAULT] base_mac */
  baseMac: string;
  dhcpAgentsPerNetwork: number;
  /** [quotas] quota_* defaults (-1 = unlimited). */
  quotas: Record<string, number>;
  /** Availability zone agents report by default. */
  defaultAvailabilityZone: string;
}

export const DEFAULT_QUOTAS: Record<string, number> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
};

export function defaultConfig(overrides: Partial<NeutronConfig> = {}): NeutronConfig {
  return {
    tenantNetworkTypes: ['vxlan'],
    typeDrivers: ['local', 'flat', 'vlan', 'vxlan'],
    flatNetworks: ['*'],
    networkVlanRanges: { physnet1: [[1000, 2999]], public: [] },
    vniRanges: [[1, 1000]],
    globalPhysnetMtu: 1500,
    agentDownTime: 75,
    maxDnsNameservers: 5,
    maxSubnetHostRoutes: 20,
    maxRoutes: 30,
    maxAllowedAddressPair: 10,
    baseMac: 'fa:16:3e:00:00:00',
    dhcpAgentsPerNetwork: 1,
    quotas: { ...DEFAULT_QUOTAS },
    defaultAvailabilityZone: 'nova',
    ...overrides,
  };
}
