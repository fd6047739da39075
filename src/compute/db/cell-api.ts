/**
 * Queries on a cell database (nova/db/main/api.py): instances with their side tables,
 * compare-and-swap updates on task_state, actions, faults, BDMs, tags, services and compute
 * nodes. Only nova-api and the conductors call this; nova-compute goes through the conductor.
 * @module
 */
import type { Compilable, Kysely } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { runPrepared } from '../../common/db/prepared.js';
import { instanceNotFound, unexpectedTaskState } from '../exception.js';
import { BOOL_COLUMNS, INSTANCE_COLUMN_FIELDS } from '../objects/fields.js';
import { nowIso } from './schema-helpers.js';

export type Row = Record<string, any>;

const COLUMNS = Object.keys(INSTANCE_COLUMN_FIELDS).filter((c) => c !== 'deleted');

/** Row values from field values (booleans to 0/1, only known columns). */
export function instanceColumns(values: Row): Row {
  const out: Row = {};
  for (const k of COLUMNS) {
    if (!(k in values) || k === 'id') continue;
    const v = values[k];
    out[k] = BOOL_COLUMNS.has(k) && v !== null && v !== undefined ? (v ? 1 : 0) : v;
  }
  return out;
}

/** A DB row back into field values. */
export function instanceFromRow(row: Row): Row {
  const out: Row = {};
  for (const k in row) {
    if (!(k in INSTANCE_COLUMN_FIELDS)) continue;
    const v = row[k];
    out[k] = BOOL_COLUMNS.has(k) ? (k === 'deleted' ? Boolean(v) : v === null ? (k === 'locked' ? false : null) : Boolean(v)) : v;
  }
  if (!('locked' in out) || out['locked'] === null) out['locked'] = false;
  return out;
}

export interface InstanceExtras {
  flavor?: Row | null;
  network_info?: unknown[];
  metadata?: Record<string, string>;
  system_metadata?: Record<string, string>;
  tags?: string[];
  keypairs?: unknown;
  trusted_certs?: { ids: string[] } | null;
}

/** UPDATE/INSERT ... RETURNING gives back the row it wrote (SQLite, PostgreSQL; MySQL reads it again). */
function hasReturning(db: Database): boolean {
  return db.dialect !== 'mysql';
}

/** An INSERT of one row whose columns are `row`'s keys, compiled once per column list. */
function insertRow(cell: Database, db: Kysely<any>, table: string, row: Row, returning = false) {
  // Kysely leaves undefined values out of an INSERT; so does the shape.
  const cols = Object.keys(row).filter((c) => row[c] !== undefined);
  return runPrepared(cell.db, db, `insert:${table}:${cols.join(',')}:${returning}`, cols.map((c) => row[c]), (slot) => {
    const q = db.insertInto(table).values(Object.fromEntries(cols.map((c, i) => [c, slot[i]])));
    return returning ? q.returningAll() : q;
  });
}

export async function instanceCreate(cell: Database, values: Row, extras: InstanceExtras): Promise<Row> {
  const now = nowIso();
  return cell.transaction(async (trx) => {
    const cols = { ...instanceColumns(values), created_at: values['created_at'] ?? now, updated_at: null, deleted: 0 };
    const uuid = values['uuid'] as string;
    const row = hasReturning(cell)
      ? (await insertRow(cell, trx, 'instances', cols, true)).rows[0]!
      : (await insertRow(cell, trx, 'instances', cols), await trx.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow());
    await insertRow(cell, trx, 'instance_extra', {
      instance_uuid: uuid, created_at: now, deleted: 0,
      flavor: JSON.stringify({ cur: extras.flavor ?? null, old: null, new: null }),
      keypairs: extras.keypairs ? JSON.stringify(extras.keypairs) : null,
      trusted_certs: extras.trusted_certs ? JSON.stringify(extras.trusted_certs) : null,
    });
    await insertRow(cell, trx, 'instance_info_caches', { instance_uuid: uuid, network_info: JSON.stringify(extras.network_info ?? []), created_at: now, deleted: 0 });
    await writeKv(cell, trx, 'instance_metadata', uuid, extras.metadata ?? {}, now);
    await writeKv(cell, trx, 'instance_system_metadata', uuid, extras.system_metadata ?? {}, now);
    for (const tag of extras.tags ?? []) await insertRow(cell, trx, 'tags', { resource_id: uuid, tag });
    return row;
  });
}

async function writeKv(cell: Database, trx: Kysely<any>, table: string, uuid: string, kv: Record<string, string>, now: string): Promise<void> {
  await runPrepared(cell.db, trx, `deleteKv:${table}`, [uuid], ([u]) => trx.deleteFrom(table).where('instance_uuid', '=', u!));
  const entries = Object.entries(kv);
  if (!entries.length) return;
  const args = entries.flatMap(([key, value]) => [key, String(value)]);
  // One multi-row INSERT, compiled once per row count.
  await runPrepared(cell.db, trx, `insertKv:${table}:${entries.length}`, [uuid, now, ...args], ([u, at, ...kvs]) =>
    trx.insertInto(table).values(entries.map((_, i) => ({ instance_uuid: u!, key: kvs[2 * i]!, value: kvs[2 * i + 1]!, created_at: at!, deleted: 0 }))));
}

export interface InstanceFull {
  row: Row;
  flavor: Row | null;
  network_info: unknown[];
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  tags: string[];
  fault: Row | null;
  trusted_certs?: { ids: string[] } | null;
}

/** Loads the side tables of a set of instance rows in one query each (list views stay O(1) queries). */
export async function loadExtras(db: Kysely<any>, rows: Row[]): Promise<InstanceFull[]> {
  if (rows.length === 0) return [];
  const uuids = rows.map((r) => r['uuid'] as string);
  // Faults are only shown for ERROR/DELETED servers: do not fetch them for the others.
  const faulty = rows.filter((r) => r['vm_state'] === 'error' || r['vm_state'] === 'deleted' || Number(r['deleted']) !== 0).map((r) => r['uuid'] as string);
  // One instance (show, get_by_uuid, every event): the shapes are compiled once; long lists vary too much.
  const q = (name: string, list: string[], build: (ids: string[]) => Compilable & { execute(): Promise<Row[]> }): Promise<Row[]> =>
    list.length <= 4 ? runPrepared(db, db, `extras:${name}:${list.length}`, list, (slots) => build([...slots])).then((r) => r.rows) : build(list).execute();
  const [extra, caches, meta, sysmeta, tags, faults] = await Promise.all([
    q('extra', uuids, (ids) => db.selectFrom('instance_extra').select(['instance_uuid', 'flavor', 'trusted_certs']).where('instance_uuid', 'in', ids)),
    q('caches', uuids, (ids) => db.selectFrom('instance_info_caches').select(['instance_uuid', 'network_info']).where('instance_uuid', 'in', ids)),
    q('meta', uuids, (ids) => db.selectFrom('instance_metadata').select(['instance_uuid', 'key', 'value']).where('instance_uuid', 'in', ids).where('deleted', '=', 0)),
    q('sysmeta', uuids, (ids) => db.selectFrom('instance_system_metadata').select(['instance_uuid', 'key', 'value']).where('instance_uuid', 'in', ids).where('deleted', '=', 0)),
    q('tags', uuids, (ids) => db.selectFrom('tags').select(['resource_id', 'tag']).where('resource_id', 'in', ids)),
    faulty.length ? q('faults', faulty, (ids) => db.selectFrom('instance_faults').selectAll().where('instance_uuid', 'in', ids).orderBy('id', 'desc')) : Promise.resolve([] as Row[]),
  ]);
  const by = <T extends Row>(list: T[], key: string) => {
    const m = new Map<string, T[]>();
    for (const r of list) {
      const k = r[key] as string;
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(r);
    }
    return m;
  };
  const ex = by(extra, 'instance_uuid'), ca = by(caches, 'instance_uuid'), me = by(meta, 'instance_uuid');
  const sm = by(sysmeta, 'instance_uuid'), tg = by(tags, 'resource_id'), fa = by(faults, 'instance_uuid');
  return rows.map((row) => {
    const u = row['uuid'] as string;
    const flavorJson = ex.get(u)?.[0]?.['flavor'];
    const certsJson = ex.get(u)?.[0]?.['trusted_certs'];
    const nw = ca.get(u)?.[0]?.['network_info'];
    return {
      row,
      flavor: flavorJson ? (JSON.parse(flavorJson).cur ?? null) : null,
      network_info: nw ? JSON.parse(nw) : [],
      metadata: Object.fromEntries((me.get(u) ?? []).map((r) => [r['key'], r['value']])),
      system_metadata: Object.fromEntries((sm.get(u) ?? []).map((r) => [r['key'], r['value']])),
      tags: (tg.get(u) ?? []).map((r) => r['tag'] as string).sort(),
      fault: fa.get(u)?.[0] ?? null,
      trusted_certs: certsJson ? JSON.parse(certsJson) : null,
    };
  });
}

export async function instanceGetByUuid(cell: Database, uuid: string, readDeleted: 'no' | 'yes' | 'only' = 'no'): Promise<InstanceFull> {
  const row = (await runPrepared(cell.db, cell.db, `instanceByUuid:${readDeleted}`, [uuid], ([u]) => {
    let q = cell.db.selectFrom('instances').selectAll().where('uuid', '=', u!);
    if (readDeleted === 'no') q = q.where('deleted', '=', 0);
    if (readDeleted === 'only') q = q.where('deleted', '!=', 0);
    return q;
  })).rows[0];
  if (!row) throw instanceNotFound(uuid);
  return (await loadExtras(cell.db, [row]))[0]!;
}

export interface UpdateExpectations {
  /** undefined: no check. null or a list: the current task_state must be one of these. */
  expected_task_state?: string | null | (string | null)[];
  expected_vm_state?: string | null | (string | null)[];
}

/** An expectation's shape (what the SQL text depends on): undefined, or the values and whether null is one. */
function expectedShape(e: string | null | (string | null)[] | undefined): { vals: string[]; wantNull: boolean } | null {
  if (e === undefined) return null;
  const list = Array.isArray(e) ? e : [e];
  return { vals: list.filter((x): x is string => x !== null), wantNull: list.some((x) => x === null) };
}

/**
 * The compare-and-swap UPDATE of an instance row, with RETURNING * when asked, compiled once per
 * shape (columns set, expectations' lengths). Returns the updated row (returning) or the count.
 */
async function casUpdate(cell: Database, db: Kysely<any>, uuid: string, values: Row, exp: UpdateExpectations, returning: boolean): Promise<{ row: Row | undefined; count: number }> {
  const cols = instanceColumns(values);
  cols['updated_at'] = nowIso();
  const names = Object.keys(cols).filter((c) => cols[c] !== undefined);
  const task = expectedShape(exp.expected_task_state);
  const vm = expectedShape(exp.expected_vm_state);
  const shapeKey = (e: typeof task) => (e ? `${e.vals.length}${e.wantNull ? '+null' : ''}` : '-');
  const args = [...names.map((c) => cols[c]), uuid, ...(task?.vals ?? []), ...(vm?.vals ?? [])];
  const key = `cas:${names.join(',')}|${shapeKey(task)}|${shapeKey(vm)}|${returning}`;
  const r = await runPrepared(cell.db, db, key, args, (slot) => {
    let i = 0;
    const set = Object.fromEntries(names.map((c) => [c, slot[i++]!]));
    let q = db.updateTable('instances').set(set).where('uuid', '=', slot[i++]!).where('deleted', '=', 0);
    const applyExpected = (col: string, e: typeof task) => {
      if (!e) return;
      const vals = e.vals.map(() => slot[i++]!);
      q = q.where((eb) => {
        const ors = [];
        if (vals.length) ors.push(eb(col, 'in', vals));
        if (e.wantNull) ors.push(eb(col, 'is', null));
        return ors.length ? eb.or(ors) : eb.val(false);
      });
    };
    applyExpected('task_state', task);
    applyExpected('vm_state', vm);
    return returning ? q.returningAll() : q;
  });
  return { row: r.rows[0], count: returning ? r.rows.length : Number(r.numAffectedRows ?? 0n) };
}

/** The swap matched no row: InstanceNotFound, or UnexpectedTaskState with what the row holds. */
async function casFailure(db: Kysely<any>, uuid: string, exp: UpdateExpectations): Promise<never> {
  const cur = await db.selectFrom('instances').select(['task_state', 'vm_state']).where('uuid', '=', uuid).where('deleted', '=', 0).executeTakeFirst();
  if (!cur) throw instanceNotFound(uuid);
  throw unexpectedTaskState(uuid, exp.expected_task_state, cur['task_state'], cur['task_state'] === 'deleting');
}

/**
 * Compare-and-swap update (nova `_instance_update`): the row is updated only if its task_state
 * (and vm_state) still match what the caller saw; otherwise UnexpectedTaskStateError.
 */
export async function instanceUpdate(cell: Database, uuid: string, values: Row, extras: InstanceExtras, exp: UpdateExpectations = {}): Promise<Row> {
  const sideRows = extras.flavor !== undefined || extras.network_info !== undefined || extras.trusted_certs !== undefined
    || extras.metadata !== undefined || extras.system_metadata !== undefined || extras.tags !== undefined;
  const returning = hasReturning(cell);
  if (!sideRows && returning) {
    // Only the instance row changes: UPDATE ... RETURNING is the swap and the read-back in one
    // statement, atomic on its own (most saves of a build or an action are this).
    const { row } = await casUpdate(cell, cell.db, uuid, values, exp, true);
    return row ?? casFailure(cell.db, uuid, exp);
  }
  return cell.transaction(async (trx) => {
    const { row: updated, count } = await casUpdate(cell, trx, uuid, values, exp, returning);
    if (count === 0) return casFailure(trx, uuid, exp);
    const now = nowIso();
    if (extras.flavor !== undefined) {
      await trx.updateTable('instance_extra').set({ flavor: JSON.stringify({ cur: extras.flavor, old: null, new: null }), updated_at: now }).where('instance_uuid', '=', uuid).execute();
    }
    if (extras.network_info !== undefined) {
      await runPrepared(cell.db, trx, 'updateInfoCache', [JSON.stringify(extras.network_info), now, uuid], ([nw, at, u]) =>
        trx.updateTable('instance_info_caches').set({ network_info: nw!, updated_at: at! }).where('instance_uuid', '=', u!));
    }
    if (extras.trusted_certs !== undefined) {
      await trx.updateTable('instance_extra').set({ trusted_certs: extras.trusted_certs ? JSON.stringify(extras.trusted_certs) : null, updated_at: now }).where('instance_uuid', '=', uuid).execute();
    }
    if (extras.metadata !== undefined) await writeKv(cell, trx, 'instance_metadata', uuid, extras.metadata, now);
    if (extras.system_metadata !== undefined) await writeKv(cell, trx, 'instance_system_metadata', uuid, extras.system_metadata, now);
    if (extras.tags !== undefined) {
      await trx.deleteFrom('tags').where('resource_id', '=', uuid).execute();
      for (const tag of extras.tags) await trx.insertInto('tags').values({ resource_id: uuid, tag }).execute();
    }
    return returning ? updated! : trx.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
  });
}

/** Soft delete (nova `instance_destroy`): `deleted = id` on the instance and its side rows. */
export async function instanceDestroy(cell: Database, uuid: string): Promise<Row> {
  return cell.transaction(async (trx) => {
    const row = await trx.selectFrom('instances').selectAll().where('uuid', '=', uuid).where('deleted', '=', 0).executeTakeFirst();
    if (!row) throw instanceNotFound(uuid);
    const now = nowIso();
    await trx.updateTable('instances').set({ deleted: row['id'], deleted_at: now, updated_at: now }).where('id', '=', row['id']).execute();
    for (const t of ['instance_extra', 'instance_info_caches', 'instance_metadata', 'instance_system_metadata', 'block_device_mapping']) {
      await trx.updateTable(t).set({ deleted: 1, deleted_at: now }).where('instance_uuid', '=', uuid).execute();
    }
    await trx.deleteFrom('tags').where('resource_id', '=', uuid).execute();
    return { ...row, deleted: row['id'], deleted_at: now };
  });
}

export interface InstanceFilters {
  project_id?: string;
  host?: string;
  deleted?: boolean;
  vm_state?: string[];
  task_state?: (string | null)[];
  uuids?: string[];
  image_ref?: string;
  instance_type_ids?: number[];
  changes_since?: string;
  changes_before?: string;
  name?: string;
  reservation_id?: string;
  tags?: string[];
  tags_any?: string[];
  not_tags?: string[];
  not_tags_any?: string[];
  locked?: boolean;
  availability_zone?: string;
  node?: string;
  user_id?: string;
  /** Column -> regular expression (nova's `_regex_instance_filter`), matched on the value as text. */
  regex?: Record<string, string>;
}

export interface ListOptions {
  limit?: number;
  /** Sort keys and directions (default created_at desc, id desc). */
  sort?: { key: string; dir: 'asc' | 'desc' }[];
  /** The row after which to start (its sort-key values), for marker paging within a cell. */
  markerRow?: Row | null;
}

const SORTABLE = new Set(['created_at', 'updated_at', 'display_name', 'uuid', 'id', 'vm_state', 'task_state', 'power_state',
  'host', 'node', 'project_id', 'user_id', 'launched_at', 'terminated_at', 'availability_zone', 'key_name', 'hostname',
  'image_ref', 'instance_type_id', 'memory_mb', 'vcpus', 'root_gb', 'ephemeral_gb', 'launch_index', 'locked', 'deleted_at',
  'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'config_drive', 'display_description', 'kernel_id', 'locked_by', 'progress',
  'ramdisk_id', 'root_device_name']);
export function isSortable(k: string): boolean {
  return SORTABLE.has(k);
}

/** `instance_get_all_by_filters_sort` for one cell. */
export async function instanceList(cell: Database, f: InstanceFilters, o: ListOptions = {}): Promise<InstanceFull[]> {
  let q = cell.db.selectFrom('instances').selectAll();
  if (f.deleted === true) q = q.where('deleted', '!=', 0);
  else if (f.deleted === false || f.deleted === undefined) {
    // changes-since / changes-before also answer recently deleted servers.
    if (!f.changes_since && !f.changes_before) q = q.where('deleted', '=', 0);
  }
  if (f.project_id) q = q.where('project_id', '=', f.project_id);
  if (f.user_id) q = q.where('user_id', '=', f.user_id);
  if (f.host) q = q.where('host', '=', f.host);
  if (f.node) q = q.where('node', '=', f.node);
  if (f.vm_state) q = q.where('vm_state', 'in', f.vm_state.length ? f.vm_state : ['\u0000']);
  if (f.task_state) {
    const ts = f.task_state;
    q = q.where((eb) => {
      const ors = [];
      const vals = ts.filter((x): x is string => x !== null);
      if (vals.length) ors.push(eb('task_state', 'in', vals));
      if (ts.includes(null)) ors.push(eb('task_state', 'is', null));
      return ors.length ? eb.or(ors) : eb.val(false);
    });
  }
  if (f.uuids) q = q.where('uuid', 'in', f.uuids.length ? f.uuids : ['\u0000']);
  if (f.image_ref) q = q.where('image_ref', '=', f.image_ref);
  if (f.instance_type_ids) q = q.where('instance_type_id', 'in', f.instance_type_ids.length ? f.instance_type_ids : [-1]);
  if (f.changes_since) q = q.where((eb) => eb.or([eb('updated_at', '>=', f.changes_since!), eb.and([eb('updated_at', 'is', null), eb('created_at', '>=', f.changes_since!)])]));
  if (f.changes_before) q = q.where((eb) => eb.or([eb('updated_at', '<=', f.changes_before!), eb.and([eb('updated_at', 'is', null), eb('created_at', '<=', f.changes_before!)])]));
  if (f.reservation_id) q = q.where('reservation_id', '=', f.reservation_id);
  if (f.locked !== undefined) q = q.where('locked', '=', f.locked ? 1 : 0);
  if (f.availability_zone) q = q.where('availability_zone', '=', f.availability_zone);
  for (const tag of f.tags ?? []) q = q.where('uuid', 'in', cell.db.selectFrom('tags').select('resource_id').where('tag', '=', tag));
  if (f.tags_any?.length) q = q.where('uuid', 'in', cell.db.selectFrom('tags').select('resource_id').where('tag', 'in', f.tags_any));
  if (f.not_tags?.length) {
    const n = f.not_tags.length;
    q = q.where('uuid', 'not in', cell.db.selectFrom('tags').select('resource_id').where('tag', 'in', f.not_tags)
      .groupBy('resource_id').having((eb) => eb.fn.count('tag'), '=', n));
  }
  if (f.not_tags_any?.length) q = q.where('uuid', 'not in', cell.db.selectFrom('tags').select('resource_id').where('tag', 'in', f.not_tags_any));
  const sort = o.sort?.length ? o.sort : [{ key: 'created_at', dir: 'desc' as const }, { key: 'id', dir: 'desc' as const }];
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: sort[0]!.dir });
  if (o.markerRow) {
    const m = o.markerRow;
    // Keyset paging: rows strictly after the marker in the sort order.
    q = q.where((eb) => {
      const ors = [];
      for (let i = 0; i < sort.length; i++) {
        const ands = [];
        for (let j = 0; j < i; j++) ands.push(eb(sort[j]!.key, m[sort[j]!.key] === null ? 'is' : '=', m[sort[j]!.key]));
        const s = sort[i]!;
        const v = m[s.key];
        if (v === null) {
          if (s.dir === 'desc') continue;
          ands.push(eb(s.key, 'is not', null));
        } else ands.push(s.dir === 'desc' ? eb.or([eb(s.key, '<', v), eb(s.key, 'is', null)]) : eb(s.key, '>', v));
        ors.push(eb.and(ands));
      }
      return ors.length ? eb.or(ors) : eb.val(false);
    });
  }
  for (const s of sort) q = q.orderBy(s.key, s.dir);
  // Name and regex filters run on the rows, so the limit applies after them.
  const filteredInJs = Boolean(f.name) || Object.keys(f.regex ?? {}).length > 0;
  if (o.limit !== undefined && !filteredInJs) q = q.limit(o.limit);
  let rows = await q.execute();
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
  return loadExtras(cell.db, rows);
}

export async function instanceRowByUuid(cell: Database, uuid: string): Promise<Row | undefined> {
  return cell.db.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

// ---- instance actions (nova/db/main/api.py action_start / action_event_start ...) ----

export async function actionStart(cell: Database, v: { action: string; instance_uuid: string; request_id: string; user_id: string | null; project_id: string | null; message?: string | null }): Promise<Row> {
  const now = nowIso();
  const row = { ...v, message: v.message ?? null, start_time: now, created_at: now, deleted: 0 };
  // The new row is the latest action of this request, the one actionGetByRequestId would find.
  if (hasReturning(cell)) return (await insertRow(cell, cell.db, 'instance_actions', row, true)).rows[0]!;
  await insertRow(cell, cell.db, 'instance_actions', row);
  return (await actionGetByRequestId(cell, v.instance_uuid, v.request_id))!;
}

export async function actionGetByRequestId(cell: Database, instanceUuid: string, requestId: string): Promise<Row | undefined> {
  const r = await runPrepared(cell.db, cell.db, 'actionByRequest', [instanceUuid, requestId], ([i, q]) =>
    cell.db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', i!).where('request_id', '=', q!).orderBy('id', 'desc'));
  return r.rows[0];
}

/** instance_actions.updated_at (and message) of an action that gained or finished an event. */
function touchAction(cell: Database, actionId: number, now: string, error: boolean) {
  return error
    ? runPrepared(cell.db, cell.db, 'touchActionError', [now, 'Error', actionId], ([at, m, id]) => cell.db.updateTable('instance_actions').set({ updated_at: at!, message: m! }).where('id', '=', id!))
    : runPrepared(cell.db, cell.db, 'touchAction', [now, actionId], ([at, id]) => cell.db.updateTable('instance_actions').set({ updated_at: at! }).where('id', '=', id!));
}

export async function actionsForInstance(cell: Database, instanceUuid: string): Promise<Row[]> {
  return cell.db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', instanceUuid).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export async function actionEvents(cell: Database, actionId: number): Promise<Row[]> {
  return cell.db.selectFrom('instance_actions_events').selectAll().where('action_id', '=', actionId).orderBy('id', 'asc').execute();
}

/** Starts an event under the action of (instance, request id); creates the action if missing. */
export async function actionEventStart(cell: Database, v: { instance_uuid: string; request_id: string; event: string; host?: string | null }): Promise<Row> {
  const action = await actionGetByRequestId(cell, v.instance_uuid, v.request_id);
  if (!action) throw new Error(`Action for request_id ${v.request_id} on instance ${v.instance_uuid} not found`);
  const now = nowIso();
  await insertRow(cell, cell.db, 'instance_actions_events', { event: v.event, action_id: action['id'], start_time: now, host: v.host ?? null, created_at: now, deleted: 0 });
  await touchAction(cell, action['id'], now, false);
  return action;
}

export async function actionEventFinish(cell: Database, v: { instance_uuid: string; request_id: string; event: string; result: 'Success' | 'Error'; traceback?: string | null; details?: string | null }): Promise<void> {
  const action = await actionGetByRequestId(cell, v.instance_uuid, v.request_id);
  if (!action) return;
  const now = nowIso();
  const ev = (await runPrepared(cell.db, cell.db, 'lastEventOfAction', [action['id'], v.event], ([a, e]) =>
    cell.db.selectFrom('instance_actions_events').select('id').where('action_id', '=', a!).where('event', '=', e!).orderBy('id', 'desc'))).rows[0];
  if (ev) {
    await runPrepared(cell.db, cell.db, 'finishEvent', [now, v.result, v.traceback ?? null, v.details ?? null, now, ev['id']], ([at, res, tb, det, up, id]) =>
      cell.db.updateTable('instance_actions_events').set({ finish_time: at!, result: res!, traceback: tb!, details: det!, updated_at: up! }).where('id', '=', id!));
  }
  await touchAction(cell, action['id'], now, v.result === 'Error');
}

export async function faultCreate(cell: Database, v: { instance_uuid: string; code: number; message: string; details: string; host: string | null }): Promise<void> {
  await cell.db.insertInto('instance_faults').values({ ...v, message: v.message.slice(0, 255), created_at: nowIso(), deleted: 0 }).execute();
}

// ---- block device mappings ----
export async function bdmCreate(cell: Database, instanceUuid: string, bdms: Row[]): Promise<void> {
  if (!bdms.length) return;
  const now = nowIso();
  await cell.db.insertInto('block_device_mapping').values(bdms.map((b) => ({
    uuid: b['uuid'] ?? null, instance_uuid: instanceUuid, source_type: b['source_type'] ?? null, destination_type: b['destination_type'] ?? null,
    guest_format: b['guest_format'] ?? null, device_type: b['device_type'] ?? null, disk_bus: b['disk_bus'] ?? null,
    boot_index: b['boot_index'] ?? null, device_name: b['device_name'] ?? null, delete_on_termination: b['delete_on_termination'] ? 1 : 0,
    snapshot_id: b['snapshot_id'] ?? null, volume_id: b['volume_id'] ?? null, volume_size: b['volume_size'] ?? null,
    volume_type: b['volume_type'] ?? null, image_id: b['image_id'] ?? null, no_device: b['no_device'] ? 1 : 0, tag: b['tag'] ?? null,
    attachment_id: b['attachment_id'] ?? null, created_at: now, deleted: 0,
  }))).execute();
}

export async function bdmList(cell: Database, instanceUuid: string): Promise<Row[]> {
  return (await runPrepared(cell.db, cell.db, 'bdmList', [instanceUuid], ([u]) =>
    cell.db.selectFrom('block_device_mapping').selectAll().where('instance_uuid', '=', u!).where('deleted', '=', 0).orderBy('id'))).rows;
}
