/**
 * Migration (nova/objects/migration.py): the record of one move of an instance (resize, cold
 * or live migration, evacuation) in the instance's cell DB. The conductor creates it; the
 * computes move its `status` through the conductor (`object_action save`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../common/context.js';
import type { Database } from '../../common/db/connection.js';
import { registerRemoteException } from '../../common/rpc/index.js';
import { NovaException } from '../exception.js';
import { nowIso } from '../db/schema-helpers.js';
import { NovaObject, registerObject, type FieldKind, type ObjectBackend } from './base.js';
import { cellOf, changedColumns, insertCellRow, registerRemotable } from './backend.js';

/** migrations.status values (openstack-flows §0.5, plus the live-migration ones). */
export const MigrationStatus = {
  PRE_MIGRATING: 'pre-migrating', MIGRATING: 'migrating', POST_MIGRATING: 'post-migrating', FINISHED: 'finished',
  CONFIRMING: 'confirming', CONFIRMED: 'confirmed', REVERTING: 'reverting', REVERTED: 'reverted', ERROR: 'error',
  FAILED: 'failed', ACCEPTED: 'accepted', QUEUED: 'queued', PREPARING: 'preparing', RUNNING: 'running',
  COMPLETED: 'completed', CANCELLED: 'cancelled', DONE: 'done',
} as const;

export class MigrationNotFound extends NovaException {
  constructor(message: string) {
    super(message, {});
    this.name = 'MigrationNotFound';
    this.code = 404;
  }
}
registerRemoteException('MigrationNotFound', MigrationNotFound);

const COLUMNS = [
  'uuid', 'source_compute', 'dest_compute', 'dest_host', 'source_node', 'dest_node', 'status', 'instance_uuid',
  'old_instance_type_id', 'new_instance_type_id', 'migration_type', 'hidden', 'memory_total', 'memory_processed',
  'memory_remaining', 'disk_total', 'disk_processed', 'disk_remaining', 'cross_cell_move', 'user_id', 'project_id',
] as const;
const BOOLS = new Set(['hidden', 'cross_cell_move']);

export class Migration extends NovaObject {
  static override objName = 'Migration';
  // Version 1.6: Added cross_cell_move and user_id/project_id (Train ships 1.7; Stratus keeps the Stein shape plus the ids).
  static override VERSION = '1.6';
  static override fields: Record<string, FieldKind> = {
    id: 'int', uuid: 'string', source_compute: 'string', dest_compute: 'string', source_node: 'string', dest_node: 'string',
    dest_host: 'string', old_instance_type_id: 'int', new_instance_type_id: 'int', instance_uuid: 'string', status: 'string',
    migration_type: 'string', hidden: 'bool', memory_total: 'int', memory_processed: 'int', memory_remaining: 'int',
    disk_total: 'int', disk_processed: 'int', disk_remaining: 'int', cross_cell_move: 'bool', user_id: 'string', project_id: 'string',
    created_at: 'datetime', updated_at: 'datetime', deleted_at: 'datetime', deleted: 'bool',
  };
  declare id: number; declare uuid: string; declare source_compute: string | null; declare dest_compute: string | null;
  declare source_node: string | null; declare dest_node: string | null; declare dest_host: string | null;
  declare old_instance_type_id: number | null; declare new_instance_type_id: number | null; declare instance_uuid: string;
  declare status: string; declare migration_type: string; declare hidden: boolean; declare memory_total: number | null;
  declare memory_processed: number | null; declare memory_remaining: number | null; declare disk_total: number | null;
  declare disk_processed: number | null; declare disk_remaining: number | null; declare cross_cell_move: boolean;
  declare user_id: string | null; declare project_id: string | null; declare created_at: string; declare updated_at: string | null;

  /** Inserts the record (conductor / API only); a new uuid is made when none is set. */
  async create(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'create', {})) return;
    if (!this.uuid) this.uuid = randomUUID();
    this.update(fromRow(await insertCellRow(cellOf(this.backend), 'migrations', this.uuid, toRow(this.toDict()))));
    this.resetChanges();
  }

  async save(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'save', {})) return;
    const values = changedColumns(this, COLUMNS);
    if (!Object.keys(values).length) return;
    const cell = cellOf(this.backend);
    await cell.db.updateTable('migrations').set({ ...toRow(values), updated_at: nowIso() }).where('id', '=', this.id).execute();
    const row = await cell.db.selectFrom('migrations').selectAll().where('id', '=', this.id).executeTakeFirstOrThrow();
    this.update(fromRow(row));
    this.resetChanges();
  }

  static fromRow(row: Record<string, any>, backend: ObjectBackend | null): Migration {
    const m = new Migration().update(fromRow(row));
    m.backend = backend;
    m.resetChanges();
    return m;
  }

  /** The newest migration of an instance in one of `statuses` (Migration.get_by_instance_and_status). */
  static async getByInstanceAndStatus(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string, statuses: string[]): Promise<Migration> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'Migration', 'get_by_instance_and_status', { instance_uuid: instanceUuid, status: statuses })) as Migration;
    const row = await cellOf(backend).db.selectFrom('migrations').selectAll().where('instance_uuid', '=', instanceUuid)
      .where('status', 'in', statuses).where('deleted', '=', 0).orderBy('id', 'desc').executeTakeFirst();
    if (!row) throw new MigrationNotFound(`Migration not found for instance ${instanceUuid} with status ${statuses.join(', ')}`);
    return Migration.fromRow(row, backend);
  }

  /** Finished resizes on `destCompute` older than `windowSec` (Migration.get_unconfirmed_by_dest_compute). */
  static async getUnconfirmedByDestCompute(backend: ObjectBackend, ctx: RequestContext, windowSec: number, destCompute: string): Promise<Migration[]> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'MigrationList', 'get_unconfirmed_by_dest_compute', { confirm_window: windowSec, dest_compute: destCompute })) as Migration[];
    const before = new Date(Date.now() - windowSec * 1000).toISOString();
    const rows = await cellOf(backend).db.selectFrom('migrations').selectAll().where('dest_compute', '=', destCompute)
      .where('status', '=', MigrationStatus.FINISHED).where('updated_at', '<=', before).where('deleted', '=', 0).execute();
    return rows.map((r) => Migration.fromRow(r, backend));
  }
}

function toRow(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of COLUMNS) {
    if (!(k in values)) continue;
    const v = values[k];
    out[k] = BOOLS.has(k) ? (v ? 1 : 0) : v;
  }
  return out;
}

function fromRow(row: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const k of BOOLS) out[k] = Boolean(row[k]);
  out['deleted'] = Boolean(row['deleted']);
  return out;
}

export interface MigrationFilters {
  instance_uuid?: string;
  host?: string;
  status?: string;
  migration_type?: string;
  source_compute?: string;
  user_id?: string;
  project_id?: string;
  changes_since?: string;
  changes_before?: string;
  /** Only migrations still moving (GET /servers/{id}/migrations: live migrations in progress). */
  in_progress?: boolean;
}

/** Rows of one cell DB for GET /os-migrations (newest first, as Nova sorts: created_at desc, id desc). */
export async function migrationList(cell: Database, f: MigrationFilters): Promise<Record<string, any>[]> {
  let q = cell.db.selectFrom('migrations').selectAll().where('deleted', '=', 0);
  if (f.instance_uuid) q = q.where('instance_uuid', '=', f.instance_uuid);
  if (f.host) q = q.where((eb) => eb.or([eb('source_compute', '=', f.host!), eb('dest_compute', '=', f.host!)]));
  if (f.source_compute) q = q.where('source_compute', '=', f.source_compute);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.migration_type) q = q.where('migration_type', '=', f.migration_type);
  if (f.user_id) q = q.where('user_id', '=', f.user_id);
  if (f.project_id) q = q.where('project_id', '=', f.project_id);
  if (f.changes_since) q = q.where('updated_at', '>=', f.changes_since);
  if (f.changes_before) q = q.where('updated_at', '<=', f.changes_before);
  if (f.in_progress) q = q.where('status', 'in', ['queued', 'preparing', 'running', 'post-migrating']);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

registerObject(Migration);
registerRemotable('MigrationList', {
  classMethods: { get_unconfirmed_by_dest_compute: (b, ctx, a) => Migration.getUnconfirmedByDestCompute(b, ctx, Number(a['confirm_window']), a['dest_compute']) },
});
registerRemotable('Migration', {
  methods: { create: 'create', save: 'save' },
  classMethods: {
    get_by_instance_and_status: (b, ctx, a) => Migration.getByInstanceAndStatus(b, ctx, a['instance_uuid'], Array.isArray(a['status']) ? a['status'] : [a['status']]),
  },
});
