/**
 * /resource_providers and /resource_providers/{uuid} (placement/handlers/resource_provider.py).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUuidLike } from '../../common/http/validation.js';
import {
  CannotDeleteParentResourceProvider, DuplicateEntry, NotFound, ObjectActionError, ResourceClassNotFound,
  ResourceProviderInUse, TraitNotFound,
} from '../exceptions.js';
import {
  createProvider, deleteProvider, getProviderByUuid, listProviders, providerIdsHavingAnyTrait,
  providerIdsMatchingAggregates, providerIdsMatchingRequiredTraits, providerIdsWithCapacity, updateProvider,
  type ResourceProvider,
} from '../db/providers.js';
import { ResourceClassMap } from '../db/resource-classes.js';
import { toDate } from '../db/sql.js';
import type { PlacementDeps } from './deps.js';
import { normalizeMemberOfParams, normalizeResources, normalizeTraitsParams } from './params.js';
import * as S from './schemas.js';
import {
  ErrorCodes, atLeast, authorize, checkAccept, extractJson, httpError, latest, queryOf, requireJson, sendEmpty,
  sendJson, validateQuery, version,
} from './util.js';

export function providerUrl(rp: { uuid: string }): string {
  return `/resource_providers/${rp.uuid}`;
}

function links(req: FastifyRequest, rp: ResourceProvider) {
  const url = providerUrl(rp);
  const rels = ['inventories', 'usages'];
  if (atLeast(req, '1.1')) rels.push('aggregates');
  if (atLeast(req, '1.6')) rels.push('traits');
  if (atLeast(req, '1.11')) rels.push('allocations');
  return [{ rel: 'self', href: url }, ...rels.map((rel) => ({ rel, href: `${url}/${rel}` }))];
}

export function serializeProvider(req: FastifyRequest, rp: ResourceProvider): Record<string, unknown> {
  const out: Record<string, unknown> = { uuid: rp.uuid, name: rp.name, generation: rp.generation, links: links(req, rp) };
  if (atLeast(req, '1.14')) {
    out['parent_provider_uuid'] = rp.parent_provider_uuid;
    out['root_provider_uuid'] = rp.root_provider_uuid;
  }
  return out;
}

/** Loads the provider in the path; 404 as placement's handler wrapper answers NotFound. */
export async function providerFromPath(deps: PlacementDeps, uuid: string, message?: (e: NotFound) => string): Promise<ResourceProvider> {
  try {
    return await getProviderByUuid(deps.database.db, uuid);
  } catch (e) {
    if (e instanceof NotFound) throw httpError(404, message ? message(e) : e.message);
    throw e;
  }
}

const normUuid = (u: string) => {
  const hex = u.replace(/[{}-]/g, '').replace(/^urn:uuid:/i, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export function registerResourceProviders(app: FastifyInstance, deps: PlacementDeps): void {
  const { database, policy } = deps;

  app.get('/resource_providers', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:list');
    const v = version(req);
    const q = queryOf(req);
    validateQuery(q, S.getRpsSchema(v));
    const db = database.db;
    let ids: Set<number> | undefined;
    let excludeIds: Set<number> | undefined;
    const intersect = (s: Set<number>) => { ids = ids ? new Set([...ids].filter((x) => s.has(x))) : s; };
    try {
      if (q['member_of']) {
        const aggs = normalizeMemberOfParams(q['member_of'], '', v);
        if (aggs.required.length) intersect(await providerIdsMatchingAggregates(db, aggs.required.map((s) => [...s])));
        if (aggs.forbidden.size) excludeIds = await providerIdsMatchingAggregates(db, [[...aggs.forbidden]]);
      }
      if (q['required']) {
        const t = normalizeTraitsParams(q['required'], v);
        if (t.required.length) intersect(await providerIdsMatchingRequiredTraits(db, t.required));
        if (t.forbidden.size) {
          const bad = await providerIdsHavingAnyTrait(db, t.forbidden);
          excludeIds = new Set([...(excludeIds ?? []), ...bad]);
        }
      }
      if (q['resources']) {
        const res = normalizeResources(q['resources'][q['resources'].length - 1]!);
        const rcs = await ResourceClassMap.load(db);
        for (const [name, amount] of res) intersect(await providerIdsWithCapacity(db, rcs.idOf(name), amount));
      }
    } catch (e) {
      if (e instanceof ResourceClassNotFound) throw httpError(400, `Invalid resource class in resources parameter: ${e.message}`);
      if (e instanceof TraitNotFound) throw httpError(400, `Invalid trait(s) in "required" parameter: ${e.message}`);
      throw e;
    }
    const last = (k: string) => { const x = q[k]; return x ? x[x.length - 1] : undefined; };
    const rps = await listProviders(db, {
      ...(last('name') !== undefined ? { name: last('name')! } : {}),
      ...(last('uuid') !== undefined ? { uuid: normUuid(last('uuid')!) } : {}),
      ...(last('in_tree') !== undefined ? { inTree: normUuid(last('in_tree')!) } : {}),
      ...(ids ? { ids } : {}),
      ...(excludeIds ? { excludeIds } : {}),
    });
    return sendJson(req, reply, { resource_providers: rps.map((rp) => serializeProvider(req, rp)) }, {
      lastModified: latest(rps.map((rp) => toDate(rp.updated_at) ?? toDate(rp.created_at))),
    });
  });

  app.post('/resource_providers', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:resource_providers:create');
    const data = extractJson<{ name: string; uuid?: string; parent_provider_uuid?: string | null }>(
      req, atLeast(req, '1.14') ? S.POST_RP_V1_14 : S.POST_RP_V1_0);
    const uuid = data.uuid ? normUuid(data.uuid) : undefined;
    let rp: ResourceProvider;
    try {
      rp = await createProvider(database, {
        name: data.name, ...(uuid ? { uuid } : {}),
        ...(data.parent_provider_uuid ? { parent_provider_uuid: normUuid(data.parent_provider_uuid) } : {}),
      });
    } catch (e) {
      if (e instanceof DuplicateEntry) {
        throw httpError(409, `Conflicting resource provider ${e.columns.join(', ')} already exists.`, ErrorCodes.DUPLICATE_NAME);
      }
      if (e instanceof ObjectActionError) {
        throw httpError(400, `Unable to create resource provider "${data.name}", ${uuid ?? ''}: ${e.message}`);
      }
      throw e;
    }
    reply.header('location', providerUrl(rp));
    if (atLeast(req, '1.20')) return sendJson(req, reply, serializeProvider(req, rp), { lastModified: toDate(rp.created_at) });
    return sendEmpty(reply, 201);
  });

  app.get<{ Params: { uuid: string } }>('/resource_providers/:uuid', async (req, reply) => {
    checkAccept(req);
    authorize(req, policy, 'placement:resource_providers:show');
    const rp = await providerFromPath(deps, req.params.uuid);
    return sendJson(req, reply, serializeProvider(req, rp), { lastModified: toDate(rp.updated_at) ?? toDate(rp.created_at) });
  });

  app.put<{ Params: { uuid: string } }>('/resource_providers/:uuid', async (req, reply) => {
    requireJson(req);
    authorize(req, policy, 'placement:resource_providers:update');
    await providerFromPath(deps, req.params.uuid);
    const data = extractJson<{ name?: string; parent_provider_uuid?: string | null }>(req, atLeast(req, '1.14') ? S.PUT_RP_V1_14 : S.PUT_RP_V1_0);
    let rp: ResourceProvider;
    try {
      const upd: { name?: string; parent_provider_uuid?: string | null } = {};
      if (data.name !== undefined) upd.name = data.name;
      if ('parent_provider_uuid' in data) upd.parent_provider_uuid = data.parent_provider_uuid ? normUuid(data.parent_provider_uuid) : null;
      rp = await updateProvider(database, req.params.uuid, upd, atLeast(req, '1.37'));
    } catch (e) {
      if (e instanceof DuplicateEntry) throw httpError(409, `Conflicting resource provider ${data.name} already exists.`, ErrorCodes.DUPLICATE_NAME);
      if (e instanceof ObjectActionError) throw httpError(400, `Unable to save resource provider ${req.params.uuid}: ${e.message}`);
      throw e;
    }
    return sendJson(req, reply, serializeProvider(req, rp), { lastModified: toDate(rp.updated_at) });
  });

  app.delete<{ Params: { uuid: string } }>('/resource_providers/:uuid', async (req, reply) => {
    authorize(req, policy, 'placement:resource_providers:delete');
    const uuid = req.params.uuid;
    try {
      await deleteProvider(database, uuid);
    } catch (e) {
      if (e instanceof ResourceProviderInUse) {
        throw httpError(409, `Unable to delete resource provider ${uuid}: ${e.message}`, ErrorCodes.PROVIDER_IN_USE);
      }
      if (e instanceof CannotDeleteParentResourceProvider) {
        throw httpError(409, `Unable to delete parent resource provider ${uuid}: It has child resource providers.`,
          ErrorCodes.PROVIDER_CANNOT_DELETE_PARENT);
      }
      if (e instanceof NotFound) throw httpError(404, `No resource provider with uuid ${uuid} found for delete`);
      throw e;
    }
    return sendEmpty(reply);
  });
}

export { isUuidLike };
