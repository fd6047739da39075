/**
 * Neutron's exception classes (neutron_lib.exceptions and the l3/securitygroup extensions) as
 * ApiErrors: the `type` is the class name the client sees in `{"NeutronError": {"type", ...}}`.
 * @module
 */
import { ApiError } from '../../common/errors.js';

const e = (status: number, type: string, message: string) => new ApiError(status, message, { type, detail: '' });

export const BadRequest = (resource: string, msg: string) => e(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);
export const InvalidInput = (msg: string) => e(400, 'InvalidInput', `Invalid input for operation: ${msg}.`);
export const HTTPBadRequest = (msg: string) => e(400, 'HTTPBadRequest', msg);
export const MalformedRequestBody = (reason: string) => e(400, 'MalformedRequestBody', `Malformed request body: ${reason}.`);
export const NotAuthorized = () => e(403, 'PolicyNotAuthorized', 'Not authorized.');
export const PolicyNotAuthorized = (action: string) =>
  e(403, 'PolicyNotAuthorized', `(rule:${action}) is disallowed by policy`);
export const AdminRequired = (reason: string) => e(403, 'AdminRequired', `User does not have admin privileges: ${reason}.`);
export const HTTPNotFound = (msg = 'The resource could not be found.') => e(404, 'HTTPNotFound', msg);

export const NetworkNotFound = (id: string) => e(404, 'NetworkNotFound', `Network ${id} could not be found.`);
export const SubnetNotFound = (id: string) => e(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);
export const PortNotFound = (id: string) => e(404, 'PortNotFound', `Port ${id} could not be found.`);
export const SubnetPoolNotFound = (id: string) => e(404, 'SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
export const RouterNotFound = (id: string) => e(404, 'RouterNotFound', `Router ${id} could not be found.`);
export const FloatingIPNotFound = (id: string) => e(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found.`);
export const SecurityGroupNotFound = (id: string) => e(404, 'SecurityGroupNotFound', `Security group ${id} does not exist.`);
export const SecurityGroupRuleNotFound = (id: string) =>
  e(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist.`);
export const AgentNotFound = (id: string) => e(404, 'AgentNotFound', `Agent ${id} could not be found.`);
export const RbacPolicyNotFound = (id: string, type: string) =>
  e(404, 'RbacPolicyNotFound', `RBAC policy of type ${type} with ID ${id} not found.`);
export const TagNotFound = (resource: string, resourceId: string, tag: string) =>
  e(404, 'TagNotFound', `Tag ${tag} could not be found for ${resource} ${resourceId}.`);
export const ProjectQuotaNotFound = (id: string) => e(404, 'ProjectQuotaNotFound', `Quota for project ${id} could not be found.`);
export const ExternalGatewayForFloatingIPNotFound = (extNet: string, subnet: string, port: string) =>
  e(404, 'ExternalGatewayForFloatingIPNotFound',
    `External network ${extNet} is not reachable from subnet ${subnet}.  Therefore, cannot associate Port ${port} with a Floating IP.`);
export const RouterInterfaceNotFound = (router: string, port: string) =>
  e(404, 'RouterInterfaceNotFound', `Router ${router} does not have an interface with id ${port}.`);
export const RouterInterfaceNotFoundForSubnet = (router: string, subnet: string) =>
  e(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router} has no interface on subnet ${subnet}.`);

export const NetworkInUse = (id: string, reason = 'There are one or more ports still in use on the network') =>
  e(409, 'NetworkInUse', `Unable to complete operation on network ${id}. ${reason}.`);
export const SubnetInUse = (id: string, reason = 'One or more ports have an IP allocation from this subnet') =>
  e(409, 'SubnetInUse', `Unable to complete operation on subnet ${id}: ${reason}.`);
export const SubnetPoolInUse = (id: string, reason: string) =>
  e(409, 'SubnetPoolInUse', `Unable to complete operation on subnet pool ${id}. ${reason}.`);
export const PortInUse = (port: string, net: string, device: string) =>
  e(409, 'PortInUse', `Unable to complete operation on port ${port} for network ${net}. Port already has an attached device ${device}.`);
export const MacAddressInUse = (net: string, mac: string) =>
  e(409, 'MacAddressInUse', `Unable to complete operation for network ${net}. The mac address ${mac} is in use.`);
export const IpAddressInUse = (net: string, ip: string) =>
  e(409, 'IpAddressInUse', `Unable to complete operation for network ${net}. The IP address ${ip} is in use.`);
export const IpAddressGenerationFailure = (net: string) =>
  e(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${net}.`);
export const InvalidIpForNetwork = (ip: string) =>
  e(400, 'InvalidIpForNetwork', `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`);
export const InvalidIpForSubnet = (ip: string) =>
  e(400, 'InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`);
export const ExternalIpAddressExhausted = (net: string) =>
  e(400, 'ExternalIpAddressExhausted', `Unable to find any IP address on external network ${net}.`);
export const OverQuota = (overs: string) => e(409, 'OverQuota', `Quota exceeded for resources: ${overs}.`);
export const InvalidAllocationPool = (pool: string) => e(400, 'InvalidAllocationPool', `The allocation pool ${pool} is not valid.`);
export const OverlappingAllocationPools = (p1: string, p2: string, cidr: string) =>
  e(409, 'OverlappingAllocationPools', `Found overlapping allocation pools: ${p1} ${p2} for subnet ${cidr}.`);
export const OutOfBoundsAllocationPool = (pool: string, cidr: string) =>
  e(400, 'OutOfBoundsAllocationPool', `The allocation pool ${pool} spans beyond the subnet cidr ${cidr}.`);
export const GatewayConflictWithAllocationPools = (ip: string, pool: string) =>
  e(409, 'GatewayConflictWithAllocationPools', `Gateway ip ${ip} conflicts with allocation pool ${pool}.`);
export const GatewayIpInUse = (ip: string, port: string) =>
  e(409, 'GatewayIpInUse', `Current gateway ip ${ip} already in use by port ${port}. Unable to update.`);
export const HostRoutesExhausted = (subnet: string, quota: number) =>
  e(400, 'HostRoutesExhausted', `Unable to complete operation for ${subnet}. The number of host routes exceeds the limit ${quota}.`);
export const DNSNameServersExhausted = (subnet: string, quota: number) =>
  e(400, 'DNSNameServersExhausted', `Unable to complete operation for ${subnet}. The number of DNS nameservers exceeds the limit ${quota}.`);
export const InvalidSharedSetting = (net: string) =>
  e(409, 'InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${net}. Multiple projects are using it.`);
export const PortBound = (port: string, vifType: string, oldMac: string, newMac: string) =>
  e(409, 'PortBound', `Unable to complete operation on port ${port}, port is already bound, port type: ${vifType}, old_mac ${oldMac}, new_mac ${newMac}.`);
export const DeviceIDNotOwnedByTenant = (device: string) =>
  e(409, 'DeviceIDNotOwnedByTenant', `The following device_id ${device} is not owned by your project or matches another project router.`);
export const ServicePortInUse = (port: string, reason: string) =>
  e(409, 'ServicePortInUse', `Port ${port} cannot be deleted directly via the port API: ${reason}.`);
export const VlanIdInUse = (vlan: number, phys: string) =>
  e(409, 'VlanIdInUse', `Unable to create the network. The VLAN ${vlan} on physical network ${phys} is in use.`);
export const TunnelIdInUse = (id: number) =>
  e(409, 'TunnelIdInUse', `Unable to create the network. The tunnel ID ${id} is in use.`);
export const FlatNetworkInUse = (phys: string) =>
  e(409, 'FlatNetworkInUse', `Unable to create the flat network. Physical network ${phys} is in use.`);
export const NoNetworkAvailable = () =>
  e(503, 'NoNetworkAvailable', 'Unable to create the network. No tenant network is available for allocation.');

// Subnet pools
export const EmptySubnetPoolPrefixList = () => e(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
export const PrefixVersionMismatch = () => e(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
export const IllegalSubnetPoolPrefixBounds = (pt: string, pl: number, bpt: string, bpl: number) =>
  e(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: ${pt}=${pl}, ${bpt}=${bpl}.`);
export const SubnetAllocationError = (reason: string) => e(400, 'SubnetAllocationError', `Failed to allocate subnet: ${reason}.`);
export const MinPrefixSubnetAllocationError = (pl: number, min: number) =>
  e(400, 'MinPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${pl}, minimum allowed prefix is ${min}.`);
export const MaxPrefixSubnetAllocationError = (pl: number, max: number) =>
  e(400, 'MaxPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${pl}, maximum allowed prefix is ${max}.`);
export const NetworkSubnetPoolAffinityError = () =>
  e(400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
export const IllegalSubnetPoolPrefixUpdate = (msg: string) => e(400, 'IllegalSubnetPoolPrefixUpdate', `Illegal update to prefixes: ${msg}.`);

// L3
export const RouterInUse = (router: string, reason = 'still has ports') => e(409, 'RouterInUse', `Router ${router} ${reason}.`);
export const RouterInterfaceInUseByFloatingIP = (router: string, subnet: string) =>
  e(409, 'RouterInterfaceInUseByFloatingIP',
    `Router interface for subnet ${subnet} on router ${router} cannot be deleted, as it is required by one or more floating IPs.`);
export const RouterInterfaceInUseByRoute = (router: string, subnet: string) =>
  e(409, 'RouterInterfaceInUseByRoute',
    `Router interface for subnet ${subnet} on router ${router} cannot be deleted, as it is required by one or more routes.`);
export const RouterExternalGatewayInUseByFloatingIp = (router: string, net: string) =>
  e(409, 'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${router}, since a gateway to external network ${net} is required by one or more floating IPs.`);
export const FloatingIPPortAlreadyAssociated = (fip: string, fipId: string, port: string, fixed: string, net: string) =>
  e(409, 'FloatingIPPortAlreadyAssociated',
    `Cannot associate floating IP ${fip} (${fipId}) with port ${port} using fixed IP ${fixed}, as that fixed IP already has a floating IP on external network ${net}.`);
export const ExternalNetworkInUse = (net: string) =>
  e(409, 'ExternalNetworkInUse', `External network ${net} cannot be updated to be made non-external, since it has existing gateway ports.`);
export const InvalidRoutes = (routes: string, reason: string) =>
  e(400, 'InvalidRoutes', `Invalid input for operation: Invalid format for routes: ${routes}, ${reason}.`);
export const RoutesExhausted = (router: string, quota: number) =>
  e(400, 'RoutesExhausted', `Unable to complete operation for ${router}. The number of routes exceeds the maximum ${quota}.`);
export const RouterInterfaceAttachmentConflict = (reason: string) =>
  e(409, 'RouterInterfaceAttachmentConflict', `Error ${reason} while attempting the operation.`);

// Security groups
export const SecurityGroupInUse = (id: string, reason = 'in use') => e(409, 'SecurityGroupInUse', `Security Group ${id} ${reason}.`);
export const SecurityGroupCannotRemoveDefault = () =>
  e(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
export const SecurityGroupCannotUpdateDefault = () =>
  e(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
export const SecurityGroupDefaultAlreadyExists = () =>
  e(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
export const SecurityGroupRuleExists = (id: string) =>
  e(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${id}.`);
export const DuplicateSecurityGroupRuleInPost = () =>
  e(409, 'DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.');
const sgInvalid = (type: string, msg: string) => e(400, type, `Invalid input for operation: ${msg}.`);
export const SecurityGroupRuleInvalidProtocol = (protocol: string, values: string) =>
  sgInvalid('SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${protocol} not supported. Only protocol values ${values} and integer representations [0 to 255] are supported`);
export const SecurityGroupRuleInvalidEtherType = (ethertype: string) =>
  sgInvalid('SecurityGroupRuleInvalidEtherType',
    `Security group rule for ethertype '${ethertype}' not supported. Allowed values are ['IPv4', 'IPv6']`);
export const SecurityGroupInvalidPortRange = () =>
  sgInvalid('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
export const SecurityGroupInvalidPortValue = (port: unknown) => sgInvalid('SecurityGroupInvalidPortValue', `Invalid value for port ${String(port)}`);
export const SecurityGroupInvalidIcmpValue = (field: string, attr: string, value: unknown) =>
  sgInvalid('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${String(value)}. It must be 0 to 255`);
export const SecurityGroupMissingIcmpType = (value: unknown) =>
  sgInvalid('SecurityGroupMissingIcmpType',
    `ICMP code (port-range-max) ${String(value)} is provided but ICMP type (port-range-min) is missing`);
export const SecurityGroupInvalidProtocolForPort = (protocol: string) =>
  sgInvalid('SecurityGroupInvalidProtocolForPort',
    `Ports cannot be specified for protocol ${protocol}. Ports are only supported for ['tcp', 'udp', 'udplite', 'sctp', 'dccp']`);
export const SecurityGroupProtocolRequiredWithPorts = () =>
  sgInvalid('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given');
export const SecurityGroupMultipleRemoteEntites = () =>
  sgInvalid('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided');
export const SecurityGroupRuleParameterConflict = (ethertype: string, cidr: string) =>
  sgInvalid('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${cidr}`);
export const SecurityGroupEthertypeConflictWithProtocol = (ethertype: string, protocol: string) =>
  sgInvalid('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}`);
export const PortSecurityAndIPRequiredForSecurityGroups = () =>
  sgInvalid('PortSecurityAndIPRequiredForSecurityGroups',
    'Port security must be enabled and port must have an IP address in order to use security groups');
export const PortSecurityPortHasSecurityGroup = () =>
  e(409, 'PortSecurityPortHasSecurityGroup',
    'Port has security group associated. Cannot disable port security or IP address until security group is removed');
export const AddressPairAndPortSecurityRequired = () =>
  e(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
export const DuplicateAddressPairInRequest = (mac: string, ip: string) =>
  sgInvalid('DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${mac} ip_address ${ip}`);
export const InvalidCIDR = (input: string) => e(400, 'InvalidCIDR', `Invalid CIDR ${input} given as IP prefix.`);
export const SubnetMismatchForPort = (port: string, subnet: string) =>
  e(400, 'SubnetMismatchForPort', `Subnet on port ${port} does not match the requested subnet ${subnet}.`);
