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
import { atLeast, authorize, checkAccept, httpError, queryOf, requireVersion, sendRawJson, validateQuery, version } from './util.js';

/**
 * The response is built as text: a thousand candidates and their summaries are most of the
 * request's time when built as objects and stringified. Names here (uuids, resource classes,
 * trait names, suffixes) never need JSON escaping beyond what JSON.stringify gives keys.
 */
const q = (s: string) => JSON.stringify(s);

function allocationRequestsJson(req: FastifyRequest, areqs: AllocationRequest[], rcs: ResourceClassMap): string {
  if (atLeast(req, '1.12')) {
    const withMappings = atLeast(req, '1.34');
    return `[${areqs.map((a) => {
      const byRp = new Map<string, string[]>();
      for (const r of a.resources) {
        const l = byRp.get(r.rp.uuid);
        const item = `${q(rcs.nameOf(r.rcId))}:${r.amount}`;
        if (l) l.push(item); else byRp.set(r.rp.uuid, [item]);
      }
      const allocs = [...byRp].map(([u, items]) => `${q(u)}:{"resources":{${items.join(',')}}}`).join(',');
      if (!withMappings) return `{"allocations":{${allocs}}}`;
      const maps = [...a.mappings].map(([suf, set]) => `${q(suf)}:[${[...set].map(q).join(',')}]`).join(',');
      return `{"allocations":{${allocs}},"mappings":{${maps}}}`;
    }).join(',')}]`;
  }
  return JSON.stringify(areqs.map((a) => {
    const byRp = new Map<string, Record<string, number>>();
    for (const r of a.resources) {
      const m = byRp.get(r.rp.uuid) ?? {};
      m[rcs.nameOf(r.rcId)] = r.amount;
      byRp.set(r.rp.uuid, m);
    }
    return { allocations: [...byRp].map(([uuid, resources]) => ({ resource_provider: { uuid }, resources })) };
  }));
}

/** Summary fragments (`"uuid":{...}`) per provider object: a snapshot provider never changes, so neither does its text. */
const summaryCache = new WeakMap<SnapProvider, Map<string, string>>();

function summaryJson(p: SnapProvider, flags: { all: boolean; traits: boolean; tree: boolean }, requested: Set<string>,
  rcs: ResourceClassMap, byId: Map<number, SnapProvider>): string {
  const key = `${flags.traits ? 't' : ''}${flags.tree ? 'n' : ''}`;
  const cacheable = flags.all;
  if (cacheable) {
    const hit = summaryCache.get(p)?.get(key);
    if (hit !== undefined) return hit;
  }
  const res: string[] = [];
  for (const [rcId, inv] of [...p.inv].sort((a, b) => a[0] - b[0])) {
    const name = rcs.nameOf(rcId);
    if (!flags.all && !requested.has(name)) continue;
    res.push(`${q(name)}:{"capacity":${Math.floor((inv.total - inv.reserved) * inv.ratio)},"used":${p.used.get(rcId) ?? 0}}`);
  }
  let out = `${q(p.uuid)}:{"resources":{${res.join(',')}}`;
  if (flags.traits) out += `,"traits":[${[...p.traits].sort().map(q).join(',')}]`;
  if (flags.tree) {
    const parent = p.parentId === null ? null : byId.get(p.parentId)?.uuid ?? null;
    out += `,"parent_provider_uuid":${parent === null ? 'null' : q(parent)},"root_provider_uuid":${q(byId.get(p.rootId)?.uuid ?? p.uuid)}`;
  }
  out += '}';
  if (cacheable) {
    let m = summaryCache.get(p);
    if (!m) summaryCache.set(p, (m = new Map()));
    m.set(key, out);
  }
  return out;
}

function summariesJson(req: FastifyRequest, summaries: SnapProvider[], groups: RequestGroup[], rcs: ResourceClassMap, byId: Map<number, SnapProvider>): string {
  const flags = { all: atLeast(req, '1.27'), traits: atLeast(req, '1.17'), tree: atLeast(req, '1.29') };
  const requested = new Set(groups.flatMap((g) => [...g.resources.keys()]));
  return `{${summaries.map((p) => summaryJson(p, flags, requested, rcs, byId)).join(',')}}`;
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
    const body = `{"allocation_requests":${allocationRequestsJson(req, result.allocationRequests, rcs)},`
      + `"provider_summaries":${summariesJson(req, result.summaries, groups, rcs, snap.byId)}}`;
    return sendRawJson(req, reply, body);
  });
}
