/**
 * Keystone schema migrations (Kysely schema builder; runs on SQLite, MariaDB and PostgreSQL).
 * @module
 */
import type { Kysely } from 'kysely';
import { addIdColumn, migrate, registerDbSchema, type Database, type DialectName, type Migration } from '../../common/db/index.js';

const id = 'varchar(64)';

export const identityMigrations: Migration[] = [
  {
    name: '001_initial',
    async up(db: Kysely<any>, dialect: DialectName) {
      await db.schema
        .createTable('project')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('domain_id', id, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('parent_id', id)
        .addColumn('is_domain', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('ixu_project_name_domain_id', ['domain_id', 'name'])
        .execute();
      await db.schema
        .createTable('project_tag')
        .addColumn('project_id', id, (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
        .execute();
      await db.schema
        .createTable('user')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('domain_id', id, (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('default_project_id', id)
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_active_at', 'bigint')
        .execute();
      await addIdColumn(db.schema.createTable('local_user'), dialect, 'id')
        .addColumn('user_id', id, (c) => c.notNull().unique())
        .addColumn('domain_id', id, (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('failed_auth_count', 'integer')
        .addColumn('failed_auth_at', 'bigint')
        .addUniqueConstraint('ixu_local_user_domain_name', ['domain_id', 'name'])
        .execute();
      await addIdColumn(db.schema.createTable('password'), dialect, 'id')
        .addColumn('local_user_id', 'integer', (c) => c.notNull())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('self_service', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('ix_password_local_user').on('password').column('local_user_id').execute();
      await db.schema
        .createTable('user_option')
        .addColumn('user_id', id, (c) => c.notNull())
        .addColumn('option_id', 'varchar(4)', (c) => c.notNull())
        .addColumn('option_value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_option_pk', ['user_id', 'option_id'])
        .execute();
      await db.schema
        .createTable('group')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('domain_id', id, (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addUniqueConstraint('ixu_group_name_domain_id', ['domain_id', 'name'])
        .execute();
      await db.schema
        .createTable('user_group_membership')
        .addColumn('user_id', id, (c) => c.notNull())
        .addColumn('group_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('user_group_membership_pk', ['user_id', 'group_id'])
        .execute();
      await db.schema
        .createTable('role')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', id, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addUniqueConstraint('ixu_role_name_domain_id', ['name', 'domain_id'])
        .execute();
      await db.schema
        .createTable('implied_role')
        .addColumn('prior_role_id', id, (c) => c.notNull())
        .addColumn('implied_role_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
        .execute();
      for (const t of ['assignment', 'system_assignment']) {
        await db.schema
          .createTable(t)
          .addColumn('type', 'varchar(16)', (c) => c.notNull())
          .addColumn('actor_id', id, (c) => c.notNull())
          .addColumn('target_id', id, (c) => c.notNull())
          .addColumn('role_id', id, (c) => c.notNull())
          .addColumn('inherited', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint(`${t}_pk`, ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
          .execute();
        await db.schema.createIndex(`ix_${t}_actor`).on(t).column('actor_id').execute();
      }
      await db.schema
        .createTable('region')
        .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('description', 'varchar(255)', (c) => c.notNull())
        .addColumn('parent_region_id', 'varchar(255)')
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('service')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('endpoint')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('interface', 'varchar(8)', (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('region_id', 'varchar(255)')
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await addIdColumn(db.schema.createTable('application_credential'), dialect, 'internal_id')
        .addColumn('id', id, (c) => c.notNull().unique())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('user_id', id, (c) => c.notNull())
        .addColumn('project_id', id)
        .addColumn('system', 'varchar(64)')
        .addColumn('expires_at', 'bigint')
        .addColumn('unrestricted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('duplicate_app_cred_constraint', ['user_id', 'name'])
        .execute();
      await db.schema
        .createTable('application_credential_role')
        .addColumn('application_credential_id', 'integer', (c) => c.notNull())
        .addColumn('role_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('application_credential_role_pk', ['application_credential_id', 'role_id'])
        .execute();
      await addIdColumn(db.schema.createTable('revocation_event'), dialect, 'id')
        .addColumn('domain_id', id)
        .addColumn('project_id', id)
        .addColumn('user_id', id)
        .addColumn('role_id', id)
        .addColumn('audit_id', 'varchar(32)')
        .addColumn('audit_chain_id', 'varchar(32)')
        .addColumn('issued_before', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ix_revocation_event_revoked_at').on('revocation_event').column('revoked_at').execute();
    },
  },
  {
    name: '002_credentials_policies_consumers',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('credential')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('user_id', id, (c) => c.notNull())
        .addColumn('project_id', id)
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('encrypted_blob', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ix_credential_user_id').on('credential').column('user_id').execute();
      await db.schema
        .createTable('policy')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('consumer')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('description', 'varchar(64)')
        .addColumn('secret', 'varchar(64)', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '003_trusts',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('trust')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('trustor_user_id', id, (c) => c.notNull())
        .addColumn('trustee_user_id', id, (c) => c.notNull())
        .addColumn('project_id', id)
        .addColumn('impersonation', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('remaining_uses', 'integer')
        .addColumn('deleted_at', 'bigint')
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ix_trust_trustor').on('trust').column('trustor_user_id').execute();
      await db.schema.createIndex('ix_trust_trustee').on('trust').column('trustee_user_id').execute();
      await db.schema
        .createTable('trust_role')
        .addColumn('trust_id', id, (c) => c.notNull())
        .addColumn('role_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('trust_role_pk', ['trust_id', 'role_id'])
        .execute();
    },
  },
  {
    name: '004_domain_config_endpoint_groups',
    async up(db: Kysely<any>) {
      for (const t of ['whitelisted_config', 'sensitive_config']) {
        await db.schema
          .createTable(t)
          .addColumn('domain_id', id, (c) => c.notNull())
          .addColumn('group', 'varchar(255)', (c) => c.notNull())
          .addColumn('option', 'varchar(255)', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${t}_pk`, ['domain_id', 'group', 'option'])
          .execute();
      }
      await db.schema
        .createTable('endpoint_group')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('filters', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('project_endpoint_group')
        .addColumn('endpoint_group_id', id, (c) => c.notNull())
        .addColumn('project_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('project_endpoint_group_pk', ['endpoint_group_id', 'project_id'])
        .execute();
      await db.schema
        .createTable('project_endpoint')
        .addColumn('endpoint_id', id, (c) => c.notNull())
        .addColumn('project_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('project_endpoint_pk', ['endpoint_id', 'project_id'])
        .execute();
    },
  },
];

registerDbSchema('keystone', identityMigrations);

/** Brings the keystone database to the latest schema. */
export async function migrateIdentity(database: Database): Promise<void> {
  await migrate(database, 'keystone', identityMigrations);
}
