/**
 * Helpers shared by the Cinder controllers: Cinder's exceptions as ApiErrors, links, and the
 * common list machinery (`cinder/api/common.py`: limit/offset/marker, `sort`/`sort_key`/`sort_dir`).
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';

export const OSAPI_MAX_LIMIT = 1000;

export const volumeNotFound = (id: string) => new ApiError(404, `Volume ${id} could not be found.`, { type: 'VolumeNotFound' });
export const snapshotNotFound = (id: string) => new ApiError(404, `Snapshot ${id} could not be found.`, { type: 'SnapshotNotFound' });
export const typeNotFound = (id: string) => new ApiError(404, `Volume type ${id} could not be found.`, { type: 'VolumeTypeNotFound' });
export const typeNotFoundByName = (name: string) =>
  new ApiError(404, `Volume type with name ${name} could not be found.`, { type: 'VolumeTypeNotFoundByName' });
export const attachmentNotFound = (id: string) =>
  new ApiError(404, `Volume attachment could not be found with filter: attachment_id = ${id}.`, { type: 'VolumeAttachmentNotFound' });
export const invalidInput = (reason: string) => new ApiError(400, `Invalid input received: ${reason}`, { type: 'InvalidInput' });
export const invalidVolume = (reason: string) => new ApiError(400, `Invalid volume: ${reason}`, { type: 'InvalidVolume' });
export const invalidSnapshot = (reason: string) => new ApiError(400, `Invalid snapshot: ${reason}`, { type: 'InvalidSnapshot' });
export const badRequest = (msg: string) => new ApiError(400, msg, { type: 'HTTPBadRequest' });
export const policyForbidden = (action: string) =>
  new ApiError(403, `Policy doesn't allow ${action} to be performed.`, { type: 'PolicyNotAuthorized' });

export function baseUrl(req: FastifyRequest): string {
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}

export function links(req: FastifyRequest, projectId: string, collection: string, id: string): { href: string; rel: string }[] {
  const base = baseUrl(req);
  return [
    { href: `${base}/v3/${projectId}/${collection}/${id}`, rel: 'self' },
    { href: `${base}/${projectId}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

export type Query = Record<string, string>;

/** Last value of each query parameter, as webob's `GET` dict gives it. */
export function queryOf(req: FastifyRequest): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    out[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  }
  return out;
}

function nonNegativeInt(value: string, name: string): number {
  if (!/^\s*-?\d+\s*$/.test(value)) throw badRequest(`${name} param must be an integer`);
  const n = Number(value);
  if (n < 0) throw badRequest(`${name} param must be positive`);
  return n;
}

export interface SortKey {
  key: string;
  dir: 'asc' | 'desc';
}

export interface Paging {
  limit: number | null;
  offset: number;
  marker: string | null;
  sort: SortKey[];
}

/** `cinder/api/common.py` get_pagination_params + get_sort_params; consumes those keys from `q`. */
export function pagingOf(q: Query, allowedKeys: Set<string>, keyAliases: Record<string, string> = {}): Paging {
  const limit = q['limit'] !== undefined ? nonNegativeInt(q['limit'], 'limit') : null;
  const offset = q['offset'] !== undefined ? nonNegativeInt(q['offset'], 'offset') : 0;
  const marker = q['marker'] ?? null;
  let sort: SortKey[] = [];
  if (q['sort'] !== undefined) {
    if (q['sort_key'] !== undefined || q['sort_dir'] !== undefined) {
      throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
    }
    for (const part of q['sort'].split(',')) {
      const [k, d] = part.split(':').map((s) => s.trim());
      if (!k) continue;
      const dir = (d ?? 'desc').toLowerCase();
      if (dir !== 'asc' && dir !== 'desc') throw invalidInput(`Unknown sort direction, must be 'desc' or 'asc'`);
      sort.push({ key: k, dir });
    }
  } else if (q['sort_key'] !== undefined) {
    const dir = (q['sort_dir'] ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw invalidInput(`Unknown sort direction, must be 'desc' or 'asc'`);
    sort = [{ key: q['sort_key'], dir }];
  }
  sort = sort.map((s) => ({ ...s, key: keyAliases[s.key] ?? s.key }));
  for (const s of sort) if (!allowedKeys.has(s.key)) throw invalidInput(`Invalid sort keys passed: ${s.key}`);
  const dir = sort[0]?.dir ?? 'desc';
  if (!sort.length) sort = [{ key: 'created_at', dir: 'desc' }];
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir });
  for (const k of ['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir']) delete q[k];
  return { limit, offset, marker, sort };
}

function cmp(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1; // NULLs sort first, as on MySQL/SQLite
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Sorts rows, skips past the marker and the offset, and cuts at the limit (max 1000). */
export function paginate<T extends { id: string }>(rows: T[], p: Paging, markerError: (m: string) => ApiError): { page: T[]; limit: number } {
  const sorted = [...rows].sort((x, y) => {
    for (const s of p.sort) {
      const c = cmp((x as any)[s.key], (y as any)[s.key]);
      if (c) return s.dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  if (p.marker) {
    const i = sorted.findIndex((r) => r.id === p.marker);
    if (i < 0) throw markerError(p.marker);
    start = i + 1;
  }
  start += p.offset;
  const limit = Math.min(p.limit ?? OSAPI_MAX_LIMIT, OSAPI_MAX_LIMIT);
  return { page: sorted.slice(start, start + limit), limit };
}

/** `_get_collection_links`: a `next` link when the page is full. */
export function collectionLinks(req: FastifyRequest, projectId: string, collection: string, page: { id: string }[], limit: number): { href: string; rel: string }[] | null {
  if (!page.length || page.length < limit) return null;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(queryOf(req))) if (k !== 'marker') q.set(k, v);
  q.set('marker', page[page.length - 1]!.id);
  return [{ href: `${baseUrl(req)}/v3/${projectId}/${collection}?${q.toString()}`, rel: 'next' }];
}

/** Metadata filters arrive as a Python dict repr (Tempest, novaclient) or JSON. */
export function parseDictParam(raw: string): Record<string, string> {
  const attempts = [raw, raw.replace(/'/g, '"').replace(/\bu"/g, '"')];
  for (const s of attempts) {
    try {
      const v = JSON.parse(s);
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    } catch {
      // try the next form
    }
  }
  throw invalidInput(`Invalid filter value: ${raw}`);
}

export const isTrue = (v: unknown): boolean => ['true', '1', 'yes', 'y', 'on', 't'].includes(String(v).toLowerCase());

/** oslo `strutils.bool_from_string(strict=True)`; undefined for anything else. */
export function strictBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes', 'y', 'on', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'n', 'off', 'f'].includes(s)) return false;
  return undefined;
}
