/**
 * Volumes on the compute host (nova/compute/manager.py `reserve_block_device_name`,
 * `attach_volume`, `detach_volume`, `_prep_block_device`, `_cleanup_volumes`,
 * `extend_volume`; openstack-flows §1.5 and §3):
 *
 *   API --reserve_block_device_name (call)--> compute: BDM row with the next free device
 *   API: Cinder attachment create (volume `reserved`), action `attach_volume`
 *   API --attach_volume (cast)--> compute: attachment update with the connector (`attaching`),
 *        driver attach, attachment complete (`in-use`), connection_info on the BDM
 *   API: os-begin_detaching (`detaching`) --detach_volume (cast)--> compute: driver detach,
 *        attachment delete (`available`), BDM destroyed
 *
 * An extra RPC endpoint of nova-compute (target 5.1, no namespace) next to ComputeManager,
 * plus the hooks the build and delete flows call (`ComputeManager.volumes`).
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import type { ComputeManager } from '../manager.js';
import { BlockDeviceMapping } from '../objects/block-device.js';
import type { Instance } from '../objects/instance.js';
import type { CinderAPI } from '../volume/cinder.js';

/** What the build and delete flows of ComputeManager call (null when the host has no Cinder). */
export interface ComputeVolumeHooks {
  /** `_prep_block_device`: creates image/blank -> volume BDMs in Cinder and reserves every volume; returns the BDMs. */
  prepBlockDevices(ctx: RequestContext, instance: Instance): Promise<BlockDeviceMapping[]>;
  /**
   * After spawn: connects the instance's volumes to the guest and completes the attachments.
   * `bdms`: what prepBlockDevices returned under the same instance lock (read again when absent).
   */
  attachBlockDevices(ctx: RequestContext, instance: Instance, bdms?: BlockDeviceMapping[]): Promise<void>;
  /** `_cleanup_volumes` on delete: attachments deleted, `delete_on_termination` volumes deleted. */
  cleanupVolumes(ctx: RequestContext, instance: Instance): Promise<void>;
  /** `volume-extended` external event. */
  extendVolume(ctx: RequestContext, instance: Instance, volumeId: string): Promise<void>;
  /** Shelve offload: the guest is gone, so are its volume connections (made again at unshelve). */
  forgetConnections(ctx: RequestContext, instance: Instance): Promise<void>;
}

const ROOT_DEVICE = '/dev/vda';

/** The next free `/dev/vdX` (the root disk is always /dev/vda). */
export function nextDeviceName(used: Iterable<string | null>, requested?: string | null): string {
  const taken = new Set<string>([ROOT_DEVICE]);
  for (const d of used) if (d) taken.add(d.startsWith('/dev/') ? d : `/dev/${d}`);
  if (requested) {
    const r = requested.startsWith('/dev/') ? requested : `/dev/${requested}`;
    const m = /^\/dev\/[a-z]*d([a-z]+)$/.exec(r);
    if (m && !taken.has(`/dev/vd${m[1]}`)) return `/dev/vd${m[1]}`;
  }
  for (let i = 1; i < 26 * 27; i++) {
    const letters = i < 26 ? String.fromCharCode(97 + i) : String.fromCharCode(96 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26));
    const name = `/dev/vd${letters}`;
    if (!taken.has(name)) return name;
  }
  throw new Error('No free disk device names for prefix vd');
}

export class ComputeVolumeManager implements ComputeVolumeHooks {
  readonly target = { version: '5.1' };
  constructor(private readonly m: ComputeManager, private readonly cinder: CinderAPI) {}

  // ---------------- RPC methods ----------------

  /** call: picks the device name and creates the BDM (boot_index NULL) under the instance lock. */
  async reserve_block_device_name(ctx: RequestContext, a: {
    instance: Instance; device: string | null; volume_id: string; disk_bus?: string | null; device_type?: string | null;
    tag?: string | null; multiattach?: boolean; delete_on_termination?: boolean;
  }): Promise<BlockDeviceMapping> {
    return this.m.withInstanceLock(a.instance.uuid, async () => {
      const bdms = await BlockDeviceMapping.listByInstance(this.m.backend, ctx, a.instance.uuid);
      const bdm = new BlockDeviceMapping();
      bdm.backend = this.m.backend;
      bdm.update({
        instance_uuid: a.instance.uuid, source_type: 'volume', destination_type: 'volume', volume_id: a.volume_id,
        device_name: nextDeviceName(bdms.map((b) => b.device_name), a.device), boot_index: null, device_type: a.device_type ?? 'disk',
        disk_bus: a.disk_bus ?? 'virtio', delete_on_termination: a.delete_on_termination ?? false, tag: a.tag ?? null,
        guest_format: null, no_device: false, snapshot_id: null, image_id: null, volume_size: null, volume_type: null,
        connection_info: null, attachment_id: null,
      });
      await bdm.create(ctx);
      return bdm;
    });
  }

  async attach_volume(ctx: RequestContext, a: { instance: Instance; bdm: BlockDeviceMapping }): Promise<void> {
    const { instance, bdm } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_attach_volume', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'volume_attach', 'start').catch(() => undefined);
      try {
        await this.connect(ctx, instance, bdm, true);
      } catch (e) {
        // instance.volume_attach.error: the reservation goes, the volume is `available` again.
        this.m.log.error({ err: e, instance: instance.uuid, volume_id: bdm.volume_id }, 'Failed to attach volume');
        if (bdm.attachment_id) await this.cinder.attachmentDelete(ctx, instance.project_id, bdm.attachment_id).catch(() => undefined);
        await bdm.destroy(ctx).catch(() => undefined);
        throw e;
      }
      await this.m.notifier.instanceAction(ctx, instance, 'volume_attach', 'end').catch(() => undefined);
    }));
  }

  async detach_volume(ctx: RequestContext, a: { instance: Instance; volume_id: string; attachment_id?: string | null }): Promise<void> {
    const { instance } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_detach_volume', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'volume_detach', 'start').catch(() => undefined);
      const bdm = await BlockDeviceMapping.getByVolumeAndInstance(this.m.backend, ctx, a.volume_id, instance.uuid);
      try {
        await this.disconnect(ctx, instance, bdm);
      } catch (e) {
        // The guest kept the disk: the volume goes back to `in-use`.
        await this.cinder.rollDetaching(ctx, instance.project_id, a.volume_id).catch(() => undefined);
        throw e;
      }
      const attachmentId = a.attachment_id ?? bdm.attachment_id;
      if (attachmentId) await this.cinder.attachmentDelete(ctx, instance.project_id, attachmentId);
      await bdm.destroy(ctx);
      await this.m.notifier.instanceAction(ctx, instance, 'volume_detach', 'end').catch(() => undefined);
    }));
  }

  // ---------------- hooks of the build / delete flows ----------------

  async prepBlockDevices(ctx: RequestContext, instance: Instance): Promise<BlockDeviceMapping[]> {
    const bdms = await BlockDeviceMapping.listByInstance(this.m.backend, ctx, instance.uuid);
    let used = bdms.map((b) => b.device_name);
    for (const bdm of bdms.filter((b) => b.isVolume)) {
      if (!bdm.volume_id) {
        // image/blank/snapshot -> volume: the compute makes the volume and waits for it.
        const vol = await withSpan({ kind: 'internal', name: 'cinder.create_volume', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, () =>
          this.cinder.create(ctx, instance.project_id, {
            size: bdm.volume_size ?? 1, name: '', imageRef: bdm.source_type === 'image' ? bdm.image_id : null,
            snapshot_id: bdm.source_type === 'snapshot' ? bdm.snapshot_id : null, volume_type: bdm.volume_type,
            availability_zone: null,
          }));
        bdm.volume_id = vol['id'];
        await bdm.save(ctx);
        await this.cinder.waitUntilCreated(ctx, instance.project_id, vol['id']);
      }
      if (!bdm.device_name) {
        bdm.device_name = bdm.isRoot ? ROOT_DEVICE : nextDeviceName(used);
        used = [...used, bdm.device_name];
      }
      if (!bdm.attachment_id) {
        const att = await this.cinder.attachmentCreate(ctx, instance.project_id, bdm.volume_id!, instance.uuid);
        bdm.attachment_id = att['id'];
      }
      await bdm.save(ctx);
    }
    const root = bdms.find((b) => b.isRoot && b.isVolume);
    if (root?.device_name && instance.root_device_name !== root.device_name) instance.root_device_name = root.device_name;
    return bdms;
  }

  async attachBlockDevices(ctx: RequestContext, instance: Instance, prepared?: BlockDeviceMapping[]): Promise<void> {
    // The build (nova passes its BDM list along) does not read again what it just prepared and saved.
    const bdms = prepared ?? (await BlockDeviceMapping.listByInstance(this.m.backend, ctx, instance.uuid));
    for (const bdm of bdms.filter((b) => b.isVolume && b.attachment_id && !b.connection_info)) await this.connect(ctx, instance, bdm, true);
  }

  async cleanupVolumes(ctx: RequestContext, instance: Instance): Promise<void> {
    const bdms = await BlockDeviceMapping.listByInstance(this.m.backend, ctx, instance.uuid).catch(() => [] as BlockDeviceMapping[]);
    for (const bdm of bdms.filter((b) => b.isVolume && b.volume_id)) {
      try {
        await this.disconnect(ctx, instance, bdm).catch(() => undefined);
        if (bdm.attachment_id) await this.cinder.attachmentDelete(ctx, instance.project_id, bdm.attachment_id);
        if (bdm.delete_on_termination) {
          await this.waitNotAttached(ctx, instance.project_id, bdm.volume_id!);
          await this.cinder.delete(ctx, instance.project_id, bdm.volume_id!);
        }
      } catch (e) {
        this.m.log.warn({ err: e, instance: instance.uuid, volume_id: bdm.volume_id }, 'Failed to clean up a volume of a deleted instance');
      }
    }
  }

  async forgetConnections(ctx: RequestContext, instance: Instance): Promise<void> {
    const bdms = await BlockDeviceMapping.listByInstance(this.m.backend, ctx, instance.uuid);
    for (const bdm of bdms.filter((b) => b.isVolume && b.connection_info)) {
      await this.disconnect(ctx, instance, bdm).catch(() => undefined);
      bdm.connection_info = null;
      await bdm.save(ctx);
    }
  }

  /**
   * extend_volume (`volume-extended`, 2.51): the BDM learns the new size and the driver makes
   * the guest see it, under the `extend_volume` action nova-api recorded.
   */
  async extendVolume(ctx: RequestContext, instance: Instance, volumeId: string): Promise<void> {
    await this.m.actionEvent(ctx, instance, 'compute_extend_volume', async () => {
      const bdm = await BlockDeviceMapping.getByVolumeAndInstance(this.m.backend, ctx, volumeId, instance.uuid).catch(() => null);
      if (!bdm) {
        this.m.log.warn({ instance: instance.uuid, volume_id: volumeId }, 'Extend volume failed, the volume is not attached to the instance');
        return;
      }
      const vol = await this.cinder.get(ctx, volumeId, instance.project_id);
      if (!bdm.connection_info) {
        this.m.log.warn({ instance: instance.uuid, volume_id: volumeId }, 'Extend volume failed, the attached volume has no connection_info');
        return;
      }
      bdm.volume_size = Number(vol?.['size'] ?? bdm.volume_size);
      await bdm.save(ctx);
      if (!this.m.driver.extendVolume) throw new Error('Volume size extension is not supported by the hypervisor.');
      await this.m.driver.extendVolume(instance, parseInfo(bdm.connection_info), bdm.device_name ?? '', bdm.volume_size);
    });
  }

  // ---------------- helpers ----------------

  /** DriverVolumeBlockDevice.attach: connector -> attachment update -> driver attach -> complete. */
  private async connect(ctx: RequestContext, instance: Instance, bdm: BlockDeviceMapping, complete: boolean): Promise<void> {
    const connector = { ...(this.m.driver.getVolumeConnector?.(instance) ?? { host: this.m.host }), mountpoint: bdm.device_name };
    const att = await this.cinder.attachmentUpdate(ctx, instance.project_id, bdm.attachment_id!, connector);
    const connectionInfo = { ...(att['connection_info'] ?? {}), volume_id: bdm.volume_id } as Record<string, unknown>;
    await withSpan({ kind: 'internal', name: 'driver.attach_volume', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid, volume: bdm.volume_id ?? '' } }, async () => {
      await this.m.driver.attachVolume?.(instance, connectionInfo, bdm.device_name!);
    });
    try {
      if (complete) await this.cinder.attachmentComplete(ctx, instance.project_id, bdm.attachment_id!);
    } catch (e) {
      await this.m.driver.detachVolume?.(instance, connectionInfo, bdm.device_name!).catch(() => undefined);
      throw e;
    }
    bdm.connection_info = JSON.stringify(connectionInfo);
    await bdm.save(ctx);
  }

  private async disconnect(ctx: RequestContext, instance: Instance, bdm: BlockDeviceMapping): Promise<void> {
    void ctx;
    if (!this.m.driver.detachVolume || !bdm.device_name) return;
    await withSpan({ kind: 'internal', name: 'driver.detach_volume', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid, volume: bdm.volume_id ?? '' } }, () =>
      this.m.driver.detachVolume!(instance, parseInfo(bdm.connection_info), bdm.device_name!));
  }

  /** Cinder refuses to delete an attached volume; the attachment delete may still be settling. */
  private async waitNotAttached(ctx: RequestContext, projectId: string, volumeId: string): Promise<void> {
    for (let i = 0; i < 40; i++) {
      const v = await this.cinder.get(ctx, volumeId, projectId);
      if (!v || !['in-use', 'detaching', 'attaching', 'reserved'].includes(v['status'])) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function parseInfo(s: string | null): Record<string, unknown> {
  try {
    return s ? JSON.parse(s) : {};
  } catch {
    return {};
  }
}
