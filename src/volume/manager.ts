/**
 * cinder-volume's manager (`cinder/volume/manager.py`): the RPC endpoint on `cinder-volume.<host@backend>`
 * that drives the driver and moves statuses the way Cinder does (`creating -> available | error`,
 * `deleting -> deleted | error_deleting`, `extending -> available | error_extending`,
 * `uploading -> available`, snapshots `creating -> available`, `deleting -> deleted`).
 * @module
 */
import { Readable } from 'node:stream';
import { RequestContext } from '../common/context.js';
import type { Session } from '../common/http/client.js';
import { getLogger, type Logger } from '../common/log.js';
import { Notifier, type MessageBus } from '../common/rpc/index.js';
import { nowIso, type CinderDb, type VolumeRow } from './db/api.js';
import type { VolumeDriver } from './drivers/driver.js';
import { SchedulerAPI, type CreateVolumeRequest } from './rpcapi.js';
import { Action, recordMessage } from './messages.js';

/** Image properties Cinder keeps as volume_glance_metadata besides the custom ones. */
const IMAGE_CORE = ['checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size'] as const;
const IMAGE_SKIP = new Set(['id', 'name', 'status', 'visibility', 'protected', 'owner', 'tags', 'file', 'schema', 'self', 'locations',
  'created_at', 'updated_at', 'direct_url', 'os_hash_algo', 'os_hash_value', 'virtual_size', 'os_hidden', 'stores']);

export interface VolumeManagerOptions {
  db: CinderDb;
  driver: VolumeDriver;
  bus: MessageBus;
  /** `host@backend` */
  host: string;
  availabilityZone?: string;
  glanceSession?: Session | null;
  novaSession?: Session | null;
}

export class VolumeManager {
  readonly target = { version: '3.18' };
  private readonly db: CinderDb;
  private readonly driver: VolumeDriver;
  private readonly scheduler: SchedulerAPI;
  private readonly log: Logger;
  private readonly notifier: Notifier;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.db = opts.db;
    this.driver = opts.driver;
    this.notifier = new Notifier(opts.bus, { publisherId: `volume.${opts.host}`, service: 'cinder-volume', host: opts.host });
    this.scheduler = new SchedulerAPI(opts.bus, { service: 'cinder-volume', host: opts.host });
    this.log = getLogger('cinder-volume', opts.host);
  }

  /** Tells every scheduler this backend's capacity (`_report_driver_status` + publish). */
  async publish_service_capabilities(ctx: RequestContext): Promise<void> {
    const allocated = await this.db.allocatedOnHost(`${this.opts.host}#`);
    const stats = await this.driver.stats(allocated);
    await this.scheduler.updateServiceCapabilities(ctx, 'volume', this.opts.host, {
      ...stats, pool_name: this.driver.backendName, availability_zone: this.opts.availabilityZone ?? 'nova',
    });
  }

  /** `get_capabilities`: what the backend can do, for `GET /capabilities/{host}`. */
  async get_capabilities(_ctx: RequestContext): Promise<Record<string, unknown>> {
    const stats = await this.driver.stats(await this.db.allocatedOnHost(`${this.opts.host}#`));
    return {
      namespace: `OS::Storage::Capabilities::${this.opts.host}`, vendor_name: stats.vendor_name, volume_backend_name: stats.volume_backend_name,
      pool_name: this.driver.backendName, driver_version: stats.driver_version, storage_protocol: stats.storage_protocol,
      display_name: null, description: null, visibility: null, replication_targets: [],
      properties: {
        thin_provisioning: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
      },
    };
  }

  async create_volume(ctx: RequestContext, req: CreateVolumeRequest): Promise<void> {
    const found = await this.db.getVolumeWithMetadata(req.volume_id);
    if (!found) return;
    const { volume: vol, metadata } = found;
    await this.notifyVolume(ctx, vol.id, 'create.start', vol, metadata);
    try {
      const glance: Record<string, string> = {};
      let bootable = false;
      if (req.snapshot_id) {
        const snap = await this.db.getSnapshot(req.snapshot_id);
        if (!snap) throw new Error(`Snapshot ${req.snapshot_id} could not be found.`);
        await this.driver.createFromSnapshot(vol, snap);
        const src = await this.db.getVolume(snap.volume_id);
        bootable = !!src?.bootable;
        Object.assign(glance, await this.db.getMeta('volume_glance_metadata', snap.volume_id));
      } else if (req.source_volid) {
        const src = await this.db.getVolume(req.source_volid);
        if (!src) throw new Error(`Volume ${req.source_volid} could not be found.`);
        await this.driver.createCloned(vol, src);
        bootable = !!src.bootable;
        Object.assign(glance, await this.db.getMeta('volume_glance_metadata', src.id));
      } else if (req.image_id) {
        Object.assign(glance, await this.copyImage(ctx, vol, req.image_id));
        bootable = true;
      } else {
        await this.driver.createVolume(vol);
      }
      // One transaction for the state change (and the image metadata that comes with it).
      const done = { status: 'available', bootable: bootable ? 1 : 0, launched_at: nowIso() };
      const moved = await this.db.database.transaction(async (trx) => {
        if (Object.keys(glance).length) await this.db.setMeta('volume_glance_metadata', vol.id, glance, true, trx as any);
        return this.db.updateVolume(vol.id, done, ['creating', 'downloading'], trx as any);
      });
      // The row as it now stands, without reading it back (a volume deleted meanwhile is re-read).
      await this.notifyVolume(ctx, vol.id, 'create.end', moved ? { ...vol, ...done } : undefined, moved ? metadata : undefined);
    } catch (e) {
      this.log.error({ err: e, volume_id: vol.id }, 'Volume create failed');
      await this.db.updateVolume(vol.id, { status: 'error' });
      await this.notifyVolume(ctx, vol.id, 'create.error');
      await recordMessage(this.db, ctx, {
        projectId: vol.project_id, resourceType: 'VOLUME', resourceUuid: vol.id,
        action: req.image_id ? Action.COPY_IMAGE_TO_VOLUME : Action.CREATE_VOLUME_FROM_BACKEND,
      });
    }
    this.capacityChanged();
  }

  /** `volume_utils.notify_about_volume_usage`: `volume.<event>` with the volume's usage info. */
  private async notifyVolume(ctx: RequestContext, id: string, event: string, row?: VolumeRow, metadata?: Record<string, string>): Promise<void> {
    const v = row ?? (await this.db.getVolume(id));
    if (!v) return;
    await this.notifier.info(ctx, `volume.${event}`, {
      tenant_id: v.project_id, host: v.host, user_id: v.user_id, availability_zone: v.availability_zone, volume_id: v.id,
      volume_type: v.volume_type_id, display_name: v.display_name, launched_at: v.launched_at, created_at: v.created_at,
      status: v.status, snapshot_id: v.snapshot_id, size: v.size, replication_status: v.replication_status,
      metadata: metadata ?? await this.db.getMeta('volume_metadata', v.id),
    });
  }

  private async notifySnapshot(ctx: RequestContext, id: string, event: string): Promise<void> {
    const s = await this.db.getSnapshot(id);
    if (!s) return;
    await this.notifier.info(ctx, `snapshot.${event}`, {
      tenant_id: s.project_id, user_id: s.user_id, volume_id: s.volume_id, volume_size: s.volume_size, snapshot_id: s.id,
      display_name: s.display_name, created_at: s.created_at, status: s.status, deleted: s.deleted ? 'True' : '',
    });
  }

  private publishTimer: NodeJS.Timeout | null = null;
  /**
   * Capacity changed: report it soon, at most once a second (Cinder reports only periodically;
   * the scheduler consumes capacity itself in between).
   */
  private capacityChanged(): void {
    if (this.publishTimer) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      void this.publish_service_capabilities(RequestContext.admin()).catch(() => undefined);
    }, 1000);
    this.publishTimer.unref();
  }

  stopTimers(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
  }

  private async copyImage(ctx: RequestContext, vol: VolumeRow, imageId: string): Promise<Record<string, string>> {
    const glance = this.opts.glanceSession;
    if (!glance) throw new Error('No image service is configured');
    const image = (await glance.get<Record<string, unknown>>('image', `/v2/images/${imageId}`, { userToken: ctx.authToken, ctx })).body;
    await this.db.updateVolume(vol.id, { status: 'downloading' }, ['creating']);
    const res = await glance.get<ReadableStream<Uint8Array>>('image', `/v2/images/${imageId}/file`, { userToken: ctx.authToken, ctx, responseType: 'stream' });
    await this.driver.copyImageToVolume(vol, Readable.fromWeb(res.body as any));
    const meta: Record<string, string> = { image_id: imageId, image_name: String(image['name'] ?? '') };
    for (const k of IMAGE_CORE) if (image[k] !== undefined && image[k] !== null) meta[k] = String(image[k]);
    for (const [k, v] of Object.entries(image)) {
      if (!IMAGE_SKIP.has(k) && !(k in meta) && v !== null && typeof v !== 'object') meta[k] = String(v);
    }
    return meta;
  }

  async delete_volume(ctx: RequestContext, args: { volume_id: string }): Promise<void> {
    const found = await this.db.getVolumeWithMetadata(args.volume_id);
    if (!found) return;
    const vol = found.volume;
    await this.notifyVolume(ctx, vol.id, 'delete.start', vol, found.metadata);
    try {
      await this.driver.deleteVolume(vol);
      await this.db.database.transaction((trx) => this.db.destroyVolume(vol.id, trx as any));
      await this.notifier.info(ctx, 'volume.delete.end', { tenant_id: vol.project_id, host: vol.host, user_id: vol.user_id, volume_id: vol.id, size: vol.size, status: 'deleted' });
    } catch (e) {
      this.log.error({ err: e, volume_id: vol.id }, 'Volume delete failed');
      await this.db.updateVolume(vol.id, { status: 'error_deleting' });
    }
    this.capacityChanged();
  }

  async create_snapshot(ctx: RequestContext, args: { snapshot_id: string }): Promise<void> {
    const snap = await this.db.getSnapshot(args.snapshot_id);
    if (!snap) return;
    await this.notifySnapshot(ctx, snap.id, 'create.start');
    try {
      await this.driver.createSnapshot(snap);
      await this.db.updateSnapshot(snap.id, { status: 'available', progress: '100%' }, ['creating']);
      await this.notifySnapshot(ctx, snap.id, 'create.end');
    } catch (e) {
      this.log.error({ err: e, snapshot_id: snap.id }, 'Snapshot create failed');
      await this.db.updateSnapshot(snap.id, { status: 'error' });
      await recordMessage(this.db, ctx, { projectId: snap.project_id, resourceType: 'VOLUME_SNAPSHOT', resourceUuid: snap.id, action: Action.SNAPSHOT_CREATE });
    }
  }

  async delete_snapshot(ctx: RequestContext, args: { snapshot_id: string }): Promise<void> {
    const snap = await this.db.getSnapshot(args.snapshot_id);
    if (!snap) return;
    await this.notifySnapshot(ctx, snap.id, 'delete.start');
    try {
      await this.driver.deleteSnapshot(snap);
      await this.db.destroySnapshot(snap.id);
      await this.notifier.info(ctx, 'snapshot.delete.end', { tenant_id: snap.project_id, user_id: snap.user_id, volume_id: snap.volume_id, snapshot_id: snap.id, status: 'deleted' });
    } catch (e) {
      this.log.error({ err: e, snapshot_id: snap.id }, 'Snapshot delete failed');
      await this.db.updateSnapshot(snap.id, { status: 'error_deleting' });
    }
  }

  async revert_to_snapshot(ctx: RequestContext, args: { volume_id: string; snapshot_id: string }): Promise<void> {
    const vol = await this.db.getVolume(args.volume_id);
    const snap = await this.db.getSnapshot(args.snapshot_id);
    if (!vol || !snap) return;
    await this.notifyVolume(ctx, vol.id, 'revert.start', vol);
    try {
      await this.driver.revertToSnapshot(vol, snap);
      await this.db.updateVolume(vol.id, { status: 'available' }, ['reverting']);
      await this.db.updateSnapshot(snap.id, { status: 'available' }, ['restoring']);
      await this.notifyVolume(ctx, vol.id, 'revert.end');
    } catch (e) {
      this.log.error({ err: e, volume_id: vol.id, snapshot_id: snap.id }, 'Revert to snapshot failed');
      await this.db.updateVolume(vol.id, { status: 'error' });
      await this.db.updateSnapshot(snap.id, { status: 'available' });
    }
  }

  async extend_volume(ctx: RequestContext, args: { volume_id: string; new_size: number }): Promise<void> {
    const vol = await this.db.getVolume(args.volume_id);
    if (!vol) return;
    const attachments = (await this.db.attachmentsOf([vol.id])).filter((a) => a.attach_status === 'attached');
    const back = attachments.length ? 'in-use' : 'available';
    await this.notifyVolume(ctx, vol.id, 'resize.start', vol);
    try {
      await this.driver.extendVolume(vol, args.new_size);
      await this.db.updateVolume(vol.id, { size: args.new_size, status: back }, ['extending']);
      await this.notifyVolume(ctx, vol.id, 'resize.end');
    } catch (e) {
      this.log.error({ err: e, volume_id: vol.id }, 'Volume extend failed');
      await this.db.updateVolume(vol.id, { status: 'error_extending' });
      await recordMessage(this.db, ctx, { projectId: vol.project_id, resourceType: 'VOLUME', resourceUuid: vol.id, action: Action.EXTEND_VOLUME });
      return;
    }
    // An attached volume grew under a running guest: tell Nova (`volume-extended`).
    const nova = this.opts.novaSession;
    const servers = attachments.map((a) => a.instance_uuid).filter((s): s is string => !!s);
    if (nova && servers.length) {
      const events = servers.map((s) => ({ name: 'volume-extended', server_uuid: s, tag: vol.id }));
      await nova.post('compute', '/os-server-external-events', { body: { events }, microversion: '2.51', ctx, okStatuses: [207, 404] })
        .catch((e) => this.log.warn({ err: e, volume_id: vol.id }, 'Failed to send volume-extended events to Nova'));
    }
    this.capacityChanged();
  }

  async copy_volume_to_image(ctx: RequestContext, args: { volume_id: string; image_meta: { id: string } }): Promise<void> {
    const vol = await this.db.getVolume(args.volume_id);
    if (!vol) return;
    const glance = this.opts.glanceSession;
    const back = (await this.db.attachmentsOf([vol.id])).some((a) => a.attach_status === 'attached') ? 'in-use' : 'available';
    try {
      if (!glance) throw new Error('No image service is configured');
      const { stream } = await this.driver.openForRead(vol);
      await glance.put('image', `/v2/images/${args.image_meta.id}/file`, {
        rawBody: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>,
        userToken: ctx.authToken, ctx, timeoutMs: 600_000,
      });
    } catch (e) {
      this.log.error({ err: e, volume_id: vol.id }, 'Upload to image failed');
      await recordMessage(this.db, ctx, { projectId: vol.project_id, resourceType: 'VOLUME', resourceUuid: vol.id, action: Action.COPY_VOLUME_TO_IMAGE });
      await glance?.delete('image', `/v2/images/${args.image_meta.id}`, { userToken: ctx.authToken, ctx }).catch(() => undefined);
    }
    await this.db.updateVolume(vol.id, { status: back }, ['uploading']);
  }

  private async readonly(volumeId: string): Promise<boolean> {
    const admin = await this.db.getMeta('volume_admin_metadata', volumeId);
    return admin['readonly'] === 'True';
  }

  async initialize_connection(_ctx: RequestContext, args: { volume_id: string; connector: Record<string, unknown> | null }): Promise<Record<string, unknown>> {
    const vol = await this.db.getVolume(args.volume_id);
    if (!vol) throw new Error(`Volume ${args.volume_id} could not be found.`);
    const info = await this.driver.initializeConnection(vol, args.connector, await this.readonly(vol.id));
    return info as unknown as Record<string, unknown>;
  }

  async terminate_connection(_ctx: RequestContext, args: { volume_id: string; connector: Record<string, unknown> | null }): Promise<void> {
    const vol = await this.db.getVolume(args.volume_id);
    if (vol) await this.driver.terminateConnection(vol, args.connector);
  }

  /** New attach flow (3.27+): export for the connector, attachment `attaching`, volume `attaching`. */
  async attachment_update(_ctx: RequestContext, args: { volume_id: string; connector: Record<string, unknown>; attachment_id: string }): Promise<Record<string, unknown>> {
    const vol = await this.db.getVolume(args.volume_id);
    if (!vol) throw new Error(`Volume ${args.volume_id} could not be found.`);
    const ro = await this.readonly(vol.id);
    const info = await this.driver.initializeConnection(vol, args.connector, ro);
    const connInfo = { ...info, data: { ...info.data }, attachment_id: args.attachment_id } as Record<string, unknown>;
    const host = typeof args.connector?.['host'] === 'string' ? args.connector['host'] as string : null;
    const mountpoint = typeof args.connector?.['mountpoint'] === 'string' ? args.connector['mountpoint'] as string : null;
    await this.db.updateAttachment(args.attachment_id, {
      attach_status: 'attaching', connection_info: JSON.stringify(connInfo), connector: JSON.stringify(args.connector),
      attached_host: host, ...(mountpoint ? { mountpoint } : {}), attach_mode: ro ? 'ro' : 'rw',
    });
    await this.db.updateVolume(vol.id, { status: 'attaching', attach_status: 'attaching' }, ['reserved', 'attaching', 'in-use', 'available', 'downloading']);
    return connInfo;
  }

  async attachment_delete(_ctx: RequestContext, args: { volume_id: string; attachment_id: string }): Promise<void> {
    const vol = await this.db.getVolume(args.volume_id);
    const att = await this.db.getAttachment(args.attachment_id);
    if (vol && att?.connector) await this.driver.terminateConnection(vol, JSON.parse(att.connector));
  }
}
