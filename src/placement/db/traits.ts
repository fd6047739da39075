/**
 * Traits: the os-traits standard set (synced at startup) plus `CUSTOM_*`, and their association
 * with resource providers.
 * @module
 */
import { PlacementException, NotFound, TraitNotFound } from '../exceptions.js';
import { STANDARD_TRAITS } from './standard-traits.js';
import { chunks, isDuplicateEntry, nowValue, type Db, type PlacementDatabase } from './sql.js';

export interface TraitRecord {
  id: number;
  name: string;
  created_at: string | Date | null;
  updated_at: string | Date | null;
}

export class TraitCannotDeleteStandard extends PlacementException {
  constructor(name: string) { super(`Cannot delete standard trait ${name}.`); }
}
export class TraitInUse extends PlacementException {
  constructor(name: string) { super(`The trait ${name} is in use by a resource provider.`); }
}

const isCustom = (name: string) => name.startsWith('CUSTOM_');

export async function syncStandardTraits(database: PlacementDatabase): Promise<void> {
  const have = new Set((await database.db.selectFrom('traits').select('name').execute()).map((r) => r.name));
  const missing = STANDARD_TRAITS.filter((t) => !have.has(t));
  if (missing.length === 0) return;
  const now = nowValue(database.dialect);
  try {
    for (const part of chunks(missing, 200)) {
      await database.db.insertInto('traits').values(part.map((name) => ({ name, created_at: now, updated_at: null }))).execute();
    }
  } catch (e) {
    if (!isDuplicateEntry(e)) throw e;
  }
}

export interface TraitFilters {
  nameIn?: string[];
  prefix?: string;
  associated?: boolean;
}

export async function listTraits(db: Db, filters: TraitFilters = {}): Promise<TraitRecord[]> {
  let q = db.selectFrom('traits').select(['traits.id', 'traits.name', 'traits.created_at', 'traits.updated_at']);
  if (filters.nameIn) {
    if (filters.nameIn.length === 0) return [];
    q = q.where('traits.name', 'in', filters.nameIn);
  }
  if (filters.prefix !== undefined) {
    // No LIKE escaping across engines: over-match on '%'/'_' here, exact prefix check below.
    q = q.where('traits.name', 'like', `${filters.prefix}%`);
  }
  if (filters.associated === true) {
    q = q.where(({ exists, selectFrom }) => exists(selectFrom('resource_provider_traits as rpt').select('rpt.trait_id')
      .whereRef('rpt.trait_id', '=', 'traits.id')));
  } else if (filters.associated === false) {
    q = q.where(({ not, exists, selectFrom }) => not(exists(selectFrom('resource_provider_traits as rpt').select('rpt.trait_id')
      .whereRef('rpt.trait_id', '=', 'traits.id'))));
  }
  const rows = await q.orderBy('traits.name').execute();
  return filters.prefix !== undefined ? rows.filter((r) => r.name.startsWith(filters.prefix!)) : rows;
}

export async function getTrait(db: Db, name: string): Promise<TraitRecord> {
  const row = await db.selectFrom('traits').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new TraitNotFound([name]);
  return row;
}

/** Creates a custom trait if missing; returns whether it was created. */
export async function ensureTrait(database: PlacementDatabase, name: string): Promise<{ trait: TraitRecord; created: boolean }> {
  const existing = await database.db.selectFrom('traits').selectAll().where('name', '=', name).executeTakeFirst();
  if (existing) return { trait: existing, created: false };
  const now = nowValue(database.dialect);
  try {
    await database.db.insertInto('traits').values({ name, created_at: now, updated_at: null }).execute();
    return { trait: await getTrait(database.db, name), created: true };
  } catch (e) {
    if (!isDuplicateEntry(e)) throw e;
    return { trait: await getTrait(database.db, name), created: false };
  }
}

export async function deleteTrait(database: PlacementDatabase, name: string): Promise<void> {
  await database.transaction(async (trx) => {
    const t = await getTrait(trx, name);
    if (!isCustom(name)) throw new TraitCannotDeleteStandard(name);
    const used = await trx.selectFrom('resource_provider_traits').select('trait_id').where('trait_id', '=', t.id).limit(1).executeTakeFirst();
    if (used) throw new TraitInUse(name);
    await trx.deleteFrom('traits').where('id', '=', t.id).execute();
  });
}

/** Trait name -> id for `names`; throws TraitNotFound listing the missing ones. */
export async function traitIdsFromNames(db: Db, names: Iterable<string>): Promise<Map<string, number>> {
  const list = [...new Set(names)];
  const out = new Map<string, number>();
  for (const part of chunks(list)) {
    const rows = await db.selectFrom('traits').select(['id', 'name']).where('name', 'in', part).execute();
    for (const r of rows) out.set(r.name, r.id);
  }
  const missing = list.filter((n) => !out.has(n));
  if (missing.length) throw new TraitNotFound(missing);
  return out;
}

export async function getProviderTraits(db: Db, rpId: number): Promise<TraitRecord[]> {
  return db.selectFrom('traits').innerJoin('resource_provider_traits as rpt', 'rpt.trait_id', 'traits.id')
    .select(['traits.id', 'traits.name', 'traits.created_at', 'traits.updated_at'])
    .where('rpt.resource_provider_id', '=', rpId).orderBy('traits.name').execute();
}

export { NotFound };
