/**
 * Field lists shared by objects and the DB layer. Instance column fields are the `instances`
 * table's columns; the others live in side tables (instance_extra, info caches, metadata).
 * @module
 */
import type { FieldKind } from './base.js';

export const INSTANCE_COLUMN_FIELDS: Record<string, FieldKind> = {
  id: 'int', uuid: 'string', user_id: 'string', project_id: 'string', image_ref: 'string', kernel_id: 'string',
  ramdisk_id: 'string', hostname: 'string', launch_index: 'int', key_name: 'string', key_data: 'string',
  power_state: 'int', vm_state: 'string', task_state: 'string', memory_mb: 'int', vcpus: 'int', root_gb: 'int',
  ephemeral_gb: 'int', host: 'string', node: 'string', instance_type_id: 'int', user_data: 'string',
  reservation_id: 'string', launched_at: 'datetime', terminated_at: 'datetime', availability_zone: 'string',
  display_name: 'string', display_description: 'string', launched_on: 'string', locked: 'bool', locked_by: 'string',
  os_type: 'string', architecture: 'string', vm_mode: 'string', root_device_name: 'string',
  default_ephemeral_device: 'string', default_swap_device: 'string', config_drive: 'string', access_ip_v4: 'string',
  access_ip_v6: 'string', auto_disk_config: 'bool', progress: 'int', shutdown_terminate: 'bool',
  disable_terminate: 'bool', cell_name: 'string', cleaned: 'bool', hidden: 'bool',
  created_at: 'datetime', updated_at: 'datetime', deleted_at: 'datetime', deleted: 'bool',
};

/** Columns stored as 0/1 integers. */
export const BOOL_COLUMNS = new Set(['locked', 'auto_disk_config', 'shutdown_terminate', 'disable_terminate', 'cleaned', 'hidden', 'deleted']);
