/**
 * Cinder's DB API (`cinder/db/api.py` in spirit): rows in, rows out, status changes as
 * compare-and-swap so two racing requests cannot both move a volume.
 * @module
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../common/db/index.js';
import { affectedRows } from '../../common/db/index.js';
import { PreparedQueries } from './prepared.js';

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
  /** The hot per-volume statements, compiled once (see prepared.ts). */
  private readonly prepared: PreparedQueries;
  constructor(readonly database: Database) {
    this.prepared = new PreparedQueries(database.db as Db);
  }
  get db(): Db {
    return this.database.db as Db;
  }

  // ---- volumes
  async createVolume(row: VolumeRow, metadata: Record<string, string>, trx: Db = this.db): Promise<void> {
    const cols = Object.keys(row);
    await this.prepared.run(trx, `insertVolume:${cols.join(',')}`, cols.map((c) => (row as unknown as Record<string, unknown>)[c]), (slot) =>
      trx.insertInto('volumes').values(Object.fromEntries(cols.map((c, i) => [c, slot[i]]))));
    await this.insertMeta('volume_metadata', row.id, metadata, trx);
  }

  async getVolume(id: string, db: Db = this.db): Promise<VolumeRow | undefined> {
    const rows = await this.prepared.rows<VolumeRow>(db, 'getVolume', [id], ([i]) => db.selectFrom('volumes').selectAll().where('id', '=', i!).where('deleted', '=', 0));
    return rows[0];
  }

  /**
   * A volume and its user metadata in one statement (the row joined to its metadata rows),
   * as cinder-volume needs both for the volume's notifications.
   */
  async getVolumeWithMetadata(id: string): Promise<{ volume: VolumeRow; metadata: Record<string, string> } | undefined> {
    const rows = await this.prepared.rows<VolumeRow & { meta_key: string | null; meta_value: string | null }>(this.db, 'getVolumeWithMetadata', [id], ([i]) =>
      this.db.selectFrom('volumes').leftJoin('volume_metadata', 'volume_metadata.volume_id', 'volumes.id')
        .selectAll('volumes').select(['volume_metadata.key as meta_key', 'volume_metadata.value as meta_value'])
        .where('volumes.id', '=', i!).where('volumes.deleted', '=', 0).orderBy('volume_metadata.key'));
    if (!rows.length) return undefined;
    const { meta_key: _k, meta_value: _v, ...volume } = rows[0]!;
    const metadata: Record<string, string> = {};
    for (const r of rows) if (r.meta_key !== null) metadata[r.meta_key] = r.meta_value!;
    return { volume, metadata };
  }

  async listVolumes(projectId: string | null): Promise<VolumeRow[]> {
    let q = this.db.selectFrom('volumes').selectAll().where('deleted', '=', 0);
    if (projectId) q = q.where('project_id', '=', projectId);
    return q.execute() as Promise<VolumeRow[]>;
  }

  /** Compare-and-swap: updates only when the status is one of `from`; true when it did. */
  async updateVolume(id: string, values: Partial<VolumeRow>, from?: string[], db: Db = this.db, extra?: (q: any) => any): Promise<boolean> {
    if (!extra) {
      const cols = Object.keys(values).filter((c) => (values as Record<string, unknown>)[c] !== undefined);
      const args = [...cols.map((c) => (values as Record<string, unknown>)[c]), nowIso(), id, ...(from ?? [])];
      const key = `updateVolume:${cols.join(',')}:${from?.length ?? -1}`;
      return (await this.prepared.affected(db, key, args, (slot) => {
        const set: Record<string, unknown> = {};
        cols.forEach((c, i) => (set[c] = slot[i]));
        set['updated_at'] = slot[cols.length];
        let q = db.updateTable('volumes').set(set).where('id', '=', slot[cols.length + 1]!).where('deleted', '=', 0);
        if (from) q = q.where('status', 'in', slot.slice(cols.length + 2));
        return q;
      })) === 1;
    }
    let q = db.updateTable('volumes').set({ ...values, updated_at: nowIso() }).where('id', '=', id).where('deleted', '=', 0);
    if (from) q = q.where('status', 'in', from);
    if (extra) q = extra(q);
    return affectedRows(await q.execute()) === 1;
  }

  /**
   * `deleting` if the status is one of `from`, nothing is attached, it is not migrating
   * (`AVAILABLE_MIGRATION_STATUS`) and it has no snapshots — with `cascade`, none that could not
   * be deleted. One conditional UPDATE, as Cinder's `conditional_update` with its filters.
   */
  async markDeleting(id: string, from: string[], cascade: boolean): Promise<boolean> {
    const t = nowIso();
    const key = `markDeleting:${from.length}:${cascade}`;
    return (await this.prepared.affected(this.db, key, [t, id, ...from], (slot) => {
      const attached = (eb: any) => eb.exists(eb.selectFrom('volume_attachment').select('volume_attachment.id')
        .whereRef('volume_attachment.volume_id', '=', 'volumes.id').where('volume_attachment.deleted', '=', 0));
      const snapshots = (eb: any) => {
        let q = eb.selectFrom('snapshots').select('snapshots.id').whereRef('snapshots.volume_id', '=', 'volumes.id').where('snapshots.deleted', '=', 0);
        if (cascade) q = q.where('snapshots.status', 'not in', ['available', 'error']);
        return eb.exists(q);
      };
      return this.db.updateTable('volumes').set({ status: 'deleting', terminated_at: slot[0], updated_at: slot[0] })
        .where('id', '=', slot[1]!).where('deleted', '=', 0).where('status', 'in', slot.slice(2))
        .where((eb: any) => eb.or([eb('migration_status', 'is', null), eb('migration_status', 'in', ['deleting', 'error', 'success'])]))
        .where((eb: any) => eb.not(attached(eb)))
        .where((eb: any) => eb.not(snapshots(eb)));
    })) === 1;
  }

  async destroyVolume(id: string, db: Db = this.db): Promise<void> {
    const t = nowIso();
    await this.prepared.run(db, 'destroyVolume', [t, id], ([at, i]) => db.updateTable('volumes')
      .set({ deleted: 1, deleted_at: at, status: 'deleted', terminated_at: at, updated_at: at }).where('id', '=', i!));
    for (const table of ['volume_metadata', 'volume_admin_metadata', 'volume_glance_metadata'] as const) {
      await this.prepared.run(db, `destroyMeta:${table}`, [id], ([i]) => db.deleteFrom(table).where('volume_id', '=', i!));
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
    const rows = await this.prepared.rows(db, `getMeta:${table}`, [ownerId], ([o]) => db.selectFrom(table).select(['key', 'value']).where(OWNER[table], '=', o!).orderBy('key'));
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

  /** Keys of a new owner (nothing to replace yet): one multi-row insert. */
  async insertMeta(table: MetaTable, ownerId: string, meta: Record<string, string>, db: Db = this.db): Promise<void> {
    const rows = Object.entries(meta).map(([key, value]) => ({ [OWNER[table]]: ownerId, key, value: String(value) }));
    if (rows.length) await db.insertInto(table).values(rows).execute();
  }

  /**
   * What a volume view needs besides the row, in one round trip (Cinder's joined loads):
   * user, admin and image metadata and the volume type's name, as (kind, volume_id, key, value)
   * rows; kind is `m`, `a`, `g` or `t` (key `name`).
   */
  async volumeSides(ids: string[], typeIds: string[]): Promise<{ kind: string; volume_id: string; key: string; value: string }[]> {
    if (!ids.length) return [];
    const out: { kind: string; volume_id: string; key: string; value: string }[] = [];
    for (let i = 0; i < ids.length; i += 300) {
      const chunk = ids.slice(i, i + 300);
      const types = i === 0 ? typeIds : [];
      const key = `volumeSides:${chunk.length}:${types.length}`;
      const build = (slot: readonly string[]) => {
        const vols = slot.slice(0, chunk.length);
        const side = (kind: string, table: MetaTable) => this.db.selectFrom(table)
          .select([sql.lit(kind).as('kind'), 'volume_id', 'key', 'value']).where('volume_id', 'in', vols);
        let q = side('m', 'volume_metadata').unionAll(side('a', 'volume_admin_metadata')).unionAll(side('g', 'volume_glance_metadata'));
        if (types.length) {
          q = q.unionAll(this.db.selectFrom('volume_types')
            .select([sql.lit('t').as('kind'), 'id as volume_id', sql.lit('name').as('key'), 'name as value'])
            .where('deleted', '=', 0).where('id', 'in', slot.slice(chunk.length)));
        }
        return q;
      };
      // Only small lists get a cached shape; a long list is compiled once for itself.
      const args = [...chunk, ...types];
      const rows = chunk.length + types.length <= 4 ? await this.prepared.rows(this.db, key, args, build) : await build(args as string[]).execute();
      out.push(...(rows as typeof out));
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
    return (await this.prepared.rows<VolumeTypeRow>(this.db, 'getTypeByName', [name], ([n]) => this.db.selectFrom('volume_types').selectAll()
      .where('deleted', '=', 0).where('name', '=', n!)))[0];
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
    if (volumeIds.length === 1) {
      return this.prepared.rows<AttachmentRow>(db, 'attachmentsOf1', volumeIds, ([v]) => db.selectFrom('volume_attachment').selectAll()
        .where('deleted', '=', 0).where('volume_id', '=', v!).orderBy('created_at'));
    }
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
    const rows = await this.prepared.rows<any>(db, 'effectiveQuotas', ['__class__default', projectId], (slot) => db.selectFrom('quotas').selectAll()
      .where('project_id', 'in', slot));
    const out: Record<string, number> = {};
    for (const r of rows) if (r.project_id !== projectId) out[r.resource] = Number(r.hard_limit);
    for (const r of rows) if (r.project_id === projectId) out[r.resource] = Number(r.hard_limit);
    return out;
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
    // Both tables in one statement: the quota check sits inside the create transaction.
    const [r] = await this.prepared.rows<any>(db, 'usage', [projectId], ([p]) => {
      const count = (table: 'volumes' | 'snapshots', col: 'size' | 'volume_size', what: 'n' | 'gb') => db.selectFrom(table)
        .select((eb: any) => (what === 'n' ? eb.fn.countAll() : eb.fn.sum(col)).as(what)).where('project_id', '=', p!).where('deleted', '=', 0);
      return db.selectNoFrom(() => [
        count('volumes', 'size', 'n').as('vn'), count('volumes', 'size', 'gb').as('vgb'),
        count('snapshots', 'volume_size', 'n').as('sn'), count('snapshots', 'volume_size', 'gb').as('sgb'),
      ] as any);
    });
    return { volumes: Number(r?.vn ?? 0), gigabytes: Number(r?.vgb ?? 0) + Number(r?.sgb ?? 0), snapshots: Number(r?.sn ?? 0) };
  }

  // ---- services
  async disabledServiceHosts(binary: string): Promise<string[]> {
    const rows = await this.prepared.rows<any>(this.db, 'disabledServiceHosts', [binary], ([b]) => this.db.selectFrom('services').select('host')
      .where('binary', '=', b!).where('disabled', '=', 1));
    return rows.map((r: any) => r.host as string);
  }

  async listServices(): Promise<ServiceRow[]> {
    return this.db.selectFrom('services').selectAll().orderBy('binary').orderBy('host').execute() as Promise<ServiceRow[]>;
  }
}
