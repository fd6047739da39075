/**
 * The `cinder` database. Table and column names follow Cinder's models (`cinder/db/sqlalchemy/models.py`)
 * where an operator could see them. Booleans are integers 0/1 and timestamps ISO-8601 strings, so
 * the same migration runs on SQLite, MariaDB and PostgreSQL.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Migration } from '../../common/db/index.js';

const ID = 'varchar(36)';
const TS = 'varchar(32)';

function kv(db: Kysely<any>, table: string, owner: string) {
  return db.schema.createTable(table)
    .addColumn(owner, ID, (c) => c.notNull())
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint(`pk_${table}`, [owner, 'key'])
    .execute();
}

export const migrations: Migration[] = [
  {
    name: '001_initial',
    async up(db) {
      await db.schema.createTable('volumes')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)')
        .addColumn('host', 'varchar(255)')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('status', 'varchar(255)', (c) => c.notNull())
        .addColumn('attach_status', 'varchar(255)', (c) => c.notNull())
        .addColumn('migration_status', 'varchar(255)')
        .addColumn('display_name', 'varchar(255)')
        .addColumn('display_description', 'varchar(255)')
        .addColumn('volume_type_id', ID)
        .addColumn('snapshot_id', ID)
        .addColumn('source_volid', ID)
        .addColumn('image_id', ID)
        .addColumn('bootable', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('multiattach', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('replication_status', 'varchar(255)')
        .addColumn('provider_location', 'varchar(1024)')
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addColumn('launched_at', TS)
        .addColumn('scheduled_at', TS)
        .addColumn('terminated_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deleted_at', TS)
        .execute();
      await db.schema.createIndex('ix_volumes_project_id').on('volumes').columns(['project_id', 'deleted']).execute();
      await db.schema.createIndex('ix_volumes_host').on('volumes').column('host').execute();
      await kv(db, 'volume_metadata', 'volume_id');
      await kv(db, 'volume_admin_metadata', 'volume_id');
      await kv(db, 'volume_glance_metadata', 'volume_id');

      await db.schema.createTable('snapshots')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('volume_id', ID, (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)')
        .addColumn('status', 'varchar(255)', (c) => c.notNull())
        .addColumn('progress', 'varchar(255)')
        .addColumn('volume_size', 'integer', (c) => c.notNull())
        .addColumn('display_name', 'varchar(255)')
        .addColumn('display_description', 'varchar(255)')
        .addColumn('volume_type_id', ID)
        .addColumn('provider_location', 'varchar(1024)')
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deleted_at', TS)
        .execute();
      await db.schema.createIndex('ix_snapshots_volume_id').on('snapshots').column('volume_id').execute();
      await kv(db, 'snapshot_metadata', 'snapshot_id');

      await db.schema.createTable('volume_types')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'varchar(255)')
        .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await kv(db, 'volume_type_extra_specs', 'volume_type_id');
      await db.schema.createTable('volume_type_projects')
        .addColumn('volume_type_id', ID, (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_volume_type_projects', ['volume_type_id', 'project_id'])
        .execute();

      await db.schema.createTable('volume_attachment')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('volume_id', ID, (c) => c.notNull())
        .addColumn('instance_uuid', ID)
        .addColumn('attached_host', 'varchar(255)')
        .addColumn('mountpoint', 'varchar(255)')
        .addColumn('attach_time', TS)
        .addColumn('detach_time', TS)
        .addColumn('attach_mode', 'varchar(36)')
        .addColumn('attach_status', 'varchar(255)', (c) => c.notNull())
        .addColumn('connection_info', 'text')
        .addColumn('connector', 'text')
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ix_volume_attachment_volume_id').on('volume_attachment').column('volume_id').execute();

      await db.schema.createTable('quotas')
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(255)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_quotas', ['project_id', 'resource'])
        .execute();

      await db.schema.createTable('services')
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('binary', 'varchar(255)', (c) => c.notNull())
        .addColumn('uuid', ID, (c) => c.notNull())
        .addColumn('topic', 'varchar(255)')
        .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled_reason', 'varchar(255)')
        .addColumn('report_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addPrimaryKeyConstraint('pk_services', ['host', 'binary'])
        .execute();
    },
  },
  {
    name: '002_messages',
    async up(db) {
      await db.schema.createTable('messages')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('request_id', 'varchar(255)')
        .addColumn('resource_type', 'varchar(36)')
        .addColumn('resource_uuid', 'varchar(255)')
        .addColumn('event_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('detail_id', 'varchar(10)')
        .addColumn('action_id', 'varchar(10)')
        .addColumn('message_level', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('expires_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ix_messages_project_id').on('messages').column('project_id').execute();
    },
  },
  {
    name: '003_transfers',
    async up(db) {
      await db.schema.createTable('transfers')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('volume_id', ID, (c) => c.notNull())
        .addColumn('display_name', 'varchar(255)')
        .addColumn('salt', 'varchar(255)', (c) => c.notNull())
        .addColumn('crypt_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('source_project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('destination_project_id', 'varchar(255)')
        .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS)
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ix_transfers_volume_id').on('transfers').column('volume_id').execute();
    },
  },
];
