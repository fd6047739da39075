/**
 * BlockDeviceMapping (nova/objects/block_device.py): one disk of an instance in its cell DB
 * (`block_device_mapping`): the image root disk, a volume attached at boot or later.
 * nova-api and the conductors use the cell DB directly; nova-compute goes through the cell
 * conductor (`object_action create/save/destroy`, `object_class_action_versions`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../common/context.js';
import { registerRemoteException } from '../../common/rpc/index.js';
import { nowIso } from '../db/schema-helpers.js';
import { NovaException } from '../exception.js';
import { NovaObject, registerObject, type FieldKind, type ObjectBackend } from './base.js';
import { cellOf, changedColumns, insertCellRow, registerRemotable } from './backend.js';

export class VolumeBDMNotFound extends NovaException {
  constructor(message: string) {
    super(message, {});
    this.name = 'VolumeBDMNotFound';
    this.code = 404;
  }
}
registerRemoteException('VolumeBDMNotFound', VolumeBDMNotFound);

const COLUMNS = [
  'uuid', 'instance_uuid', 'source_type', 'destination_type', 'guest_format', 'device_type', 'disk_bus', 'boot_index',
  'device_name', 'delete_on_termination', 'snapshot_id', 'volume_id', 'volume_size', 'volume_type', 'image_id', 'no_device',
  'connection_info', 'tag', 'attachment_id',
] as const;
const BOOLS = new Set(['delete_on_termination', 'no_device']);

export class BlockDeviceMapping extends NovaObject {
  static override objName = 'BlockDeviceMapping';
  // Version 1.20: Added attachment_id (Queens); Stein ships 1.20.
  static override VERSION = '1.20';
  static override fields: Record<string, FieldKind> = {
    id: 'int', uuid: 'string', instance_uuid: 'string', source_type: 'string', destination_type: 'string', guest_format: 'string',
    device_type: 'string', disk_bus: 'string', boot_index: 'int', device_name: 'string', delete_on_termination: 'bool',
    snapshot_id: 'string', volume_id: 'string', volume_size: 'int', volume_type: 'string', image_id: 'string', no_device: 'bool',
    connection_info: 'string', tag: 'string', attachment_id: 'string', created_at: 'datetime', updated_at: 'datetime',
    deleted_at: 'datetime', deleted: 'bool',
  };
  declare id: number; declare uuid: string; declare instance_uuid: string; declare source_type: string | null;
  declare destination_type: string | null; declare guest_format: string | null; declare device_type: string | null;
  declare disk_bus: string | null; declare boot_index: number | null; declare device_name: string | null;
  declare delete_on_termination: boolean; declare snapshot_id: string | null; declare volume_id: string | null;
  declare volume_size: number | null; declare volume_type: string | null; declare image_id: string | null;
  declare no_device: boolean; declare connection_info: string | null; declare tag: string | null;
  declare attachment_id: string | null; declare created_at: string; declare updated_at: string | null;

  get isVolume(): boolean {
    return this.destination_type === 'volume';
  }
  get isRoot(): boolean {
    return this.boot_index === 0;
  }

  async create(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'create', {})) return;
    if (!this.uuid) this.uuid = randomUUID();
    this.update(fromRow(await insertCellRow(cellOf(this.backend), 'block_device_mapping', this.uuid, toRow(this.toDict()))));
    this.resetChanges();
  }

  async save(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'save', {})) return;
    const values = changedColumns(this, COLUMNS);
    if (!Object.keys(values).length) return;
    const cell = cellOf(this.backend);
    await cell.db.updateTable('block_device_mapping').set({ ...toRow(values), updated_at: nowIso() }).where('id', '=', this.id).execute();
    this.resetChanges();
  }

  /** Soft-deletes the row (nova's `destroy`). */
  async destroy(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'destroy', {})) return;
    const cell = cellOf(this.backend);
    await cell.db.updateTable('block_device_mapping').set({ deleted: this.id, deleted_at: nowIso() } as never).where('id', '=', this.id).execute();
  }

  static fromRow(row: Record<string, any>, backend: ObjectBackend | null): BlockDeviceMapping {
    const b = new BlockDeviceMapping().update(fromRow(row));
    b.backend = backend;
    b.resetChanges();
    return b;
  }

  /** BlockDeviceMappingList.get_by_instance_uuid. */
  static async listByInstance(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string): Promise<BlockDeviceMapping[]> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'BlockDeviceMappingList', 'get_by_instance_uuid', { instance_uuid: instanceUuid })) as BlockDeviceMapping[];
    const rows = await cellOf(backend).db.selectFrom('block_device_mapping').selectAll().where('instance_uuid', '=', instanceUuid)
      .where('deleted', '=', 0).orderBy('id').execute();
    return rows.map((r) => BlockDeviceMapping.fromRow(r, backend));
  }

  /** BlockDeviceMapping.get_by_volume_and_instance (VolumeBDMNotFound when missing). */
  static async getByVolumeAndInstance(backend: ObjectBackend, ctx: RequestContext, volumeId: string, instanceUuid: string): Promise<BlockDeviceMapping> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'BlockDeviceMapping', 'get_by_volume_and_instance', { volume_id: volumeId, instance_uuid: instanceUuid })) as BlockDeviceMapping;
    const row = await cellOf(backend).db.selectFrom('block_device_mapping').selectAll().where('volume_id', '=', volumeId)
      .where('instance_uuid', '=', instanceUuid).where('deleted', '=', 0).orderBy('id', 'desc').executeTakeFirst();
    if (!row) throw new VolumeBDMNotFound(`No volume Block Device Mapping with id ${volumeId}.`);
    return BlockDeviceMapping.fromRow(row, backend);
  }
}

function toRow(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of COLUMNS) {
    if (!(k in values)) continue;
    const v = values[k];
    out[k] = BOOLS.has(k) ? (v ? 1 : 0) : v ?? null;
  }
  return out;
}

function fromRow(row: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: row['id'], created_at: row['created_at'] ?? null, updated_at: row['updated_at'] ?? null, deleted: Boolean(row['deleted']) };
  for (const k of COLUMNS) out[k] = BOOLS.has(k) ? Boolean(row[k]) : row[k] ?? null;
  return out;
}

registerObject(BlockDeviceMapping);
registerRemotable('BlockDeviceMapping', {
  methods: { create: 'create', save: 'save', destroy: 'destroy' },
  classMethods: {
    get_by_volume_and_instance: (b, ctx, a) => BlockDeviceMapping.getByVolumeAndInstance(b, ctx, a['volume_id'], a['instance_uuid']),
  },
});
registerRemotable('BlockDeviceMappingList', {
  classMethods: { get_by_instance_uuid: (b, ctx, a) => BlockDeviceMapping.listByInstance(b, ctx, a['instance_uuid']) },
});
