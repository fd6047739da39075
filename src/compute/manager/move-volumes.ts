/**
 * A server's Cinder volumes across moves (nova/compute/manager.py), so that after a resize,
 * cold or live migration or evacuation the volumes are still `in-use`, attached to the server,
 * with the new host's connector:
 *
 * - `_terminate_volume_connections` (resize/migrate source, revert destination, evacuation
 *   destination for the dead host's attachments): the guest lets go of each volume and a new,
 *   connector-less attachment replaces the old one (the volume stays reserved for the server).
 * - `_update_volume_attachments` + connect + `_complete_volume_attachments` (finish_resize
 *   destination, finish_revert_resize source, evacuation destination): the attachment gets this
 *   host's connector, the guest connects, the attachment completes (`in-use`).
 * - Live migration: `pre_live_migration` on the destination makes a second attachment with its
 *   connector and completes it; `_post_live_migration` on the source deletes the old ones;
 *   a rollback deletes the new ones and puts the old ones back on the BDMs.
 *
 * A host without Cinder (no volume hooks) leaves volumes alone.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import type { ComputeManager } from '../manager.js';
import { BlockDeviceMapping } from '../objects/block-device.js';
import type { Instance } from '../objects/instance.js';
import type { CinderAPI } from '../volume/cinder.js';

/** volume id -> the attachment it had before a live migration (migrate_data.old_vol_attachment_ids). */
export type OldAttachments = Record<string, string>;

export class MoveVolumes {
  constructor(private readonly m: ComputeManager) {}

  private get cinder(): CinderAPI | null {
    return (this.m.volumes as { cinder?: CinderAPI } | null)?.cinder ?? null;
  }

  private async volumeBdms(ctx: RequestContext, instance: Instance): Promise<BlockDeviceMapping[]> {
    if (!this.cinder) return [];
    const bdms = await BlockDeviceMapping.listByInstance(this.m.backend, ctx, instance.uuid).catch(() => [] as BlockDeviceMapping[]);
    return bdms.filter((b) => b.isVolume && b.volume_id && b.attachment_id);
  }

  /** `_terminate_volume_connections`: disconnect here, a fresh reserved attachment replaces each one. */
  async terminateConnections(ctx: RequestContext, instance: Instance, opts: { disconnect?: boolean } = {}): Promise<void> {
    const cinder = this.cinder;
    for (const bdm of await this.volumeBdms(ctx, instance)) {
      if (opts.disconnect !== false && bdm.device_name && this.m.driver.instanceExists(instance)) {
        await this.m.driver.detachVolume?.(instance, parse(bdm.connection_info), bdm.device_name).catch(() => undefined);
      }
      const old = bdm.attachment_id!;
      const fresh = await cinder!.attachmentCreate(ctx, instance.project_id, bdm.volume_id!, instance.uuid);
      bdm.attachment_id = fresh['id'];
      bdm.connection_info = null;
      await bdm.save(ctx);
      await cinder!.attachmentDelete(ctx, instance.project_id, old);
    }
  }

  /** `_update_volume_attachments` + driver connect + `_complete_volume_attachments` on this host. */
  async connectHere(ctx: RequestContext, instance: Instance): Promise<void> {
    if (!this.cinder) return;
    await this.m.volumes?.attachBlockDevices(ctx, instance);
  }

  /** pre_live_migration (destination): a second attachment with this host's connector, completed. */
  async preLiveMigration(ctx: RequestContext, instance: Instance): Promise<OldAttachments> {
    const cinder = this.cinder;
    const old: OldAttachments = {};
    const made: BlockDeviceMapping[] = [];
    try {
      for (const bdm of await this.volumeBdms(ctx, instance)) {
        const connector = { ...(this.m.driver.getVolumeConnector?.(instance) ?? { host: this.m.host }), mountpoint: bdm.device_name };
        const att = await cinder!.attachmentCreate(ctx, instance.project_id, bdm.volume_id!, instance.uuid, connector);
        old[bdm.volume_id!] = bdm.attachment_id!;
        bdm.attachment_id = att['id'];
        bdm.connection_info = JSON.stringify({ ...(att['connection_info'] ?? {}), volume_id: bdm.volume_id });
        await bdm.save(ctx);
        made.push(bdm);
      }
      for (const bdm of made) await cinder!.attachmentComplete(ctx, instance.project_id, bdm.attachment_id!);
    } catch (e) {
      // The source never hears of these attachments: undo them here.
      for (const bdm of made) {
        await cinder!.attachmentDelete(ctx, instance.project_id, bdm.attachment_id!).catch(() => undefined);
        bdm.attachment_id = old[bdm.volume_id!]!;
        await bdm.save(ctx).catch(() => undefined);
      }
      throw e;
    }
    return old;
  }

  /** post_live_migration_at_destination: the guest, now running here, connects its volumes. */
  async attachToGuest(ctx: RequestContext, instance: Instance): Promise<void> {
    for (const bdm of await this.volumeBdms(ctx, instance)) {
      if (bdm.device_name && bdm.connection_info) await this.m.driver.attachVolume?.(instance, parse(bdm.connection_info), bdm.device_name).catch(() => undefined);
    }
  }

  /** _post_live_migration (source): the source's attachments go. */
  async deleteOldAttachments(ctx: RequestContext, instance: Instance, old: OldAttachments): Promise<void> {
    for (const id of Object.values(old)) {
      await this.cinder?.attachmentDelete(ctx, instance.project_id, id).catch((e) => this.m.log.error({ err: e, attachment: id }, 'Volume attachment not deleted on source host during post_live_migration'));
    }
  }

  /** _rollback_volume_bdms: attachments made for the destination go, the BDMs get the old ones back. */
  async rollback(ctx: RequestContext, instance: Instance, original: BlockDeviceMapping[]): Promise<void> {
    const byVolume = new Map(original.map((b) => [b.volume_id, b]));
    for (const bdm of await this.volumeBdms(ctx, instance)) {
      const o = byVolume.get(bdm.volume_id);
      if (!o) continue;
      if (bdm.attachment_id && o.attachment_id && bdm.attachment_id !== o.attachment_id) {
        await this.cinder?.attachmentDelete(ctx, instance.project_id, bdm.attachment_id).catch(() => undefined);
        bdm.attachment_id = o.attachment_id;
      }
      bdm.connection_info = o.connection_info;
      await bdm.save(ctx);
    }
  }

  /** The volume BDMs as they are now (kept by a live migration's source for a rollback). */
  snapshot(ctx: RequestContext, instance: Instance): Promise<BlockDeviceMapping[]> {
    return this.volumeBdms(ctx, instance);
  }
}

function parse(s: string | null): Record<string, unknown> {
  try {
    return s ? JSON.parse(s) : {};
  } catch {
    return {};
  }
}
