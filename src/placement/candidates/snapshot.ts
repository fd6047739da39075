/**
 * An in-memory view of everything allocation candidates look at: providers (tree links),
 * inventories, usages, traits and aggregates. It is keyed by provider generation: placement bumps
 * a provider's generation on every change to its inventory, allocations, traits and aggregates,
 * so a refresh re-reads only providers whose generation (or tree position) moved. A one-row
 * fingerprint query tells whether anything moved at all, so a quiet cloud costs one tiny query.
 *
 * Reads go generation first, details second: a write racing a refresh leaves a newer detail
 * under an older generation, which the next refresh notices and re-reads. Never the reverse.
 * @module
 */
import { sql } from 'kysely';
import { chunks, type PlacementDatabase } from '../db/sql.js';

export interface SnapInventory {
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  ratio: number;
}

export interface SnapProvider {
  readonly id: number;
  readonly uuid: string;
  readonly generation: number;
  readonly parentId: number | null;
  readonly rootId: number;
  readonly inv: Map<number, SnapInventory>;
  readonly used: Map<number, number>;
  readonly traits: Set<string>;
  readonly aggs: Set<string>;
}

/** Placement's trait marking a provider that shares its inventory through aggregates. */
export const SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE';

export class PlacementSnapshot {
  readonly byId: Map<number, SnapProvider>;
  private readonly position = new Map<number, number>();
  /** Bumped by every in-place change, so per-snapshot caches know when to forget. */
  version = 0;
  /** Derived data of this snapshot version (e.g. roots matching root_required), by key. */
  readonly memo = new Map<string, unknown>();
  readonly byUuid = new Map<string, SnapProvider>();
  readonly ordered: SnapProvider[];
  readonly byRc = new Map<number, SnapProvider[]>();
  readonly byRoot = new Map<number, SnapProvider[]>();
  readonly byAgg = new Map<string, SnapProvider[]>();
  readonly sharing: SnapProvider[] = [];
  readonly hasTrees: boolean;

  constructor(providers: Map<number, SnapProvider>) {
    this.byId = providers;
    this.ordered = [...providers.values()].sort((a, b) => a.id - b.id);
    let trees = false;
    this.ordered.forEach((p, i) => this.position.set(p.id, i));
    for (const p of this.ordered) {
      this.byUuid.set(p.uuid, p);
      if (p.parentId !== null) trees = true;
      for (const rc of p.inv.keys()) push(this.byRc, rc, p);
      push(this.byRoot, p.rootId, p);
      for (const a of p.aggs) push(this.byAgg, a, p);
      if (p.traits.has(SHARING_TRAIT)) this.sharing.push(p);
    }
    this.hasTrees = trees;
  }

  /**
   * Swaps in new versions of existing providers whose tree position did not change (the
   * usual case: a claim bumped a few generations), instead of rebuilding every index.
   * Safe in place: a request uses a snapshot synchronously once it has it.
   */
  replaceInPlace(updated: SnapProvider[]): void {
    this.version++;
    this.memo.clear();
    for (const p of updated) {
      const old = this.byId.get(p.id)!;
      this.byId.set(p.id, p);
      this.byUuid.set(p.uuid, p);
      this.ordered[this.position.get(p.id)!] = p;
      replaceIn(this.byRoot, p.rootId, old, p, true);
      for (const rc of new Set([...old.inv.keys(), ...p.inv.keys()])) replaceIn(this.byRc, rc, old, p, p.inv.has(rc));
      for (const a of new Set([...old.aggs, ...p.aggs])) replaceIn(this.byAgg, a, old, p, p.aggs.has(a));
      const i = this.sharing.indexOf(old);
      if (i >= 0) this.sharing.splice(i, 1);
      if (p.traits.has(SHARING_TRAIT)) insertById(this.sharing, p);
    }
  }
}

/** In `m[key]`, replaces `old` by `p` (or inserts `p` in id order), or removes `old` when `keep` is false. */
function replaceIn<K>(m: Map<K, SnapProvider[]>, key: K, old: SnapProvider, p: SnapProvider, keep: boolean): void {
  let list = m.get(key);
  if (!list) {
    if (!keep) return;
    m.set(key, (list = []));
  }
  const i = list.indexOf(old);
  if (i >= 0) {
    if (keep) list[i] = p;
    else list.splice(i, 1);
  } else if (keep) {
    insertById(list, p);
  }
  if (list.length === 0) m.delete(key);
}

function insertById(list: SnapProvider[], p: SnapProvider): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.id < p.id) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, p);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

interface ProviderRow { id: number; uuid: string; generation: number; parent_provider_id: number | null; root_provider_id: number | null }

/** How far back an incremental refresh looks for touched rows (covers clock differences between hosts). */
const RECENT_WINDOW_MS = 60_000;

/** The fingerprint the database would report for these providers. */
function fingerprintOf(providers: Map<number, SnapProvider>): string {
  let g = 0, i = 0, m = 0, p = 0, r = 0;
  for (const x of providers.values()) {
    g += x.generation; i += x.id; m = Math.max(m, x.id); p += x.parentId ?? 0; r += x.rootId;
  }
  return [providers.size, g, i, m, p, r].join('/');
}

export class SnapshotCache {
  private snapshot: PlacementSnapshot | null = null;
  private fingerprint = '';
  private inflight: Promise<PlacementSnapshot> | null = null;
  private queued: Promise<PlacementSnapshot> | null = null;
  private lastRefresh = 0;

  constructor(private readonly database: PlacementDatabase) {}

  /**
   * The current snapshot, refreshed if any provider changed since the last one. A caller never
   * gets a refresh that started before it asked (it would miss the caller's own writes):
   * callers arriving during a refresh share the next one.
   */
  async get(): Promise<PlacementSnapshot> {
    if (!this.inflight) {
      this.inflight = this.refresh().finally(() => { this.inflight = null; });
      return this.inflight;
    }
    this.queued ??= this.inflight.catch(() => undefined).then(() => {
      this.queued = null;
      return this.get();
    });
    return this.queued;
  }

  /** Forget everything (tests; after bulk imports). */
  clear(): void {
    this.snapshot = null;
    this.fingerprint = '';
    this.lastRefresh = 0;
  }

  private async refresh(): Promise<PlacementSnapshot> {
    const db = this.database.db;
    const startedAt = Date.now();
    const fp = await db.selectFrom('resource_providers').select([
      sql<number>`COUNT(*)`.as('n'), sql<number>`SUM(generation)`.as('g'), sql<number>`SUM(id)`.as('i'),
      sql<number>`MAX(id)`.as('m'), sql<number>`SUM(COALESCE(parent_provider_id, 0))`.as('p'),
      sql<number>`SUM(COALESCE(root_provider_id, 0))`.as('r'),
    ]).executeTakeFirstOrThrow();
    const key = [fp.n, fp.g, fp.i, fp.m, fp.p, fp.r].map((v) => String(Number(v ?? 0))).join('/');
    if (this.snapshot && key === this.fingerprint) return this.snapshot;

    const old = this.snapshot?.byId ?? new Map<number, SnapProvider>();
    let next: Map<number, SnapProvider> | null = null;
    if (this.snapshot && this.lastRefresh) {
      // Usually a few providers moved: read only rows touched lately, then check the result
      // against the fingerprint; any mismatch (deletes, clock skew) falls back to a full read.
      const since = new Date(this.lastRefresh - RECENT_WINDOW_MS);
      const rows = (await db.selectFrom('resource_providers')
        .select(['id', 'uuid', 'generation', 'parent_provider_id', 'root_provider_id'])
        .where((eb) => eb.or([eb('updated_at', '>=', since), eb('created_at', '>=', since)])).execute()) as ProviderRow[];
      const candidate = new Map(old);
      const structural = await this.apply(candidate, rows);
      if (fingerprintOf(candidate) === key) {
        if (!structural) {
          const changed = rows.map((r) => candidate.get(r.id)!).filter((p) => p !== old.get(p.id));
          this.snapshot.replaceInPlace(changed);
          this.fingerprint = key;
          this.lastRefresh = startedAt;
          return this.snapshot;
        }
        next = candidate;
      }
    }
    if (!next) {
      const rows = (await db.selectFrom('resource_providers')
        .select(['id', 'uuid', 'generation', 'parent_provider_id', 'root_provider_id']).execute()) as ProviderRow[];
      next = new Map();
      for (const r of rows) {
        const cur = old.get(r.id);
        if (cur) next.set(r.id, cur);
      }
      await this.apply(next, rows, rows.length);
    }
    this.snapshot = new PlacementSnapshot(next);
    this.fingerprint = key;
    this.lastRefresh = startedAt;
    return this.snapshot;
  }

  /**
   * Brings `into` up to date with `rows` (re-reading details of providers whose generation
   * moved). Returns whether the tree structure changed (new providers, parents or roots).
   */
  private async apply(into: Map<number, SnapProvider>, rows: ProviderRow[], total = into.size): Promise<boolean> {
    const stale: ProviderRow[] = [];
    let structural = false;
    for (const r of rows) {
      const cur = into.get(r.id);
      const rootId = r.root_provider_id ?? r.id;
      if (!cur || cur.uuid !== r.uuid || cur.parentId !== r.parent_provider_id || cur.rootId !== rootId) structural = true;
      if (!cur || cur.generation !== r.generation || cur.uuid !== r.uuid) stale.push(r);
      else if (cur.parentId !== r.parent_provider_id || cur.rootId !== rootId) into.set(r.id, { ...cur, parentId: r.parent_provider_id, rootId });
    }
    if (stale.length) {
      for (const p of await this.loadDetails(stale, stale.length > total / 4)) into.set(p.id, p);
    }
    return structural;
  }

  private async loadDetails(rows: ProviderRow[], wholeTables: boolean): Promise<SnapProvider[]> {
    const db = this.database.db;
    const out = new Map<number, SnapProvider>();
    for (const r of rows) {
      out.set(r.id, {
        id: r.id, uuid: r.uuid, generation: r.generation, parentId: r.parent_provider_id,
        rootId: r.root_provider_id ?? r.id, inv: new Map(), used: new Map(), traits: new Set(), aggs: new Set(),
      });
    }
    const idLists = wholeTables ? [null] : chunks(rows.map((r) => r.id));
    for (const ids of idLists) {
      let invQ = db.selectFrom('inventories').select(['resource_provider_id', 'resource_class_id', 'total', 'reserved',
        'min_unit', 'max_unit', 'step_size', 'allocation_ratio']);
      if (ids) invQ = invQ.where('resource_provider_id', 'in', ids);
      for (const i of await invQ.execute()) {
        out.get(i.resource_provider_id)?.inv.set(i.resource_class_id, {
          total: i.total, reserved: i.reserved, minUnit: i.min_unit, maxUnit: i.max_unit, stepSize: i.step_size,
          ratio: Number(i.allocation_ratio),
        });
      }
      let useQ = db.selectFrom('allocations').select(['resource_provider_id', 'resource_class_id', sql<number>`SUM(used)`.as('used')])
        .groupBy(['resource_provider_id', 'resource_class_id']);
      if (ids) useQ = useQ.where('resource_provider_id', 'in', ids);
      for (const u of await useQ.execute()) out.get(u.resource_provider_id)?.used.set(u.resource_class_id, Number(u.used));
      let trQ = db.selectFrom('resource_provider_traits as rpt').innerJoin('traits as t', 't.id', 'rpt.trait_id')
        .select(['rpt.resource_provider_id', 't.name']);
      if (ids) trQ = trQ.where('rpt.resource_provider_id', 'in', ids);
      for (const t of await trQ.execute()) out.get(t.resource_provider_id)?.traits.add(t.name);
      let agQ = db.selectFrom('resource_provider_aggregates as rpa').innerJoin('placement_aggregates as a', 'a.id', 'rpa.aggregate_id')
        .select(['rpa.resource_provider_id', 'a.uuid']);
      if (ids) agQ = agQ.where('rpa.resource_provider_id', 'in', ids);
      for (const a of await agQ.execute()) out.get(a.resource_provider_id)?.aggs.add(a.uuid);
    }
    return [...out.values()];
  }
}
