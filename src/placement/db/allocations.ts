/**
 * Allocations and their consumers (with projects, users, consumer types and consumer generations).
 *
 * A claim (`setAllocations`) is one transaction: ensure consumers, replace their allocations,
 * check capacity against what is committed, then compare-and-swap every touched provider's
 * generation and every consumer's generation. Two racing claims for the last unit: one commits,
 * the other's CAS fails, it retries on fresh data and gets "capacity exceeded" (409).
 * @module
 */
import { sql, type Kysely } from 'kysely';
import type { PlacementDB } from './schema.js';
import {
  ConcurrentUpdateDetected, InvalidAllocationCapacityExceeded, InvalidAllocationConstraintsViolated,
  InvalidInventory, PlacementException, ResourceProviderConcurrentUpdateDetected,
} from '../exceptions.js';
import { getProvidersByUuids, incrementGeneration, type ResourceProvider } from './providers.js';
import { ResourceClassMap } from './resource-classes.js';
import { isDeadlockError } from '../../common/db/dialect.js';
import { chunks, insertReturningId, isDuplicateEntry, nowValue, prepared, type Db, type PlacementDatabase } from './sql.js';

/** The database's own Kysely, for compiled statements run in one of its transactions. */
type Root = Kysely<PlacementDB> | undefined;

/** What placement shows for consumers created before consumer types existed. */
export const NULL_CONSUMER_TYPE_ALIAS = 'unknown';
/** Placement's `[placement] incomplete_consumer_project_id` / `_user_id` defaults (pre-1.8 writes). */
export const INCOMPLETE_CONSUMER_ID = '00000000-0000-0000-0000-000000000000';
const ALLOCATION_CONFLICT_RETRY_COUNT = 10;

export class AllocationProviderMissing extends PlacementException {
  constructor(readonly rpUuid: string) { super(`Allocation for resource provider '${rpUuid}' that does not exist.`); }
}

/** 409 raised while checking consumer generations (upstream raises it from the handler). */
export class ConsumerGenerationConflict extends ConcurrentUpdateDetected {}

export interface ConsumerAllocations {
  consumerUuid: string;
  projectId: string;
  userId: string;
  /** undefined: not checked (microversion < 1.28); null: the consumer must not exist yet. */
  consumerGeneration?: number | null;
  /** undefined: leave as is (microversion < 1.38). */
  consumerType?: string;
  /** Provider uuid -> resource class -> amount. Empty: remove the consumer's allocations. */
  allocations: Record<string, Record<string, number>>;
}

async function getOrCreateExternal(db: Db, dialect: PlacementDatabase['dialect'], table: 'projects' | 'users', ext: string, root?: Root): Promise<number> {
  const row = (await prepared<{ id: number }>(db, `ext.${table}`, [ext], (s) => db.selectFrom(table).select('id').where('external_id', '=', s[0]!), root)).rows[0];
  if (row) return row.id;
  return insertReturningId(db, dialect, table, { external_id: ext, created_at: nowValue(dialect), updated_at: null });
}

async function getOrCreateConsumerType(db: Db, dialect: PlacementDatabase['dialect'], name: string): Promise<number> {
  const row = await db.selectFrom('consumer_types').select('id').where('name', '=', name).executeTakeFirst();
  if (row) return row.id;
  return insertReturningId(db, dialect, 'consumer_types', { name, created_at: nowValue(dialect), updated_at: null });
}

interface ConsumerRow { id: number; uuid: string; generation: number; project_id: number; user_id: number; consumer_type_id: number | null }

/** Creates or checks the consumer of one request entry; returns its row (generation as read). */
async function ensureConsumer(db: Db, dialect: PlacementDatabase['dialect'], req: ConsumerAllocations, root?: Root): Promise<ConsumerRow> {
  const projectId = await getOrCreateExternal(db, dialect, 'projects', req.projectId, root);
  const userId = await getOrCreateExternal(db, dialect, 'users', req.userId, root);
  const typeId = req.consumerType !== undefined ? await getOrCreateConsumerType(db, dialect, req.consumerType) : undefined;
  const existing = (await prepared<ConsumerRow>(db, 'consumer.byUuid', [req.consumerUuid], (s) => db.selectFrom('consumers')
    .select(['id', 'uuid', 'generation', 'project_id', 'user_id', 'consumer_type_id']).where('uuid', '=', s[0]!), root)).rows[0];
  if (existing) {
    if (req.consumerGeneration !== undefined && existing.generation !== req.consumerGeneration) {
      throw new ConsumerGenerationConflict(
        `consumer generation conflict - expected ${existing.generation} but got ${req.consumerGeneration}`);
    }
    const changes: Record<string, unknown> = {};
    if (existing.project_id !== projectId || existing.user_id !== userId) {
      changes['project_id'] = projectId;
      changes['user_id'] = userId;
    }
    if (typeId !== undefined && typeId !== existing.consumer_type_id) changes['consumer_type_id'] = typeId;
    if (Object.keys(changes).length) {
      await db.updateTable('consumers').set({ ...changes, updated_at: nowValue(dialect) }).where('id', '=', existing.id).execute();
    }
    return existing;
  }
  if (req.consumerGeneration !== undefined && req.consumerGeneration !== null) {
    throw new ConsumerGenerationConflict(`consumer generation conflict - expected null but got ${req.consumerGeneration}`);
  }
  const values = {
    uuid: req.consumerUuid, project_id: projectId, user_id: userId, generation: 0,
    consumer_type_id: typeId ?? null, created_at: nowValue(dialect), updated_at: null,
  };
  // a new consumer per boot: the insert is compiled once (RETURNING; MySQL reads insertId instead)
  const COLS = Object.keys(values) as Array<keyof typeof values>;
  const id = dialect === 'mysql' ? await insertReturningId(db, dialect, 'consumers', values)
    : Number((await prepared<{ id: number }>(db, 'consumer.insert', COLS.map((c) => values[c]), (s) => db.insertInto('consumers')
      .values(Object.fromEntries(COLS.map((c, i) => [c, s[i]])) as never).returning('id'), root)).rows[0]!.id);
  return { id, uuid: req.consumerUuid, generation: 0, project_id: projectId, user_id: userId, consumer_type_id: typeId ?? null };
}

interface PendingAllocation { rp: ResourceProvider; rcId: number; rcName: string; used: number; consumerUuid: string }

async function usageFor(db: Db, rpIds: number[], rcIds: number[], root?: Root): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!rpIds.length || !rcIds.length) return out;
  const { rows } = await prepared<{ resource_provider_id: number; resource_class_id: number; used: number }>(
    db, `usage.${rpIds.length}.${rcIds.length}`, [...rpIds, ...rcIds], (s) => db.selectFrom('allocations')
      .select(['resource_provider_id', 'resource_class_id', sql<number>`SUM(used)`.as('used')])
      .where('resource_provider_id', 'in', s.slice(0, rpIds.length) as unknown as number[])
      .where('resource_class_id', 'in', s.slice(rpIds.length) as unknown as number[])
      .groupBy(['resource_provider_id', 'resource_class_id']), root);
  for (const r of rows) out.set(`${r.resource_provider_id}:${r.resource_class_id}`, Number(r.used));
  return out;
}

/** placement's `_check_capacity_exceeded`: capacity, min/max unit and step size, per allocation. */
async function checkCapacity(db: Db, allocs: PendingAllocation[], prevUsage: Map<string, number>, rcs: ResourceClassMap, root?: Root): Promise<void> {
  const rpIds = [...new Set(allocs.map((a) => a.rp.id))];
  const rcIds = [...new Set(allocs.map((a) => a.rcId))];
  if (!rpIds.length) return;
  const { rows: invRows } = await prepared<{ resource_provider_id: number; resource_class_id: number; total: number; reserved: number;
    min_unit: number; max_unit: number; step_size: number; allocation_ratio: number }>(
    db, `inv.${rpIds.length}.${rcIds.length}`, [...rpIds, ...rcIds], (s) => db.selectFrom('inventories').selectAll()
      .where('resource_provider_id', 'in', s.slice(0, rpIds.length) as unknown as number[])
      .where('resource_class_id', 'in', s.slice(rpIds.length) as unknown as number[]), root);
  const inv = new Map(invRows.map((r) => [`${r.resource_provider_id}:${r.resource_class_id}`, r]));
  const usage = await usageFor(db, rpIds, rcIds, root);
  const withInv = new Set(invRows.map((r) => r.resource_provider_id));
  const missing = [...new Set(allocs.filter((a) => !withInv.has(a.rp.id)).map((a) => a.rp.uuid))];
  if (missing.length) throw new InvalidInventory(rcIds.map((id) => rcs.nameOf(id)).join(', '), missing.join(', '));
  const sums = new Map<string, number>();
  for (const a of allocs) {
    const key = `${a.rp.id}:${a.rcId}`;
    sums.set(key, (sums.get(key) ?? 0) + a.used);
    if (a.used === 0) continue;
    const i = inv.get(key);
    if (!i) throw new InvalidInventory(a.rcName, a.rp.uuid);
    if (a.used < i.min_unit || a.used > i.max_unit || a.used % i.step_size !== 0) {
      throw new InvalidAllocationConstraintsViolated(a.rcName, a.rp.uuid);
    }
    const used = usage.get(key) ?? 0;
    const capacity = (i.total - i.reserved) * Number(i.allocation_ratio);
    const neededAll = sums.get(key)!;
    if (capacity < used + a.used || capacity < used + neededAll) {
      // Tolerate an over-capacity provider when this write reduces the existing overage.
      const prev = prevUsage.get(key);
      if (!(prev !== undefined && used + neededAll <= prev)) throw new InvalidAllocationCapacityExceeded(a.rcName, a.rp.uuid);
    }
  }
}

export async function attemptSetAllocations(database: PlacementDatabase, db: Db, requests: ConsumerAllocations[]): Promise<void> {
  const dialect = database.dialect;
  const root = database.db;
  const rcs = await ResourceClassMap.load(db, root);
  const consumers = new Map<string, ConsumerRow>();
  for (const req of requests) consumers.set(req.consumerUuid, await ensureConsumer(db, dialect, req, root));

  const rpUuids = [...new Set(requests.flatMap((r) => Object.keys(r.allocations)))];
  const providers = await getProvidersByUuids(db, rpUuids, root);
  for (const u of rpUuids) if (!providers.has(u)) throw new AllocationProviderMissing(u);

  const pending: PendingAllocation[] = [];
  for (const req of requests) {
    const entries = Object.entries(req.allocations);
    if (entries.length === 0) {
      // Wiping: the consumer's current allocations take part with used = 0 (their providers get bumped).
      const rows = await db.selectFrom('allocations as a').innerJoin('resource_providers as rp', 'rp.id', 'a.resource_provider_id')
        .select(['rp.uuid', 'a.resource_class_id']).where('a.consumer_id', '=', req.consumerUuid).execute();
      const more = await getProvidersByUuids(db, [...new Set(rows.map((r) => r.uuid))]);
      for (const r of rows) {
        pending.push({ rp: more.get(r.uuid)!, rcId: r.resource_class_id, rcName: rcs.nameOf(r.resource_class_id), used: 0, consumerUuid: req.consumerUuid });
      }
      continue;
    }
    for (const [rpUuid, resources] of entries) {
      for (const [rcName, used] of Object.entries(resources)) {
        pending.push({ rp: providers.get(rpUuid)!, rcId: rcs.idOf(rcName), rcName, used, consumerUuid: req.consumerUuid });
      }
    }
  }

  const rpIds = [...new Set(pending.map((p) => p.rp.id))];
  const prevUsage = await usageFor(db, rpIds, [...new Set(pending.map((p) => p.rcId))], root);
  const consumerUuids = [...consumers.keys()];
  for (const part of chunks(consumerUuids)) {
    await prepared(db, `alloc.deleteOf.${part.length}`, part, (s) => db.deleteFrom('allocations').where('consumer_id', 'in', [...s]), root);
  }
  await checkCapacity(db, pending, prevUsage, rcs, root);

  const now = nowValue(dialect);
  const rows = pending.filter((p) => p.used > 0).map((p) => ({
    resource_provider_id: p.rp.id, consumer_id: p.consumerUuid, resource_class_id: p.rcId, used: p.used,
    created_at: now, updated_at: null,
  }));
  const COLS = ['resource_provider_id', 'consumer_id', 'resource_class_id', 'used', 'created_at', 'updated_at'] as const;
  for (const part of chunks(rows, 200)) {
    await prepared(db, `alloc.insert.${part.length}`, part.flatMap((r) => COLS.map((c) => r[c])), (s) => db.insertInto('allocations')
      .values(part.map((_, i) => Object.fromEntries(COLS.map((c, j) => [c, s[i * COLS.length + j]])) as never)), root);
  }

  const bumped = new Set<number>();
  for (const p of pending) {
    if (bumped.has(p.rp.id)) continue;
    bumped.add(p.rp.id);
    await incrementGeneration(db, p.rp.id, p.rp.generation, dialect, root);
  }
  for (const c of consumers.values()) {
    const r = await prepared(db, 'consumer.bumpGeneration', [c.generation + 1, now, c.id, c.generation], (s) => db.updateTable('consumers')
      .set({ generation: s[0] as unknown as number, updated_at: s[1] as unknown as Date })
      .where('id', '=', s[2] as unknown as number).where('generation', '=', s[3] as unknown as number), root);
    if (Number(r.numAffectedRows ?? 0) !== 1) throw new ConcurrentUpdateDetected();
  }
  const withAllocs = new Set(rows.map((r) => r.consumer_id));
  const empty = consumerUuids.filter((u) => !withAllocs.has(u));
  if (empty.length) await db.deleteFrom('consumers').where('uuid', 'in', empty).execute();
}

/**
 * Replaces the allocations of every consumer in `requests`, atomically. Retries on provider
 * generation races (as placement's `replace_all`); a consumer generation mismatch is final.
 */
export async function setAllocations(database: PlacementDatabase, requests: ConsumerAllocations[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await database.transaction((trx) => attemptSetAllocations(database, trx, requests));
      return;
    } catch (e) {
      const retriable = e instanceof ResourceProviderConcurrentUpdateDetected
        || isDuplicateEntry(e) // a racing creator of the same project/user/consumer row
        || isDeadlockError(e); // InnoDB picks a victim among racing claims: retry it, as oslo.db's wrap_db_retry
      if (retriable && attempt < ALLOCATION_CONFLICT_RETRY_COUNT) {
        if (isDeadlockError(e)) await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
        continue;
      }
      if (isDuplicateEntry(e)) throw new ConcurrentUpdateDetected();
      throw e;
    }
  }
}

export interface ConsumerAllocationView {
  allocations: Record<string, { generation: number; resources: Record<string, number> }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number;
  consumer_type?: string;
  lastModified: Date | null;
}

export async function getConsumerAllocations(db: Db, consumerUuid: string): Promise<ConsumerAllocationView> {
  const rcs = await ResourceClassMap.load(db);
  const { rows } = await prepared<{ rp_uuid: string; rp_generation: number; resource_class_id: number; used: number;
    consumer_generation: number; project_id: string; user_id: string; consumer_type: string | null }>(db, 'consumer.allocations', [consumerUuid], (s) => db.selectFrom('allocations as a')
    .innerJoin('resource_providers as rp', 'rp.id', 'a.resource_provider_id')
    .innerJoin('consumers as c', 'c.uuid', 'a.consumer_id')
    .innerJoin('projects as p', 'p.id', 'c.project_id')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .leftJoin('consumer_types as ct', 'ct.id', 'c.consumer_type_id')
    .select(['rp.uuid as rp_uuid', 'rp.generation as rp_generation', 'a.resource_class_id', 'a.used', 'a.created_at',
      'c.generation as consumer_generation', 'p.external_id as project_id', 'u.external_id as user_id', 'ct.name as consumer_type'])
    .where('a.consumer_id', '=', s[0]!).orderBy('a.id'));
  const view: ConsumerAllocationView = { allocations: {}, lastModified: null };
  for (const r of rows) {
    const entry = view.allocations[r.rp_uuid] ??= { generation: r.rp_generation, resources: {} };
    entry.resources[rcs.nameOf(r.resource_class_id)] = r.used;
  }
  if (rows.length) {
    const first = rows[0]!;
    view.project_id = first.project_id;
    view.user_id = first.user_id;
    view.consumer_generation = first.consumer_generation;
    view.consumer_type = first.consumer_type ?? NULL_CONSUMER_TYPE_ALIAS;
  }
  return view;
}

export async function getProviderAllocations(
  db: Db, rpId: number,
): Promise<Record<string, { resources: Record<string, number>; consumer_generation: number }>> {
  const rcs = await ResourceClassMap.load(db);
  const rows = await db.selectFrom('allocations as a')
    .innerJoin('consumers as c', 'c.uuid', 'a.consumer_id')
    .select(['a.consumer_id', 'a.resource_class_id', 'a.used', 'c.generation'])
    .where('a.resource_provider_id', '=', rpId).orderBy('a.id').execute();
  const out: Record<string, { resources: Record<string, number>; consumer_generation: number }> = {};
  for (const r of rows) {
    const e = out[r.consumer_id] ??= { resources: {}, consumer_generation: r.generation };
    e.resources[rcs.nameOf(r.resource_class_id)] = r.used;
  }
  return out;
}

/**
 * DELETE /allocations/{consumer}: removes them and the consumer. Returns false if there were none.
 * Unlike upstream we also bump the providers' generations, so usage caches keyed by generation
 * can never serve a stale view.
 */
export async function deleteConsumerAllocations(database: PlacementDatabase, consumerUuid: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(async (trx) => {
        const rows = await trx.selectFrom('allocations as a').innerJoin('resource_providers as rp', 'rp.id', 'a.resource_provider_id')
          .select(['rp.id', 'rp.generation']).where('a.consumer_id', '=', consumerUuid).execute();
        if (!rows.length) return false;
        await trx.deleteFrom('allocations').where('consumer_id', '=', consumerUuid).execute();
        await trx.deleteFrom('consumers').where('uuid', '=', consumerUuid).execute();
        const seen = new Set<number>();
        for (const r of rows) {
          if (seen.has(r.id)) continue;
          seen.add(r.id);
          await incrementGeneration(trx, r.id, r.generation, database.dialect);
        }
        return true;
      });
    } catch (e) {
      if (e instanceof ResourceProviderConcurrentUpdateDetected && attempt < ALLOCATION_CONFLICT_RETRY_COUNT) continue;
      throw e;
    }
  }
}

export interface UsageRow { resource_class: string; usage: number; consumer_type?: string; consumer_count?: number }

/** GET /usages: totals for a project (and user); grouped by consumer type from 1.38. */
export async function totalUsages(
  db: Db, projectId: string, userId: string | undefined, opts: { byConsumerType: boolean; consumerType?: string },
): Promise<UsageRow[]> {
  const rcs = await ResourceClassMap.load(db);
  let base = db.selectFrom('allocations as a')
    .innerJoin('consumers as c', 'c.uuid', 'a.consumer_id')
    .innerJoin('projects as p', 'p.id', 'c.project_id')
    .leftJoin('consumer_types as ct', 'ct.id', 'c.consumer_type_id')
    .where('p.external_id', '=', projectId);
  if (userId) base = base.innerJoin('users as u', 'u.id', 'c.user_id').where('u.external_id', '=', userId);
  if (!opts.byConsumerType) {
    const rows = await base.select(['a.resource_class_id', sql<number>`SUM(a.used)`.as('used')]).groupBy('a.resource_class_id').execute();
    return rows.map((r) => ({ resource_class: rcs.nameOf(r.resource_class_id), usage: Number(r.used) }));
  }
  const ct = opts.consumerType;
  if (ct === 'all' || ct === 'unknown') {
    const q = ct === 'unknown' ? base.where('c.consumer_type_id', 'is', null) : base;
    const count = await q.select(sql<number>`COUNT(DISTINCT a.consumer_id)`.as('n')).executeTakeFirst();
    const rows = await q.select(['a.resource_class_id', sql<number>`SUM(a.used)`.as('used')]).groupBy('a.resource_class_id').execute();
    return rows.map((r) => ({ resource_class: rcs.nameOf(r.resource_class_id), usage: Number(r.used), consumer_type: ct, consumer_count: Number(count?.n ?? 0) }));
  }
  const q = ct ? base.where('ct.name', '=', ct) : base;
  const counts = await q.select(['ct.name', sql<number>`COUNT(DISTINCT a.consumer_id)`.as('n')]).groupBy('ct.name').execute();
  const countBy = new Map(counts.map((r) => [r.name ?? NULL_CONSUMER_TYPE_ALIAS, Number(r.n)]));
  const rows = await q.select(['a.resource_class_id', 'ct.name', sql<number>`SUM(a.used)`.as('used')])
    .groupBy(['a.resource_class_id', 'ct.name']).execute();
  return rows.map((r) => {
    const type = r.name ?? NULL_CONSUMER_TYPE_ALIAS;
    return { resource_class: rcs.nameOf(r.resource_class_id), usage: Number(r.used), consumer_type: type, consumer_count: countBy.get(type) ?? 0 };
  });
}
