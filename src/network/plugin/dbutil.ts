/**
 * Small helpers shared by the plugin modules: time stamps, JSON columns, booleans, the
 * list machinery (filters, sorting, marker pagination) and retry of a transaction that lost a
 * race on a unique constraint (Neutron's `retry_if_session_inactive` / DB retry decorator).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';

export const uuid = (): string => randomUUID();

/** Neutron prints standard-attribute times as `2019-01-01T00:00:00Z` (seconds, UTC). */
export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const toJson = (v: unknown): string => JSON.stringify(v ?? null);
export function fromJson<T>(s: unknown, dflt: T): T {
  if (typeof s !== 'string' || s === '') return dflt;
  try {
    return JSON.parse(s) as T;
  } catch {
    return dflt;
  }
}
export const b = (v: unknown): boolean => v === 1 || v === true || v === '1';
export const i = (v: boolean | undefined | null): number => (v ? 1 : 0);

export interface SortSpec {
  key: string;
  dir: 'asc' | 'desc';
}

export interface ListOptions {
  /** attribute -> accepted values (already converted). */
  filters: Record<string, unknown[]>;
  sorts: SortSpec[];
  limit: number | null;
  marker: string | null;
  pageReverse: boolean;
  /** tags, tags-any, not-tags, not-tags-any */
  tagFilters?: { tags?: string[]; tagsAny?: string[]; notTags?: string[]; notTagsAny?: string[] };
  /** The attributes the response keeps (`fields`), when asked: a plugin need not compute the others. */
  fields?: string[] | null;
}

export const emptyList = (): ListOptions => ({ filters: {}, sorts: [], limit: null, marker: null, pageReverse: false });

/** Unique-constraint violations on the three dialects. */
export function isDuplicateKey(e: unknown): boolean {
  const err = e as { code?: string; errno?: number; message?: string };
  return (
    err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err?.code === 'ER_DUP_ENTRY' || err?.errno === 1062 || err?.code === '23505'
  );
}
export function isDeadlock(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return err?.code === 'SQLITE_BUSY' || err?.errno === 1213 || err?.code === '40001' || err?.code === '40P01';
}

/** Applies tag filters with sub-selects on the tags table. */
export function applyTagFilters<QB extends SelectQueryBuilder<any, any, any>>(
  qb: QB, db: Kysely<any>, resourceType: string, idCol: string, tf: ListOptions['tagFilters'],
): QB {
  if (!tf) return qb;
  let q: any = qb;
  const sub = (tags: string[]) =>
    db.selectFrom('tags').select('resource_id').where('resource_type', '=', resourceType).where('tag', 'in', tags);
  for (const t of tf.tags ?? []) q = q.where(idCol, 'in', sub([t]));
  if (tf.tagsAny?.length) q = q.where(idCol, 'in', sub(tf.tagsAny));
  if (tf.notTags?.length) {
    // not all of them: exclude resources that carry every listed tag
    const all = tf.notTags;
    q = q.where(idCol, 'not in',
      db.selectFrom('tags').select('resource_id').where('resource_type', '=', resourceType).where('tag', 'in', all)
        .groupBy('resource_id').having(sql`count(distinct tag)`, '=', all.length));
  }
  if (tf.notTagsAny?.length) q = q.where(idCol, 'not in', sub(tf.notTagsAny));
  return q as QB;
}

/**
 * Sorting and marker pagination over columns: rows after the marker in (sort keys..., id) order.
 * Returns the page and whether more rows follow.
 */
export async function paginate(
  db: Kysely<any>, table: string, qb: SelectQueryBuilder<any, any, any>, opts: ListOptions, columnOf: (key: string) => string | null,
): Promise<{ rows: any[]; more: boolean }> {
  const sorts: { col: string; dir: 'asc' | 'desc' }[] = [];
  for (const s of opts.sorts) {
    const col = columnOf(s.key);
    if (col) sorts.push({ col, dir: s.dir });
  }
  const paging = opts.limit !== null || opts.marker !== null || sorts.length > 0;
  if (paging && !sorts.some((s) => s.col === 'id')) sorts.push({ col: 'id', dir: sorts[0]?.dir ?? 'asc' });
  const eff = sorts.map((s) => ({ col: s.col, dir: opts.pageReverse ? (s.dir === 'asc' ? 'desc' : 'asc') : s.dir }) as const);
  let q: any = qb;
  if (opts.marker) {
    const m = await db.selectFrom(table).selectAll().where('id', '=', opts.marker).executeTakeFirst();
    if (m) {
      q = q.where((eb: any) => {
        const ors = eff.map((s, idx) => {
          const ands = eff.slice(0, idx).map((p) => eb(`${table}.${p.col}`, '=', m[p.col]));
          ands.push(eb(`${table}.${s.col}`, s.dir === 'asc' ? '>' : '<', m[s.col]));
          return eb.and(ands);
        });
        return eb.or(ors);
      });
    }
  }
  for (const s of eff) q = q.orderBy(`${table}.${s.col}`, s.dir);
  if (opts.limit !== null) q = q.limit(opts.limit + 1);
  let rows: any[] = await q.execute();
  let more = false;
  if (opts.limit !== null && rows.length > opts.limit) {
    more = true;
    rows = rows.slice(0, opts.limit);
  }
  if (opts.pageReverse) rows.reverse();
  return { rows, more };
}

/** Runs `fn` again when it lost a race on a unique key or hit a deadlock (up to `tries`). */
export async function retryOnConflict<T>(fn: () => Promise<T>, tries = 10): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await fn();
    } catch (e) {
      if (n >= tries || !(e instanceof RetryRequest || isDeadlock(e))) throw e;
    }
  }
}

/** Thrown inside a transaction to have `retryOnConflict` start it over. */
export class RetryRequest extends Error {}
