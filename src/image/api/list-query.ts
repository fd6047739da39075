/**
 * `GET /v2/images` query parameters -> a repository query (glance/api/v2/images.py
 * `RequestDeserializer.index` and glance/db/sqlalchemy/api.py `_make_conditions_from_filters`):
 * limit/marker, both sort syntaxes, member_status, visibility, tags, os_hidden, protected,
 * `in:`/`eq:` operators, size_min/size_max, created_at/updated_at comparisons, and any other
 * key as an image property filter.
 * @module
 */
import { ApiError } from '../../common/errors.js';
import { LIMIT_DEFAULT, LIMIT_MAX, MEMBER_STATUSES, type MemberStatus, type Visibility } from '../domain.js';
import { SORT_KEYS, dbTime, type ColumnCondition, type ListQuery, type SortableColumn } from '../db/repository.js';

export type ParsedListQuery = Omit<ListQuery, 'projectId' | 'isAdmin' | 'marker'> & { marker?: string };

const bad = (m: string) => new ApiError(400, m);

function takeAll(params: Record<string, string[]>, key: string): string[] {
  const v = params[key] ?? [];
  delete params[key];
  return v;
}
function takeOne(params: Record<string, string[]>, key: string): string | undefined {
  const v = takeAll(params, key);
  return v.length ? v[v.length - 1] : undefined;
}

function sortKey(k: string): SortableColumn {
  if (!(SORT_KEYS as readonly string[]).includes(k)) {
    throw bad(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  }
  return k as SortableColumn;
}
function sortDir(d: string): 'asc' | 'desc' {
  if (d !== 'asc' && d !== 'desc') throw bad(`Invalid sort direction: ${d}`);
  return d;
}

/** glance/common/utils.py `split_filter_op`: "op:value", where a bare ISO time means eq. */
function splitOp(expr: string): [string, string] {
  const i = expr.indexOf(':');
  if (i < 0) return ['eq', expr];
  if (!Number.isNaN(Date.parse(expr)) && /^\d{4}-\d\d-\d\d/.test(expr)) return ['eq', expr];
  return [expr.slice(0, i), expr.slice(i + 1)];
}

/** `in:a,"b,c"` values: comma separated, double quotes keep commas. */
function splitInValues(v: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null && m.index < v.length) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim());
    if (re.lastIndex === m.index) re.lastIndex++;
  }
  return out;
}

const TIME_OPS: Record<string, ColumnCondition['op']> = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const NUMERIC_COLUMNS = ['size', 'virtual_size', 'min_ram', 'min_disk'] as const;
const PLAIN_COLUMNS = ['owner', 'checksum', 'os_hash_value', 'os_hash_algo'] as const;

function integer(v: string, msg: string): number {
  if (!/^\s*-?\d+\s*$/.test(v)) throw bad(msg);
  return Number(v);
}

export function parseListQuery(query: Record<string, string | string[] | undefined>): ParsedListQuery {
  const params: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params[k] = Array.isArray(v) ? v : [v];

  const limitRaw = takeOne(params, 'limit');
  let limit = LIMIT_DEFAULT;
  if (limitRaw !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(limitRaw)) throw bad('limit param must be an integer');
    limit = Number(limitRaw);
    if (limit < 0) throw bad('limit param must be positive');
  }
  limit = Math.min(limit, LIMIT_MAX);
  const marker = takeOne(params, 'marker');
  const memberStatus = takeOne(params, 'member_status') ?? 'accepted';
  if (memberStatus !== 'all' && !(MEMBER_STATUSES as readonly string[]).includes(memberStatus)) throw bad(`Invalid status: ${memberStatus}`);
  const tags = takeAll(params, 'tag').map((t) => t.trim());

  const visibility = takeOne(params, 'visibility');
  if (visibility !== undefined && visibility !== '' && !['community', 'public', 'private', 'shared', 'all'].includes(visibility)) {
    throw bad(`Invalid visibility value: ${visibility}`);
  }
  if ('changes-since' in params) throw bad('The "changes-since" filter is no longer available on v2.');

  // Sorting: `sort=name:asc,size:desc`, or repeated sort_key / sort_dir.
  const sortKeys: SortableColumn[] = [];
  const sortDirs: Array<'asc' | 'desc'> = [];
  if ('sort' in params) {
    if ('sort_key' in params || 'sort_dir' in params) throw bad('Old and new sorting syntax cannot be combined');
    for (const part of takeOne(params, 'sort')!.trim().split(',')) {
      const [k, d] = part.split(':');
      sortKeys.push(sortKey((k ?? '').trim()));
      sortDirs.push(sortDir((d ?? 'desc').trim() || 'desc'));
    }
  } else {
    for (const k of takeAll(params, 'sort_key')) sortKeys.push(sortKey(k.trim()));
    for (const d of takeAll(params, 'sort_dir')) sortDirs.push(sortDir(d.trim()));
    if (sortDirs.length > 1 && sortDirs.length !== sortKeys.length) throw bad('Number of sort dirs does not match the number of sort keys');
  }
  if (!sortKeys.length) sortKeys.push('created_at');
  if (!sortDirs.length) sortDirs.push('desc');

  const conditions: ColumnCondition[] = [];
  const osHidden = (takeOne(params, 'os_hidden') ?? 'false').toLowerCase();
  if (osHidden !== 'true' && osHidden !== 'false') throw bad(`Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  conditions.push({ column: 'os_hidden', op: '=', value: osHidden === 'true' });
  const prot = takeOne(params, 'protected');
  if (prot !== undefined) {
    if (prot !== 'true' && prot !== 'false') throw bad(`Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`);
    conditions.push({ column: 'protected', op: '=', value: prot === 'true' });
  }

  const properties: Record<string, string> = {};
  for (const [key, values] of Object.entries(params)) {
    const value = values[values.length - 1]!;
    if (key.endsWith('_min') || key.endsWith('_max')) {
      const col = key.slice(0, -4);
      if (!(NUMERIC_COLUMNS as readonly string[]).includes(col)) throw bad(`Invalid filter: ${key}`);
      const n = integer(value, 'Unable to filter on a range with a non-numeric value.');
      conditions.push({ column: col as ColumnCondition['column'], op: key.endsWith('_min') ? '>=' : '<=', value: n });
    } else if (key === 'created_at' || key === 'updated_at') {
      const [op, iso] = splitOp(value);
      const t = Date.parse(iso);
      if (!(op in TIME_OPS) || Number.isNaN(t)) throw bad(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      conditions.push({ column: key, op: TIME_OPS[op]!, value: dbTime(new Date(t)) });
    } else if (['name', 'id', 'status', 'container_format', 'disk_format'].includes(key)) {
      const [op, v] = splitOp(value);
      if (op === 'in') conditions.push({ column: key as SortableColumn, op: 'in', value: splitInValues(v) });
      else if (op === 'eq') conditions.push({ column: key as SortableColumn, op: '=', value: v });
      else throw bad(`Unable to filter by unknown operator '${op}'.`);
    } else if ((NUMERIC_COLUMNS as readonly string[]).includes(key)) {
      conditions.push({ column: key as ColumnCondition['column'], op: '=', value: integer(value, `Invalid value '${value}' for '${key}' filter.`) });
    } else if ((PLAIN_COLUMNS as readonly string[]).includes(key)) {
      conditions.push({ column: key as ColumnCondition['column'], op: '=', value });
    } else {
      properties[key] = value;
    }
  }

  return {
    conditions,
    properties,
    tags,
    memberStatus: memberStatus as MemberStatus | 'all',
    ...(visibility ? { visibility: visibility as Visibility | 'all' } : {}),
    ...(marker !== undefined ? { marker } : {}),
    limit,
    sortKeys,
    sortDirs,
  };
}
