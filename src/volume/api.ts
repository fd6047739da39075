/**
 * cinder-api's facade over the database and the bus (`cinder/volume/api.py`): the checks and
 * compare-and-swap status changes done in the API process before a cast to the scheduler or to
 * the volume's backend. REST controllers call this; it knows nothing about HTTP bodies.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../common/context.js';
import { ApiError } from '../common/errors.js';
import type { Session } from '../common/http/client.js';
import type { MessageBus } from '../common/rpc/index.js';
import { nowIso, type AttachmentRow, type CinderDb, type SnapshotRow, type VolumeRow } from './db/api.js';
import { checkQuota, quotaSet } from './quota.js';
import { SchedulerAPI, VolumeAPI } from './rpcapi.js';
import {
  invalidInput, invalidSnapshot, invalidVolume, snapshotNotFound, typeNotFound, typeNotFoundByName, volumeNotFound, attachmentNotFound, badRequest,
} from './api/common.js';
import type { VolumeExtras } from './api/views.js';

const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
const DELETE_REFUSED = 'Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';
const GiB = 1024 ** 3;
/** Cinder's `az_cache_duration` default. */
const AZ_CACHE_MS = 3_600_000;

export interface CreateVolumeInput {
  size?: number | null;
  name?: string | null;
  description?: string | null;
  volume_type?: string | null;
  availability_zone?: string | null;
  snapshot_id?: string | null;
  source_volid?: string | null;
  image_id?: string | null;
  metadata?: Record<string, string>;
}

export interface CinderApiOptions {
  db: CinderDb;
  bus: MessageBus;
  host: string;
  glanceSession?: Session | null;
  /** `default_volume_type` (devstack: lvmdriver-1). */
  defaultVolumeType?: string;
  /** AZ given to volumes created without one (`default_availability_zone`/`storage_availability_zone`). */
  defaultAvailabilityZone?: string;
}

export class CinderAPI {
  readonly db: CinderDb;
  readonly scheduler: SchedulerAPI;
  readonly volumeRpc: VolumeAPI;
  private readonly opts: CinderApiOptions;

  constructor(opts: CinderApiOptions) {
    this.opts = opts;
    this.db = opts.db;
    this.scheduler = new SchedulerAPI(opts.bus, { service: 'cinder-api', host: opts.host });
    this.volumeRpc = new VolumeAPI(opts.bus, { service: 'cinder-api', host: opts.host, timeoutMs: 60_000 });
  }

  get defaultTypeName(): string {
    return this.opts.defaultVolumeType ?? 'lvmdriver-1';
  }

  // ---- reads
  /** Metadata, attachments and type names of volumes: two queries whatever their number. */
  async extras(rows: VolumeRow[]): Promise<Map<string, VolumeExtras>> {
    const ids = rows.map((r) => r.id);
    const typeIds = [...new Set(rows.map((r) => r.volume_type_id).filter((t): t is string => !!t))];
    const [sides, atts] = await Promise.all([this.db.volumeSides(ids, typeIds), this.db.attachmentsOf(ids)]);
    const out = new Map<string, VolumeExtras>();
    for (const r of rows) out.set(r.id, { metadata: {}, adminMetadata: {}, glanceMetadata: {}, attachments: [], typeName: null });
    const typeNames = new Map<string, string>();
    for (const x of sides) {
      if (x.kind === 't') {
        typeNames.set(x.volume_id, x.value);
        continue;
      }
      const e = out.get(x.volume_id);
      if (!e) continue;
      (x.kind === 'm' ? e.metadata : x.kind === 'a' ? e.adminMetadata : e.glanceMetadata)[x.key] = x.value;
    }
    for (const a of atts) out.get(a.volume_id)?.attachments.push(a);
    for (const r of rows) if (r.volume_type_id) out.get(r.id)!.typeName = typeNames.get(r.volume_type_id) ?? null;
    return out;
  }

  private visible(ctx: RequestContext, projectId: string): boolean {
    return ctx.isAdmin || ctx.projectId === projectId;
  }

  async getVolume(ctx: RequestContext, id: string): Promise<VolumeRow> {
    const v = await this.db.getVolume(id);
    if (!v || !this.visible(ctx, v.project_id)) throw volumeNotFound(id);
    return v;
  }

  async getSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRow> {
    const s = await this.db.getSnapshot(id);
    if (!s || !this.visible(ctx, s.project_id)) throw snapshotNotFound(id);
    return s;
  }

  /** A type by id or name (`volume_types.get_by_name_or_id`), honouring private-type access. */
  async resolveType(ctx: RequestContext, ref: string) {
    const t = (await this.db.getType(ref)) ?? (await this.db.getTypeByName(ref));
    if (!t) throw /^[0-9a-f-]{36}$/i.test(ref) ? typeNotFound(ref) : typeNotFoundByName(ref);
    if (!t.is_public && !ctx.isAdmin && !(await this.db.typeProjects(t.id)).includes(ctx.projectId ?? '')) throw typeNotFound(ref);
    return t;
  }

  async defaultType() {
    return (await this.db.getTypeByName(this.defaultTypeName)) ?? (await this.db.getTypeByName('__DEFAULT__'));
  }

  private azCache: { zones: { name: string; available: boolean }[]; at: number } | null = null;

  /**
   * The zones a create may name, cached for `az_cache_duration` (an hour) as Cinder's API does;
   * a zone missing from the cache refreshes it once before the request is refused.
   */
  async cachedAvailabilityZones(wanted: string | null): Promise<{ name: string; available: boolean }[]> {
    const fresh = this.azCache && Date.now() - this.azCache.at < AZ_CACHE_MS;
    if (fresh && (!wanted || this.azCache!.zones.some((z) => z.name === wanted))) return this.azCache!.zones;
    const zones = await this.availabilityZones();
    this.azCache = { zones, at: Date.now() };
    return zones;
  }

  async availabilityZones(): Promise<{ name: string; available: boolean }[]> {
    const svcs = (await this.db.listServices()).filter((s) => s.binary === 'cinder-volume');
    const zones = new Map<string, boolean>();
    for (const s of svcs) zones.set(s.availability_zone, (zones.get(s.availability_zone) ?? false) || !s.disabled);
    if (!zones.size) zones.set(this.opts.defaultAvailabilityZone ?? 'nova', true);
    return [...zones].map(([name, available]) => ({ name, available }));
  }

  // ---- volumes
  async createVolume(ctx: RequestContext, input: CreateVolumeInput): Promise<{ row: VolumeRow; extras: VolumeExtras }> {
    let size = input.size ?? null;
    let snapshot: SnapshotRow | undefined;
    let source: VolumeRow | undefined;
    let typeId: string | null = null;
    let typeName: string | null = null;
    let az = input.availability_zone ?? null;
    let bootableHint = false;

    if (input.snapshot_id) {
      snapshot = await this.getSnapshot(ctx, input.snapshot_id);
      if (snapshot.status !== 'available') throw invalidSnapshot("Originating snapshot status must be 'available'");
      size ??= snapshot.volume_size;
      if (size < snapshot.volume_size) {
        throw invalidInput(`Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.volume_size}GB. They must be >= original snapshot size.`);
      }
      typeId = snapshot.volume_type_id;
    }
    if (input.source_volid) {
      source = await this.getVolume(ctx, input.source_volid);
      if (!['available', 'in-use'].includes(source.status)) {
        throw invalidVolume("Unable to create a volume from an originating source volume when its status is not 'available' or 'in-use'.");
      }
      size ??= source.size;
      if (size < source.size) {
        throw invalidInput(`Volume size '${size}'GB cannot be smaller than original volume size  ${source.size}GB. They must be >= original volume size.`);
      }
      typeId = source.volume_type_id;
      az ??= source.availability_zone;
    }
    if (input.image_id) {
      const image = await this.getImage(ctx, input.image_id);
      const imageGb = Math.ceil(Number(image['size'] ?? 0) / GiB);
      const minDisk = Number(image['min_disk'] ?? 0);
      size ??= Math.max(imageGb, minDisk, 1);
      if (image['status'] !== 'active') throw invalidInput(`Image ${input.image_id} is not active.`);
      if (size < imageGb) throw invalidInput(`Size of specified image ${imageGb}GB is larger than volume size ${size}GB.`);
      if (size < minDisk) throw invalidInput(`Volume size ${size}GB cannot be smaller than the image minDisk size ${minDisk}GB.`);
      bootableHint = true;
    }
    if (size === null || !Number.isInteger(size) || size <= 0) {
      throw invalidInput(`Volume size '${size ?? 'None'}' must be an integer and greater than 0`);
    }
    if (input.volume_type) {
      const t = await this.resolveType(ctx, input.volume_type);
      if ((snapshot || source) && typeId && t.id !== typeId) throw invalidInput('Invalid volume_type provided: the type of the source must be used.');
      typeId = t.id;
      typeName = t.name;
    }
    if (!typeId) {
      const t = await this.defaultType();
      typeId = t?.id ?? null;
      typeName = t?.name ?? null;
    }
    // The type's extra specs travel in the request spec (Cinder's `volume_type` with its specs);
    // `multiattach: "<is> True"` makes a multiattach volume.
    const specs = typeId ? await this.db.getMeta('volume_type_extra_specs', typeId) : {};
    const multiattach = specs['multiattach'] === '<is> True';
    const zones = await this.cachedAvailabilityZones(az);
    if (az) {
      if (!zones.some((z) => z.name === az)) throw new ApiError(400, `Availability zone '${az}' is invalid.`, { type: 'InvalidAvailabilityZone' });
    } else {
      az = this.opts.defaultAvailabilityZone ?? zones[0]!.name;
    }

    const t = nowIso();
    const row: VolumeRow = {
      id: randomUUID(), project_id: ctx.projectId ?? '', user_id: ctx.userId, host: null, size, availability_zone: az,
      status: 'creating', attach_status: 'detached', migration_status: null,
      display_name: input.name ?? null, display_description: input.description ?? null, volume_type_id: typeId,
      snapshot_id: snapshot?.id ?? null, source_volid: source?.id ?? null, image_id: input.image_id ?? null,
      bootable: 0, multiattach: multiattach ? 1 : 0, replication_status: null, provider_location: null,
      created_at: t, updated_at: null, launched_at: null, scheduled_at: null, terminated_at: null, deleted: 0, deleted_at: null,
    };
    void bootableHint;
    await this.db.database.transaction(async (trx) => {
      const limits = quotaSet(await this.db.effectiveQuotas(row.project_id, trx as any), []);
      checkQuota(limits, await this.db.usage(row.project_id, trx as any), { volumes: 1, gigabytes: size!, size: size! });
      await this.db.createVolume(row, input.metadata ?? {}, trx as any);
    });
    const req = {
      volume_id: row.id, snapshot_id: row.snapshot_id, source_volid: row.source_volid, image_id: row.image_id,
      request_spec: {
        volume_id: row.id, volume_type_id: typeId, size, availability_zone: az, snapshot_id: row.snapshot_id, source_volid: row.source_volid, image_id: row.image_id,
        volume_type: typeId ? { id: typeId, name: typeName, extra_specs: specs } : null, multiattach,
      },
      filter_properties: {},
    };
    await this.scheduler.createVolume(ctx, req);
    // The new volume's view needs no reads: nothing but its own metadata is attached to it yet.
    if (typeId && !typeName) typeName = (await this.db.getType(typeId))?.name ?? null;
    return { row, extras: { metadata: { ...(input.metadata ?? {}) }, adminMetadata: {}, glanceMetadata: {}, attachments: [], typeName } };
  }

  async getImage(ctx: RequestContext, imageId: string): Promise<Record<string, unknown>> {
    const glance = this.opts.glanceSession;
    const invalid = () => badRequest('Invalid image identifier or unable to access requested image.');
    if (!glance) throw invalid();
    try {
      return (await glance.get<Record<string, unknown>>('image', `/v2/images/${encodeURIComponent(imageId)}`, { userToken: ctx.authToken, ctx })).body;
    } catch {
      throw invalid();
    }
  }

  async deleteVolume(ctx: RequestContext, id: string, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    const v = await this.getVolume(ctx, id);
    // Cinder's conditional update: status, no attachment, not migrating, and no snapshots (or,
    // with cascade, only deletable ones), checked by the UPDATE itself so a racing attach or
    // snapshot cannot slip in between a check and the change.
    const moved = opts.force
      ? await this.db.updateVolume(v.id, { status: 'deleting', terminated_at: nowIso() })
      : await this.db.markDeleting(v.id, DELETABLE, !!opts.cascade);
    if (!moved) throw invalidVolume(DELETE_REFUSED);
    const snaps = opts.cascade || opts.force ? await this.db.listSnapshots(null, v.id) : [];
    if (!v.host) {
      // Never reached a backend (e.g. no valid host): nothing to clean up but the record.
      await this.db.database.transaction(async (trx) => {
        for (const s of snaps) await this.db.destroySnapshot(s.id, trx as any);
        await this.db.destroyVolume(v.id, trx as any);
      });
      return;
    }
    for (const s of snaps) {
      await this.db.updateSnapshot(s.id, { status: 'deleting' });
      await this.volumeRpc.deleteSnapshot(ctx, v.host, s.id);
    }
    await this.volumeRpc.deleteVolume(ctx, v.host, v.id);
  }

  async updateVolume(ctx: RequestContext, id: string, changes: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<VolumeRow> {
    const v = await this.getVolume(ctx, id);
    const values: Partial<VolumeRow> = {};
    if (changes.name !== undefined) values.display_name = changes.name;
    if (changes.description !== undefined) values.display_description = changes.description;
    await this.db.database.transaction(async (trx) => {
      await this.db.updateVolume(v.id, values, undefined, trx as any);
      if (changes.metadata) await this.db.setMeta('volume_metadata', v.id, changes.metadata, true, trx as any);
    });
    return (await this.db.getVolume(v.id))!;
  }

  /**
   * os-extend (`_extend`): an available volume, or from 3.42 (`attachedAllowed`) an in-use one
   * (`extend_attached_volume`; cinder-volume then tells Nova, `volume-extended`).
   */
  async extendVolume(ctx: RequestContext, id: string, newSize: number, attachedAllowed: boolean): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const expected = attachedAllowed && v.status === 'in-use' ? 'in-use' : 'available';
    if (!Number.isInteger(newSize) || newSize <= v.size) {
      throw invalidInput(`New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`);
    }
    const limits = quotaSet(await this.db.effectiveQuotas(v.project_id), []);
    checkQuota(limits, await this.db.usage(v.project_id), { gigabytes: newSize - v.size, size: newSize });
    if (!(await this.db.updateVolume(v.id, { status: 'extending' }, [expected]))) {
      // Cinder prints its expected-values dict as Python does.
      throw invalidVolume(`Volume ${v.id} status must be '{'status': '${expected}'}' to extend, currently ${v.status}.`);
    }
    await this.volumeRpc.extendVolume(ctx, v.host!, v.id, newSize);
  }

  /** 3.40: back to the volume's latest snapshot (volume `reverting`, snapshot `restoring`). */
  async revertToSnapshot(ctx: RequestContext, id: string, snapshotId: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const snap = await this.getSnapshot(ctx, snapshotId);
    if (snap.volume_id !== v.id) throw invalidInput(`Snapshot ${snap.id} is not a snapshot of volume ${v.id}.`);
    const latest = (await this.db.listSnapshots(null, v.id)).sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
    if (!latest || latest.id !== snap.id) throw invalidSnapshot(`Snapshot ${snap.id} is not the latest one of volume ${v.id}.`);
    if (v.size !== snap.volume_size) throw invalidVolume(`Volume ${v.id}'s size ${v.size}GB does not match the snapshot's ${snap.volume_size}GB.`);
    if (snap.status !== 'available') throw invalidSnapshot(`Snapshot status must be available, but current status is: ${snap.status}.`);
    if (!(await this.db.updateVolume(v.id, { status: 'reverting' }, ['available']))) {
      throw invalidVolume(`Volume status must be available, but current status is: ${v.status}.`);
    }
    await this.db.updateSnapshot(snap.id, { status: 'restoring' }, ['available']);
    await this.volumeRpc.revertToSnapshot(ctx, v.host!, v.id, snap.id);
  }

  /**
   * os-retype without migration: the volume keeps its bytes and backend, only the type changes.
   * A type pinned to another backend would need a migration, which this driver does not do.
   */
  async retype(ctx: RequestContext, id: string, newType: string, policy: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    if (!['available', 'in-use'].includes(v.status)) throw invalidVolume(`Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`);
    const t = await this.resolveType(ctx, newType);
    if (t.id === v.volume_type_id) throw invalidInput('New volume type must be different from the current one.');
    const specs = await this.db.getMeta('volume_type_extra_specs', t.id);
    const backend = specs['volume_backend_name'];
    // A retype that changes multiattach is only for a volume no hypervisor holds.
    const multiattach = specs['multiattach'] === '<is> True';
    if (multiattach !== !!v.multiattach && v.status !== 'available') {
      throw invalidInput(`Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: ${v.status}.`);
    }
    const current = v.host?.split('#')[1];
    if (backend && current && backend !== current) {
      throw invalidVolume(policy === 'on-demand' ? 'Volume migration between backends is not supported by this cloud.' : 'Retype requires migration but is not allowed.');
    }
    if (!(await this.db.updateVolume(v.id, { volume_type_id: t.id, multiattach: multiattach ? 1 : 0 }, multiattach !== !!v.multiattach ? ['available'] : ['available', 'in-use']))) {
      throw invalidVolume(`Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`);
    }
  }

  async setReadonly(ctx: RequestContext, id: string, readonly: boolean): Promise<void> {
    const v = await this.getVolume(ctx, id);
    if (v.status !== 'available') throw invalidVolume(`Volume ${v.id} status must be available to update readonly flag, but current status is: ${v.status}.`);
    await this.db.setMeta('volume_admin_metadata', v.id, { readonly: readonly ? 'True' : 'False' }, false);
  }

  async setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    const v = await this.getVolume(ctx, id);
    await this.db.updateVolume(v.id, { bootable: bootable ? 1 : 0 });
  }

  async resetStatus(ctx: RequestContext, id: string, values: { status?: string; attach_status?: string; migration_status?: string }): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const set: Partial<VolumeRow> = {};
    if (values.status) set.status = values.status;
    if (values.attach_status) set.attach_status = values.attach_status;
    if (values.migration_status) set.migration_status = values.migration_status === 'none' ? null : values.migration_status;
    await this.db.updateVolume(v.id, set);
  }

  async uploadToImage(ctx: RequestContext, id: string, meta: { image_name: string; disk_format: string; container_format: string; force: boolean; visibility?: string; protected?: boolean }): Promise<Record<string, unknown>> {
    const v = await this.getVolume(ctx, id);
    const allowed = meta.force ? ['available', 'in-use'] : ['available'];
    if (!allowed.includes(v.status)) throw invalidVolume(`Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`);
    const glance = this.opts.glanceSession;
    if (!glance) throw new ApiError(503, 'The image service is unavailable.');
    const glanceMeta = await this.db.getMeta('volume_glance_metadata', v.id);
    const props: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(glanceMeta)) {
      if (!['image_id', 'image_name', 'checksum', 'size', 'container_format', 'disk_format', 'min_disk', 'min_ram'].includes(k)) props[k] = val;
    }
    const body: Record<string, unknown> = {
      ...props, name: meta.image_name, disk_format: meta.disk_format, container_format: meta.container_format,
      min_disk: v.size, ...(meta.visibility ? { visibility: meta.visibility } : {}), ...(meta.protected !== undefined ? { protected: meta.protected } : {}),
    };
    const image = (await glance.post<Record<string, unknown>>('image', '/v2/images', { body, userToken: ctx.authToken, ctx })).body;
    if (!(await this.db.updateVolume(v.id, { status: 'uploading' }, allowed))) {
      await glance.delete('image', `/v2/images/${String(image['id'])}`, { userToken: ctx.authToken, ctx }).catch(() => undefined);
      throw invalidVolume(`Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`);
    }
    await this.volumeRpc.copyVolumeToImage(ctx, v.host!, v.id, { id: image['id'] });
    const typeName = v.volume_type_id ? (await this.db.getType(v.volume_type_id)) : undefined;
    return {
      id: v.id, updated_at: v.updated_at, status: 'uploading', display_description: v.display_description, size: v.size,
      volume_type: typeName ? { id: typeName.id, name: typeName.name, description: typeName.description, is_public: !!typeName.is_public,
        created_at: typeName.created_at, updated_at: typeName.updated_at, deleted: false, deleted_at: null, extra_specs: {}, qos_specs_id: null } : null,
      image_id: image['id'], container_format: meta.container_format, disk_format: meta.disk_format, image_name: meta.image_name,
      visibility: image['visibility'] ?? 'shared', protected: !!image['protected'], is_public: image['visibility'] === 'public',
    };
  }

  // ---- legacy attach actions (os-reserve ... os-detach)
  async reserve(ctx: RequestContext, id: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const from = v.multiattach ? ['available', 'in-use'] : ['available'];
    if (!(await this.db.updateVolume(v.id, { status: 'attaching' }, from))) {
      throw invalidVolume(`Volume status must be ${from.join(' or ')} to reserve, but the status is ${v.status}.`);
    }
  }

  async unreserve(ctx: RequestContext, id: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const attached = (await this.db.attachmentsOf([v.id])).some((a) => a.attach_status !== 'detached');
    await this.db.updateVolume(v.id, { status: attached ? 'in-use' : 'available' }, ['attaching']);
  }

  async beginDetaching(ctx: RequestContext, id: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    if (!(await this.db.updateVolume(v.id, { status: 'detaching' }, ['in-use'], undefined, (q) => q.where('attach_status', '=', 'attached')))) {
      throw invalidVolume(`Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`);
    }
  }

  async rollDetaching(ctx: RequestContext, id: string): Promise<void> {
    const v = await this.getVolume(ctx, id);
    await this.db.updateVolume(v.id, { status: 'in-use' }, ['detaching']);
  }

  async initializeConnection(ctx: RequestContext, id: string, connector: Record<string, unknown>): Promise<Record<string, unknown>> {
    const v = await this.getVolume(ctx, id);
    if (!v.host) throw invalidVolume('Volume has no host: it was never created on a backend.');
    return this.volumeRpc.initializeConnection(ctx, v.host, v.id, connector);
  }

  async terminateConnection(ctx: RequestContext, id: string, connector: Record<string, unknown> | null): Promise<void> {
    const v = await this.getVolume(ctx, id);
    if (v.host) await this.volumeRpc.terminateConnection(ctx, v.host, v.id, connector);
  }

  /**
   * os-attach (cinder-volume's `attach_volume`): records an attached attachment, the volume
   * `in-use`. The same server (or host) again is a no-op; a second one is refused unless the
   * volume is multiattach, with the error cinder-api relays from the volume service.
   */
  async attach(ctx: RequestContext, id: string, a: { instance_uuid?: string | null; host_name?: string | null; mountpoint: string; mode: string }): Promise<void> {
    const v = await this.getVolume(ctx, id);
    if (!['attaching', 'available', 'reserved', 'in-use'].includes(v.status)) {
      throw invalidVolume(`Volume status must be available or attaching, but current status is: ${v.status}.`);
    }
    const relayed = (reason: string) => badRequest(`Error attaching volume - InvalidVolume: Invalid volume: ${reason}`);
    const atts = await this.db.attachmentsOf([v.id]);
    const mine = atts.find((x) => (a.instance_uuid ? x.instance_uuid === a.instance_uuid : !!a.host_name && x.attached_host === a.host_name));
    if (mine) {
      await this.db.updateVolume(v.id, { status: 'in-use' });
      return;
    }
    if (v.status === 'attaching') {
      const mode = (await this.db.getMeta('volume_admin_metadata', v.id))['attached_mode'];
      if (mode && mode !== a.mode) throw relayed('being attached by different mode');
    }
    if (v.status === 'in-use' && !v.multiattach && !v.migration_status) throw relayed('volume is already attached and multiple attachments are not enabled');
    const t = nowIso();
    await this.db.database.transaction(async (trx) => {
      await this.db.createAttachment({
        id: randomUUID(), volume_id: v.id, instance_uuid: a.instance_uuid ?? null, attached_host: a.host_name ?? null, mountpoint: a.mountpoint,
        attach_time: t, detach_time: null, attach_mode: a.mode, attach_status: 'attached', connection_info: null, connector: null,
        created_at: t, updated_at: null, deleted: 0,
      }, trx as any);
      await this.db.setMeta('volume_admin_metadata', v.id, { attached_mode: a.mode }, false, trx as any);
      await this.db.updateVolume(v.id, { status: 'in-use', attach_status: 'attached' }, undefined, trx as any);
    });
  }

  /** os-detach: one attachment (the only one, or the named one) goes; the volume follows what is left. */
  async detach(ctx: RequestContext, id: string, attachmentId?: string | null): Promise<void> {
    const v = await this.getVolume(ctx, id);
    const atts = await this.db.attachmentsOf([v.id]);
    if (!attachmentId && atts.length > 1) {
      throw badRequest('Error detaching volume - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');
    }
    const target = attachmentId ? atts.find((a) => a.id === attachmentId) : atts[0];
    if (!target) {
      if (attachmentId) throw attachmentNotFound(attachmentId);
      throw invalidVolume('Volume is not attached.');
    }
    await this.removeAttachment(v, target);
  }

  /**
   * `volume_detached`: the attachment goes, and the volume takes its status from the attachments
   * left (`_get_statuses_from_attachments`: the first of attached < attaching < detaching <
   * reserved; none left is `available` / `detached`). So a multiattach volume stays `in-use`
   * until its last attachment is gone.
   */
  private async removeAttachment(v: VolumeRow, att: AttachmentRow): Promise<void> {
    await this.db.database.transaction(async (trx) => {
      await this.db.destroyAttachment(att.id, trx as any);
      const left = (await this.db.attachmentsOf([v.id], trx as any))
        .filter((a) => a.id !== att.id && !a.attach_status.startsWith('error_')).map((a) => a.attach_status).sort();
      const attachStatus = left[0] ?? 'detached';
      const status = ({ attached: 'in-use', detached: 'available' } as Record<string, string>)[attachStatus] ?? attachStatus;
      if (attachStatus === 'detached') await this.db.deleteMetaKey('volume_admin_metadata', v.id, 'attached_mode', trx as any);
      // An upload or a migration sets the status itself when it ends.
      const current = await this.db.getVolume(v.id, trx as any);
      const keepStatus = attachStatus === 'detached' && current && (current.status === 'uploading' || (current.migration_status && !['success', 'error'].includes(current.migration_status)));
      await this.db.updateVolume(v.id, keepStatus ? { attach_status: attachStatus } : { status, attach_status: attachStatus }, undefined, trx as any);
    });
  }

  // ---- attachments API (3.27+)
  /**
   * `_attachment_reserve`: the volume goes `reserved` from available or downloading — or, for a
   * multiattach volume, from in-use too — and a `reserved` attachment is made. A non-multiattach
   * volume in use is refused, except for the server that already holds it (a move between hosts).
   */
  async attachmentCreate(ctx: RequestContext, volumeId: string, instanceUuid: string | null, connector: Record<string, unknown> | null, mode: string): Promise<AttachmentRow> {
    const v = await this.getVolume(ctx, volumeId);
    const from = v.multiattach ? ['available', 'in-use', 'downloading'] : ['available', 'downloading'];
    const refused = (current: string) => invalidVolume(`Volume ${v.id} status must be ${from.join(' or ')} to reserve, but the current status is ${current}.`);
    const t = nowIso();
    const att: AttachmentRow = {
      id: randomUUID(), volume_id: v.id, instance_uuid: instanceUuid, attached_host: null, mountpoint: null, attach_time: null, detach_time: null,
      attach_mode: mode, attach_status: 'reserved', connection_info: null, connector: null, created_at: t, updated_at: null, deleted: 0,
    };
    await this.db.database.transaction(async (trx) => {
      if (!(await this.db.updateVolume(v.id, { status: 'reserved' }, from, trx as any))) {
        const now = (await this.db.getVolume(v.id, trx as any)) ?? v;
        const sameServer = !!instanceUuid && ['in-use', 'reserved'].includes(now.status)
          && (await this.db.attachmentsOf([v.id], trx as any)).some((a) => a.instance_uuid === instanceUuid);
        if (!sameServer) throw refused(now.status);
      }
      await this.db.createAttachment(att, trx as any);
    });
    if (connector) return this.attachmentUpdate(ctx, att.id, connector);
    return att;
  }

  async getAttachment(ctx: RequestContext, id: string): Promise<{ att: AttachmentRow; volume: VolumeRow }> {
    const att = await this.db.getAttachment(id);
    if (!att) throw attachmentNotFound(id);
    const volume = await this.db.getVolume(att.volume_id);
    if (!volume || !this.visible(ctx, volume.project_id)) throw attachmentNotFound(id);
    return { att, volume };
  }

  async listAttachments(ctx: RequestContext, allTenants: boolean): Promise<AttachmentRow[]> {
    const vols = await this.db.listVolumes(ctx.isAdmin && allTenants ? null : ctx.projectId ?? '');
    return this.db.attachmentsOf(vols.map((v) => v.id));
  }

  async attachmentUpdate(ctx: RequestContext, id: string, connector: Record<string, unknown>): Promise<AttachmentRow> {
    const { att, volume } = await this.getAttachment(ctx, id);
    if (volume.status.includes('error')) {
      throw new ApiError(409, `Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume ${volume.id} currently has a status of: ${volume.status} `, { type: 'ResourceConflict' });
    }
    if (!volume.multiattach) {
      // A second connection to a non-multiattach volume (two racing attaches) is a conflict;
      // several attachments of one server (a move between hosts) are not.
      const others = (await this.db.attachmentsOf([volume.id])).filter((a) => a.id !== att.id && a.connection_info);
      if (others.length && others.some((a) => a.instance_uuid !== att.instance_uuid)) {
        throw new ApiError(409, `Resource conflict: duplicate connectors detected on volume ${volume.id}`, { type: 'ResourceConflict' });
      }
    }
    if (!volume.host) throw invalidVolume('Volume has no host: it was never created on a backend.');
    await this.volumeRpc.attachmentUpdate(ctx, volume.host, volume.id, connector, att.id);
    return (await this.db.getAttachment(att.id))!;
  }

  async attachmentComplete(ctx: RequestContext, id: string): Promise<void> {
    const { att, volume } = await this.getAttachment(ctx, id);
    // Cinder completes an attachment with or without a connection: Nova completes a
    // connector-less one for a shelved-offloaded server and connects it at unshelve.
    await this.db.database.transaction(async (trx) => {
      await this.db.updateAttachment(att.id, { attach_status: 'attached', attach_time: nowIso() }, trx as any);
      await this.db.setMeta('volume_admin_metadata', volume.id, { attached_mode: att.attach_mode ?? 'rw' }, false, trx as any);
      await this.db.updateVolume(volume.id, { status: 'in-use', attach_status: 'attached' }, undefined, trx as any);
    });
  }

  /** Returns the attachments left on the volume. */
  async attachmentDelete(ctx: RequestContext, id: string): Promise<AttachmentRow[]> {
    const { att, volume } = await this.getAttachment(ctx, id);
    if (volume.host && att.connector) await this.volumeRpc.attachmentDelete(ctx, volume.host, volume.id, att.id);
    await this.removeAttachment(volume, att);
    return (await this.db.attachmentsOf([volume.id]));
  }

  // ---- snapshots
  async createSnapshot(ctx: RequestContext, input: { volume_id: string; name?: string | null; description?: string | null; force?: boolean; metadata?: Record<string, string> }): Promise<SnapshotRow> {
    const v = await this.db.getVolume(input.volume_id);
    if (!v || !this.visible(ctx, v.project_id)) throw volumeNotFound(input.volume_id);
    const allowed = input.force ? ['available', 'in-use'] : ['available'];
    if (!allowed.includes(v.status)) throw invalidVolume(`Volume ${v.id} status must be available${input.force ? ' or in-use' : ''}, but current status is: ${v.status}.`);
    const t = nowIso();
    const row: SnapshotRow = {
      id: randomUUID(), volume_id: v.id, project_id: ctx.projectId ?? v.project_id, user_id: ctx.userId, status: 'creating', progress: '0%',
      volume_size: v.size, display_name: input.name ?? null, display_description: input.description ?? null, volume_type_id: v.volume_type_id,
      provider_location: null, created_at: t, updated_at: null, deleted: 0, deleted_at: null,
    };
    await this.db.database.transaction(async (trx) => {
      const limits = quotaSet(await this.db.effectiveQuotas(row.project_id, trx as any), []);
      checkQuota(limits, await this.db.usage(row.project_id, trx as any), { snapshots: 1, gigabytes: v.size });
      await this.db.createSnapshot(row, input.metadata ?? {}, trx as any);
    });
    await this.volumeRpc.createSnapshot(ctx, v.host!, row.id);
    return row;
  }

  async deleteSnapshot(ctx: RequestContext, id: string, force = false): Promise<void> {
    const s = await this.getSnapshot(ctx, id);
    const from = force ? undefined : ['available', 'error', 'error_deleting'];
    const ok = await this.db.updateSnapshot(s.id, { status: 'deleting' }, from);
    if (!ok) throw invalidSnapshot('Volume Snapshot status must be available or error and must not be part of a group.');
    const v = await this.db.getVolume(s.volume_id);
    if (!v?.host) {
      await this.db.destroySnapshot(s.id);
      return;
    }
    await this.volumeRpc.deleteSnapshot(ctx, v.host, s.id);
  }
}
