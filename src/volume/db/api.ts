/**
 * Cinder's DB API (`cinder/db/api.py` in spirit): rows in, rows out, status changes as
 * compare-and-swap so two racing requests cannot both move a volume.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../common/db/index.js';
import { affectedRows } from '../../common/db/index.js';

export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string | null;
  host: string | null;
  size: number;
  availability_zone: string | null;
  status: string;
  attach_status: string;
  migration_status: string | null;
  display_name: string | null;
  display_description: string | null;
  volume_type_id: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  image_id: string | null;
  bootable: number;
  multiattach: number;
  replication_status: string | null;
  provider_location: string | null;
  created_at: string;
  updated_at: string | null;
  launched_at: string | null;
  scheduled_at: string | null;
  terminated_at: string | null;
  deleted: number;
  deleted_at: string | null;
}

export interface SnapshotRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string | null;
  status: string;
  progress: string | null;
  volume_size: number;
  display_name: string | null;
  display_description: string | null;
  volume_type_id: string | null;
  provider_location: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
  deleted_at: string | null;
}

export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

export interface AttachmentRow {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_time: string | null;
  detach_time: string | null;
  attach_mode: string | null;
  attach_status: string;
  connection_info: string | null;
  connector: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

export interface ServiceRow {
  host: string;
  binary: string;
  uuid: string;
  topic: string | null;
  availability_zone: string;
  disabled: number;
  disabled_reason: string | null;
  report_count: number;
  created_at: string;
  updated_at: string | null;
}

type Db = Kysely<any>;
export type MetaTable = 'volume_metadata' | 'volume_admin_metadata' | 'volume_glance_metadata' | 'snapshot_metadata' | 'volume_type_extra_specs';
const OWNER: Record<MetaTable, string> = {
  volume_metadata: 'volume_id',
  volume_admin_metadata: 'volume_id',
  volume_glance_metadata: 'volume_id',
  snapshot_metadata: 'snapshot_id',
  volume_type_extra_specs: 'volume_type_id',
};

export const nowIso = (): string => new Date().toISOString().replace('Z', '000').slice(0, 26);

export class CinderDb {
  constructor(readonly database: Database) {}
  get db(): Db {
    return this.database.db as Db;
  }

  // ---- volumes
  async createVolume(row: VolumeRow, metadata: Record<string, string>, trx: Db = this.db): Promise<void> {
    await trx.insertInto('volumes').values(row).execute();
    await this.setMeta('volume_metadata', row.id, metadata, true, trx);
  }

  async getVolume(id: string, db: Db = this.db): Promise<VolumeRow | undefined> {
    return db.selectFrom('volumes').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() as Promise<VolumeRow | undefined>;
  }

  async listVolumes(projectId: string | null): Promise<VolumeRow[]> {
    let q = this.db.selectFrom('volumes').selectAll().where('deleted', '=', 0);
    if (projectId) q = q.where('project_id', '=', projectId);
    return q.execute() as Promise<VolumeRow[]>;
  }

  /** Compare-and-swap: updates only when the status is one of `from`; true when it did. */
  async updateVolume(id: string, values: Partial<VolumeRow>, from?: string[], db: Db = this.db, extra?: (q: any) => any): Promise<boolean> {
    let q = db.updateTable('volumes').set({ ...values, updated_at: nowIso() }).where('id', '=', id).where('deleted', '=', 0);
    if (from) q = q.where('status', 'in', from);
    if (extra) q = extra(q);
    return affectedRows(await q.execute()) === 1;
  }

  async destroyVolume(id: string, db: Db = this.db): Promise<void> {
    const t = nowIso();
    await db.updateTable('volumes').set({ deleted: 1, deleted_at: t, status: 'deleted', terminated_at: t, updated_at: t }).where('id', '=', id).execute();
    for (const table of ['volume_metadata', 'volume_admin_metadata', 'volume_glance_metadata'] as const) {
      await db.deleteFrom(table).where('volume_id', '=', id).execute();
    }
  }

  /** Gigabytes allocated on a backend (`allocated_capacity_gb`). */
  async allocatedOnHost(hostPrefix: string): Promise<number> {
    const r = await this.db.selectFrom('volumes').select((eb: any) => eb.fn.sum('size').as('gb'))
      .where('deleted', '=', 0).where('host', 'like', `${hostPrefix}%`).executeTakeFirst() as any;
    return Number(r?.gb ?? 0);
  }

  // ---- key/value side tables
  async getMeta(table: MetaTable, ownerId: string, db: Db = this.db): Promise<Record<string, string>> {
    const rows = await db.selectFrom(table).select(['key', 'value']).where(OWNER[table], '=', ownerId).orderBy('key').execute();
    return Object.fromEntries(rows.map((r: any) => [r.key, r.value]));
  }

  async getMetaMany(table: MetaTable, ids: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (const id of ids) out.set(id, {});
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (!chunk.length) continue;
      const rows = await this.db.selectFrom(table).selectAll().where(OWNER[table], 'in', chunk).orderBy('key').execute();
      for (const r of rows as any[]) out.get(r[OWNER[table]])![r.key] = r.value;
    }
    return out;
  }

  /** Sets keys; `replace` first removes every key not given (PUT semantics). */
  async setMeta(table: MetaTable, ownerId: string, meta: Record<string, string>, replace: boolean, db: Db = this.db): Promise<void> {
    const owner = OWNER[table];
    if (replace) await db.deleteFrom(table).where(owner, '=', ownerId).execute();
    for (const [key, value] of Object.entries(meta)) {
      if (!replace) await db.deleteFrom(table).where(owner, '=', ownerId).where('key', '=', key).execute();
      await db.insertInto(table).values({ [owner]: ownerId, key, value: String(value) }).execute();
    }
  }

  async deleteMetaKey(table: MetaTable, ownerId: string, key: string, db: Db = this.db): Promise<boolean> {
    return affectedRows(await db.deleteFrom(table).where(OWNER[table], '=', ownerId).where('key', '=', key).execute()) === 1;
  }

  // ---- snapshots
  async createSnapshot(row: SnapshotRow, metadata: Record<string, string>, db: Db = this.db): Promise<void> {
    await db.insertInto('snapshots').values(row).execute();
    await this.setMeta('snapshot_metadata', row.id, metadata, true, db);
  }

  async getSnapshot(id: string, db: Db = this.db): Promise<SnapshotRow | undefined> {
    return db.selectFrom('snapshots').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() as Promise<SnapshotRow | undefined>;
  }

  async listSnapshots(projectId: string | null, volumeId?: string): Promise<SnapshotRow[]> {
    let q = this.db.selectFrom('snapshots').selectAll().where('deleted', '=', 0);
    if (projectId) q = q.where('project_id', '=', projectId);
    if (volumeId) q = q.where('volume_id', '=', volumeId);
    return q.execute() as Promise<SnapshotRow[]>;
  }

  async updateSnapshot(id: string, values: Partial<SnapshotRow>, from?: string[], db: Db = this.db): Promise<boolean> {
    let q = db.updateTable('snapshots').set({ ...values, updated_at: nowIso() }).where('id', '=', id).where('deleted', '=', 0);
    if (from) q = q.where('status', 'in', from);
    return affectedRows(await q.execute()) === 1;
  }

  async destroySnapshot(id: string, db: Db = this.db): Promise<void> {
    const t = nowIso();
    await db.updateTable('snapshots').set({ deleted: 1, deleted_at: t, status: 'deleted', updated_at: t }).where('id', '=', id).execute();
    await db.deleteFrom('snapshot_metadata').where('snapshot_id', '=', id).execute();
  }

  // ---- volume types
  async listTypes(): Promise<VolumeTypeRow[]> {
    return this.db.selectFrom('volume_types').selectAll().where('deleted', '=', 0).orderBy('name').execute() as Promise<VolumeTypeRow[]>;
  }

  async getType(id: string): Promise<VolumeTypeRow | undefined> {
    return this.db.selectFrom('volume_types').selectAll().where('deleted', '=', 0).where('id', '=', id).executeTakeFirst() as Promise<VolumeTypeRow | undefined>;
  }

  async getTypeByName(name: string): Promise<VolumeTypeRow | undefined> {
    return this.db.selectFrom('volume_types').selectAll().where('deleted', '=', 0).where('name', '=', name).executeTakeFirst() as Promise<VolumeTypeRow | undefined>;
  }

  async typeProjects(typeId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('volume_type_projects').select('project_id').where('volume_type_id', '=', typeId).execute();
    return rows.map((r: any) => r.project_id as string);
  }

  // ---- attachments
  async createAttachment(row: AttachmentRow, db: Db = this.db): Promise<void> {
    await db.insertInto('volume_attachment').values(row).execute();
  }

  async getAttachment(id: string, db: Db = this.db): Promise<AttachmentRow | undefined> {
    return db.selectFrom('volume_attachment').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() as Promise<AttachmentRow | undefined>;
  }

  async attachmentsOf(volumeIds: string[], db: Db = this.db): Promise<AttachmentRow[]> {
    if (!volumeIds.length) return [];
    return db.selectFrom('volume_attachment').selectAll().where('deleted', '=', 0).where('volume_id', 'in', volumeIds)
      .orderBy('created_at').execute() as Promise<AttachmentRow[]>;
  }

  async updateAttachment(id: string, values: Partial<AttachmentRow>, db: Db = this.db): Promise<void> {
    await db.updateTable('volume_attachment').set({ ...values, updated_at: nowIso() }).where('id', '=', id).execute();
  }

  async destroyAttachment(id: string, db: Db = this.db): Promise<void> {
    const t = nowIso();
    await db.updateTable('volume_attachment').set({ deleted: 1, attach_status: 'detached', detach_time: t, updated_at: t }).where('id', '=', id).execute();
  }

  // ---- quotas
  async projectQuotas(projectId: string, db: Db = this.db): Promise<Record<string, number>> {
    const rows = await db.selectFrom('quotas').selectAll().where('project_id', '=', projectId).execute();
    return Object.fromEntries(rows.map((r: any) => [r.resource, Number(r.hard_limit)]));
  }

  /** The limits in force: the `default` quota class over Cinder's defaults, then the project's own. */
  async effectiveQuotas(projectId: string, db: Db = this.db): Promise<Record<string, number>> {
    return { ...(await this.projectQuotas('__class__default', db)), ...(await this.projectQuotas(projectId, db)) };
  }

  async setQuota(projectId: string, resource: string, limit: number): Promise<void> {
    await this.db.deleteFrom('quotas').where('project_id', '=', projectId).where('resource', '=', resource).execute();
    await this.db.insertInto('quotas').values({ project_id: projectId, resource, hard_limit: limit }).execute();
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
  }

  /** Volumes, gigabytes and snapshots a project holds now (usage is counted, never cached). */
  async usage(projectId: string, db: Db = this.db): Promise<{ volumes: number; gigabytes: number; snapshots: number }> {
    const v = await db.selectFrom('volumes').select((eb: any) => [eb.fn.countAll().as('n'), eb.fn.sum('size').as('gb')])
      .where('project_id', '=', projectId).where('deleted', '=', 0).executeTakeFirst() as any;
    const s = await db.selectFrom('snapshots').select((eb: any) => [eb.fn.countAll().as('n'), eb.fn.sum('volume_size').as('gb')])
      .where('project_id', '=', projectId).where('deleted', '=', 0).executeTakeFirst() as any;
    return { volumes: Number(v?.n ?? 0), gigabytes: Number(v?.gb ?? 0) + Number(s?.gb ?? 0), snapshots: Number(s?.n ?? 0) };
  }

  // ---- services
  async listServices(): Promise<ServiceRow[]> {
    return this.db.selectFrom('services').selectAll().orderBy('binary').orderBy('host').execute() as Promise<ServiceRow[]>;
  }
}
