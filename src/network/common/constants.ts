/**
 * neutron_lib.constants that clients and agents see: device owners, port/agent states,
 * VIF types, agent types and the RPC topics (neutron_lib.agent.topics).
 * @module
 */
export const PORT_STATUS_ACTIVE = 'ACTIVE';
export const PORT_STATUS_BUILD = 'BUILD';
export const PORT_STATUS_DOWN = 'DOWN';
export const PORT_STATUS_ERROR = 'ERROR';
export const PORT_STATUS_NOTAPPLICABLE = 'N/A';

export const NET_STATUS_ACTIVE = 'ACTIVE';
export const FLOATINGIP_STATUS_ACTIVE = 'ACTIVE';
export const FLOATINGIP_STATUS_DOWN = 'DOWN';
export const FLOATINGIP_STATUS_ERROR = 'ERROR';
export const ROUTER_STATUS_ACTIVE = 'ACTIVE';

export const DEVICE_OWNER_ROUTER_INTF = 'network:router_interface';
export const DEVICE_OWNER_ROUTER_GW = 'network:router_gateway';
export const DEVICE_OWNER_FLOATINGIP = 'network:floatingip';
export const DEVICE_OWNER_DHCP = 'network:dhcp';
export const DEVICE_OWNER_DVR_INTERFACE = 'network:router_interface_distributed';
export const DEVICE_OWNER_HA_REPLICATED_INT = 'network:ha_router_replicated_interface';
export const DEVICE_OWNER_ROUTER_SNAT = 'network:router_centralized_snat';
export const DEVICE_OWNER_COMPUTE_PREFIX = 'compute:';
export const DEVICE_OWNER_NETWORK_PREFIX = 'network:';

export const ROUTER_INTERFACE_OWNERS = [DEVICE_OWNER_ROUTER_INTF, DEVICE_OWNER_DVR_INTERFACE, DEVICE_OWNER_HA_REPLICATED_INT];
export const ROUTER_PORT_OWNERS = [...ROUTER_INTERFACE_OWNERS, DEVICE_OWNER_ROUTER_GW, DEVICE_OWNER_ROUTER_SNAT];
/** Ports that go with their network when it is deleted. */
export const AUTO_DELETE_PORT_OWNERS = [DEVICE_OWNER_DHCP];

export const VIF_TYPE_UNBOUND = 'unbound';
export const VIF_TYPE_BINDING_FAILED = 'binding_failed';
export const VIF_TYPE_BRIDGE = 'bridge';
export const VNIC_NORMAL = 'normal';

export const AGENT_TYPE_L2 = 'Linux bridge agent';
export const AGENT_TYPE_DHCP = 'DHCP agent';
export const AGENT_TYPE_L3 = 'L3 agent';
export const AGENT_TYPE_METADATA = 'Metadata agent';

export const BINARY_L2 = 'neutron-l2-agent';
export const BINARY_DHCP = 'neutron-dhcp-agent';
export const BINARY_L3 = 'neutron-l3-agent';
export const BINARY_METADATA = 'neutron-metadata-agent';

/** oslo.messaging exchange of every Neutron topic. */
export const EXCHANGE = 'neutron';
export const TOPIC_PLUGIN = 'q-plugin';
export const TOPIC_REPORTS = 'q-reports-plugin';
export const TOPIC_L3PLUGIN = 'q-l3-plugin';
export const TOPIC_DHCP_AGENT = 'dhcp_agent';
export const TOPIC_L3_AGENT = 'l3_agent';
export const TOPIC_AGENT = 'q-agent-notifier';
export const TOPIC_METADATA_AGENT = 'q-metadata-agent';

/** `q-agent-notifier-<resource>-<operation>` (neutron_lib.agent.topics.get_topic_name). */
export function agentTopic(resource: string, operation: string): string {
  return `${TOPIC_AGENT}-${resource}-${operation}`;
}

export const PROVISIONING_L2 = 'L2';
export const PROVISIONING_DHCP = 'DHCP';

export const IPV6_SLAAC = 'slaac';
export const DHCPV6_STATEFUL = 'dhcpv6-stateful';
export const DHCPV6_STATELESS = 'dhcpv6-stateless';

/** IANA protocol names Neutron accepts for security group rules (neutron_lib.constants.IP_PROTOCOL_MAP). */
export const IP_PROTOCOL_MAP: Record<string, number> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4,
  'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60,
  'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
export const PORT_PROTOCOLS = ['tcp', 'udp', 'udplite', 'sctp', 'dccp'];
export const PORT_PROTOCOL_NUMBERS = [6, 17, 136, 132, 33];
