/**
 * The `glance` database's tables (glance/db/sqlalchemy/models.py), as Kysely sees them.
 * Timestamps are written as UTC 'YYYY-MM-DD HH:MM:SS.mmm' strings and booleans as 0/1, which all
 * three dialects accept; reads are normalized in the repository.
 * @module
 */
import type { Generated } from 'kysely';

type DbTime = string | Date;
type DbBool = number | boolean;
type DbInt = number | string | bigint;

export interface ImagesTable {
  id: string;
  name: string | null;
  size: DbInt | null;
  status: string;
  created_at: DbTime;
  updated_at: DbTime | null;
  deleted_at: DbTime | null;
  deleted: DbBool;
  disk_format: string | null;
  container_format: string | null;
  checksum: string | null;
  owner: string | null;
  min_disk: number;
  min_ram: number;
  protected: DbBool;
  virtual_size: DbInt | null;
  visibility: string;
  os_hidden: DbBool;
  os_hash_algo: string | null;
  os_hash_value: string | null;
}

export interface ImagePropertiesTable {
  id: Generated<number>;
  image_id: string;
  name: string;
  value: string | null;
  created_at: DbTime;
  updated_at: DbTime | null;
  deleted_at: DbTime | null;
  deleted: DbBool;
}

export interface ImageTagsTable {
  id: Generated<number>;
  image_id: string;
  value: string;
  created_at: DbTime;
  updated_at: DbTime | null;
  deleted_at: DbTime | null;
  deleted: DbBool;
}

export interface ImageMembersTable {
  id: Generated<number>;
  image_id: string;
  member: string;
  can_share: DbBool;
  status: string;
  created_at: DbTime;
  updated_at: DbTime | null;
  deleted_at: DbTime | null;
  deleted: DbBool;
}

export interface ImageLocationsTable {
  id: Generated<number>;
  image_id: string;
  value: string;
  meta_data: string | null;
  status: string;
  created_at: DbTime;
  updated_at: DbTime | null;
  deleted_at: DbTime | null;
  deleted: DbBool;
}

export interface GlanceDB {
  images: ImagesTable;
  image_properties: ImagePropertiesTable;
  image_tags: ImageTagsTable;
  image_members: ImageMembersTable;
  image_locations: ImageLocationsTable;
}
