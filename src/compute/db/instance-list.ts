/**
 * nova-api's server list read for its views (`instance_get_all_by_filters_sort` with only the
 * columns and side tables a list document shows): the same filters, sort and marker paging as
 * cell-api's `instanceList`, but the rows come back as plain records the views read directly
 * (no Instance objects), the system metadata read is the one key shown (`locked_reason`), and
 * the side tables a microversion does not show are not read at all. Every query runs through a
 * compiled-shape cache, so a page of 1,000 servers does not rebuild and recompile its Kysely
 * trees (six IN lists of 1,000 values) on every request.
 * @module
 */
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { runDirect } from '../../common/db/sqlite.js';
import { BOOL_COLUMNS } from '../objects/fields.js';
import type { NetworkInfoVif } from '../objects/instance.js';
import type { InstanceFilters, ListOptions, Row } from './cell-api.js';

/** What the list document shows, so only that is read. */
export interface ListNeeds {
  /** The detailed document (else id, name and links only). */
  detail: boolean;
  /** Info cache network_info: addresses (detail) or the ip / ip6 filters. */
  networkInfo: boolean;
  metadata: boolean;
  /** 2.26 */
  tags: boolean;
  /** 2.73: system_metadata.locked_reason */
  lockedReason: boolean;
  /** 2.63 */
  trustedCerts: boolean;
  /** Admins from 2.3 */
  userData: boolean;
}

/** One listed server: the instances columns read (booleans as booleans) and its side-table values. */
export interface ListedInstance {
  [column: string]: any;
  id: number; uuid: string; display_name: string; vm_state: string; task_state: string | null; project_id: string; user_id: string;
  host: string | null; node: string | null; image_ref: string; created_at: string; updated_at: string | null;
  access_ip_v4: string | null; access_ip_v6: string | null; auto_disk_config: boolean; availability_zone: string | null;
  config_drive: string; key_name: string | null; launched_at: string | null; terminated_at: string | null; power_state: number;
  progress: number | null; reservation_id: string; launch_index: number; hostname: string; root_device_name: string | null;
  /** Read only when shown (admins from 2.3). */
  user_data: string | null; locked: boolean; display_description: string | null;
  /** The flavor the server runs with (instance_extra.flavor's `cur`), as stored. */
  flavor: { name: string; memory_mb: number; vcpus: number; root_gb: number; ephemeral_gb: number; flavorid: string; swap: number; extra_specs: Record<string, string> } | null;
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  tags: string[];
  fault: { code: number; message: string; details: string; created: string; host: string | null } | null;
  trusted_certs: { ids: string[] } | null;
  info_cache: { network_info: NetworkInfoVif[] };
}

/** Columns the detailed document reads (views.ts serverDetail), besides sort and filter keys. */
const DETAIL_COLUMNS = ['id', 'uuid', 'display_name', 'vm_state', 'task_state', 'project_id', 'user_id', 'host', 'node', 'image_ref',
  'created_at', 'updated_at', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'key_name',
  'launched_at', 'terminated_at', 'power_state', 'progress', 'reservation_id', 'launch_index', 'hostname', 'root_device_name',
  'locked', 'display_description', 'deleted'];
const BASIC_COLUMNS = ['id', 'uuid', 'display_name'];

// ---- compiled shapes ----

const MARK = '\u0000stratus-list:';
/** A placeholder for the argument `name` (a string as far as Kysely knows). */
const a = (name: string): string => `${MARK}${name}`;
const MAX_SHAPES = 128;

interface Shape {
  query: CompiledQuery;
  /** Per compiled parameter: the argument it takes, or null to keep the compiled constant. */
  slots: (string | null)[];
}
const shapesByDb = new WeakMap<Kysely<any>, Map<string, Shape>>();

/**
 * Runs the query `build()` makes with `args` bound in its placeholders. Queries under one `key`
 * must differ only in the values they bind. On SQLite the statement runs at once (runDirect)
 * unless a transaction holds the connection.
 */
async function runShape(db: Kysely<any>, key: string, args: Record<string, unknown>, build: () => Compilable): Promise<Row[]> {
  let shapes = shapesByDb.get(db);
  if (!shapes) shapesByDb.set(db, (shapes = new Map()));
  let s = shapes.get(key);
  if (!s) {
    const query = build().compile();
    const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? p.slice(MARK.length) : null));
    if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value!);
    shapes.set(key, (s = { query, slots }));
  }
  const shape = s;
  const parameters = shape.slots.map((name, i) => (name === null ? shape.query.parameters[i] : args[name]));
  const query: CompiledQuery = { ...shape.query, parameters };
  return (runDirect<Row>(db, query, false) ?? (await db.executeQuery<Row>(query))).rows;
}

/** Binds `values` as `prefix.0`, `prefix.1`, ... and returns their placeholders. */
function bindList(args: Record<string, unknown>, prefix: string, values: readonly unknown[]): string[] {
  return values.map((v, i) => {
    args[`${prefix}.${i}`] = v;
    return a(`${prefix}.${i}`);
  });
}

// ---- the instances query ----

/** The instances rows of one cell for the filters, sorted and paged as nova's DB API does. */
async function instanceRows(db: Kysely<any>, f: InstanceFilters, o: ListOptions, columns: string[]): Promise<Row[]> {
  const args: Record<string, unknown> = {};
  // The shape key names everything that changes the SQL text; the values go into args.
  const key: unknown[] = [columns.join(',')];
  const scalar = (name: keyof InstanceFilters, v: unknown) => {
    key.push(name);
    args[name] = v;
    return a(name);
  };
  const lists = new Map<string, string[]>();
  const list = (name: string, values: readonly unknown[]) => {
    key.push(`${name}*${values.length}`);
    const marks = bindList(args, name, values);
    lists.set(name, marks);
    return marks;
  };

  const deletedCond = f.deleted === true ? 'yes' : (f.deleted === false || f.deleted === undefined) && !f.changes_since && !f.changes_before ? 'no' : 'any';
  key.push(`deleted=${deletedCond}`);
  const project = f.project_id ? scalar('project_id', f.project_id) : null;
  const user = f.user_id ? scalar('user_id', f.user_id) : null;
  const host = f.host ? scalar('host', f.host) : null;
  const node = f.node ? scalar('node', f.node) : null;
  const vmStates = f.vm_state ? list('vm_state', f.vm_state.length ? f.vm_state : ['\u0000']) : null;
  const taskVals = f.task_state ? list('task_state', f.task_state.filter((x): x is string => x !== null)) : null;
  const taskNull = Boolean(f.task_state?.includes(null));
  if (f.task_state) key.push(`task_null=${taskNull}`);
  const uuids = f.uuids ? list('uuids', f.uuids.length ? f.uuids : ['\u0000']) : null;
  const image = f.image_ref ? scalar('image_ref', f.image_ref) : null;
  const types = f.instance_type_ids ? list('instance_type_ids', f.instance_type_ids.length ? f.instance_type_ids : [-1]) : null;
  const since = f.changes_since ? scalar('changes_since', f.changes_since) : null;
  const before = f.changes_before ? scalar('changes_before', f.changes_before) : null;
  const reservation = f.reservation_id ? scalar('reservation_id', f.reservation_id) : null;
  const locked = f.locked !== undefined ? scalar('locked', f.locked ? 1 : 0) : null;
  const az = f.availability_zone ? scalar('availability_zone', f.availability_zone) : null;
  const tags = (f.tags ?? []).map((t, i) => {
    key.push(`tag${i}`);
    args[`tags.${i}`] = t;
    return a(`tags.${i}`);
  });
  const tagsAny = f.tags_any?.length ? list('tags_any', f.tags_any) : null;
  const notTags = f.not_tags?.length ? list('not_tags', f.not_tags) : null;
  if (notTags) args['not_tags_n'] = f.not_tags!.length;
  const notTagsAny = f.not_tags_any?.length ? list('not_tags_any', f.not_tags_any) : null;

  // As cell-api's instanceList does, the id tie-break is appended to the caller's own sort list:
  // nova-api merges the cells with that list, so ties keep the database's order.
  const sort = o.sort?.length ? o.sort : [{ key: 'created_at', dir: 'desc' as const }, { key: 'id', dir: 'desc' as const }];
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: sort[0]!.dir });
  key.push(`sort=${sort.map((s) => `${s.key} ${s.dir}`).join(',')}`);
  const m = o.markerRow ?? null;
  if (m) {
    // Null marker values change the SQL (IS / IS NOT NULL); the others are bound.
    key.push(`marker=${sort.map((s) => (m[s.key] === null ? 'n' : 'v')).join('')}`);
    for (const s of sort) args[`m.${s.key}`] = m[s.key];
  }
  // Name and regex filters run on the rows, so the limit applies after them.
  const filteredInJs = Boolean(f.name) || Object.keys(f.regex ?? {}).length > 0;
  const limited = o.limit !== undefined && !filteredInJs;
  if (limited) {
    key.push('limit');
    args['limit'] = o.limit;
  }

  const build = () => {
    let q = db.selectFrom('instances').select(columns);
    if (deletedCond === 'yes') q = q.where('deleted', '!=', 0);
    else if (deletedCond === 'no') q = q.where('deleted', '=', 0);
    if (project) q = q.where('project_id', '=', project);
    if (user) q = q.where('user_id', '=', user);
    if (host) q = q.where('host', '=', host);
    if (node) q = q.where('node', '=', node);
    if (vmStates) q = q.where('vm_state', 'in', vmStates);
    if (f.task_state) {
      q = q.where((eb) => {
        const ors = [];
        if (taskVals!.length) ors.push(eb('task_state', 'in', taskVals!));
        if (taskNull) ors.push(eb('task_state', 'is', null));
        return ors.length ? eb.or(ors) : eb.val(false);
      });
    }
    if (uuids) q = q.where('uuid', 'in', uuids);
    if (image) q = q.where('image_ref', '=', image);
    if (types) q = q.where('instance_type_id', 'in', types);
    if (since) q = q.where((eb) => eb.or([eb('updated_at', '>=', since), eb.and([eb('updated_at', 'is', null), eb('created_at', '>=', since)])]));
    if (before) q = q.where((eb) => eb.or([eb('updated_at', '<=', before), eb.and([eb('updated_at', 'is', null), eb('created_at', '<=', before)])]));
    if (reservation) q = q.where('reservation_id', '=', reservation);
    if (locked) q = q.where('locked', '=', locked);
    if (az) q = q.where('availability_zone', '=', az);
    for (const tag of tags) q = q.where('uuid', 'in', db.selectFrom('tags').select('resource_id').where('tag', '=', tag));
    if (tagsAny) q = q.where('uuid', 'in', db.selectFrom('tags').select('resource_id').where('tag', 'in', tagsAny));
    if (notTags) {
      q = q.where('uuid', 'not in', db.selectFrom('tags').select('resource_id').where('tag', 'in', notTags)
        .groupBy('resource_id').having((eb) => eb.fn.count('tag'), '=', a('not_tags_n')));
    }
    if (notTagsAny) q = q.where('uuid', 'not in', db.selectFrom('tags').select('resource_id').where('tag', 'in', notTagsAny));
    if (m) {
      // Keyset paging: rows strictly after the marker in the sort order.
      q = q.where((eb) => {
        const ors = [];
        for (let i = 0; i < sort.length; i++) {
          const ands = [];
          for (let j = 0; j < i; j++) {
            const k = sort[j]!.key;
            ands.push(m[k] === null ? eb(k, 'is', null) : eb(k, '=', a(`m.${k}`)));
          }
          const s = sort[i]!;
          if (m[s.key] === null) {
            if (s.dir === 'desc') continue;
            ands.push(eb(s.key, 'is not', null));
          } else ands.push(s.dir === 'desc' ? eb.or([eb(s.key, '<', a(`m.${s.key}`)), eb(s.key, 'is', null)]) : eb(s.key, '>', a(`m.${s.key}`)));
          ors.push(eb.and(ands));
        }
        return ors.length ? eb.or(ors) : eb.val(false);
      });
    }
    for (const s of sort) q = q.orderBy(s.key, s.dir);
    if (limited) q = q.limit(a('limit') as unknown as number);
    return q;
  };
  let rows = await runShape(db, `instances|${key.join('|')}`, args, build);
  if (f.name) {
    let re: RegExp | null = null;
    try { re = new RegExp(f.name); } catch { re = null; }
    rows = rows.filter((r) => (re ? re.test(r['display_name'] ?? '') : (r['display_name'] ?? '').includes(f.name!)));
  }
  for (const [col, pattern] of Object.entries(f.regex ?? {})) {
    let re: RegExp | null = null;
    try { re = new RegExp(pattern); } catch { re = null; }
    rows = rows.filter((r) => {
      const v = r[col] === null || r[col] === undefined ? '' : String(r[col]);
      return re ? re.test(v) : v.includes(pattern);
    });
  }
  if (o.limit !== undefined && filteredInJs) rows = rows.slice(0, o.limit);
  return rows;
}

// ---- side tables ----

/** Options of rowsForUuids: the conditions and order besides the uuid list. */
export interface UuidRowsOptions {
  /** `deleted = 0` */
  notDeleted?: boolean;
  /** `key = ?` (metadata tables) */
  key?: string;
  /** `<column> is not null` */
  notNull?: string;
  orderById?: 'asc' | 'desc';
}

/**
 * `select <cols> from <table> where <uuidColumn> in (...uuids)` and the options' conditions,
 * compiled once per list size: the side tables of a page, for one query each.
 */
export function rowsForUuids(db: Kysely<any>, table: string, cols: string[], uuidColumn: string, uuids: readonly string[], o: UuidRowsOptions = {}): Promise<Row[]> {
  const args: Record<string, unknown> = {};
  const marks = bindList(args, 'u', uuids);
  if (o.key !== undefined) args['key'] = o.key;
  const key = `${table}|${cols.join(',')}|${uuidColumn}|${uuids.length}|${Boolean(o.notDeleted)}|${o.key !== undefined}|${o.notNull ?? ''}|${o.orderById ?? ''}`;
  return runShape(db, key, args, () => {
    let q = db.selectFrom(table).select(cols).where(uuidColumn, 'in', marks);
    if (o.notDeleted) q = q.where('deleted', '=', 0);
    if (o.key !== undefined) q = q.where('key', '=', a('key'));
    if (o.notNull) q = q.where(o.notNull, 'is not', null);
    if (o.orderById) q = q.orderBy('id', o.orderById);
    return q;
  });
}

/** Parses JSON text once per distinct text (every server of a flavor carries the same flavor JSON). */
function memoParse(): (text: string) => any {
  const seen = new Map<string, any>();
  return (text) => {
    let v = seen.get(text);
    if (v === undefined) {
      v = JSON.parse(text);
      seen.set(text, v);
    }
    return v;
  };
}

/**
 * The servers of one cell matching `f`, sorted and limited as `o` says, with what `needs` asks
 * for: one query for the instances and one per side table for the whole page.
 */
export async function listInstancesForView(cell: Database, f: InstanceFilters, o: ListOptions, needs: ListNeeds): Promise<ListedInstance[]> {
  const db = cell.db;
  const cols = new Set(needs.detail ? DETAIL_COLUMNS : BASIC_COLUMNS);
  if (needs.userData) cols.add('user_data');
  // Sort keys feed the merge of the cells; regex filters read their columns.
  for (const s of o.sort ?? []) cols.add(s.key);
  for (const c of Object.keys(f.regex ?? {})) cols.add(c);
  const rows = await instanceRows(db, f, o, [...cols]);
  if (rows.length === 0) return [];
  const uuids = rows.map((r) => r['uuid'] as string);
  // Faults are only shown for ERROR/DELETED servers: do not fetch them for the others.
  const faulty = needs.detail ? rows.filter((r) => r['vm_state'] === 'error' || r['vm_state'] === 'deleted' || Number(r['deleted']) !== 0).map((r) => r['uuid'] as string) : [];
  const none = Promise.resolve([] as Row[]);
  const [extra, caches, meta, sysmeta, tags, faults] = await Promise.all([
    needs.detail ? rowsForUuids(db, 'instance_extra', needs.trustedCerts ? ['instance_uuid', 'flavor', 'trusted_certs'] : ['instance_uuid', 'flavor'], 'instance_uuid', uuids) : none,
    needs.networkInfo ? rowsForUuids(db, 'instance_info_caches', ['instance_uuid', 'network_info'], 'instance_uuid', uuids) : none,
    needs.metadata ? rowsForUuids(db, 'instance_metadata', ['instance_uuid', 'key', 'value'], 'instance_uuid', uuids, { notDeleted: true }) : none,
    needs.lockedReason ? rowsForUuids(db, 'instance_system_metadata', ['instance_uuid', 'key', 'value'], 'instance_uuid', uuids, { notDeleted: true, key: 'locked_reason' }) : none,
    needs.tags ? rowsForUuids(db, 'tags', ['resource_id', 'tag'], 'resource_id', uuids) : none,
    faulty.length ? rowsForUuids(db, 'instance_faults', ['instance_uuid', 'code', 'message', 'details', 'host', 'created_at'], 'instance_uuid', faulty, { orderById: 'desc' }) : none,
  ]);

  const out = new Map<string, ListedInstance>();
  for (const row of rows) {
    const r = row as ListedInstance;
    // instanceFromRow's booleans: 0/1 to false/true, a NULL lock is "not locked".
    for (const c in r) if (BOOL_COLUMNS.has(c)) r[c] = c === 'deleted' ? Boolean(r[c]) : r[c] === null ? (c === 'locked' ? false : null) : Boolean(r[c]);
    if (needs.detail && r['locked'] === undefined) r['locked'] = false;
    r.flavor = null;
    r.metadata = {};
    r.system_metadata = {};
    r.tags = [];
    r.fault = null;
    r.trusted_certs = null;
    r.info_cache = { network_info: [] };
    out.set(r.uuid, r);
  }
  const parseFlavor = memoParse();
  for (const e of extra) {
    const r = out.get(e['instance_uuid'])!;
    if (e['flavor']) r.flavor = parseFlavor(e['flavor']).cur ?? null;
    if (e['trusted_certs']) r.trusted_certs = JSON.parse(e['trusted_certs']);
  }
  for (const c of caches) if (c['network_info']) out.get(c['instance_uuid'])!.info_cache = { network_info: JSON.parse(c['network_info']) };
  for (const x of meta) out.get(x['instance_uuid'])!.metadata[x['key']] = x['value'];
  for (const x of sysmeta) out.get(x['instance_uuid'])!.system_metadata[x['key']] = x['value'];
  for (const t of tags) out.get(t['resource_id'])!.tags.push(t['tag']);
  if (needs.tags) for (const r of out.values()) if (r.tags.length > 1) r.tags.sort();
  for (const x of faults) {
    const r = out.get(x['instance_uuid'])!;
    // Newest first: the first row of a server is its fault.
    if (!r.fault) r.fault = { code: x['code'], message: x['message'] ?? '', details: x['details'] ?? '', created: x['created_at'], host: x['host'] ?? null };
  }
  return rows as ListedInstance[];
}
