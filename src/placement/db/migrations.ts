/**
 * Placement's schema as Kysely migrations (the state of placement's alembic head:
 * initial + consumer_types). Runs unchanged on SQLite, MariaDB and PostgreSQL.
 * @module
 */
import { sql, type Kysely, type CreateTableBuilder } from 'kysely';
import type { Migration } from '../../common/db/migrate.js';
import { registerDbSchema } from '../../common/db/registry.js';

type DialectName = 'sqlite' | 'mysql' | 'postgres';

function withId(t: CreateTableBuilder<any, any>, d: DialectName): CreateTableBuilder<any, any> {
  if (d === 'postgres') return t.addColumn('id', 'serial', (c) => c.primaryKey());
  return t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement().notNull());
}

function withTimestamps(t: CreateTableBuilder<any, any>, d: DialectName): CreateTableBuilder<any, any> {
  const type = d === 'postgres' ? 'timestamp' : 'datetime';
  return t.addColumn('created_at', type).addColumn('updated_at', type);
}

function mysqlOptions(t: CreateTableBuilder<any, any>, d: DialectName): CreateTableBuilder<any, any> {
  return d === 'mysql' ? t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`) : t;
}

const initial: Migration = {
  name: '001_initial',
  async up(db: Kysely<any>, d: DialectName) {
    const table = (name: string, build: (t: CreateTableBuilder<any, any>) => CreateTableBuilder<any, any>, id = true) => {
      let t = db.schema.createTable(name);
      t = withTimestamps(t, d);
      if (id) t = withId(t, d);
      return mysqlOptions(build(t), d).execute();
    };

    await table('resource_classes', (t) => t
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_resource_classes0name', ['name']));

    await table('resource_providers', (t) => t
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('name', 'varchar(200)')
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('root_provider_id', 'integer', (c) => c.references('resource_providers.id'))
      .addColumn('parent_provider_id', 'integer', (c) => c.references('resource_providers.id'))
      .addUniqueConstraint('uniq_resource_providers0uuid', ['uuid'])
      .addUniqueConstraint('uniq_resource_providers0name', ['name']));
    await db.schema.createIndex('resource_providers_root_provider_id_idx').on('resource_providers').column('root_provider_id').execute();
    await db.schema.createIndex('resource_providers_parent_provider_id_idx').on('resource_providers').column('parent_provider_id').execute();

    await table('inventories', (t) => t
      .addColumn('resource_provider_id', 'integer', (c) => c.notNull())
      .addColumn('resource_class_id', 'integer', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('reserved', 'integer', (c) => c.notNull())
      .addColumn('min_unit', 'integer', (c) => c.notNull())
      .addColumn('max_unit', 'integer', (c) => c.notNull())
      .addColumn('step_size', 'integer', (c) => c.notNull())
      .addColumn('allocation_ratio', d === 'postgres' ? 'real' : 'float4', (c) => c.notNull())
      .addUniqueConstraint('uniq_inventories0resource_provider_resource_class', ['resource_provider_id', 'resource_class_id']));
    await db.schema.createIndex('inventories_resource_class_id_idx').on('inventories').column('resource_class_id').execute();

    await table('allocations', (t) => t
      .addColumn('resource_provider_id', 'integer', (c) => c.notNull())
      .addColumn('consumer_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('resource_class_id', 'integer', (c) => c.notNull())
      .addColumn('used', 'integer', (c) => c.notNull()));
    await db.schema.createIndex('allocations_resource_provider_class_used_idx').on('allocations')
      .columns(['resource_provider_id', 'resource_class_id', 'used']).execute();
    await db.schema.createIndex('allocations_resource_class_id_idx').on('allocations').column('resource_class_id').execute();
    await db.schema.createIndex('allocations_consumer_id_idx').on('allocations').column('consumer_id').execute();

    await table('placement_aggregates', (t) => t
      .addColumn('uuid', 'varchar(36)')
      .addUniqueConstraint('uniq_placement_aggregates0uuid', ['uuid']));

    await table('resource_provider_aggregates', (t) => t
      .addColumn('resource_provider_id', 'integer', (c) => c.notNull())
      .addColumn('aggregate_id', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_provider_aggregates_pk', ['resource_provider_id', 'aggregate_id']), false);
    await db.schema.createIndex('resource_provider_aggregates_aggregate_id_idx').on('resource_provider_aggregates')
      .column('aggregate_id').execute();

    await table('traits', (t) => t
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_traits0name', ['name']));

    await table('resource_provider_traits', (t) => t
      .addColumn('trait_id', 'integer', (c) => c.notNull().references('traits.id'))
      .addColumn('resource_provider_id', 'integer', (c) => c.notNull().references('resource_providers.id'))
      .addPrimaryKeyConstraint('resource_provider_traits_pk', ['trait_id', 'resource_provider_id']), false);
    await db.schema.createIndex('resource_provider_traits_resource_provider_trait_idx').on('resource_provider_traits')
      .columns(['resource_provider_id', 'trait_id']).execute();

    await table('projects', (t) => t
      .addColumn('external_id', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_projects0external_id', ['external_id']));
    await table('users', (t) => t
      .addColumn('external_id', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_users0external_id', ['external_id']));

    await table('consumer_types', (t) => t
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_consumer_types0name', ['name']));

    await table('consumers', (t) => t
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'integer', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('consumer_type_id', 'integer', (c) => c.references('consumer_types.id'))
      .addUniqueConstraint('uniq_consumers0uuid', ['uuid']));
    await db.schema.createIndex('consumers_project_id_uuid_idx').on('consumers').columns(['project_id', 'uuid']).execute();
    await db.schema.createIndex('consumers_project_id_user_id_uuid_idx').on('consumers')
      .columns(['project_id', 'user_id', 'uuid']).execute();
    await db.schema.createIndex('consumers_consumer_type_id_idx').on('consumers').column('consumer_type_id').execute();
  },
};

/** Placement's migrations, in apply order. */
export const placementMigrations: readonly Migration[] = [initial];

// `stratus manage placement db sync|version` finds them here.
registerDbSchema('placement', placementMigrations);
