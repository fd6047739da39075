/**
 * Inventories of a resource provider. Each change bumps the provider generation (CAS).
 * @module
 */
import { sql } from 'kysely';
import {
  InventoryInUse, InventoryWithResourceClassNotFound, NotFound,
} from '../exceptions.js';
import type { ResourceClassMap } from './resource-classes.js';
import { incrementGeneration, type ResourceProvider } from './providers.js';
import { nowValue, type Db, type PlacementDatabase } from './sql.js';

export interface InventoryFields {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

export interface InventoryRecord extends InventoryFields {
  resource_class: string;
  created_at: string | Date | null;
  updated_at: string | Date | null;
}

export const MAX_INT = 0x7fffffff;
export const INVENTORY_DEFAULTS: Omit<InventoryFields, 'total'> = {
  reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0,
};

/** Capacity as placement computes it: (total - reserved) * allocation_ratio. */
export function capacityOf(inv: InventoryFields): number {
  return (inv.total - inv.reserved) * inv.allocation_ratio;
}

export async function listInventories(db: Db, rpId: number, rcs: ResourceClassMap): Promise<InventoryRecord[]> {
  const rows = await db.selectFrom('inventories').selectAll().where('resource_provider_id', '=', rpId).orderBy('resource_class_id').execute();
  return rows.map((r) => ({
    resource_class: rcs.nameOf(r.resource_class_id), total: r.total, reserved: r.reserved, min_unit: r.min_unit,
    max_unit: r.max_unit, step_size: r.step_size, allocation_ratio: Number(r.allocation_ratio),
    created_at: r.created_at, updated_at: r.updated_at,
  }));
}

async function usageByClass(db: Db, rpId: number): Promise<Map<number, number>> {
  const rows = await db.selectFrom('allocations').select(['resource_class_id', sql<number>`SUM(used)`.as('used')])
    .where('resource_provider_id', '=', rpId).groupBy('resource_class_id').execute();
  return new Map(rows.map((r) => [r.resource_class_id, Number(r.used)]));
}

/**
 * Replaces the provider's whole inventory (PUT .../inventories) in one transaction; 409s for
 * classes in use that would be removed. Returns the new generation.
 */
const fieldsOf = (i: InventoryFields): InventoryFields => ({
  total: i.total, reserved: i.reserved, min_unit: i.min_unit, max_unit: i.max_unit, step_size: i.step_size,
  allocation_ratio: i.allocation_ratio,
});

export async function setInventories(
  db: Db, dialect: PlacementDatabase['dialect'], rp: ResourceProvider,
  inventories: Map<string, InventoryFields>, rcs: ResourceClassMap,
): Promise<number> {
  const want = new Map<number, InventoryFields>();
  for (const [name, inv] of inventories) want.set(rcs.idOf(name), fieldsOf(inv));
  const existing = new Set((await db.selectFrom('inventories').select('resource_class_id')
    .where('resource_provider_id', '=', rp.id).execute()).map((r) => r.resource_class_id));
  const toDelete = [...existing].filter((id) => !want.has(id));
  const now = nowValue(dialect);
  if (toDelete.length) {
    const used = await db.selectFrom('allocations').select('resource_class_id').distinct()
      .where('resource_provider_id', '=', rp.id).where('resource_class_id', 'in', toDelete).execute();
    if (used.length) {
      throw new InventoryInUse(used.map((u) => rcs.nameOf(u.resource_class_id)).join(', '), rp.uuid);
    }
    await db.deleteFrom('inventories').where('resource_provider_id', '=', rp.id).where('resource_class_id', 'in', toDelete).execute();
  }
  for (const [rcId, inv] of want) {
    if (existing.has(rcId)) {
      const r = await db.updateTable('inventories').set({ ...inv, updated_at: now })
        .where('resource_provider_id', '=', rp.id).where('resource_class_id', '=', rcId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new InventoryWithResourceClassNotFound(rcs.nameOf(rcId));
    } else {
      await db.insertInto('inventories').values({
        resource_provider_id: rp.id, resource_class_id: rcId, ...inv, created_at: now, updated_at: null,
      }).execute();
    }
  }
  return incrementGeneration(db, rp.id, rp.generation, dialect);
}

export async function addInventory(
  database: PlacementDatabase, rp: ResourceProvider, rcName: string, inv: InventoryFields, rcs: ResourceClassMap,
): Promise<number> {
  const rcId = rcs.idOf(rcName);
  return database.transaction(async (trx) => {
    await trx.insertInto('inventories').values({
      resource_provider_id: rp.id, resource_class_id: rcId, ...inv, created_at: nowValue(database.dialect), updated_at: null,
    }).execute();
    return incrementGeneration(trx, rp.id, rp.generation, database.dialect);
  });
}

export async function updateInventory(
  database: PlacementDatabase, rp: ResourceProvider, rcName: string, inv: InventoryFields, rcs: ResourceClassMap,
): Promise<number> {
  const rcId = rcs.idOf(rcName);
  return database.transaction(async (trx) => {
    const r = await trx.updateTable('inventories').set({ ...inv, updated_at: nowValue(database.dialect) })
      .where('resource_provider_id', '=', rp.id).where('resource_class_id', '=', rcId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new InventoryWithResourceClassNotFound(rcName);
    return incrementGeneration(trx, rp.id, rp.generation, database.dialect);
  });
}

export async function deleteInventory(
  database: PlacementDatabase, rp: ResourceProvider, rcName: string, rcs: ResourceClassMap,
): Promise<number> {
  const rcId = rcs.idOf(rcName);
  return database.transaction(async (trx) => {
    const usage = await usageByClass(trx, rp.id);
    if (usage.has(rcId)) throw new InventoryInUse(rcName, rp.uuid);
    const r = await trx.deleteFrom('inventories').where('resource_provider_id', '=', rp.id)
      .where('resource_class_id', '=', rcId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`No inventory of class ${rcName} found for delete`);
    return incrementGeneration(trx, rp.id, rp.generation, database.dialect);
  });
}

/** Usage per resource class for each class the provider has inventory of (GET .../usages). */
export async function providerUsages(db: Db, rpId: number, rcs: ResourceClassMap): Promise<Record<string, number>> {
  const invs = await db.selectFrom('inventories').select('resource_class_id').where('resource_provider_id', '=', rpId).execute();
  const usage = await usageByClass(db, rpId);
  const out: Record<string, number> = {};
  for (const i of invs) out[rcs.nameOf(i.resource_class_id)] = usage.get(i.resource_class_id) ?? 0;
  return out;
}
