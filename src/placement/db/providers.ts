/**
 * Resource providers: trees (parent/root), generations, aggregates and trait associations.
 * Every change that bumps a generation does it compare-and-swap style, so a concurrent writer
 * gets ConcurrentUpdateDetected (409 placement.concurrent_update), never a lost update.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  CannotDeleteParentResourceProvider, DuplicateEntry, NotFound, ObjectActionError,
  ResourceProviderConcurrentUpdateDetected, ResourceProviderInUse,
} from '../exceptions.js';
import type { Kysely } from 'kysely';
import type { PlacementDB } from './schema.js';
import { chunks, insertReturningId, isDuplicateEntry, nowValue, prepared, type Db, type PlacementDatabase } from './sql.js';
import { traitIdsFromNames, type TraitRecord } from './traits.js';

export interface ResourceProvider {
  id: number;
  uuid: string;
  name: string | null;
  generation: number;
  root_provider_id: number;
  parent_provider_id: number | null;
  root_provider_uuid: string;
  parent_provider_uuid: string | null;
  created_at: string | Date | null;
  updated_at: string | Date | null;
}

function providerQuery(db: Db) {
  return db.selectFrom('resource_providers as rp')
    .innerJoin('resource_providers as root', 'root.id', 'rp.root_provider_id')
    .leftJoin('resource_providers as parent', 'parent.id', 'rp.parent_provider_id')
    .select([
      'rp.id', 'rp.uuid', 'rp.name', 'rp.generation', 'rp.root_provider_id', 'rp.parent_provider_id',
      'rp.created_at', 'rp.updated_at', 'root.uuid as root_provider_uuid', 'parent.uuid as parent_provider_uuid',
    ]);
}

export async function getProviderByUuid(db: Db, uuid: string): Promise<ResourceProvider> {
  const row = await providerQuery(db).where('rp.uuid', '=', uuid).executeTakeFirst();
  if (!row) throw new NotFound(`No resource provider with uuid ${uuid} found`);
  return row as ResourceProvider;
}

export async function findProviderByUuid(db: Db, uuid: string): Promise<ResourceProvider | undefined> {
  return (await providerQuery(db).where('rp.uuid', '=', uuid).executeTakeFirst()) as ResourceProvider | undefined;
}

export async function getProvidersByUuids(db: Db, uuids: string[], root?: Kysely<PlacementDB>): Promise<Map<string, ResourceProvider>> {
  const out = new Map<string, ResourceProvider>();
  for (const part of chunks(uuids)) {
    const { rows } = await prepared<ResourceProvider>(db, `rp.byUuids.${part.length}`, part,
      (s) => providerQuery(db).where('rp.uuid', 'in', [...s]), root);
    for (const r of rows) out.set(r.uuid, r);
  }
  return out;
}

export async function createProvider(
  database: PlacementDatabase, data: { uuid?: string; name: string; parent_provider_uuid?: string | null },
): Promise<ResourceProvider> {
  const uuid = data.uuid ?? randomUUID();
  const now = nowValue(database.dialect);
  try {
    await database.transaction(async (trx) => {
      let parentId: number | null = null;
      let rootId: number | null = null;
      if (data.parent_provider_uuid) {
        if (data.parent_provider_uuid === uuid) {
          throw new ObjectActionError('create', 'parent provider UUID cannot be same as UUID. '
            + 'Please set parent provider UUID to None if there is no parent.');
        }
        const parent = await findProviderByUuid(trx, data.parent_provider_uuid);
        if (!parent) throw new ObjectActionError('create', 'parent provider UUID does not exist.');
        parentId = parent.id;
        rootId = parent.root_provider_id;
      }
      const id = await insertReturningId(trx, database.dialect, 'resource_providers', {
        uuid, name: data.name, generation: 0, parent_provider_id: parentId, root_provider_id: rootId,
        created_at: now, updated_at: null,
      });
      if (rootId === null) await trx.updateTable('resource_providers').set({ root_provider_id: id }).where('id', '=', id).execute();
    });
  } catch (e) {
    if (isDuplicateEntry(e)) {
      const dup: string[] = [];
      if (await findProviderByUuid(database.db, uuid)) dup.push(`uuid: ${uuid}`);
      if (await database.db.selectFrom('resource_providers').select('id').where('name', '=', data.name).executeTakeFirst()) {
        dup.push(`name: ${data.name}`);
      }
      throw new DuplicateEntry(dup.length ? dup : [`name: ${data.name}`]);
    }
    throw e;
  }
  return getProviderByUuid(database.db, uuid);
}

export interface ProviderFilters {
  name?: string;
  uuid?: string;
  inTree?: string;
  /** Provider ids allowed (already computed by trait / aggregate / resource filters). */
  ids?: Set<number>;
  excludeIds?: Set<number>;
}

export async function listProviders(db: Db, f: ProviderFilters = {}): Promise<ResourceProvider[]> {
  let q = providerQuery(db);
  if (f.name !== undefined) q = q.where('rp.name', '=', f.name);
  if (f.uuid !== undefined) q = q.where('rp.uuid', '=', f.uuid);
  if (f.inTree !== undefined) {
    const tree = await findProviderByUuid(db, f.inTree);
    if (!tree) return [];
    q = q.where('rp.root_provider_id', '=', tree.root_provider_id);
  }
  const rows = (await q.orderBy('rp.id').execute()) as ResourceProvider[];
  return rows.filter((r) => (!f.ids || f.ids.has(r.id)) && (!f.excludeIds || !f.excludeIds.has(r.id)));
}

/** The provider and all its descendants. */
async function subtreeIds(db: Db, rp: ResourceProvider): Promise<number[]> {
  const rows = await db.selectFrom('resource_providers').select(['id', 'parent_provider_id'])
    .where('root_provider_id', '=', rp.root_provider_id).execute();
  const children = new Map<number, number[]>();
  for (const r of rows) {
    if (r.parent_provider_id != null) {
      const list = children.get(r.parent_provider_id) ?? [];
      list.push(r.id);
      children.set(r.parent_provider_id, list);
    }
  }
  const out: number[] = [];
  const stack = [rp.id];
  while (stack.length) {
    const id = stack.pop()!;
    out.push(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

export async function updateProvider(
  database: PlacementDatabase, uuid: string,
  data: { name?: string; parent_provider_uuid?: string | null }, allowReparenting: boolean,
): Promise<ResourceProvider> {
  try {
    await database.transaction(async (trx) => {
      const me = await getProviderByUuid(trx, uuid);
      const updates: Record<string, unknown> = { updated_at: nowValue(database.dialect) };
      if (data.name !== undefined) updates['name'] = data.name;
      let newRoot: number | null = null;
      let subtree: number[] = [];
      if ('parent_provider_uuid' in data) {
        const parentUuid = data.parent_provider_uuid ?? null;
        if (parentUuid !== null) {
          const parent = await findProviderByUuid(trx, parentUuid);
          if (!parent) throw new ObjectActionError('create', 'parent provider UUID does not exist.');
          if (me.parent_provider_id !== null && me.parent_provider_id !== parent.id && !allowReparenting) {
            throw new ObjectActionError('update', 're-parenting a provider is not currently allowed.');
          }
          subtree = await subtreeIds(trx, me);
          if (subtree.includes(parent.id)) {
            throw new ObjectActionError('update', 'creating loop in the provider tree is not allowed.');
          }
          updates['parent_provider_id'] = parent.id;
          newRoot = parent.root_provider_id;
        } else if (me.parent_provider_id !== null) {
          if (!allowReparenting) throw new ObjectActionError('update', 'un-parenting a provider is not currently allowed.');
          subtree = await subtreeIds(trx, me);
          updates['parent_provider_id'] = null;
          newRoot = me.id;
        }
      }
      await trx.updateTable('resource_providers').set(updates).where('id', '=', me.id).execute();
      if (newRoot !== null && subtree.length) {
        for (const part of chunks(subtree)) {
          await trx.updateTable('resource_providers').set({ root_provider_id: newRoot, updated_at: nowValue(database.dialect) }).where('id', 'in', part).execute();
        }
      }
    });
  } catch (e) {
    if (isDuplicateEntry(e)) throw new DuplicateEntry(['name']);
    throw e;
  }
  return getProviderByUuid(database.db, uuid);
}

export async function deleteProvider(database: PlacementDatabase, uuid: string): Promise<void> {
  await database.transaction(async (trx) => {
    const rp = await findProviderByUuid(trx, uuid);
    if (!rp) throw new NotFound(`No resource provider with uuid ${uuid} found for delete`);
    const child = await trx.selectFrom('resource_providers').select('id').where('parent_provider_id', '=', rp.id).limit(1).executeTakeFirst();
    if (child) throw new CannotDeleteParentResourceProvider();
    const alloc = await trx.selectFrom('allocations').select('id').where('resource_provider_id', '=', rp.id).limit(1).executeTakeFirst();
    if (alloc) throw new ResourceProviderInUse();
    await trx.deleteFrom('inventories').where('resource_provider_id', '=', rp.id).execute();
    await trx.deleteFrom('resource_provider_aggregates').where('resource_provider_id', '=', rp.id).execute();
    await trx.deleteFrom('resource_provider_traits').where('resource_provider_id', '=', rp.id).execute();
    await trx.updateTable('resource_providers').set({ root_provider_id: null }).where('id', '=', rp.id).execute();
    await trx.deleteFrom('resource_providers').where('id', '=', rp.id).execute();
  });
}

/** Bumps a provider's generation if it is still `expected`; else ResourceProviderConcurrentUpdateDetected. */
export async function incrementGeneration(db: Db, rpId: number, expected: number, dialect: PlacementDatabase['dialect'],
  root?: Kysely<PlacementDB>): Promise<number> {
  const r = await prepared(db, 'rp.bumpGeneration', [expected + 1, nowValue(dialect), rpId, expected], (s) => db.updateTable('resource_providers')
    .set({ generation: s[0] as unknown as number, updated_at: s[1] as unknown as Date })
    .where('id', '=', s[2] as unknown as number).where('generation', '=', s[3] as unknown as number), root);
  if (Number(r.numAffectedRows ?? 0) !== 1) throw new ResourceProviderConcurrentUpdateDetected();
  return expected + 1;
}

// --- aggregates ---

export async function getProviderAggregates(db: Db, rpId: number): Promise<string[]> {
  const rows = await db.selectFrom('placement_aggregates as a')
    .innerJoin('resource_provider_aggregates as rpa', 'rpa.aggregate_id', 'a.id')
    .select('a.uuid').where('rpa.resource_provider_id', '=', rpId).orderBy('a.id').execute();
  return rows.map((r) => r.uuid);
}

async function ensureAggregate(db: Db, dialect: PlacementDatabase['dialect'], aggUuid: string): Promise<number> {
  const row = await db.selectFrom('placement_aggregates').select('id').where('uuid', '=', aggUuid).executeTakeFirst();
  if (row) return row.id;
  return insertReturningId(db, dialect, 'placement_aggregates', { uuid: aggUuid, created_at: nowValue(dialect), updated_at: null });
}

/**
 * Replaces a provider's aggregates and bumps its generation (upstream bumps only from 1.19;
 * we always do, so that generation-keyed caches of aggregate membership stay correct).
 */
export async function setProviderAggregates(
  database: PlacementDatabase, rp: ResourceProvider, aggUuids: string[],
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await database.transaction(async (trx) => {
        const existing = await trx.selectFrom('placement_aggregates as a')
          .innerJoin('resource_provider_aggregates as rpa', 'rpa.aggregate_id', 'a.id')
          .select(['a.id', 'a.uuid']).where('rpa.resource_provider_id', '=', rp.id).execute();
        const want = new Set(aggUuids);
        const have = new Set(existing.map((e) => e.uuid));
        const now = nowValue(database.dialect);
        for (const u of want) {
          if (have.has(u)) continue;
          const aggId = await ensureAggregate(trx, database.dialect, u);
          await trx.insertInto('resource_provider_aggregates')
            .values({ resource_provider_id: rp.id, aggregate_id: aggId, created_at: now, updated_at: null }).execute();
        }
        const drop = existing.filter((e) => !want.has(e.uuid)).map((e) => e.id);
        if (drop.length) {
          await trx.deleteFrom('resource_provider_aggregates').where('resource_provider_id', '=', rp.id)
            .where('aggregate_id', 'in', drop).execute();
        }
        return incrementGeneration(trx, rp.id, rp.generation, database.dialect);
      });
    } catch (e) {
      // A racing creator of the same aggregate uuid: retry, as placement does.
      if (isDuplicateEntry(e) && attempt < 10) continue;
      throw e;
    }
  }
}

/** Ids of providers in every one of `memberOf`'s sets (each set: any of its aggregates). */
export async function providerIdsMatchingAggregates(db: Db, memberOf: string[][]): Promise<Set<number>> {
  let result: Set<number> | null = null;
  for (const anyOf of memberOf) {
    const rows = await db.selectFrom('resource_provider_aggregates as rpa')
      .innerJoin('placement_aggregates as a', 'a.id', 'rpa.aggregate_id')
      .select('rpa.resource_provider_id').where('a.uuid', 'in', anyOf).execute();
    const ids = new Set(rows.map((r) => r.resource_provider_id));
    result = result === null ? ids : new Set([...(result as Set<number>)].filter((id) => ids.has(id)));
    if (result.size === 0) return result;
  }
  return result ?? new Set();
}

// --- traits on providers ---

/** Replaces a provider's traits; bumps the generation only if something changed (as upstream). */
export async function setProviderTraits(
  database: PlacementDatabase, rp: ResourceProvider, traits: TraitRecord[],
): Promise<number> {
  return database.transaction(async (trx) => {
    const existing = new Set((await trx.selectFrom('resource_provider_traits').select('trait_id')
      .where('resource_provider_id', '=', rp.id).execute()).map((r) => r.trait_id));
    const want = new Set(traits.map((t) => t.id));
    const add = [...want].filter((id) => !existing.has(id));
    const del = [...existing].filter((id) => !want.has(id));
    if (!add.length && !del.length) {
      const cur = await trx.selectFrom('resource_providers').select('generation').where('id', '=', rp.id).executeTakeFirstOrThrow();
      if (cur.generation !== rp.generation) throw new ResourceProviderConcurrentUpdateDetected();
      return rp.generation;
    }
    if (del.length) {
      await trx.deleteFrom('resource_provider_traits').where('resource_provider_id', '=', rp.id).where('trait_id', 'in', del).execute();
    }
    const now = nowValue(database.dialect);
    for (const part of chunks(add)) {
      await trx.insertInto('resource_provider_traits')
        .values(part.map((trait_id) => ({ trait_id, resource_provider_id: rp.id, created_at: now, updated_at: null }))).execute();
    }
    return incrementGeneration(trx, rp.id, rp.generation, database.dialect);
  });
}

/** Ids of providers having, for each set in `required`, at least one of its traits. */
export async function providerIdsMatchingRequiredTraits(db: Db, required: Set<string>[]): Promise<Set<number>> {
  const ids = await traitIdsFromNames(db, required.flatMap((s) => [...s]));
  let result: Set<number> | null = null;
  for (const anyOf of required) {
    const rows = await db.selectFrom('resource_provider_traits').select('resource_provider_id')
      .where('trait_id', 'in', [...anyOf].map((n) => ids.get(n)!)).execute();
    const set = new Set(rows.map((r) => r.resource_provider_id));
    result = result === null ? set : new Set([...(result as Set<number>)].filter((id) => set.has(id)));
    if (result.size === 0) return result;
  }
  return result ?? new Set();
}

export async function providerIdsHavingAnyTrait(db: Db, names: Iterable<string>): Promise<Set<number>> {
  const ids = await traitIdsFromNames(db, names);
  if (ids.size === 0) return new Set();
  const rows = await db.selectFrom('resource_provider_traits').select('resource_provider_id')
    .where('trait_id', 'in', [...ids.values()]).execute();
  return new Set(rows.map((r) => r.resource_provider_id));
}

/** Providers with capacity for `amount` of class `rcId` (capacity, min/max unit, step size). */
export async function providerIdsWithCapacity(db: Db, rcId: number, amount: number): Promise<Set<number>> {
  const rows = await db.selectFrom('inventories as inv')
    .leftJoin(
      (eb) => eb.selectFrom('allocations').select(['resource_provider_id', sql<number>`SUM(used)`.as('used')])
        .where('resource_class_id', '=', rcId).groupBy('resource_provider_id').as('u'),
      (j) => j.onRef('u.resource_provider_id', '=', 'inv.resource_provider_id'),
    )
    .select(['inv.resource_provider_id', 'inv.total', 'inv.reserved', 'inv.allocation_ratio', 'inv.min_unit',
      'inv.max_unit', 'inv.step_size', 'u.used'])
    .where('inv.resource_class_id', '=', rcId).execute();
  return new Set(rows.filter((r) => Number(r.used ?? 0) + amount <= (r.total - r.reserved) * r.allocation_ratio
    && r.min_unit <= amount && r.max_unit >= amount && amount % r.step_size === 0).map((r) => r.resource_provider_id));
}
