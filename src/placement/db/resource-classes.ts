/**
 * Resource classes: the standard os-resource-classes set (synced at startup with their library
 * indexes as ids) plus `CUSTOM_*` classes with ids from 10000.
 * @module
 */
import { sql } from 'kysely';
import { PlacementException, NotFound, ResourceClassNotFound } from '../exceptions.js';
import { STANDARD_RESOURCE_CLASSES, MIN_CUSTOM_RESOURCE_CLASS_ID } from './standard-resource-classes.js';
import type { Kysely } from 'kysely';
import type { PlacementDB } from './schema.js';
import { isDuplicateEntry, nowValue, prepared, type Db, type PlacementDatabase } from './sql.js';

export interface ResourceClassRecord {
  id: number;
  name: string;
  created_at: string | Date | null;
  updated_at: string | Date | null;
}

export class ResourceClassExists extends PlacementException {
  constructor(name: string) { super(`Resource class ${name} already exists.`); }
}
export class ResourceClassCannotDeleteStandard extends PlacementException {
  constructor(name: string) { super(`Cannot delete standard resource class ${name}.`); }
}
export class ResourceClassCannotUpdateStandard extends PlacementException {
  constructor(name: string) { super(`Cannot update standard resource class ${name}.`); }
}
export class ResourceClassInUse extends PlacementException {
  constructor(name: string) { super(`Cannot delete resource class ${name}. Class is in use in inventory.`); }
}

const isStandard = (name: string) => STANDARD_RESOURCE_CLASSES.includes(name);

/** Inserts any standard class the table lacks (placement's `resource_class.ensure_sync`). */
export async function syncStandardResourceClasses(database: PlacementDatabase): Promise<void> {
  const have = new Set((await database.db.selectFrom('resource_classes').select('name').execute()).map((r) => r.name));
  const missing = STANDARD_RESOURCE_CLASSES.map((name, id) => ({ id, name })).filter((r) => !have.has(r.name));
  if (missing.length === 0) return;
  const now = nowValue(database.dialect);
  try {
    await database.db.insertInto('resource_classes')
      .values(missing.map((r) => ({ ...r, created_at: now, updated_at: null }))).execute();
  } catch (e) {
    if (!isDuplicateEntry(e)) throw e; // another process synced first
  }
}

/** Id <-> name maps of every resource class; small enough to read whenever a request needs it. */
export class ResourceClassMap {
  constructor(readonly byName: Map<string, number>, readonly byId: Map<number, string>) {}

  /** Reads them (`root`: the database's Kysely when `db` is a transaction on it). */
  static async load(db: Db, root?: Kysely<PlacementDB>): Promise<ResourceClassMap> {
    const { rows } = await prepared<{ id: number; name: string }>(db, 'rc.all', [], () => db.selectFrom('resource_classes').select(['id', 'name']), root);
    return new ResourceClassMap(new Map(rows.map((r) => [r.name, r.id])), new Map(rows.map((r) => [r.id, r.name])));
  }

  idOf(name: string): number {
    const id = this.byName.get(name);
    if (id === undefined) throw new ResourceClassNotFound(name);
    return id;
  }

  nameOf(id: number): string {
    return this.byId.get(id) ?? `UNKNOWN_${id}`;
  }
}

export async function listResourceClasses(db: Db): Promise<ResourceClassRecord[]> {
  return db.selectFrom('resource_classes').selectAll().orderBy('id').execute();
}

export async function getResourceClass(db: Db, name: string): Promise<ResourceClassRecord> {
  const row = await db.selectFrom('resource_classes').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new NotFound(`No such resource class ${name}.`);
  return row;
}

export async function createResourceClass(database: PlacementDatabase, name: string): Promise<ResourceClassRecord> {
  if (isStandard(name)) throw new ResourceClassExists(name);
  // Custom ids are allocated max+1 from 10000; a racing insert retries (placement's MaxDBRetries).
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await database.transaction(async (trx) => {
        const existing = await trx.selectFrom('resource_classes').select('id').where('name', '=', name).executeTakeFirst();
        if (existing) throw new ResourceClassExists(name);
        const max = await trx.selectFrom('resource_classes').select(sql<number>`MAX(id)`.as('m'))
          .where('id', '>=', MIN_CUSTOM_RESOURCE_CLASS_ID).executeTakeFirst();
        const id = max?.m ? Number(max.m) + 1 : MIN_CUSTOM_RESOURCE_CLASS_ID;
        const now = nowValue(database.dialect);
        await trx.insertInto('resource_classes').values({ id, name, created_at: now, updated_at: null }).execute();
        return { id, name, created_at: now, updated_at: null };
      });
    } catch (e) {
      if (!isDuplicateEntry(e)) throw e;
      const again = await database.db.selectFrom('resource_classes').select('id').where('name', '=', name).executeTakeFirst();
      if (again) throw new ResourceClassExists(name);
    }
  }
  throw new PlacementException(`Max retries of DB transaction exceeded attempting to create resource class: ${name}, please try again.`);
}

export async function deleteResourceClass(database: PlacementDatabase, name: string): Promise<void> {
  if (isStandard(name)) throw new ResourceClassCannotDeleteStandard(name);
  await database.transaction(async (trx) => {
    const rc = await trx.selectFrom('resource_classes').select('id').where('name', '=', name).executeTakeFirst();
    if (!rc) throw new NotFound(`No such resource class ${name}.`);
    const inUse = await trx.selectFrom('inventories').select('id').where('resource_class_id', '=', rc.id).limit(1).executeTakeFirst();
    if (inUse) throw new ResourceClassInUse(name);
    await trx.deleteFrom('resource_classes').where('id', '=', rc.id).execute();
  });
}

/** Renames a custom class (PUT /resource_classes/{name} at 1.2 - 1.6). */
export async function renameResourceClass(database: PlacementDatabase, name: string, newName: string): Promise<ResourceClassRecord> {
  const rc = await getResourceClass(database.db, name);
  if (isStandard(name)) throw new ResourceClassCannotUpdateStandard(name);
  try {
    const now = nowValue(database.dialect);
    await database.db.updateTable('resource_classes').set({ name: newName, updated_at: now }).where('id', '=', rc.id).execute();
    return { ...rc, name: newName, updated_at: now };
  } catch (e) {
    if (isDuplicateEntry(e)) throw new ResourceClassExists(newName);
    throw e;
  }
}
