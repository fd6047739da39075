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
import type { Compilable, Kysely } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { runPrepared, runPreparedRaw } from '../../common/db/prepared.js';
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

/** Columns the detailed document reads (views.ts serverDetail), besides sort and filter keys; recordOf reads them by position. */
const DETAIL_COLUMNS = ['id', 'uuid', 'display_name', 'vm_state', 'task_state', 'project_id', 'user_id', 'host', 'node', 'image_ref',
  'created_at', 'updated_at', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'key_name',
  'launched_at', 'terminated_at', 'power_state', 'progress', 'reservation_id', 'launch_index', 'hostname', 'root_device_name',
  'locked', 'display_description', 'deleted'];
const BASIC_COLUMNS = ['id', 'uuid', 'display_name'];

// ---- compiled shapes (common/db/prepared.ts), keyed under this module's name ----

const runShape = async (db: Kysely<any>, key: string, args: readonly unknown[], build: (slots: readonly string[]) => Compilable): Promise<Row[]> =>
  (await runPrepared<Row>(db, db, `instance-list|${key}`, args, build)).rows;
const runShapeRaw = (db: Kysely<any>, key: string, args: readonly unknown[], columns: readonly string[], build: (slots: readonly string[]) => Compilable): Promise<unknown[][]> =>
  runPreparedRaw(db, db, `instance-list|${key}`, args, columns, build);

// ---- the instances query ----

/**
 * The instances rows of one cell for the filters, sorted and paged as nova's DB API does, as
 * arrays of the `columns` values (database values: 0/1 booleans).
 */
async function instanceRows(db: Kysely<any>, f: InstanceFilters, o: ListOptions, columns: string[]): Promise<unknown[][]> {
  // The shape key names everything that changes the SQL text; the values go into args, and
  // the builder (run once per shape) finds each value's slot by its index in args.
  const args: unknown[] = [];
  const key: unknown[] = [columns.join(',')];
  const scalar = (name: string, v: unknown): number => {
    key.push(name);
    return args.push(v) - 1;
  };
  const list = (name: string, values: readonly unknown[]): number[] => {
    key.push(`${name}*${values.length}`);
    return values.map((v) => args.push(v) - 1);
  };

  const deletedCond = f.deleted === true ? 'yes' : (f.deleted === false || f.deleted === undefined) && !f.changes_since && !f.changes_before ? 'no' : 'any';
  key.push(`deleted=${deletedCond}`);
  const project = f.project_id ? scalar('project_id', f.project_id) : -1;
  const user = f.user_id ? scalar('user_id', f.user_id) : -1;
  const host = f.host ? scalar('host', f.host) : -1;
  const node = f.node ? scalar('node', f.node) : -1;
  const vmStates = f.vm_state ? list('vm_state', f.vm_state.length ? f.vm_state : ['\u0000']) : null;
  const taskVals = f.task_state ? list('task_state', f.task_state.filter((x): x is string => x !== null)) : null;
  const taskNull = Boolean(f.task_state?.includes(null));
  if (f.task_state) key.push(`task_null=${taskNull}`);
  const uuids = f.uuids ? list('uuids', f.uuids.length ? f.uuids : ['\u0000']) : null;
  const image = f.image_ref ? scalar('image_ref', f.image_ref) : -1;
  const types = f.instance_type_ids ? list('instance_type_ids', f.instance_type_ids.length ? f.instance_type_ids : [-1]) : null;
  const since = f.changes_since ? scalar('changes_since', f.changes_since) : -1;
  const before = f.changes_before ? scalar('changes_before', f.changes_before) : -1;
  const reservation = f.reservation_id ? scalar('reservation_id', f.reservation_id) : -1;
  const locked = f.locked !== undefined ? scalar('locked', f.locked ? 1 : 0) : -1;
  const az = f.availability_zone ? scalar('availability_zone', f.availability_zone) : -1;
  const tags = (f.tags ?? []).map((t) => scalar('tag', t));
  const tagsAny = f.tags_any?.length ? list('tags_any', f.tags_any) : null;
  const notTags = f.not_tags?.length ? list('not_tags', f.not_tags) : null;
  const notTagsN = notTags ? scalar('not_tags_n', notTags.length) : -1;
  const notTagsAny = f.not_tags_any?.length ? list('not_tags_any', f.not_tags_any) : null;

  // As cell-api's instanceList does, the id tie-break is appended to the caller's own sort list:
  // nova-api merges the cells with that list, so ties keep the database's order.
  const sort = o.sort?.length ? o.sort : [{ key: 'created_at', dir: 'desc' as const }, { key: 'id', dir: 'desc' as const }];
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: sort[0]!.dir });
  key.push(`sort=${sort.map((s) => `${s.key} ${s.dir}`).join(',')}`);
  const m = o.markerRow ?? null;
  // Null marker values change the SQL (IS / IS NOT NULL); the others are bound.
  const markerArg = new Map<string, number>();
  if (m) {
    key.push(`marker=${sort.map((s) => (m[s.key] === null ? 'n' : 'v')).join('')}`);
    for (const s of sort) if (m[s.key] !== null && !markerArg.has(s.key)) markerArg.set(s.key, args.push(m[s.key]) - 1);
  }
  // Name and regex filters run on the rows, so the limit applies after them.
  const filteredInJs = Boolean(f.name) || Object.keys(f.regex ?? {}).length > 0;
  const limit = o.limit !== undefined && !filteredInJs ? scalar('limit', o.limit) : -1;

  const build = (slots: readonly string[]) => {
    const $ = (i: number): string => slots[i]!;
    let q = db.selectFrom('instances').select(columns);
    if (deletedCond === 'yes') q = q.where('deleted', '!=', 0);
    else if (deletedCond === 'no') q = q.where('deleted', '=', 0);
    if (project >= 0) q = q.where('project_id', '=', $(project));
    if (user >= 0) q = q.where('user_id', '=', $(user));
    if (host >= 0) q = q.where('host', '=', $(host));
    if (node >= 0) q = q.where('node', '=', $(node));
    if (vmStates) q = q.where('vm_state', 'in', vmStates.map($));
    if (taskVals) {
      q = q.where((eb) => {
        const ors = [];
        if (taskVals.length) ors.push(eb('task_state', 'in', taskVals.map($)));
        if (taskNull) ors.push(eb('task_state', 'is', null));
        return ors.length ? eb.or(ors) : eb.val(false);
      });
    }
    if (uuids) q = q.where('uuid', 'in', uuids.map($));
    if (image >= 0) q = q.where('image_ref', '=', $(image));
    if (types) q = q.where('instance_type_id', 'in', types.map($));
    if (since >= 0) q = q.where((eb) => eb.or([eb('updated_at', '>=', $(since)), eb.and([eb('updated_at', 'is', null), eb('created_at', '>=', $(since))])]));
    if (before >= 0) q = q.where((eb) => eb.or([eb('updated_at', '<=', $(before)), eb.and([eb('updated_at', 'is', null), eb('created_at', '<=', $(before))])]));
    if (reservation >= 0) q = q.where('reservation_id', '=', $(reservation));
    if (locked >= 0) q = q.where('locked', '=', $(locked));
    if (az >= 0) q = q.where('availability_zone', '=', $(az));
    for (const tag of tags) q = q.where('uuid', 'in', db.selectFrom('tags').select('resource_id').where('tag', '=', $(tag)));
    if (tagsAny) q = q.where('uuid', 'in', db.selectFrom('tags').select('resource_id').where('tag', 'in', tagsAny.map($)));
    if (notTags) {
      q = q.where('uuid', 'not in', db.selectFrom('tags').select('resource_id').where('tag', 'in', notTags.map($))
        .groupBy('resource_id').having((eb) => eb.fn.count('tag'), '=', $(notTagsN)));
    }
    if (notTagsAny) q = q.where('uuid', 'not in', db.selectFrom('tags').select('resource_id').where('tag', 'in', notTagsAny.map($)));
    if (m) {
      // Keyset paging: rows strictly after the marker in the sort order.
      q = q.where((eb) => {
        const ors = [];
        for (let i = 0; i < sort.length; i++) {
          const ands = [];
          for (let j = 0; j < i; j++) {
            const k = sort[j]!.key;
            ands.push(m[k] === null ? eb(k, 'is', null) : eb(k, '=', $(markerArg.get(k)!)));
          }
          const s = sort[i]!;
          if (m[s.key] === null) {
            if (s.dir === 'desc') continue;
            ands.push(eb(s.key, 'is not', null));
          } else {
            const v = $(markerArg.get(s.key)!);
            ands.push(s.dir === 'desc' ? eb.or([eb(s.key, '<', v), eb(s.key, 'is', null)]) : eb(s.key, '>', v));
          }
          ors.push(eb.and(ands));
        }
        return ors.length ? eb.or(ors) : eb.val(false);
      });
    }
    for (const s of sort) q = q.orderBy(s.key, s.dir);
    if (limit >= 0) q = q.limit($(limit) as unknown as number);
    return q;
  };
  let rows = await runShapeRaw(db, `instances|${key.join('|')}`, args, columns, build);
  // On the database's values, as cell-api's instanceList filters them (booleans still 0/1).
  if (f.name) {
    let re: RegExp | null = null;
    try { re = new RegExp(f.name); } catch { re = null; }
    const i = columns.indexOf('display_name');
    rows = rows.filter((r) => {
      const v = (r[i] as string | null) ?? '';
      return re ? re.test(v) : v.includes(f.name!);
    });
  }
  for (const [col, pattern] of Object.entries(f.regex ?? {})) {
    let re: RegExp | null = null;
    try { re = new RegExp(pattern); } catch { re = null; }
    const i = columns.indexOf(col);
    rows = rows.filter((r) => {
      const v = r[i] === null || r[i] === undefined ? '' : String(r[i]);
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
  const n = uuids.length;
  const args = o.key !== undefined ? [...uuids, o.key] : uuids;
  const key = `${table}|${cols.join(',')}|${uuidColumn}|${n}|${Boolean(o.notDeleted)}|${o.key !== undefined}|${o.notNull ?? ''}|${o.orderById ?? ''}`;
  return runShape(db, key, args, (slots) => {
    let q = db.selectFrom(table).select(cols).where(uuidColumn, 'in', slots.slice(0, n));
    if (o.notDeleted) q = q.where('deleted', '=', 0);
    if (o.key !== undefined) q = q.where('key', '=', slots[n]!);
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
  // A fixed column order, so records are built from constant positions (recordOf).
  const cols = needs.detail ? [...DETAIL_COLUMNS] : [...BASIC_COLUMNS];
  if (needs.userData) cols.push('user_data');
  // Sort keys feed the merge of the cells; regex filters read their columns.
  const extraCols: string[] = [];
  for (const c of [...(o.sort ?? []).map((s) => s.key), ...Object.keys(f.regex ?? {})]) {
    if (!cols.includes(c) && !extraCols.includes(c) && !(c === 'user_data' && needs.detail)) extraCols.push(c);
  }
  const values = await instanceRows(db, f, o, [...cols, ...extraCols]);
  if (values.length === 0) return [];
  const rows = values.map((v) => recordOf(v, needs.detail, needs.userData, cols.length, extraCols));
  const uuids = rows.map((r) => r['uuid'] as string);
  // Faults are only shown for ERROR/DELETED servers: do not fetch them for the others.
  const faulty = needs.detail ? rows.filter((r) => r.vm_state === 'error' || r.vm_state === 'deleted' || r['deleted'] === true).map((r) => r.uuid) : [];
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
  for (const r of rows) out.set(r.uuid, r);
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
  return rows;
}

/** instanceFromRow's booleans: 0/1 to false/true, NULL stays NULL except a NULL lock ("not locked"). */
function boolOf(column: string, v: unknown): boolean | null {
  if (column === 'deleted') return Boolean(v);
  if (v === null || v === undefined) return column === 'locked' ? false : null;
  return Boolean(v);
}

/**
 * A listed record from a row of values in listInstancesForView's column order (DETAIL_COLUMNS
 * then user_data when read, or BASIC_COLUMNS; then `extra` from position `n`). One object
 * literal, so the record is a fast-mode object whatever the column count.
 */
function recordOf(v: unknown[], detail: boolean, userData: boolean, n: number, extra: string[]): ListedInstance {
  const side = { flavor: null, metadata: {}, system_metadata: {}, tags: [], fault: null, trusted_certs: null, info_cache: { network_info: [] } };
  const r: ListedInstance = detail ? {
    id: v[0] as number, uuid: v[1] as string, display_name: v[2] as string, vm_state: v[3] as string, task_state: v[4] as string | null,
    project_id: v[5] as string, user_id: v[6] as string, host: v[7] as string | null, node: v[8] as string | null, image_ref: v[9] as string,
    created_at: v[10] as string, updated_at: v[11] as string | null, access_ip_v4: v[12] as string | null, access_ip_v6: v[13] as string | null,
    auto_disk_config: boolOf('auto_disk_config', v[14]) as boolean, availability_zone: v[15] as string | null, config_drive: v[16] as string,
    key_name: v[17] as string | null, launched_at: v[18] as string | null, terminated_at: v[19] as string | null, power_state: v[20] as number,
    progress: v[21] as number | null, reservation_id: v[22] as string, launch_index: v[23] as number, hostname: v[24] as string,
    root_device_name: v[25] as string | null, locked: boolOf('locked', v[26]) as boolean, display_description: v[27] as string | null,
    deleted: boolOf('deleted', v[28]),
    user_data: userData ? v[29] as string | null : null,
    ...side,
  } : { id: v[0], uuid: v[1], display_name: v[2], locked: false, ...side } as unknown as ListedInstance;
  for (let i = 0; i < extra.length; i++) {
    const c = extra[i]!;
    r[c] = BOOL_COLUMNS.has(c) ? boolOf(c, v[n + i]) : v[n + i];
  }
  return r;
}
