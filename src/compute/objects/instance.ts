/**
 * Instance (nova/objects/instance.py). In nova-compute its `save()` travels to the cell
 * conductor as `object_action`; in the conductors and nova-api it writes the cell DB directly,
 * with compare-and-swap on `expected_task_state`.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import * as cellApi from '../db/cell-api.js';
import { NovaObject, registerObject, type FieldKind, type ObjectBackend } from './base.js';
import { cellOf, registerRemotable } from './backend.js';
import { INSTANCE_COLUMN_FIELDS } from './fields.js';
import { Flavor } from './flavor.js';

export interface NetworkInfoVif {
  id: string;
  address: string;
  network: { id: string; label: string; subnets: { cidr: string; ips: { address: string; type: 'fixed' | 'floating'; version: number; floating_ips?: { address: string }[] }[] }[] };
  type: string;
  details: Record<string, unknown>;
  devname: string;
  active: boolean;
  vnic_type: string;
  preserve_on_delete: boolean;
}

export class Instance extends NovaObject {
  static override objName = 'Instance';
  // Version 2.4: Added keypairs ... (Stein). Fields below are the subset Stratus stores.
  static override VERSION = '2.4';
  static override fields: Record<string, FieldKind> = {
    ...INSTANCE_COLUMN_FIELDS,
    flavor: 'object:Flavor', metadata: 'dict', system_metadata: 'dict', info_cache: 'dict', tags: 'list', fault: 'dict',
    trusted_certs: 'dict',
  };
  declare id: number; declare uuid: string; declare user_id: string; declare project_id: string; declare image_ref: string;
  declare hostname: string; declare launch_index: number; declare key_name: string | null; declare key_data: string | null;
  declare power_state: number; declare vm_state: string; declare task_state: string | null; declare memory_mb: number;
  declare vcpus: number; declare root_gb: number; declare ephemeral_gb: number; declare host: string | null; declare node: string | null;
  declare instance_type_id: number; declare user_data: string | null; declare reservation_id: string;
  declare launched_at: string | null; declare terminated_at: string | null; declare availability_zone: string | null;
  declare display_name: string; declare display_description: string | null; declare launched_on: string | null;
  declare locked: boolean; declare locked_by: string | null; declare root_device_name: string | null;
  declare config_drive: string; declare access_ip_v4: string | null; declare access_ip_v6: string | null;
  declare auto_disk_config: boolean; declare progress: number | null; declare created_at: string; declare updated_at: string | null;
  declare deleted_at: string | null; declare deleted: boolean;
  declare flavor: Flavor; declare metadata: Record<string, string>; declare system_metadata: Record<string, string>;
  declare info_cache: { network_info: NetworkInfoVif[] }; declare tags: string[];
  declare fault: { code: number; message: string; details: string; created: string; host: string | null } | null;
  /** TrustedCerts (instance_extra.trusted_certs): certificate ids for image signature validation (2.63). */
  declare trusted_certs: { ids: string[] } | null;

  /** `track = false` skips change tracking for objects only read (list views). */
  static fromFull(full: cellApi.InstanceFull, backend: ObjectBackend | null, track = true): Instance {
    const inst = new Instance();
    inst.backend = backend;
    Object.assign(inst, cellApi.instanceFromRow(full.row));
    if (full.flavor) inst.flavor = Object.assign(new Flavor(), full.flavor);
    inst.metadata = full.metadata;
    inst.system_metadata = full.system_metadata;
    inst.info_cache = { network_info: full.network_info as NetworkInfoVif[] };
    inst.tags = full.tags;
    inst.trusted_certs = full.trusted_certs ?? null;
    inst.fault = full.fault
      ? { code: full.fault['code'], message: full.fault['message'] ?? '', details: full.fault['details'] ?? '', created: full.fault['created_at'], host: full.fault['host'] ?? null }
      : null;
    if (track) inst.resetChanges();
    return inst;
  }

  /** Inserts the instance and its side rows into the cell DB (conductor / API only). */
  async create(_ctx: RequestContext): Promise<void> {
    const cell = cellOf(this.backend);
    const row = await cellApi.instanceCreate(cell, this.toDict(), {
      flavor: this.flavor ? this.flavor.toDict() : null,
      network_info: this.info_cache?.network_info ?? [],
      metadata: this.metadata ?? {},
      system_metadata: this.system_metadata ?? {},
      tags: this.tags ?? [],
      trusted_certs: this.isSet('trusted_certs') ? this.trusted_certs : null,
    });
    this.update(cellApi.instanceFromRow(row));
    this.resetChanges();
  }

  /** Writes changed fields; `expected_task_state` makes it a compare-and-swap. */
  async save(ctx: RequestContext, exp: cellApi.UpdateExpectations = {}): Promise<void> {
    if (await this.remote(ctx, 'save', { ...exp })) return;
    const changed = this.whatChanged();
    if (changed.length === 0 && exp.expected_task_state === undefined) return;
    const values: Record<string, unknown> = {};
    for (const k of changed) values[k] = this.get(k);
    const row = await cellApi.instanceUpdate(cellOf(this.backend), this.uuid, values, {
      flavor: changed.includes('flavor') ? this.flavor.toDict() : undefined,
      network_info: changed.includes('info_cache') ? this.info_cache.network_info : undefined,
      metadata: changed.includes('metadata') ? this.metadata : undefined,
      system_metadata: changed.includes('system_metadata') ? this.system_metadata : undefined,
      tags: changed.includes('tags') ? this.tags : undefined,
      trusted_certs: changed.includes('trusted_certs') ? this.trusted_certs : undefined,
    }, exp);
    this.update(cellApi.instanceFromRow(row));
    this.resetChanges();
  }

  async refresh(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'refresh', {})) return;
    const fresh = await cellApi.instanceGetByUuid(cellOf(this.backend), this.uuid, 'yes');
    const other = Instance.fromFull(fresh, this.backend);
    this.update(other.toDictShallow());
    this.resetChanges();
  }

  async destroy(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'destroy', {})) return;
    const row = await cellApi.instanceDestroy(cellOf(this.backend), this.uuid);
    this.update(cellApi.instanceFromRow(row));
    this.resetChanges();
  }

  /** Field values without flattening nested objects. */
  toDictShallow(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(Instance.fields)) if (this.isSet(k)) out[k] = this.get(k);
    return out;
  }

  static async getByUuid(backend: ObjectBackend, ctx: RequestContext, uuid: string): Promise<Instance> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'Instance', 'get_by_uuid', { uuid })) as Instance;
    return Instance.fromFull(await cellApi.instanceGetByUuid(cellOf(backend), uuid, ctx.readDeleted), backend);
  }

  /** InstanceList.get_by_host: what a compute host owns according to the DB. */
  static async listByHost(backend: ObjectBackend, ctx: RequestContext, host: string): Promise<Instance[]> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'InstanceList', 'get_by_host', { host })) as Instance[];
    return (await cellApi.instanceList(cellOf(backend), { host })).map((f) => Instance.fromFull(f, backend));
  }

  /** Network info from the info cache. */
  get networkInfo(): NetworkInfoVif[] {
    return this.info_cache?.network_info ?? [];
  }
}
registerObject(Instance);
registerRemotable('Instance', {
  methods: { save: 'save', refresh: 'refresh', destroy: 'destroy' },
  classMethods: { get_by_uuid: (b, ctx, a) => Instance.getByUuid(b, ctx, a['uuid']) },
});
registerRemotable('InstanceList', { classMethods: { get_by_host: (b, ctx, a) => Instance.listByHost(b, ctx, a['host']) } });
