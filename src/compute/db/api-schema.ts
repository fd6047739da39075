/**
 * The `nova_api` database (cells v2 API level): cell/host/instance mappings, request specs,
 * build requests, flavors, key pairs, quotas, server groups and aggregates.
 * @module
 */
import type { Kysely } from 'kysely';
import type { DialectName } from '../../common/db/connection.js';
import { createTable } from './schema-helpers.js';

export async function migrateApiDb(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = (name: string, cols: Parameters<typeof createTable>[3], opts?: Parameters<typeof createTable>[4]) =>
    createTable(db, dialect, name, cols, opts);
  await t('cell_mappings', { id: 'id', uuid: 'str36! unique', name: 'str', transport_url: 'text', database_connection: 'text', disabled: 'bool' });
  await t('host_mappings', { id: 'id', cell_id: 'int!', host: 'str! unique' });
  await t('instance_mappings', { id: 'id', instance_uuid: 'str36! unique', cell_id: 'int', project_id: 'str!', user_id: 'str', queued_for_delete: 'bool' },
    { indexes: [['project_id']] });
  await t('request_specs', { id: 'id', instance_uuid: 'str36! unique', spec: 'text!' });
  await t('build_requests', { id: 'id', instance_uuid: 'str36! unique', project_id: 'str!', instance: 'text', block_device_mappings: 'text', tags: 'text' });
  await t('flavors', { id: 'id', flavorid: 'str! unique', name: 'str! unique', memory_mb: 'int!', vcpus: 'int!', root_gb: 'int', ephemeral_gb: 'int', swap: 'int!', rxtx_factor: 'float', vcpu_weight: 'int', disabled: 'bool', is_public: 'bool', description: 'text' });
  await t('flavor_extra_specs', { id: 'id', flavor_id: 'int!', key: 'str!', value: 'str' }, { unique: [['flavor_id', 'key']] });
  await t('flavor_projects', { id: 'id', flavor_id: 'int!', project_id: 'str!' }, { unique: [['flavor_id', 'project_id']] });
  await t('key_pairs', { id: 'id', name: 'str!', user_id: 'str!', fingerprint: 'str', public_key: 'text', type: 'str' }, { unique: [['user_id', 'name']] });
  await t('quotas', { id: 'id', project_id: 'str', resource: 'str!', hard_limit: 'int' }, { unique: [['project_id', 'resource']] });
  await t('project_user_quotas', { id: 'id', project_id: 'str!', user_id: 'str!', resource: 'str!', hard_limit: 'int' }, { unique: [['user_id', 'project_id', 'resource']] });
  await t('quota_classes', { id: 'id', class_name: 'str', resource: 'str', hard_limit: 'int' });
  await t('instance_groups', { id: 'id', uuid: 'str36! unique', name: 'str', user_id: 'str', project_id: 'str' });
  await t('instance_group_policy', { id: 'id', policy: 'str', rules: 'text', group_id: 'int!' });
  await t('instance_group_member', { id: 'id', instance_uuid: 'str36', group_id: 'int!' });
  await t('aggregates', { id: 'id', uuid: 'str36', name: 'str unique' });
  await t('aggregate_hosts', { id: 'id', host: 'str', aggregate_id: 'int!' }, { unique: [['host', 'aggregate_id']] });
  await t('aggregate_metadata', { id: 'id', aggregate_id: 'int!', key: 'str!', value: 'str' }, { unique: [['aggregate_id', 'key']] });
}
