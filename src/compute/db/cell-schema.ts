/**
 * A cell database (`nova_cell0`, `nova_cell1`): instances and everything instance-scoped,
 * services, compute nodes, migrations, actions, faults, block device mappings, tags.
 * @module
 */
import type { Kysely } from 'kysely';
import type { DialectName } from '../../common/db/connection.js';
import { createTable } from './schema-helpers.js';

export async function migrateCellDb(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = (name: string, cols: Parameters<typeof createTable>[3], opts?: Parameters<typeof createTable>[4]) =>
    createTable(db, dialect, name, cols, opts);
  const soft = { softDelete: true };
  await t('instances', {
    id: 'id', uuid: 'str36! unique', user_id: 'str', project_id: 'str', image_ref: 'str', kernel_id: 'str', ramdisk_id: 'str',
    hostname: 'str', launch_index: 'int', key_name: 'str', key_data: 'text', power_state: 'int', vm_state: 'str', task_state: 'str',
    memory_mb: 'int', vcpus: 'int', root_gb: 'int', ephemeral_gb: 'int', host: 'str', node: 'str', instance_type_id: 'int',
    user_data: 'text', reservation_id: 'str', launched_at: 'dt', terminated_at: 'dt', availability_zone: 'str',
    display_name: 'str', display_description: 'text', launched_on: 'str', locked: 'bool', locked_by: 'str', os_type: 'str',
    architecture: 'str', vm_mode: 'str', root_device_name: 'str', default_ephemeral_device: 'str', default_swap_device: 'str',
    config_drive: 'str', access_ip_v4: 'str', access_ip_v6: 'str', auto_disk_config: 'bool', progress: 'int',
    shutdown_terminate: 'bool', disable_terminate: 'bool', cell_name: 'str', cleaned: 'int', hidden: 'bool',
  }, { ...soft, indexes: [['project_id', 'deleted'], ['host', 'deleted'], ['created_at', 'id']] });
  await t('instance_extra', {
    id: 'id', instance_uuid: 'str36! unique', numa_topology: 'text', pci_requests: 'text', flavor: 'text', vcpu_model: 'text',
    migration_context: 'text', keypairs: 'text', device_metadata: 'text', trusted_certs: 'text', resources: 'text',
  }, soft);
  await t('instance_info_caches', { id: 'id', instance_uuid: 'str36! unique', network_info: 'text' }, soft);
  await t('instance_metadata', { id: 'id', instance_uuid: 'str36!', key: 'str', value: 'str' }, { ...soft, indexes: [['instance_uuid']] });
  await t('instance_system_metadata', { id: 'id', instance_uuid: 'str36!', key: 'str!', value: 'text' }, { ...soft, indexes: [['instance_uuid']] });
  await t('instance_actions', {
    id: 'id', action: 'str', instance_uuid: 'str36', request_id: 'str', user_id: 'str', project_id: 'str',
    start_time: 'dt', finish_time: 'dt', message: 'str',
  }, { ...soft, indexes: [['instance_uuid', 'request_id']] });
  await t('instance_actions_events', {
    id: 'id', event: 'str', action_id: 'int', start_time: 'dt', finish_time: 'dt', result: 'str', traceback: 'text',
    host: 'str', details: 'text',
  }, { ...soft, indexes: [['action_id']] });
  await t('instance_faults', { id: 'id', instance_uuid: 'str36', code: 'int!', message: 'str', details: 'text', host: 'str' },
    { ...soft, indexes: [['instance_uuid']] });
  await t('block_device_mapping', {
    id: 'id', uuid: 'str36', instance_uuid: 'str36', source_type: 'str', destination_type: 'str', guest_format: 'str',
    device_type: 'str', disk_bus: 'str', boot_index: 'int', device_name: 'str', delete_on_termination: 'bool',
    snapshot_id: 'str36', volume_id: 'str36', volume_size: 'int', volume_type: 'str', image_id: 'str', no_device: 'bool',
    connection_info: 'text', tag: 'str', attachment_id: 'str36',
  }, { ...soft, indexes: [['instance_uuid']] });
  await t('tags', { resource_id: 'str36!', tag: 'str!' }, { timestamps: false, primaryKey: ['resource_id', 'tag'] });
  await t('migrations', {
    id: 'id', uuid: 'str36', source_compute: 'str', dest_compute: 'str', dest_host: 'str', source_node: 'str', dest_node: 'str',
    status: 'str', instance_uuid: 'str36', old_instance_type_id: 'int', new_instance_type_id: 'int', migration_type: 'str',
    hidden: 'bool', memory_total: 'int', memory_processed: 'int', memory_remaining: 'int', disk_total: 'int',
    disk_processed: 'int', disk_remaining: 'int', cross_cell_move: 'bool', user_id: 'str', project_id: 'str',
  }, { ...soft, indexes: [['instance_uuid']] });
  await t('services', {
    id: 'id', uuid: 'str36', host: 'str', binary: 'str', topic: 'str', report_count: 'int!', disabled: 'bool',
    disabled_reason: 'str', last_seen_up: 'dt', forced_down: 'bool', version: 'int',
  }, { ...soft, unique: [['host', 'binary', 'deleted']] });
  await t('compute_nodes', {
    id: 'id', uuid: 'str36', service_id: 'int', host: 'str', hypervisor_hostname: 'str', vcpus: 'int!', memory_mb: 'int!',
    local_gb: 'int!', vcpus_used: 'int', memory_mb_used: 'int', local_gb_used: 'int', hypervisor_type: 'str',
    hypervisor_version: 'int', cpu_info: 'text', disk_available_least: 'int', free_ram_mb: 'int', free_disk_gb: 'int',
    current_workload: 'int', running_vms: 'int', host_ip: 'str', supported_instances: 'text', pci_stats: 'text',
    metrics: 'text', extra_resources: 'text', stats: 'text', numa_topology: 'text', ram_allocation_ratio: 'float',
    cpu_allocation_ratio: 'float', disk_allocation_ratio: 'float', mapped: 'int',
  }, soft);
  await t('virtual_interfaces', { id: 'id', address: 'str', network_id: 'str36', instance_uuid: 'str36', uuid: 'str36', tag: 'str' }, soft);
}
