/**
 * /allocations, /allocations/{consumer_uuid}, /usages and /reshaper
 * (placement/handlers/allocation.py, usage.py, reshaper.py).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUuidLike } from '../../common/http/validation.js';
import { ConcurrentUpdateDetected, InvalidInventory, InventoryInUse, NotFound } from '../exceptions.js';
import {
  AllocationProviderMissing, INCOMPLETE_CONSUMER_ID, deleteConsumerAllocations, getConsumerAllocations, setAllocations,
  totalUsages, type ConsumerAllocations,
} from '../db/allocations.js';
import { INVENTORY_DEFAULTS, type InventoryFields } from '../db/inventories.js';
import { getProvidersByUuids } from '../db/providers.js';
import { reshape } from '../db/reshaper.js';
import type { PlacementDeps } from './deps.js';
import * as S from './schemas.js';
import {
  ErrorCodes, atLeast, authorize, checkAccept, extractJson, httpError, queryOf, requireJson, requireVersion,
  sendEmpty, sendJson, validateQuery, last, version,
} from './util.js';

interface DictAllocations {
  allocations: Record<string, { resources: Record<string, number>; generation?: number }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number | null;
  consumer_type?: string;
}

function normUuid(u: string): string {
  const hex = u.replace(/[{}-]/g, '').replace(/^urn:uuid:/i, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One consumer's request body (dict form) -> the repository's input, per microversion. */
function toConsumerAllocations(req: FastifyRequest, consumerUuid: string, d: DictAllocations): ConsumerAllocations {
  const out: ConsumerAllocations = {
    consumerUuid,
    projectId: d.project_id ?? INCOMPLETE_CONSUMER_ID,
    userId: d.project_id === undefined ? INCOMPLETE_CONSUMER_ID : d.user_id ?? INCOMPLETE_CONSUMER_ID,
    allocations: Object.fromEntries(Object.entries(d.allocations).map(([rp, a]) => [rp, a.resources])),
  };
  if (atLeast(req, '1.28')) out.consumerGeneration = d.consumer_generation ?? null;
  if (atLeast(req, '1.38')) out.consumerType = d.consumer_type!;
  return out;
}

/** The errors of writing allocations, as the PUT and POST handlers map them. */
function allocationWriteError(e: unknown, notFoundPrefix: string): never {
  if (e instanceof AllocationProviderMissing) throw httpError(400, e.message);
  if (e instanceof NotFound) throw httpError(400, `${notFoundPrefix}${e.message}`);
  if (e instanceof InvalidInventory) throw httpError(409, `Unable to allocate inventory: ${e.message}`);
  if (e instanceof ConcurrentUpdateDetected) {
    if (e.message.startsWith('consumer generation conflict')) throw httpError(409, e.message, ErrorCodes.CONCURRENT_UPDATE);
    throw httpError(409, `Inventory and/or allocations changed while attempting to allocate: ${e.message}`, ErrorCodes.CONCURRENT_UPDATE);
  }
  throw e;
}

export function registerAllocations(app: FastifyInstance, deps: PlacementDeps): void {
  const { database, policy } = deps;
  type C = { Params: { consumer: string } };

  app.get<C>('/allocations/:consumer', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:allocations:list');
    const view = await getConsumerAllocations(database.db, req.params.consumer);
    const body: Record<string, unknown> = { allocations: view.allocations };
    if (view.project_id !== undefined && atLeast(req, '1.12')) {
      body['project_id'] = view.project_id;
      body['user_id'] = view.user_id;
      if (atLeast(req, '1.28')) body['consumer_generation'] = view.consumer_generation;
      if (atLeast(req, '1.38')) body['consumer_type'] = view.consumer_type;
    }
    return sendJson(req, reply, body, { lastModified: view.lastModified });
  });

  app.put<C>('/allocations/:consumer', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:allocations:update');
    const raw = req.params.consumer;
    if (!isUuidLike(raw)) throw httpError(400, `Malformed consumer_uuid: ${raw}`);
    const consumerUuid = normUuid(raw);
    const v = version(req);
    const data = extractJson<DictAllocations | { allocations: Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }>; project_id?: string; user_id?: string }>(
      req, S.putAllocationSchema(v));
    let dict: DictAllocations;
    if (!v.atLeast('1.12')) {
      const list = data.allocations as Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }>;
      const allocs: DictAllocations['allocations'] = {};
      for (const a of list) allocs[a.resource_provider.uuid] = { resources: a.resources };
      dict = { allocations: allocs, ...(data.project_id ? { project_id: data.project_id, user_id: data.user_id! } : {}) };
    } else {
      dict = data as DictAllocations;
    }
    try {
      await setAllocations(database, [toConsumerAllocations(req, consumerUuid, dict)]);
    } catch (e) {
      allocationWriteError(e, `Unable to allocate inventory for consumer ${consumerUuid}: `);
    }
    return sendEmpty(reply);
  });

  app.post('/allocations', async (req, reply) => {
    requireVersion(req, '1.13');
    requireJson(req);
    authorize(req, policy, 'placement:allocations:manage');
    const data = extractJson<Record<string, DictAllocations>>(req, S.postAllocationsSchema(version(req)));
    const requests = Object.entries(data).map(([consumer, d]) => toConsumerAllocations(req, consumer, d));
    try {
      await setAllocations(database, requests);
    } catch (e) {
      allocationWriteError(e, 'Unable to allocate inventory ');
    }
    return sendEmpty(reply);
  });

  app.delete<C>('/allocations/:consumer', async (req, reply) => {
    authorize(req, policy, 'placement:allocations:delete');
    const consumer = req.params.consumer;
    if (!(await deleteConsumerAllocations(database, consumer))) {
      throw httpError(404, `No allocations for consumer '${consumer}'`);
    }
    return sendEmpty(reply);
  });

  app.get('/usages', async (req, reply) => {
    requireVersion(req, '1.9');
    checkAccept(req);
    const q = queryOf(req);
    const projectId = last(q, 'project_id');
    authorize(req, policy, 'placement:usages', projectId ? { project_id: projectId } : {});
    const byType = atLeast(req, '1.38');
    validateQuery(q, S.getUsagesSchema(version(req)));
    const consumerType = last(q, 'consumer_type');
    const rows = await totalUsages(database.db, projectId!, last(q, 'user_id'), {
      byConsumerType: byType, ...(consumerType !== undefined ? { consumerType } : {}),
    });
    let usages: Record<string, unknown>;
    if (byType) {
      const grouped: Record<string, Record<string, number>> = {};
      for (const r of rows) {
        const g = grouped[r.consumer_type!] ??= {};
        g[r.resource_class] = r.usage;
        g['consumer_count'] = r.consumer_count!;
      }
      usages = grouped;
    } else {
      usages = Object.fromEntries(rows.map((r) => [r.resource_class, r.usage]));
    }
    return sendJson(req, reply, { usages });
  });

  app.post('/reshaper', async (req, reply) => {
    requireVersion(req, '1.30');
    requireJson(req);
    authorize(req, policy, 'placement:reshaper:reshape');
    const data = extractJson<{
      inventories: Record<string, { resource_provider_generation: number; inventories: Record<string, Partial<InventoryFields> & { total: number }> }>;
      allocations: Record<string, DictAllocations>;
    }>(req, S.reshaperSchema(version(req)));
    const providers = await getProvidersByUuids(database.db, Object.keys(data.inventories));
    const inventories = [];
    for (const [rpUuid, inv] of Object.entries(data.inventories)) {
      const rp = providers.get(rpUuid);
      if (!rp) {
        throw httpError(400, `Resource provider ${rpUuid} in inventories not found: No resource provider with uuid ${rpUuid} found`,
          ErrorCodes.RESOURCE_PROVIDER_NOT_FOUND);
      }
      if (inv.resource_provider_generation !== rp.generation) {
        throw httpError(409, `resource provider generation conflict for provider ${rpUuid}: actual: ${rp.generation}, given: ${inv.resource_provider_generation}`,
          ErrorCodes.CONCURRENT_UPDATE);
      }
      const map = new Map<string, InventoryFields>();
      for (const [rc, raw] of Object.entries(inv.inventories)) map.set(rc, { ...INVENTORY_DEFAULTS, ...raw } as InventoryFields);
      inventories.push({ rp, inventories: map });
    }
    const allocations = Object.entries(data.allocations).map(([consumer, d]) => toConsumerAllocations(req, consumer, d));
    try {
      await reshape(database, inventories, allocations);
    } catch (e) {
      if (e instanceof AllocationProviderMissing) throw httpError(400, e.message);
      if (e instanceof ConcurrentUpdateDetected) throw httpError(409, `update conflict: ${e.message}`, ErrorCodes.CONCURRENT_UPDATE);
      if (e instanceof NotFound) throw httpError(400, `malformed reshaper data: ${e.message}`);
      if (e instanceof InventoryInUse) throw httpError(409, `update conflict: ${e.message}`, ErrorCodes.INVENTORY_INUSE);
      if (e instanceof InvalidInventory) throw httpError(409, `Unable to allocate inventory: ${e.message}`);
      throw e;
    }
    return sendEmpty(reply);
  });
}
