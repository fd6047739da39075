/**
 * GET /allocation_candidates over a PlacementSnapshot, with placement's semantics
 * (objects/allocation_candidate.py + research_context.py): per request group find the
 * providers (or provider combinations within a tree, plus sharing providers) that satisfy it,
 * then combine the groups per anchor tree, applying group_policy, same_subtree and capacity of
 * the consolidated request, and stop at `limit`. Provider summaries cover the trees involved.
 * @module
 */
import type { ResourceClassMap } from '../db/resource-classes.js';
import { SHARING_TRAIT, type PlacementSnapshot, type SnapProvider } from './snapshot.js';

export interface RequestGroup {
  /** '' for the unsuffixed group. */
  suffix: string;
  useSameProvider: boolean;
  resources: Map<string, number>;
  /** Each set: any of its traits (AND across sets). */
  requiredTraits: Set<string>[];
  forbiddenTraits: Set<string>;
  /** Each set: any of its aggregates (AND across sets). */
  memberOf: Set<string>[];
  forbiddenAggs: Set<string>;
  inTree?: string;
}

export interface RequestWideParams {
  limit?: number;
  groupPolicy?: 'none' | 'isolate';
  rootRequired?: Set<string>;
  rootForbidden?: Set<string>;
  sameSubtrees: Set<string>[];
  /** Microversion >= 1.29: several providers of one tree may serve one request. */
  nestedAware: boolean;
}

export interface ResourceRequest { rp: SnapProvider; rcId: number; amount: number }

export interface AllocationRequest {
  anchorRootId: number;
  useSameProvider: boolean;
  resources: ResourceRequest[];
  /** suffix -> provider uuids */
  mappings: Map<string, Set<string>>;
}

export interface CandidatesResult {
  allocationRequests: AllocationRequest[];
  summaries: SnapProvider[];
}

const EMPTY: CandidatesResult = { allocationRequests: [], summaries: [] };

/** Capacity check of one provider for one class (placement's `_capacity_check_clause`). */
export function hasCapacity(p: SnapProvider, rcId: number, amount: number): boolean {
  const inv = p.inv.get(rcId);
  if (!inv) return false;
  const used = p.used.get(rcId) ?? 0;
  return used + amount <= (inv.total - inv.reserved) * inv.ratio
    && inv.minUnit <= amount && inv.maxUnit >= amount && amount % inv.stepSize === 0;
}

class Search {
  private readonly anchorsCache = new Map<number, Set<number>>();
  readonly anchorRoots: Set<number> | null;

  constructor(readonly snap: PlacementSnapshot, readonly rcs: ResourceClassMap, readonly wide: RequestWideParams) {
    this.anchorRoots = null;
    if (wide.rootRequired?.size || wide.rootForbidden?.size) {
      const required = [...(wide.rootRequired ?? [])].sort();
      const forbidden = wide.rootForbidden ?? new Set<string>();
      const key = `roots:${required.join(',')}!${[...forbidden].sort().join(',')}`;
      let roots = snap.memo.get(key) as Set<number> | undefined;
      if (!roots) {
        roots = new Set<number>();
        for (const p of snap.ordered) {
          if (p.parentId !== null) continue;
          if (!required.every((t) => p.traits.has(t))) continue;
          if (hasAny(p.traits, forbidden)) continue;
          roots.add(p.id);
        }
        snap.memo.set(key, roots);
      }
      this.anchorRoots = roots;
    }
  }

  inFilteredAnchors(rootId: number): boolean {
    return this.anchorRoots === null || this.anchorRoots.has(rootId);
  }

  /** Roots of every tree sharing an aggregate with sharing provider `p`. */
  anchorsFor(p: SnapProvider): Set<number> {
    let out = this.anchorsCache.get(p.id);
    if (!out) {
      out = new Set();
      for (const a of p.aggs) for (const q of this.snap.byAgg.get(a) ?? []) out.add(q.rootId);
      this.anchorsCache.set(p.id, out);
    }
    return out;
  }

  treeRootOf(uuid: string | undefined): number | null | undefined {
    if (uuid === undefined) return undefined;
    const p = this.snap.byUuid.get(uuid);
    return p ? p.rootId : null;
  }
}

function hasAny(have: Set<string>, want: Set<string>): boolean {
  for (const w of want) if (have.has(w)) return true;
  return false;
}
const traitsOk = (p: SnapProvider, g: RequestGroup) =>
  g.requiredTraits.every((any) => hasAny(p.traits, any)) && !hasAny(p.traits, g.forbiddenTraits);
const inAggs = (p: SnapProvider, memberOf: Set<string>[]) => memberOf.every((any) => hasAny(p.aggs, any));
const inAnyAgg = (p: SnapProvider, aggs: Set<string>) => hasAny(p.aggs, aggs);

/** Providers that alone satisfy the group (placement's `get_provider_ids_matching`), lazily. */
function* singleProviderMatchesLazy(s: Search, g: RequestGroup, rcAmounts: Array<[number, number]>, treeRoot: number | undefined): Generator<SnapProvider> {
  const filter = (p: SnapProvider) => (treeRoot === undefined || p.rootId === treeRoot) && traitsOk(p, g)
    && inAggs(p, g.memberOf) && !inAnyAgg(p, g.forbiddenAggs)
    && rcAmounts.every(([rc, amount]) => hasCapacity(p, rc, amount));
  if (rcAmounts.length === 0) {
    // A resourceless group (same_subtree) matches only through trait/aggregate filters.
    if (!(g.requiredTraits.length || g.memberOf.length)) return;
    for (const p of s.snap.ordered) if (filter(p)) yield p;
    return;
  }
  // Walk the smallest per-class provider list.
  let base: SnapProvider[] | undefined;
  for (const [rc] of rcAmounts) {
    const list = s.snap.byRc.get(rc) ?? [];
    if (!base || list.length < base.length) base = list;
  }
  for (const p of base ?? []) if (filter(p)) yield p;
}

/** One request per matching provider, plus copies anchored on the trees a sharing provider serves. */
function* singleProviderRequestsLazy(s: Search, g: RequestGroup, matches: Iterable<SnapProvider>, rcAmounts: Array<[number, number]>): Generator<AllocationRequest> {
  for (const p of matches) {
    const make = (anchor: number): AllocationRequest => ({
      anchorRootId: anchor, useSameProvider: g.useSameProvider,
      resources: rcAmounts.map(([rcId, amount]) => ({ rp: p, rcId, amount })),
      mappings: new Map([[g.suffix, new Set([p.uuid])]]),
    });
    if (s.inFilteredAnchors(p.rootId)) yield make(p.rootId);
    if (p.traits.has(SHARING_TRAIT)) {
      for (const anchor of s.anchorsFor(p)) {
        if (anchor !== p.rootId && s.inFilteredAnchors(anchor)) yield make(anchor);
      }
    }
  }
}

interface Cand { rp: SnapProvider; root: number; rc: number }

/**
 * The unsuffixed group when trees or sharing providers exist (`get_trees_matching_all` and
 * `_alloc_candidates_multiple_providers`), one tree at a time so callers can stop early: per
 * resource class the tree's providers with capacity plus the sharing providers anchored on it,
 * filtered by anchor traits and aggregates; trees missing a class drop out; then one provider
 * per class in every combination whose providers together hold the required traits and none
 * a forbidden one.
 */
function* multiProviderRequestsLazy(s: Search, g: RequestGroup, rcAmounts: Array<[number, number]>, treeRoot: number | undefined): Generator<AllocationRequest> {
  const plan = prepareMulti(s, g, rcAmounts, treeRoot);
  for (const root of plan.roots) yield* plan.forRoot(root);
}

/** What one request group offers, tree by tree. */
interface GroupPlan {
  /** Trees (root ids) that may serve the group, ascending. */
  roots: number[];
  forRoot(root: number): Iterable<AllocationRequest>;
}

const NO_PLAN: GroupPlan = { roots: [], forRoot: () => [] };

function prepareMulti(s: Search, g: RequestGroup, rcAmounts: Array<[number, number]>, treeRoot: number | undefined): GroupPlan {
  const snap = s.snap;
  if (!rcAmounts.length) return NO_PLAN;
  if (g.requiredTraits.length) {
    const wanted = new Set(g.requiredTraits.flatMap((x) => [...x]));
    if (!snap.ordered.some((p) => hasAny(p.traits, wanted))) return NO_PLAN;
  }
  const rpsInAggs = g.memberOf.length ? new Set(snap.ordered.filter((p) => inAggs(p, g.memberOf)).map((p) => p.id)) : null;
  const badAggRps = g.forbiddenAggs.size ? new Set(snap.ordered.filter((p) => inAnyAgg(p, g.forbiddenAggs)).map((p) => p.id)) : null;
  // Sharing providers with capacity, per class, by the trees they anchor on.
  const sharedByRoot = new Map<number, Map<number, SnapProvider[]>>();
  if (treeRoot === undefined) {
    for (const [rc, amount] of rcAmounts) {
      for (const sp of snap.sharing) {
        if (rpsInAggs && !rpsInAggs.has(sp.id)) continue;
        if (!hasCapacity(sp, rc, amount)) continue;
        for (const anchor of s.anchorsFor(sp)) {
          let m = sharedByRoot.get(anchor);
          if (!m) sharedByRoot.set(anchor, (m = new Map()));
          const l = m.get(rc);
          if (l) l.push(sp); else m.set(rc, [sp]);
        }
      }
    }
  }
  const traitFilter = (g.requiredTraits.length || g.forbiddenTraits.size) && snap.sharing.length === 0;
  // Trees to visit: those holding the rarest class themselves, plus those sharing providers anchor on.
  let roots: number[];
  if (treeRoot !== undefined) {
    roots = [treeRoot];
  } else {
    const rarest = rcAmounts.map(([rc]) => snap.byRc.get(rc) ?? []).reduce((a, b) => (b.length < a.length ? b : a));
    const set = new Set<number>(rarest.map((p) => p.rootId));
    for (const r of sharedByRoot.keys()) set.add(r);
    roots = [...set].sort((a, b) => a - b);
  }
  const amountOf = new Map(rcAmounts);
  const sortedRcs = [...rcAmounts].sort((a, b) => a[0] - b[0]);
  function* forRoot(root: number): Generator<AllocationRequest> {
    if (s.anchorRoots && !s.anchorRoots.has(root)) return;
    const tree = snap.byRoot.get(root) ?? [];
    const lists: Cand[][] = [];
    for (const [rc, amount] of sortedRcs) {
      const seen = new Set<number>();
      const list: Cand[] = [];
      const consider = (rp: SnapProvider) => {
        if (seen.has(rp.id)) return;
        seen.add(rp.id);
        if (rpsInAggs && !rpsInAggs.has(rp.id) && !rpsInAggs.has(root)) return;
        if (badAggRps && (badAggRps.has(rp.id) || badAggRps.has(root))) return;
        list.push({ rp, root, rc });
      };
      for (const p of tree) if (hasCapacity(p, rc, amount)) consider(p);
      for (const sp of sharedByRoot.get(root)?.get(rc) ?? []) consider(sp);
      if (!list.length) break;
      lists.push(list);
    }
    if (lists.length !== sortedRcs.length) return;
    if (traitFilter && !treeMeetsTraits(lists, g)) return;
    for (const combo of product(lists)) {
      const traits = new Set<string>();
      let bad = false;
      for (const c of combo) {
        if (hasAny(c.rp.traits, g.forbiddenTraits)) { bad = true; break; }
        for (const t of c.rp.traits) traits.add(t);
      }
      if (bad || !g.requiredTraits.every((any) => hasAny(traits, any))) continue;
      yield {
        anchorRootId: root, useSameProvider: false,
        resources: combo.map((c) => ({ rp: c.rp, rcId: c.rc, amount: amountOf.get(c.rc)! })),
        mappings: new Map([[g.suffix, new Set(combo.map((c) => c.rp.uuid))]]),
      };
    }
  }
  return { roots, forRoot };
}

/** A group served by single providers, indexed by the trees (anchors) they serve. */
function prepareSingle(s: Search, g: RequestGroup, rcAmounts: Array<[number, number]>, treeRoot: number | undefined): GroupPlan {
  const byAnchor = new Map<number, SnapProvider[]>();
  const add = (anchor: number, p: SnapProvider) => {
    const l = byAnchor.get(anchor);
    if (l) l.push(p); else byAnchor.set(anchor, [p]);
  };
  for (const p of singleProviderMatchesLazy(s, g, rcAmounts, treeRoot)) {
    if (s.inFilteredAnchors(p.rootId)) add(p.rootId, p);
    if (p.traits.has(SHARING_TRAIT)) {
      for (const anchor of s.anchorsFor(p)) if (anchor !== p.rootId && s.inFilteredAnchors(anchor)) add(anchor, p);
    }
  }
  return {
    roots: [...byAnchor.keys()].sort((a, b) => a - b),
    forRoot: (root) => (byAnchor.get(root) ?? []).map((p) => ({
      anchorRootId: root, useSameProvider: g.useSameProvider,
      resources: rcAmounts.map(([rcId, amount]) => ({ rp: p, rcId, amount })),
      mappings: new Map([[g.suffix, new Set([p.uuid])]]),
    })),
  };
}

/**
 * placement's `_get_trees_with_traits` for one tree: the tree's candidate providers without a
 * forbidden trait must together hold every required trait (any of each set).
 */
function treeMeetsTraits(lists: Cand[][], g: RequestGroup): boolean {
  const traits = new Set<string>();
  let anyGood = false;
  for (const list of lists) {
    for (const c of list) {
      if (hasAny(c.rp.traits, g.forbiddenTraits)) continue;
      anyGood = true;
      for (const t of c.rp.traits) traits.add(t);
    }
  }
  if (!g.requiredTraits.length) return anyGood;
  return g.requiredTraits.every((any) => hasAny(traits, any));
}

function* product<T>(lists: T[][], prefix: T[] = []): Generator<T[]> {
  if (prefix.length === lists.length) {
    yield prefix;
    return;
  }
  for (const item of lists[prefix.length]!) yield* product(lists, [...prefix, item]);
}

function ancestors(snap: PlacementSnapshot, uuid: string): Set<string> {
  const out = new Set<string>();
  let p = snap.byUuid.get(uuid);
  while (p) {
    out.add(p.uuid);
    p = p.parentId === null ? undefined : snap.byId.get(p.parentId);
  }
  return out;
}

function satisfiesSameSubtree(s: Search, areqs: AllocationRequest[]): boolean {
  for (const suffixes of s.wide.sameSubtrees) {
    const uuids = new Set<string>();
    for (const a of areqs) for (const suf of suffixes) for (const u of a.mappings.get(suf) ?? []) uuids.add(u);
    if (uuids.size <= 1) continue;
    let common: Set<string> | null = null;
    for (const u of uuids) {
      const anc = ancestors(s.snap, u);
      common = common === null ? anc : new Set([...(common as Set<string>)].filter((x) => anc.has(x)));
    }
    if (![...(common ?? [])].some((u) => uuids.has(u))) return false;
  }
  return true;
}

function satisfiesGroupPolicy(areqs: AllocationRequest[], policy: string | undefined, numGranular: number): boolean {
  if (policy !== 'isolate') return true;
  const used = new Set<string>();
  for (const a of areqs) if (a.useSameProvider) for (const set of a.mappings.values()) for (const u of set) used.add(u);
  return used.size === numGranular;
}

/** Sums the groups' requests per (provider, class) and checks capacity and max_unit. */
function consolidate(areqs: AllocationRequest[]): AllocationRequest | null {
  const byKey = new Map<string, ResourceRequest>();
  const mappings = new Map<string, Set<string>>();
  for (const a of areqs) {
    for (const r of a.resources) {
      const k = `${r.rp.id}:${r.rcId}`;
      const cur = byKey.get(k);
      if (cur) cur.amount += r.amount;
      else byKey.set(k, { ...r });
    }
    for (const [suf, set] of a.mappings) {
      const m = mappings.get(suf) ?? new Set<string>();
      for (const u of set) m.add(u);
      mappings.set(suf, m);
    }
  }
  for (const r of byKey.values()) {
    const inv = r.rp.inv.get(r.rcId)!;
    const capacity = Math.floor((inv.total - inv.reserved) * inv.ratio);
    if ((r.rp.used.get(r.rcId) ?? 0) + r.amount > capacity || r.amount > inv.maxUnit) return null;
  }
  return { anchorRootId: areqs[0]!.anchorRootId, useSameProvider: false, resources: [...byKey.values()], mappings };
}

function dedupeKey(a: AllocationRequest): string {
  const res = a.resources.map((r) => `${r.rp.id}:${r.rcId}:${r.amount}`).sort().join(',');
  const maps = [...a.mappings].map(([s, set]) => `${s}=${[...set].sort().join('+')}`).sort().join(';');
  return `${res}|${maps}`;
}

/** Several providers of the same tree in one request: invisible to clients older than 1.29. */
function spansOneTreeTwice(a: AllocationRequest): boolean {
  const roots = new Map<string, number>();
  for (const r of a.resources) roots.set(r.rp.uuid, r.rp.rootId);
  return new Set(roots.values()).size !== roots.size;
}

/**
 * Finds allocation candidates. Resource class names must exist (the caller checks, to give
 * its 400); unknown traits are the caller's 400 too.
 */
export function findAllocationCandidates(
  snap: PlacementSnapshot, rcs: ResourceClassMap, groups: RequestGroup[], wide: RequestWideParams,
  opts: { /** Skip the single-group shortcut (tests compare both paths). */ general?: boolean } = {},
): CandidatesResult {
  const s = new Search(snap, rcs, wide);
  if (s.anchorRoots && s.anchorRoots.size === 0) return EMPTY;
  const fast = opts.general ? null : singleGroupFastPath(s, groups, wide);
  if (fast) return fast;
  // Each group's offer per tree; only trees (anchors) serving every group count, visited in
  // order so that a limit stops the work early.
  const plans: GroupPlan[] = [];
  for (const g of groups) {
    const rcAmounts: Array<[number, number]> = [...g.resources].map(([name, amount]) => [rcs.idOf(name), amount]);
    const treeRoot = s.treeRootOf(g.inTree);
    if (treeRoot === null) return EMPTY; // in_tree names no provider
    for (const [rc] of rcAmounts) if (!(snap.byRc.get(rc)?.length)) return EMPTY;
    if (g.memberOf.length && !snap.ordered.some((p) => inAggs(p, g.memberOf))) return EMPTY;
    const plan = !g.useSameProvider && (snap.sharing.length > 0 || snap.hasTrees)
      ? prepareMulti(s, g, rcAmounts, treeRoot)
      : prepareSingle(s, g, rcAmounts, treeRoot);
    if (!plan.roots.length) return EMPTY;
    plans.push(plan);
  }
  let anchors = plans[0]!.roots;
  for (const plan of plans.slice(1)) {
    const set = new Set(plan.roots);
    anchors = anchors.filter((r) => set.has(r));
  }
  const numGranular = groups.filter((g) => g.suffix !== '').length;
  const excludeNested = !wide.nestedAware && snap.hasTrees;
  const limit = wide.limit;
  const seen = new Set<string>();
  const results: AllocationRequest[] = [];
  outer: for (const root of anchors) {
    const lists = plans.map((plan) => [...plan.forRoot(root)]);
    if (lists.some((l) => !l.length)) continue;
    for (const combo of product(lists)) {
      if (!satisfiesGroupPolicy(combo, wide.groupPolicy, numGranular)) continue;
      if (!satisfiesSameSubtree(s, combo)) continue;
      const areq = combo.length === 1 && !wide.sameSubtrees.length ? checkSingle(combo[0]!) : consolidate(combo);
      if (!areq) continue;
      if (excludeNested && spansOneTreeTwice(areq)) continue;
      const key = dedupeKey(areq);
      if (seen.has(key)) continue;
      seen.add(key);
      results.push(areq);
      if (limit !== undefined && results.length >= limit) break outer;
    }
  }
  return withSummaries(snap, results, excludeNested);
}

function withSummaries(snap: PlacementSnapshot, results: AllocationRequest[], excludeNested: boolean): CandidatesResult {
  if (!results.length) return EMPTY;
  let summaries: SnapProvider[];
  if (excludeNested) {
    const ids = new Set(results.flatMap((a) => a.resources.map((r) => r.rp.id)));
    summaries = snap.ordered.filter((p) => ids.has(p.id));
  } else {
    const roots = new Set(results.flatMap((a) => a.resources.map((r) => r.rp.rootId)));
    summaries = [...roots].sort((a, b) => a - b).flatMap((r) => snap.byRoot.get(r) ?? []);
  }
  return { allocationRequests: results, summaries };
}

/** One group: its request is already one provider's (or one combination's); check capacity only. */
function checkSingle(a: AllocationRequest): AllocationRequest | null {
  for (const r of a.resources) {
    const inv = r.rp.inv.get(r.rcId)!;
    const capacity = Math.floor((inv.total - inv.reserved) * inv.ratio);
    if ((r.rp.used.get(r.rcId) ?? 0) + r.amount > capacity || r.amount > inv.maxUnit) return null;
  }
  return a;
}

/**
 * One group served by single providers (the common scheduler request on flat clouds, and any
 * request whose candidates each come from one provider): walk the matching providers lazily
 * and stop at `limit`, instead of building every candidate first. Same results as the general
 * path, which takes the first `limit` in the same order.
 */
function singleGroupFastPath(s: Search, groups: RequestGroup[], wide: RequestWideParams): CandidatesResult | null {
  if (groups.length !== 1 || wide.sameSubtrees.length) return null;
  const g = groups[0]!;
  const multi = !g.useSameProvider && (s.snap.sharing.length > 0 || s.snap.hasTrees);
  const rcAmounts: Array<[number, number]> = [...g.resources].map(([name, amount]) => [s.rcs.idOf(name), amount]);
  const treeRoot = s.treeRootOf(g.inTree);
  if (treeRoot === null) return EMPTY;
  if (g.memberOf.length && !s.snap.ordered.some((p) => inAggs(p, g.memberOf))) return EMPTY;
  const excludeNested = !wide.nestedAware && s.snap.hasTrees;
  const seen = new Set<string>();
  const results: AllocationRequest[] = [];
  const areqs = multi
    ? multiProviderRequestsLazy(s, g, rcAmounts, treeRoot)
    : singleProviderRequestsLazy(s, g, singleProviderMatchesLazy(s, g, rcAmounts, treeRoot), rcAmounts);
  for (const areq of areqs) {
    if (!checkSingle(areq)) continue;
    if (excludeNested && spansOneTreeTwice(areq)) continue;
    // Requests involving sharing providers can repeat under several anchors.
    if (areq.resources.some((r) => r.rp.traits.has(SHARING_TRAIT))) {
      const key = dedupeKey(areq);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    results.push(areq);
    if (wide.limit !== undefined && results.length >= wide.limit) break;
  }
  return withSummaries(s.snap, results, excludeNested);
}
