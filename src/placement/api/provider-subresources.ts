/**
 * A provider's inventories, usages, aggregates, traits and allocations
 * (placement/handlers/inventory.py, usage.py, aggregate.py, trait.py, allocation.py).
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ConcurrentUpdateDetected, InvalidInventoryCapacity, InventoryInUse, InventoryWithResourceClassNotFound, NotFound,
  ResourceClassNotFound,
} from '../exceptions.js';
import {
  INVENTORY_DEFAULTS, addInventory, capacityOf, deleteInventory, listInventories, providerUsages, setInventories,
  updateInventory, type InventoryFields, type InventoryRecord,
} from '../db/inventories.js';
import { getProviderAggregates, setProviderAggregates, setProviderTraits, type ResourceProvider } from '../db/providers.js';
import { ResourceClassMap } from '../db/resource-classes.js';
import { getProviderTraits, listTraits } from '../db/traits.js';
import { getProviderAllocations } from '../db/allocations.js';
import { isDuplicateEntry, toDate } from '../db/sql.js';
import type { PlacementDeps } from './deps.js';
import { providerFromPath, providerUrl } from './resource-providers.js';
import * as S from './schemas.js';
import {
  ErrorCodes, atLeast, authorize, checkAccept, extractJson, httpError, latest, requireJson, requireVersion, sendEmpty,
  sendJson,
} from './util.js';

const FIELDS = ['total', 'reserved', 'min_unit', 'max_unit', 'step_size', 'allocation_ratio'] as const;

function serializeInventory(inv: InventoryFields, generation?: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = inv[f];
  if (generation) out['resource_provider_generation'] = generation;
  return out;
}

function withDefaults(raw: Partial<InventoryFields> & { total: number }): InventoryFields {
  return { ...INVENTORY_DEFAULTS, ...raw } as InventoryFields;
}

/** `_validate_inventory_capacity`: reserved < total (<= total from 1.26). */
function validateCapacity(req: FastifyRequest, rp: ResourceProvider, rc: string, inv: InventoryFields): void {
  const can26 = atLeast(req, '1.26');
  const cap = capacityOf(inv);
  if (can26 ? cap < 0 : cap <= 0) throw new InvalidInventoryCapacity(rc, rp.uuid, can26);
}

function pick<T extends object>(data: T, keys: readonly string[]): Partial<InventoryFields> & { total: number } {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in data) out[k] = (data as Record<string, unknown>)[k];
  return out as Partial<InventoryFields> & { total: number };
}

export function registerProviderSubresources(app: FastifyInstance, deps: PlacementDeps): void {
  const { database, policy } = deps;
  type P = { Params: { uuid: string } };
  type PRC = { Params: { uuid: string; rc: string } };

  const sendInventories = async (req: FastifyRequest, reply: FastifyReply, rp: ResourceProvider, rcs: ResourceClassMap) => {
    const invs = await listInventories(database.db, rp.id, rcs);
    const out: Record<string, unknown> = {};
    for (const i of invs) out[i.resource_class] = serializeInventory(i);
    return sendJson(req, reply, { resource_provider_generation: rp.generation, inventories: out }, {
      lastModified: latest(invs.map((i: InventoryRecord) => toDate(i.updated_at) ?? toDate(i.created_at))),
    });
  };

  // --- inventories ---
  app.get<P>('/resource_providers/:uuid/inventories', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:inventories:list');
    const rp = await providerFromPath(deps, req.params.uuid, (e) => `No resource provider with uuid ${req.params.uuid} found : ${e.message}`);
    return sendInventories(req, reply, rp, await ResourceClassMap.load(database.db));
  });

  app.put<P>('/resource_providers/:uuid/inventories', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:resource_providers:inventories:update');
    const rp = await providerFromPath(deps, req.params.uuid);
    const data = extractJson<{ resource_provider_generation: number; inventories: Record<string, Partial<InventoryFields> & { total: number }> }>(req, S.PUT_INVENTORIES);
    if (data.resource_provider_generation !== rp.generation) {
      throw httpError(409, 'resource provider generation conflict', ErrorCodes.CONCURRENT_UPDATE);
    }
    const rcs = await ResourceClassMap.load(database.db);
    const invs = new Map<string, InventoryFields>();
    try {
      for (const [rc, raw] of Object.entries(data.inventories)) {
        const inv = withDefaults(raw);
        validateCapacity(req, rp, rc, inv);
        invs.set(rc, inv);
      }
      const gen = await database.transaction((trx) => setInventories(trx, database.dialect, rp, invs, rcs));
      rp.generation = gen;
    } catch (e) {
      if (e instanceof ResourceClassNotFound) {
        throw httpError(400, `Unknown resource class in inventory for resource provider ${rp.uuid}: ${e.message}`);
      }
      if (e instanceof InventoryWithResourceClassNotFound) {
        throw httpError(409, `Race condition detected when setting inventory. No inventory record with resource class for resource provider ${rp.uuid}: ${e.message}`);
      }
      if (e instanceof ConcurrentUpdateDetected || isDuplicateEntry(e)) {
        throw httpError(409, `update conflict: ${(e as Error).message}`, ErrorCodes.CONCURRENT_UPDATE);
      }
      if (e instanceof InventoryInUse) throw httpError(409, `update conflict: ${e.message}`, ErrorCodes.INVENTORY_INUSE);
      if (e instanceof InvalidInventoryCapacity) {
        throw httpError(400, `Unable to update inventory for resource provider ${rp.uuid}: ${e.message}`);
      }
      throw e;
    }
    return sendInventories(req, reply, rp, rcs);
  });

  app.post<P>('/resource_providers/:uuid/inventories', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:resource_providers:inventories:create');
    const rp = await providerFromPath(deps, req.params.uuid);
    const data = extractJson<{ resource_class: string } & Partial<InventoryFields> & { total: number }>(req, S.POST_INVENTORY);
    const rc = data.resource_class;
    const inv = withDefaults(pick(data, FIELDS));
    try {
      validateCapacity(req, rp, rc, inv);
      rp.generation = await addInventory(database, rp, rc, inv, await ResourceClassMap.load(database.db));
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected || isDuplicateEntry(e)) {
        const msg = e instanceof ConcurrentUpdateDetected ? e.message : `Duplicate entry: inventory of ${rc}`;
        throw httpError(409, `Update conflict: ${msg}`, ErrorCodes.CONCURRENT_UPDATE);
      }
      if (e instanceof InvalidInventoryCapacity || e instanceof NotFound) {
        throw httpError(400, `Unable to create inventory for resource provider ${rp.uuid}: ${(e as Error).message}`);
      }
      throw e;
    }
    reply.header('location', `${providerUrl(rp)}/inventories/${rc}`);
    return sendJson(req, reply, serializeInventory(inv, rp.generation), { status: 201 });
  });

  app.delete<P>('/resource_providers/:uuid/inventories', async (req, reply) => {
    requireVersion(req, '1.5', undefined, 405);
    authorize(req, policy, 'placement:resource_providers:inventories:delete');
    const rp = await providerFromPath(deps, req.params.uuid);
    try {
      const rcs = await ResourceClassMap.load(database.db);
      await database.transaction((trx) => setInventories(trx, database.dialect, rp, new Map(), rcs));
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected) {
        throw httpError(409, `Unable to delete inventory for resource provider ${rp.uuid} because the inventory was updated by another process. Please retry your request.`, ErrorCodes.CONCURRENT_UPDATE);
      }
      if (e instanceof InventoryInUse) throw httpError(409, e.message, ErrorCodes.INVENTORY_INUSE);
      throw e;
    }
    return sendEmpty(reply);
  });

  app.get<PRC>('/resource_providers/:uuid/inventories/:rc', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:inventories:show');
    const rp = await providerFromPath(deps, req.params.uuid, (e) => `No resource provider with uuid ${req.params.uuid} found : ${e.message}`);
    const invs = await listInventories(database.db, rp.id, await ResourceClassMap.load(database.db));
    const inv = invs.find((i) => i.resource_class === req.params.rc);
    if (!inv) throw httpError(404, `No inventory of class ${req.params.rc} for ${rp.uuid}`);
    return sendJson(req, reply, serializeInventory(inv, rp.generation), { lastModified: toDate(inv.updated_at) ?? toDate(inv.created_at) });
  });

  app.put<PRC>('/resource_providers/:uuid/inventories/:rc', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:resource_providers:inventories:update');
    const rp = await providerFromPath(deps, req.params.uuid);
    const data = extractJson<{ resource_provider_generation: number } & Partial<InventoryFields> & { total: number }>(req, S.BASE_INVENTORY);
    if (data.resource_provider_generation !== rp.generation) {
      throw httpError(409, 'resource provider generation conflict', ErrorCodes.CONCURRENT_UPDATE);
    }
    const rc = req.params.rc;
    const inv = withDefaults(pick(data, FIELDS));
    try {
      validateCapacity(req, rp, rc, inv);
      rp.generation = await updateInventory(database, rp, rc, inv, await ResourceClassMap.load(database.db));
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected) throw httpError(409, `update conflict: ${e.message}`, ErrorCodes.CONCURRENT_UPDATE);
      if (e instanceof InventoryWithResourceClassNotFound || e instanceof ResourceClassNotFound) {
        throw httpError(400, `No inventory record with resource class for resource provider ${rp.uuid}: ${(e as Error).message}`);
      }
      if (e instanceof InvalidInventoryCapacity) throw httpError(400, `Unable to update inventory for resource provider ${rp.uuid}: ${e.message}`);
      throw e;
    }
    return sendJson(req, reply, serializeInventory(inv, rp.generation));
  });

  app.delete<PRC>('/resource_providers/:uuid/inventories/:rc', async (req, reply) => {
    authorize(req, policy, 'placement:resource_providers:inventories:delete');
    const rp = await providerFromPath(deps, req.params.uuid);
    const rc = req.params.rc;
    try {
      await deleteInventory(database, rp, rc, await ResourceClassMap.load(database.db));
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected || e instanceof InventoryInUse) {
        throw httpError(409, `Unable to delete inventory of class ${rc}: ${(e as Error).message}`, ErrorCodes.CONCURRENT_UPDATE);
      }
      if (e instanceof NotFound) throw httpError(404, `No inventory of class ${rc} found for delete: ${e.message}`);
      throw e;
    }
    return sendEmpty(reply);
  });

  // --- usages ---
  app.get<P>('/resource_providers/:uuid/usages', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:usages');
    const rp = await providerFromPath(deps, req.params.uuid, (e) => `No resource provider with uuid ${req.params.uuid} found: ${e.message}`);
    const usages = await providerUsages(database.db, rp.id, await ResourceClassMap.load(database.db));
    return sendJson(req, reply, { resource_provider_generation: rp.generation, usages });
  });

  // --- aggregates ---
  app.get<P>('/resource_providers/:uuid/aggregates', async (req, reply) => {
    checkAccept(req);
    requireVersion(req, '1.1');
    authorize(req, policy, 'placement:resource_providers:aggregates:list');
    const rp = await providerFromPath(deps, req.params.uuid);
    const aggs = await getProviderAggregates(database.db, rp.id);
    const body: Record<string, unknown> = { aggregates: aggs };
    if (atLeast(req, '1.19')) body['resource_provider_generation'] = rp.generation;
    return sendJson(req, reply, body);
  });

  app.put<P>('/resource_providers/:uuid/aggregates', async (req, reply) => {
    requireJson(req);
    requireVersion(req, '1.1');
    authorize(req, policy, 'placement:resource_providers:aggregates:update');
    const withGen = atLeast(req, '1.19');
    const rp = await providerFromPath(deps, req.params.uuid);
    const data = extractJson<string[] | { aggregates: string[]; resource_provider_generation: number }>(
      req, withGen ? S.PUT_AGGREGATES_V1_19 : S.PUT_AGGREGATES_V1_1);
    let aggs: string[];
    if (withGen) {
      const d = data as { aggregates: string[]; resource_provider_generation: number };
      if (d.resource_provider_generation !== rp.generation) {
        throw httpError(409, "Resource provider's generation already changed. Please update the generation and try again.", ErrorCodes.CONCURRENT_UPDATE);
      }
      aggs = d.aggregates;
    } else {
      aggs = data as string[];
    }
    try {
      rp.generation = await setProviderAggregates(database, rp, aggs);
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected) throw httpError(409, `Update conflict: ${e.message}`, ErrorCodes.CONCURRENT_UPDATE);
      throw e;
    }
    const body: Record<string, unknown> = { aggregates: aggs };
    if (withGen) body['resource_provider_generation'] = rp.generation;
    return sendJson(req, reply, body);
  });

  // --- traits ---
  app.get<P>('/resource_providers/:uuid/traits', async (req, reply) => {
    checkAccept(req);
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:resource_providers:traits:list');
    const rp = await providerFromPath(deps, req.params.uuid, (e) => `No resource provider with uuid ${req.params.uuid} found: ${e.message}`);
    const traits = await getProviderTraits(database.db, rp.id);
    return sendJson(req, reply, { traits: traits.map((t) => t.name), resource_provider_generation: rp.generation }, {
      lastModified: latest(traits.map((t) => toDate(t.updated_at) ?? toDate(t.created_at))),
    });
  });

  app.put<P>('/resource_providers/:uuid/traits', async (req, reply) => {
    requireJson(req);
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:resource_providers:traits:update');
    const data = extractJson<{ traits: string[]; resource_provider_generation: number }>(req, S.SET_TRAITS_FOR_RP);
    const rp = await providerFromPath(deps, req.params.uuid);
    if (rp.generation !== data.resource_provider_generation) {
      throw httpError(409, "Resource provider's generation already changed. Please update the generation and try again.", ErrorCodes.CONCURRENT_UPDATE);
    }
    const found = await listTraits(database.db, { nameIn: data.traits });
    const names = new Set(found.map((t) => t.name));
    const missing = [...new Set(data.traits)].filter((t) => !names.has(t));
    if (missing.length) throw httpError(400, `No such trait ${missing.join(', ')}`);
    try {
      rp.generation = await setProviderTraits(database, rp, found);
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected) throw httpError(409, e.message, ErrorCodes.CONCURRENT_UPDATE);
      throw e;
    }
    return sendJson(req, reply, { traits: found.map((t) => t.name), resource_provider_generation: rp.generation });
  });

  app.delete<P>('/resource_providers/:uuid/traits', async (req, reply) => {
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:resource_providers:traits:delete');
    const rp = await providerFromPath(deps, req.params.uuid);
    try {
      await setProviderTraits(database, rp, []);
    } catch (e) {
      if (e instanceof ConcurrentUpdateDetected) throw httpError(409, e.message, ErrorCodes.CONCURRENT_UPDATE);
      throw e;
    }
    return sendEmpty(reply);
  });

  // --- allocations against the provider ---
  app.get<P>('/resource_providers/:uuid/allocations', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:allocations:list');
    const rp = await providerFromPath(deps, req.params.uuid, (e) => `Resource provider '${req.params.uuid}' not found: ${e.message}`);
    const allocs = await getProviderAllocations(database.db, rp.id);
    const out: Record<string, unknown> = {};
    for (const [consumer, a] of Object.entries(allocs)) {
      out[consumer] = atLeast(req, '1.28') ? { resources: a.resources, consumer_generation: a.consumer_generation } : { resources: a.resources };
    }
    return sendJson(req, reply, { allocations: out, resource_provider_generation: rp.generation });
  });
}
