/**
 * GET /allocation_candidates (placement/handlers/allocation_candidate.py).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ResourceClassNotFound, TraitNotFound } from '../exceptions.js';
import { ResourceClassMap } from '../db/resource-classes.js';
import { traitIdsFromNames } from '../db/traits.js';
import { findAllocationCandidates, type AllocationRequest, type RequestGroup } from '../candidates/engine.js';
import type { SnapProvider } from '../candidates/snapshot.js';
import type { PlacementDeps } from './deps.js';
import { requestGroups, requestWideParams } from './params.js';
import * as S from './schemas.js';
import { atLeast, authorize, checkAccept, httpError, queryOf, requireVersion, sendJson, validateQuery, version } from './util.js';

function allocationRequestsJson(req: FastifyRequest, areqs: AllocationRequest[], rcs: ResourceClassMap): unknown[] {
  if (atLeast(req, '1.12')) {
    return areqs.map((a) => {
      const allocations: Record<string, { resources: Record<string, number> }> = {};
      for (const r of a.resources) (allocations[r.rp.uuid] ??= { resources: {} }).resources[rcs.nameOf(r.rcId)] = r.amount;
      const out: Record<string, unknown> = { allocations };
      if (atLeast(req, '1.34')) out['mappings'] = Object.fromEntries([...a.mappings].map(([s, set]) => [s, [...set]]));
      return out;
    });
  }
  return areqs.map((a) => {
    const byRp = new Map<string, Record<string, number>>();
    for (const r of a.resources) {
      const m = byRp.get(r.rp.uuid) ?? {};
      m[rcs.nameOf(r.rcId)] = r.amount;
      byRp.set(r.rp.uuid, m);
    }
    return { allocations: [...byRp].map(([uuid, resources]) => ({ resource_provider: { uuid }, resources })) };
  });
}

function summariesJson(req: FastifyRequest, summaries: SnapProvider[], groups: RequestGroup[], rcs: ResourceClassMap, byId: Map<number, SnapProvider>) {
  const all = atLeast(req, '1.27');
  const requested = new Set(groups.flatMap((g) => [...g.resources.keys()]));
  const out: Record<string, unknown> = {};
  for (const p of summaries) {
    const resources: Record<string, { capacity: number; used: number }> = {};
    for (const [rcId, inv] of [...p.inv].sort((a, b) => a[0] - b[0])) {
      const name = rcs.nameOf(rcId);
      if (!all && !requested.has(name)) continue;
      resources[name] = { capacity: Math.floor((inv.total - inv.reserved) * inv.ratio), used: p.used.get(rcId) ?? 0 };
    }
    const s: Record<string, unknown> = { resources };
    if (atLeast(req, '1.17')) s['traits'] = [...p.traits].sort();
    if (atLeast(req, '1.29')) {
      s['parent_provider_uuid'] = p.parentId === null ? null : byId.get(p.parentId)?.uuid ?? null;
      s['root_provider_uuid'] = byId.get(p.rootId)?.uuid ?? p.uuid;
    }
    out[p.uuid] = s;
  }
  return out;
}

export function registerAllocationCandidates(app: FastifyInstance, deps: PlacementDeps): void {
  app.get('/allocation_candidates', async (req, reply) => {
    requireVersion(req, '1.10');
    checkAccept(req);
    authorize(req, deps.policy, 'placement:allocation_candidates:list');
    const v = version(req);
    const q = queryOf(req);
    validateQuery(q, S.candidatesSchema(v));
    const wide = requestWideParams(q, v);
    const groups = requestGroups(q, v, wide.sameSubtrees);
    if (!wide.groupPolicy && groups.filter((g) => g.useSameProvider).length > 1) {
      throw httpError(400, 'The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.');
    }
    const db = deps.database.db;
    const rcs = await ResourceClassMap.load(db);
    try {
      for (const g of groups) for (const rc of g.resources.keys()) rcs.idOf(rc);
    } catch (e) {
      if (e instanceof ResourceClassNotFound) throw httpError(400, `Invalid resource class in resources parameter: ${e.message}`);
      throw e;
    }
    const traitNames = new Set<string>([...(wide.rootRequired ?? []), ...(wide.rootForbidden ?? [])]);
    for (const g of groups) {
      for (const any of g.requiredTraits) for (const t of any) traitNames.add(t);
      for (const t of g.forbiddenTraits) traitNames.add(t);
    }
    if (traitNames.size) {
      try {
        await traitIdsFromNames(db, traitNames);
      } catch (e) {
        if (e instanceof TraitNotFound) throw httpError(400, e.message);
        throw e;
      }
    }
    const snap = await deps.snapshots.get();
    const result = findAllocationCandidates(snap, rcs, groups, { ...wide, nestedAware: v.atLeast('1.29') });
    return sendJson(req, reply, {
      allocation_requests: allocationRequestsJson(req, result.allocationRequests, rcs),
      provider_summaries: summariesJson(req, result.summaries, groups, rcs, snap.byId),
    });
  });
}
