/**
 * Migrations of the `glance` database: the tables of glance's schema (images, image_properties,
 * image_tags, image_members, image_locations) with its indexes and unique constraints.
 * @module
 */
import { type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../../common/db/connection.js';
import { addIdColumn, booleanDefault, datetimeType, jsonType, longTextType, type Migration } from '../../common/db/index.js';

/** The audit columns every glance table carries (glance's GlanceBase). */
function audit<T extends string, C extends string>(t: CreateTableBuilder<T, C>, dialect: DialectName): CreateTableBuilder<T, string> {
  const ts = datetimeType(dialect);
  return t
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts)
    .addColumn('deleted_at', ts)
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false)));
}

export const GLANCE_MIGRATIONS: readonly Migration[] = [
  {
    name: '001_glance_initial',
    async up(db: Kysely<any>, dialect: DialectName) {
      await audit(
        db.schema
          .createTable('images')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(255)')
          .addColumn('size', 'bigint')
          .addColumn('status', 'varchar(30)', (c) => c.notNull())
          .addColumn('disk_format', 'varchar(20)')
          .addColumn('container_format', 'varchar(20)')
          .addColumn('checksum', 'varchar(32)')
          .addColumn('owner', 'varchar(255)')
          .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('protected', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false)))
          .addColumn('virtual_size', 'bigint')
          .addColumn('visibility', 'varchar(20)', (c) => c.notNull().defaultTo('shared'))
          .addColumn('os_hidden', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false)))
          .addColumn('os_hash_algo', 'varchar(64)')
          .addColumn('os_hash_value', 'varchar(128)'),
        dialect,
      ).execute();
      await db.schema.createIndex('checksum_image_idx').on('images').column('checksum').execute();
      await db.schema.createIndex('visibility_image_idx').on('images').column('visibility').execute();
      await db.schema.createIndex('ix_images_deleted').on('images').column('deleted').execute();
      await db.schema.createIndex('owner_image_idx').on('images').column('owner').execute();
      await db.schema.createIndex('created_at_image_idx').on('images').column('created_at').execute();
      await db.schema.createIndex('os_hash_value_image_idx').on('images').column('os_hash_value').execute();

      await audit(
        addIdColumn(db.schema.createTable('image_properties'), dialect)
          .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('images.id'))
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('value', longTextType(dialect)),
        dialect,
      ).execute();
      await db.schema.createIndex('ix_image_properties_image_id_name').on('image_properties').columns(['image_id', 'name']).unique().execute();

      await audit(
        addIdColumn(db.schema.createTable('image_tags'), dialect)
          .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('images.id'))
          .addColumn('value', 'varchar(255)', (c) => c.notNull()),
        dialect,
      ).execute();
      await db.schema.createIndex('ix_image_tags_image_id_tag_value').on('image_tags').columns(['image_id', 'value']).execute();

      await audit(
        addIdColumn(db.schema.createTable('image_members'), dialect)
          .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('images.id'))
          .addColumn('member', 'varchar(255)', (c) => c.notNull())
          .addColumn('can_share', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false)))
          .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending')),
        dialect,
      ).execute();
      await db.schema.createIndex('ix_image_members_image_id_member').on('image_members').columns(['image_id', 'member']).execute();

      await audit(
        addIdColumn(db.schema.createTable('image_locations'), dialect)
          .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('images.id'))
          .addColumn('value', longTextType(dialect), (c) => c.notNull())
          .addColumn('meta_data', longTextType(dialect))
          .addColumn('status', 'varchar(30)', (c) => c.notNull().defaultTo('active')),
        dialect,
      ).execute();
      await db.schema.createIndex('ix_image_locations_image_id').on('image_locations').column('image_id').execute();
    },
  },
  {
    // Metadata definitions (glance's metadef_* tables), with the resource types
    // `glance-manage db load_metadefs` registers.
    name: '002_glance_metadefs',
    async up(db: Kysely<any>, dialect: DialectName) {
      const ts = datetimeType(dialect);
      const times = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) =>
        t.addColumn('created_at', ts, (c) => c.notNull()).addColumn('updated_at', ts);
      await times(
        addIdColumn(db.schema.createTable('metadef_namespaces'), dialect)
          .addColumn('namespace', 'varchar(80)', (c) => c.notNull().unique())
          .addColumn('display_name', 'varchar(80)')
          .addColumn('description', longTextType(dialect))
          .addColumn('visibility', 'varchar(32)')
          .addColumn('protected', 'boolean')
          .addColumn('owner', 'varchar(255)', (c) => c.notNull()),
      ).execute();
      await times(
        addIdColumn(db.schema.createTable('metadef_resource_types'), dialect)
          .addColumn('name', 'varchar(80)', (c) => c.notNull().unique())
          .addColumn('protected', 'boolean', (c) => c.notNull().defaultTo(booleanDefault(false))),
      ).execute();
      await times(
        db.schema
          .createTable('metadef_namespace_resource_types')
          .addColumn('resource_type_id', 'integer', (c) => c.notNull())
          .addColumn('namespace_id', 'integer', (c) => c.notNull())
          .addColumn('properties_target', 'varchar(80)')
          .addColumn('prefix', 'varchar(80)')
          .addPrimaryKeyConstraint('metadef_namespace_resource_types_pkey', ['resource_type_id', 'namespace_id']),
      ).execute();
      for (const [table, extra] of [['metadef_objects', true], ['metadef_properties', false], ['metadef_tags', false]] as const) {
        let t = addIdColumn(db.schema.createTable(table), dialect)
          .addColumn('namespace_id', 'integer', (c) => c.notNull())
          .addColumn('name', 'varchar(80)', (c) => c.notNull());
        if (extra) t = t.addColumn('description', longTextType(dialect)).addColumn('required', longTextType(dialect));
        if (table !== 'metadef_tags') t = t.addColumn('json_schema', jsonType(dialect));
        await times(t).execute();
        await db.schema.createIndex(`ix_${table}_namespace_id_name`).on(table).columns(['namespace_id', 'name']).unique().execute();
      }
      const now = new Date();
      for (const name of ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Cinder::VolumeType', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server', 'OS::Trove::Instance']) {
        await db.insertInto('metadef_resource_types').values({ name, protected: true, created_at: now, updated_at: now }).execute();
      }
    },
  },
];
