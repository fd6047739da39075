/**
 * GET /v2.0/extensions: exactly the extensions this server implements, described with
 * neutron-lib's names, descriptions and timestamps, so clients and Tempest skip what is absent.
 * @module
 */
export interface Extension {
  alias: string;
  name: string;
  description: string;
  updated: string;
  links: unknown[];
}

const ext = (alias: string, name: string, description: string, updated: string): Extension => ({ alias, name, description, updated, links: [] });

export const EXTENSIONS: Extension[] = [
  ext('agent', 'agent', 'The agent management extension.', '2013-02-03T10:00:00-00:00'),
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs', '2013-07-23T10:00:00-00:00'),
  ext('availability_zone', 'Availability Zone', 'The availability zone extension.', '2015-01-01T10:00:00-00:00'),
  ext('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application', '2014-02-03T10:00:00-00:00'),
  ext('dhcp_agent_scheduler', 'DHCP Agent Scheduler', 'Schedule networks among dhcp agents', '2013-02-07T10:00:00-00:00'),
  ext('default-subnetpools', 'Default Subnetpools', 'Provides ability to mark and use a subnetpool as the default.', '2016-02-18T18:00:00-00:00'),
  ext('external-net', 'Neutron external network', 'Adds external network attribute to network resource.', '2013-01-14T10:00:00-00:00'),
  ext('ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway', '2013-03-28T10:00:00-00:00'),
  ext('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router', '2013-02-01T10:00:00-00:00'),
  ext('fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource', '2018-04-09T10:00:00-00:00'),
  ext('ip_allocation', 'IP Allocation', 'IP allocation extension.', '2016-06-10T23:00:00-00:00'),
  ext('l3_agent_scheduler', 'L3 Agent Scheduler', 'Schedule routers among l3 agents', '2013-02-07T10:00:00-00:00'),
  ext('l2_adjacency', 'L2 Adjacency', 'Display L2 Adjacency for Neutron Networks.', '2016-04-12T16:00:00-00:00'),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.', '2015-03-25T10:00:00-00:00'),
  ext('net-mtu-writable', 'Network MTU (writable)', 'Provides a writable MTU attribute for a network resource.', '2017-07-12T00:00:00-00:00'),
  ext('network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.', '2015-01-01T10:00:00-00:00'),
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'),
  ext('port-security', 'Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00'),
  ext('port-security-groups-filtering', 'Port filtering on security groups', 'Provides security groups filtering when listing ports', '2018-01-09T09:00:00-00:00'),
  ext('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.', '2016-09-09T09:09:09-09:09'),
  ext('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks', '2012-09-07T10:00:00-00:00'),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project', '2012-07-29T10:00:00-00:00'),
  ext('quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project', '2017-02-10T10:00:00-00:00'),
  ext('rbac-policies', 'RBAC Policies', 'Allows creation and modification of policies that control tenant access to resources.', '2015-06-17T12:15:12-00:00'),
  ext('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.', '2012-07-20T10:00:00-00:00'),
  ext('router_availability_zone', 'Router Availability Zone', 'Availability zone support for router.', '2015-01-01T10:00:00-00:00'),
  ext('security-group', 'security-group', 'The security groups extension.', '2012-10-05T10:00:00-00:00'),
  ext('security-groups-normalized-cidr', 'Normalized CIDR field for security group rules', 'Add new field with normalized remote_ip_prefix cidr in SG rule', '2020-07-28T10:00:00-00:00'),
  ext('security-groups-rules-belongs-to-default-sg', "Security group rule belongs to the project's default security group", "Flag to determine if the security group rule belongs to the project's default security group", '2023-05-23T10:00:00-00:00'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.', '2016-06-12T00:00:00-00:00'),
  ext('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes', '2016-02-10T10:00:00-00:00'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.', '2016-04-11T10:00:00-00:00'),
  ext('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.', '2017-01-01T00:00:00-00:00'),
  ext('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.', '2016-09-12T10:00:00-00:00'),
  ext('stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not', '2019-11-26T09:00:00-00:00'),
  ext('subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool', '2015-03-30T10:00:00-00:00'),
  ext('subnet-service-types', 'Subnet service types', 'Provides ability to set the subnet service_types field', '2016-03-15T18:00:00-00:00'),
];
