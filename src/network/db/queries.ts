/**
 * The queries of the port-create path (the one Nova's boots and the bench hammer), compiled
 * once per database (see prepared.ts). Everything else builds its queries as it goes.
 * @module
 */
import { arg, prepared } from './prepared.js';

export const Q = {
  networkById: prepared((db) => db.selectFrom('networks').selectAll().where('id', '=', arg(0))),
  /** A network visible to project arg(1): owned, shared, external or shared with it by RBAC. */
  networkVisible: prepared((db) => db.selectFrom('networks').selectAll().where('id', '=', arg(0)).where((eb) => eb.or([
    eb('networks.project_id', '=', arg(1)), eb('networks.shared', '=', 1), eb('networks.router_external', '=', 1),
    eb('networks.id', 'in', db.selectFrom('rbac_policies').select('object_id').where('object_type', '=', 'network')
      .where('target_project', 'in', [arg(1), '*'])),
  ]))),
  defaultSecurityGroup: prepared<{ security_group_id: string }>((db) =>
    db.selectFrom('default_security_group').select('security_group_id').where('project_id', '=', arg(0))),
  quotaLimits: prepared<{ resource: string; limit: number }>((db) =>
    db.selectFrom('quotas').select(['resource', 'limit']).where('project_id', '=', arg(0))),
  subnetsOfNetwork: prepared((db) =>
    db.selectFrom('subnets').selectAll().where('network_id', '=', arg(0)).orderBy('created_at').orderBy('id')),
  segmentsOfNetwork: prepared((db) =>
    db.selectFrom('networksegments').selectAll().where('network_id', '=', arg(0)).orderBy('segment_index')),
  agentsOnHost: prepared((db) => db.selectFrom('agents').selectAll().where('host', '=', arg(0))),
  /** Which of 8 candidate addresses of a subnet are taken (IPAM's random probes). */
  takenOf8: prepared<{ ip_address: string }>((db) => db.selectFrom('ipallocations').select('ip_address')
    .where('subnet_id', '=', arg(0)).where('ip_address', 'in', [1, 2, 3, 4, 5, 6, 7, 8].map(arg))),
  insertIpAllocation: prepared((db) => db.insertInto('ipallocations').values({
    port_id: arg(0), ip_address: arg(1), subnet_id: arg(2), network_id: arg(3),
  })),
  insertSgBinding: prepared((db) => db.insertInto('securitygroupportbindings').values({ port_id: arg(0), security_group_id: arg(1) })),
  insertProvisioningBlock: prepared((db) => db.insertInto('provisioningblocks').values({ port_id: arg(0), entity: arg(1) })),
  deleteProvisioningBlocks: prepared((db) => db.deleteFrom('provisioningblocks').where('port_id', '=', arg(0))),
  dhcpSubnetOfNetwork: prepared<{ id: string }>((db) =>
    db.selectFrom('subnets').select('id').where('network_id', '=', arg(0)).where('enable_dhcp', '=', 1).limit(1)),
  dhcpHostsOfNetwork: prepared<{ host: string }>((db) => db.selectFrom('networkdhcpagentbindings')
    .innerJoin('agents', 'agents.id', 'networkdhcpagentbindings.dhcp_agent_id').select(['agents.host as host']).where('network_id', '=', arg(0))),
  /** quotausages (tracked quota usage): add arg(0) to a clean counter. */
  usageAdd: prepared((db) => db.updateTable('quotausages').set((eb) => ({ in_use: eb('in_use', '+', arg(0)) }))
    .where('project_id', '=', arg(1)).where('resource', '=', arg(2)).where('dirty', '=', 0)),
  usageRow: prepared<{ in_use: number | string }>((db) =>
    db.selectFrom('quotausages').select('in_use').where('project_id', '=', arg(0)).where('resource', '=', arg(1))),
  usageDelete: prepared((db) => db.deleteFrom('quotausages').where('project_id', '=', arg(0)).where('resource', '=', arg(1))),
  usageInsert: prepared((db) => db.insertInto('quotausages').values({ project_id: arg(0), resource: arg(1), in_use: arg(2), dirty: 0 })),
  usageMarkDirty: prepared((db) => db.updateTable('quotausages').set({ dirty: 1 })
    .where('project_id', '=', arg(0)).where('resource', '=', arg(1)).where('dirty', '=', 0)),
  /** A port about to be deleted gives its place back on its project's counter. */
  usageReleasePort: prepared((db) => db.updateTable('quotausages').set((eb) => ({ in_use: eb('in_use', '-', 1) }))
    .where('resource', '=', 'port').where('dirty', '=', 0)
    .where('project_id', '=', db.selectFrom('ports').select('ports.project_id').where('ports.id', '=', arg(0)))),
  portById: prepared((db) => db.selectFrom('ports').selectAll().where('id', '=', arg(0))),
  /** A port visible to project arg(1) (its own, or on a network it owns): the non-admin port show. */
  portVisible: prepared((db) => db.selectFrom('ports').selectAll().where('id', '=', arg(0)).where((eb) => eb.or([
    eb('ports.project_id', '=', arg(1)),
    eb('ports.network_id', 'in', db.selectFrom('networks').select('id').where('project_id', '=', arg(1))),
  ]))),
  portHost: prepared<{ binding_host_id: string }>((db) => db.selectFrom('ports').select(['binding_host_id']).where('id', '=', arg(0))),
  segmentById: prepared((db) => db.selectFrom('networksegments').selectAll().where('id', '=', arg(0))),
  /** Tags of one resource (the single-resource show; lists read them in chunks). */
  tagsOfOne: prepared<{ resource_id: string; tag: string }>((db) =>
    db.selectFrom('tags').select(['resource_id', 'tag']).where('resource_type', '=', arg(0)).where('resource_id', 'in', [arg(1)])),
  deleteProvisioningBlock: prepared((db) => db.deleteFrom('provisioningblocks').where('port_id', '=', arg(0)).where('entity', '=', arg(1))),
  provisioningBlockLeft: prepared<{ entity: string }>((db) => db.selectFrom('provisioningblocks').select('entity').where('port_id', '=', arg(0)).limit(1)),
  setPortStatus: prepared((db) => db.updateTable('ports').set({ status: arg(0), updated_at: arg(1), revision_number: arg(2) }).where('id', '=', arg(3))),
  dhcpSubnetOfPort: prepared<{ id: string }>((db) => db.selectFrom('subnets').select('id').where('network_id', '=', arg(0)).where('enable_dhcp', '=', 1)
    .where('id', '=', arg(1)).limit(1)),
  /** One network's subnets, segments and DHCP agents' zones (networkDicts of a single network). */
  subnetIdsOfNetwork: prepared<{ id: string; network_id: string }>((db) =>
    db.selectFrom('subnets').select(['id', 'network_id']).where('network_id', 'in', [arg(0)]).orderBy('created_at')),
  segmentsOfNetworkIn: prepared((db) => db.selectFrom('networksegments').selectAll().where('network_id', 'in', [arg(0)]).orderBy('segment_index')),
  dhcpZonesOfNetwork: prepared<{ network_id: string; az: string | null }>((db) => db.selectFrom('networkdhcpagentbindings')
    .innerJoin('agents', 'agents.id', 'networkdhcpagentbindings.dhcp_agent_id')
    .select(['networkdhcpagentbindings.network_id as network_id', 'agents.availability_zone as az']).where('network_id', 'in', [arg(0)])),
  /** security_group_info_for_devices of one device (an L2 agent filtering the port it wired) and one group. */
  sgPortOfOne: prepared<{ id: string; security_groups: string; fixed_ips: string; mac_address: string }>((db) =>
    db.selectFrom('ports').select(['id', 'security_groups', 'fixed_ips', 'mac_address']).where('id', 'in', [arg(0)])),
  sgRulesOfOne: prepared((db) => db.selectFrom('securitygrouprules').selectAll().where('security_group_id', 'in', [arg(0)])),
  sgMembersOfOne: prepared<{ sg: string; ip: string }>((db) => db.selectFrom('securitygroupportbindings')
    .innerJoin('ipallocations', 'ipallocations.port_id', 'securitygroupportbindings.port_id')
    .select(['securitygroupportbindings.security_group_id as sg', 'ipallocations.ip_address as ip'])
    .where('securitygroupportbindings.security_group_id', 'in', [arg(0)])),
  /** A port's one requested security group exists (and, arg(1) set, belongs to project arg(1)). */
  sgExists: prepared<{ id: string }>((db) => db.selectFrom('securitygroups').select('id').where('id', 'in', [arg(0)])),
  sgExistsInProject: prepared<{ id: string }>((db) => db.selectFrom('securitygroups').select('id').where('id', 'in', [arg(0)])
    .where('project_id', '=', arg(1))),
  boundSegmentOfPort: prepared<{ network_type: string; segmentation_id: number; physical_network: string }>((db) => db.selectFrom('ports')
    .innerJoin('networksegments', 'networksegments.id', 'ports.binding_segment_id')
    .select(['networksegments.network_type as network_type', 'networksegments.segmentation_id as segmentation_id', 'networksegments.physical_network as physical_network'])
    .where('ports.id', '=', arg(0))),
};

/** The columns of a `ports` row, in insert order (the port insert is prepared over them). */
export const PORT_INSERT_COLUMNS = [
  'id', 'project_id', 'network_id', 'name', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner', 'fixed_ips',
  'security_groups', 'allowed_address_pairs', 'port_security_enabled', 'binding_host_id', 'binding_vif_type', 'binding_vif_details',
  'binding_vnic_type', 'binding_profile', 'binding_segment_id', 'description', 'revision_number', 'created_at', 'updated_at',
] as const;

export const insertPort = prepared((db) =>
  db.insertInto('ports').values(Object.fromEntries(PORT_INSERT_COLUMNS.map((c, n) => [c, arg(n)]))));
