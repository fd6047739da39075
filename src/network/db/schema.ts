/**
 * The `neutron` database. Table and column names follow Neutron's models where a client or
 * operator could see them; list-valued attributes that Neutron keeps in side tables
 * (allocation pools, DNS servers, host routes, extra routes, binding profile) are JSON text here,
 * while everything that must be unique or queried (IP allocations, security-group bindings,
 * tags, router ports, agents, segments) has its own table and constraints.
 *
 * Booleans are integers 0/1 and timestamps ISO-8601 strings, so the same migration runs on
 * SQLite, MariaDB and PostgreSQL.
 * @module
 */
import type { Kysely } from 'kysely';

export interface Migration {
  name: string;
  up(db: Kysely<any>): Promise<void>;
}

const ID = 'varchar(36)';
const NAME = 'varchar(255)';

/** Columns every resource with standard attributes has. */
function std<T extends { addColumn: (...a: any[]) => T }>(t: T): T {
  return t
    .addColumn('description', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('revision_number', 'bigint', (c: any) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(32)', (c: any) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c: any) => c.notNull());
}

export const migrations: Migration[] = [
  {
    name: '001_initial',
    async up(db) {
      await std(db.schema.createTable('networks')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('router_external', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('mtu', 'integer', (c) => c.notNull())
        .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('availability_zone_hints', 'text', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('ix_networks_project_id').on('networks').column('project_id').execute();

      await db.schema.createTable('networksegments')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('network_id', ID, (c) => c.notNull())
        .addColumn('network_type', 'varchar(32)', (c) => c.notNull())
        // '' rather than NULL so the unique index below also covers tunnel segments
        .addColumn('physical_network', 'varchar(64)', (c) => c.notNull().defaultTo(''))
        .addColumn('segmentation_id', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('segment_index', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_dynamic', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ix_networksegments_network_id').on('networksegments').column('network_id').execute();

      await std(db.schema.createTable('subnetpools')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('default_quota', 'integer')
        .addColumn('address_scope_id', ID)
        .addColumn('prefixes', 'text', (c) => c.notNull()))
        .execute();

      await std(db.schema.createTable('subnets')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('network_id', ID, (c) => c.notNull())
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
        .addColumn('gateway_ip', 'varchar(64)')
        .addColumn('enable_dhcp', 'integer', (c) => c.notNull())
        .addColumn('ipv6_ra_mode', 'varchar(32)')
        .addColumn('ipv6_address_mode', 'varchar(32)')
        .addColumn('subnetpool_id', ID)
        .addColumn('segment_id', ID)
        .addColumn('allocation_pools', 'text', (c) => c.notNull())
        .addColumn('dns_nameservers', 'text', (c) => c.notNull())
        .addColumn('host_routes', 'text', (c) => c.notNull())
        .addColumn('service_types', 'text', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('ix_subnets_network_id').on('subnets').column('network_id').execute();
      await db.schema.createIndex('ix_subnets_subnetpool_id').on('subnets').column('subnetpool_id').execute();

      await std(db.schema.createTable('ports')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('network_id', ID, (c) => c.notNull())
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('device_owner', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        // fixed_ips and security_groups are read with every port; the ipallocations and
        // securitygroupportbindings tables below are the source of truth for uniqueness and use.
        .addColumn('fixed_ips', 'text', (c) => c.notNull())
        .addColumn('security_groups', 'text', (c) => c.notNull())
        .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
        .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('binding_host_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('binding_vif_type', 'varchar(64)', (c) => c.notNull().defaultTo('unbound'))
        .addColumn('binding_vif_details', 'text', (c) => c.notNull())
        .addColumn('binding_vnic_type', 'varchar(64)', (c) => c.notNull().defaultTo('normal'))
        .addColumn('binding_profile', 'text', (c) => c.notNull())
        .addColumn('binding_segment_id', ID)
        .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo('')))
        .execute();
      await db.schema.createIndex('uniq_ports_network_id_mac').on('ports').columns(['network_id', 'mac_address']).unique().execute();
      await db.schema.createIndex('ix_ports_device_id').on('ports').column('device_id').execute();
      await db.schema.createIndex('ix_ports_network_id_id').on('ports').columns(['network_id', 'id']).execute();
      await db.schema.createIndex('ix_ports_project_id').on('ports').column('project_id').execute();
      await db.schema.createIndex('ix_ports_binding_host_id').on('ports').column('binding_host_id').execute();

      await db.schema.createTable('ipallocations')
        .addColumn('port_id', ID)
        .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
        .addColumn('subnet_id', ID, (c) => c.notNull())
        .addColumn('network_id', ID, (c) => c.notNull())
        // the guarantee that two ports never get one address, whatever the dialect or process
        .addPrimaryKeyConstraint('pk_ipallocations', ['subnet_id', 'ip_address'])
        .execute();
      await db.schema.createIndex('ix_ipallocations_port_id').on('ipallocations').column('port_id').execute();
      await db.schema.createIndex('ix_ipallocations_ip').on('ipallocations').columns(['ip_address', 'network_id']).execute();

      await std(db.schema.createTable('securitygroups')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('stateful', 'integer', (c) => c.notNull().defaultTo(1)))
        .execute();
      await db.schema.createIndex('ix_securitygroups_project_id').on('securitygroups').column('project_id').execute();
      await db.schema.createTable('default_security_group')
        .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('security_group_id', ID, (c) => c.notNull())
        .execute();
      await std(db.schema.createTable('securitygrouprules')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('security_group_id', ID, (c) => c.notNull())
        .addColumn('remote_group_id', ID)
        .addColumn('direction', 'varchar(16)', (c) => c.notNull())
        .addColumn('ethertype', 'varchar(40)', (c) => c.notNull())
        .addColumn('protocol', 'varchar(40)')
        .addColumn('port_range_min', 'integer')
        .addColumn('port_range_max', 'integer')
        .addColumn('remote_ip_prefix', 'varchar(64)'))
        .execute();
      await db.schema.createIndex('ix_sgrules_sg').on('securitygrouprules').column('security_group_id').execute();
      await db.schema.createTable('securitygroupportbindings')
        .addColumn('port_id', ID, (c) => c.notNull())
        .addColumn('security_group_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_sgportbindings', ['port_id', 'security_group_id'])
        .execute();
      await db.schema.createIndex('ix_sgportbindings_sg').on('securitygroupportbindings').column('security_group_id').execute();

      await std(db.schema.createTable('routers')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('name', NAME, (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('gw_port_id', ID)
        .addColumn('enable_snat', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('routes', 'text', (c) => c.notNull())
        .addColumn('distributed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('ha', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('availability_zone_hints', 'text', (c) => c.notNull()))
        .execute();
      await db.schema.createTable('routerports')
        .addColumn('router_id', ID, (c) => c.notNull())
        .addColumn('port_id', ID, (c) => c.primaryKey())
        .addColumn('port_type', 'varchar(255)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ix_routerports_router').on('routerports').column('router_id').execute();

      await std(db.schema.createTable('floatingips')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
        .addColumn('floating_network_id', ID, (c) => c.notNull())
        .addColumn('floating_port_id', ID, (c) => c.notNull())
        .addColumn('fixed_port_id', ID)
        .addColumn('fixed_ip_address', 'varchar(64)')
        .addColumn('router_id', ID)
        .addColumn('status', 'varchar(16)', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('uniq_floatingips_fixed').on('floatingips')
        .columns(['floating_network_id', 'fixed_port_id', 'fixed_ip_address']).unique().execute();

      await db.schema.createTable('quotas')
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(255)', (c) => c.notNull())
        .addColumn('limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_quotas', ['project_id', 'resource'])
        .execute();

      await db.schema.createTable('tags')
        .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource_id', ID, (c) => c.notNull())
        .addColumn('tag', 'varchar(60)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_tags', ['resource_type', 'resource_id', 'tag'])
        .execute();

      await db.schema.createTable('rbac_policies')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)')
        .addColumn('object_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('object_id', ID, (c) => c.notNull())
        .addColumn('target_project', 'varchar(255)', (c) => c.notNull())
        .addColumn('action', 'varchar(255)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uniq_rbac').on('rbac_policies')
        .columns(['object_type', 'object_id', 'target_project', 'action']).unique().execute();

      await db.schema.createTable('agents')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('agent_type', 'varchar(255)', (c) => c.notNull())
        .addColumn('binary', 'varchar(255)', (c) => c.notNull())
        .addColumn('topic', 'varchar(255)', (c) => c.notNull())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('heartbeat_timestamp', 'varchar(32)', (c) => c.notNull())
        .addColumn('description', 'varchar(255)')
        .addColumn('configurations', 'text', (c) => c.notNull())
        .addColumn('resource_versions', 'text')
        .addColumn('load', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('uniq_agents_type_host').on('agents').columns(['agent_type', 'host']).unique().execute();

      await db.schema.createTable('networkdhcpagentbindings')
        .addColumn('network_id', ID, (c) => c.notNull())
        .addColumn('dhcp_agent_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_netdhcp', ['network_id', 'dhcp_agent_id'])
        .execute();
      await db.schema.createTable('routerl3agentbindings')
        .addColumn('router_id', ID, (c) => c.notNull())
        .addColumn('l3_agent_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_routerl3', ['router_id', 'l3_agent_id'])
        .execute();
      await db.schema.createTable('provisioningblocks')
        .addColumn('port_id', ID, (c) => c.notNull())
        .addColumn('entity', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_provblocks', ['port_id', 'entity'])
        .execute();
    },
  },
  {
    // Neutron's quotausages: ports in use per project, kept with every create and delete so the
    // quota check need not count the project's ports (dirty = count again before trusting it)
    name: '002_quotausages',
    async up(db) {
      await db.schema.createTable('quotausages')
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(255)', (c) => c.notNull())
        .addColumn('in_use', 'integer', (c) => c.notNull())
        .addColumn('dirty', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_quotausages', ['project_id', 'resource'])
        .execute();
    },
  },
];
