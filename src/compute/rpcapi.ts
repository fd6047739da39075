/**
 * Client stub of nova-compute (nova/compute/rpcapi.py), topic `compute`, routed to one host
 * (`compute.<host>`) on the bus of the instance's cell.
 *
 * Version history kept by Stratus: 5.0 - Remove 4.x compat (Queens).  5.1 - prep_resize takes a
 * RequestSpec object (Stein). Casts unless noted; `call` is used only where a reply is needed.
 * @module
 */
import './objects/index.js';
import type { RequestContext } from '../common/context.js';
import { RpcClient, type MessageBus } from '../common/rpc/index.js';
import { NovaObjectSerializer } from './objects/base.js';
import type { Instance } from './objects/instance.js';
import type { RequestSpec, Selection } from './objects/request-spec.js';

export const RPC_TOPIC = 'compute';
export const VERSION_ALIASES: Record<string, string> = { queens: '5.0', rocky: '5.0', stein: '5.1' };

export interface ExternalEvent {
  name: string;
  tag: string | null;
  status: 'completed' | 'failed' | 'in-progress';
  instance_uuid: string;
  data?: Record<string, unknown>;
}

export class ComputeAPI {
  private readonly client: RpcClient;

  constructor(bus: MessageBus, opts: { versionCap?: string; service?: string; host?: string } = {}) {
    this.client = new RpcClient(bus, { topic: RPC_TOPIC, exchange: 'nova', version: '5.0' }, {
      serializer: new NovaObjectSerializer(),
      ...(opts.versionCap ? { versionCap: VERSION_ALIASES[opts.versionCap] ?? opts.versionCap } : {}),
      ...(opts.service ? { service: opts.service } : {}),
      ...(opts.host ? { host: opts.host } : {}),
    });
  }

  private to(host: string, version = '5.0'): RpcClient {
    return this.client.prepare({ server: host, version });
  }

  async buildAndRunInstance(ctx: RequestContext, host: string, a: {
    instance: Instance; image: unknown; request_spec: RequestSpec; filter_properties: Record<string, unknown>;
    admin_password: string | null; injected_files: unknown[]; requested_networks: unknown; security_groups: string[];
    block_device_mapping: unknown[]; node: string; limits: unknown; host_list: Selection[];
  }): Promise<void> {
    await this.to(host).cast(ctx, 'build_and_run_instance', a);
  }

  async terminateInstance(ctx: RequestContext, instance: Instance, bdms: unknown[] = []): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'terminate_instance', { instance, bdms });
  }
  async startInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'start_instance', { instance });
  }
  async stopInstance(ctx: RequestContext, instance: Instance, doCast = true, cleanShutdown = true): Promise<void> {
    const c = this.to(instance.host!);
    if (doCast) await c.cast(ctx, 'stop_instance', { instance, clean_shutdown: cleanShutdown });
    else await c.call(ctx, 'stop_instance', { instance, clean_shutdown: cleanShutdown });
  }
  async rebootInstance(ctx: RequestContext, instance: Instance, rebootType: 'SOFT' | 'HARD'): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'reboot_instance', { instance, block_device_info: null, reboot_type: rebootType });
  }
  async pauseInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'pause_instance', { instance });
  }
  async unpauseInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'unpause_instance', { instance });
  }
  async suspendInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'suspend_instance', { instance });
  }
  async resumeInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'resume_instance', { instance });
  }
  async rebuildInstance(ctx: RequestContext, instance: Instance, a: { image_ref: string; orig_image_ref: string; new_pass: string | null; preserve_ephemeral: boolean }): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'rebuild_instance', {
      instance, new_pass: a.new_pass, injected_files: [], image_ref: a.image_ref, orig_image_ref: a.orig_image_ref, orig_sys_metadata: {},
      bdms: [], recreate: false, on_shared_storage: false, preserve_ephemeral: a.preserve_ephemeral, migration: null, scheduled_node: null, limits: null, request_spec: null,
    });
  }
  async snapshotInstance(ctx: RequestContext, instance: Instance, imageId: string): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'snapshot_instance', { instance, image_id: imageId });
  }
  async rescueInstance(ctx: RequestContext, instance: Instance, rescuePassword: string | null, rescueImageRef: string | null): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'rescue_instance', { instance, rescue_password: rescuePassword, rescue_image_ref: rescueImageRef, clean_shutdown: true });
  }
  async unrescueInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'unrescue_instance', { instance });
  }
  // ---- move operations (resize / cold migrate; see manager/resize.ts) ----
  /** To the destination chosen by the scheduler. */
  async prepResize(ctx: RequestContext, host: string, a: {
    instance: Instance; image: unknown; instance_type: unknown; migration: unknown; request_spec: RequestSpec;
    filter_properties: Record<string, unknown>; node: string; clean_shutdown: boolean; host_list: Selection[];
  }): Promise<void> {
    await this.to(host, '5.1').cast(ctx, 'prep_resize', a);
  }
  /** To the source (instance.host). */
  async resizeInstance(ctx: RequestContext, instance: Instance, a: { migration: unknown; image: unknown; instance_type: unknown; clean_shutdown: boolean }): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'resize_instance', { instance, ...a });
  }
  async finishResize(ctx: RequestContext, host: string, a: { instance: Instance; migration: unknown; image: unknown; disk_info: unknown }): Promise<void> {
    await this.to(host).cast(ctx, 'finish_resize', a);
  }
  async confirmResize(ctx: RequestContext, host: string, a: { instance: Instance; migration: unknown }): Promise<void> {
    await this.to(host).cast(ctx, 'confirm_resize', a);
  }
  async revertResize(ctx: RequestContext, host: string, a: { instance: Instance; migration: unknown }): Promise<void> {
    await this.to(host).cast(ctx, 'revert_resize', a);
  }
  async finishRevertResize(ctx: RequestContext, host: string, a: { instance: Instance; migration: unknown }): Promise<void> {
    await this.to(host).cast(ctx, 'finish_revert_resize', a);
  }
  // ---- live migration (see manager/migrate-live.ts) ----
  async checkCanLiveMigrateDestination(ctx: RequestContext, dest: string, a: { instance: Instance; block_migration: boolean | string | null; disk_over_commit: boolean | null; migration: unknown }): Promise<Record<string, unknown>> {
    return this.to(dest).call(ctx, 'check_can_live_migrate_destination', a);
  }
  async checkCanLiveMigrateSource(ctx: RequestContext, source: string, a: { instance: Instance; dest_check_data: Record<string, unknown> }): Promise<Record<string, unknown>> {
    return this.to(source).call(ctx, 'check_can_live_migrate_source', a);
  }
  async liveMigration(ctx: RequestContext, instance: Instance, a: { dest: string; block_migration: boolean; migration: unknown; migrate_data: Record<string, unknown> }): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'live_migration', { instance, ...a });
  }
  async preLiveMigration(ctx: RequestContext, dest: string, a: { instance: Instance; block_migration: boolean; disk: unknown; migrate_data: Record<string, unknown> }): Promise<Record<string, unknown>> {
    return this.to(dest).call(ctx, 'pre_live_migration', a);
  }
  async postLiveMigrationAtDestination(ctx: RequestContext, dest: string, a: { instance: Instance; block_migration: boolean }): Promise<void> {
    await this.to(dest).call(ctx, 'post_live_migration_at_destination', a);
  }
  async rollbackLiveMigrationAtDestination(ctx: RequestContext, dest: string, a: { instance: Instance; destroy_disks: boolean; migrate_data: Record<string, unknown> }): Promise<void> {
    await this.to(dest).cast(ctx, 'rollback_live_migration_at_destination', a);
  }
  async liveMigrationForceComplete(ctx: RequestContext, source: string, a: { instance: Instance; migration: unknown }): Promise<void> {
    await this.to(source).cast(ctx, 'live_migration_force_complete', a);
  }
  async liveMigrationAbort(ctx: RequestContext, source: string, a: { instance: Instance; migration_id: number }): Promise<void> {
    await this.to(source).cast(ctx, 'live_migration_abort', a);
  }
  // ---- shelve (see manager/shelve.ts) ----
  async shelveInstance(ctx: RequestContext, instance: Instance, imageId: string, cleanShutdown = true): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'shelve_instance', { instance, image_id: imageId, clean_shutdown: cleanShutdown });
  }
  async shelveOffloadInstance(ctx: RequestContext, instance: Instance, cleanShutdown = true): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'shelve_offload_instance', { instance, clean_shutdown: cleanShutdown });
  }
  async unshelveInstance(ctx: RequestContext, host: string, a: { instance: Instance; image: unknown; filter_properties: Record<string, unknown>; node: string; request_spec: RequestSpec }): Promise<void> {
    await this.to(host).cast(ctx, 'unshelve_instance', { host, ...a });
  }
  // ---- volumes (see manager/volume.ts) ----
  /** call: the compute picks the device name and creates the BDM; returns it. */
  async reserveBlockDeviceName(ctx: RequestContext, instance: Instance, a: { device: string | null; volume_id: string; disk_bus?: string | null; device_type?: string | null; tag?: string | null; multiattach?: boolean; delete_on_termination?: boolean }): Promise<unknown> {
    return this.to(instance.host!).call(ctx, 'reserve_block_device_name', { instance, ...a });
  }
  async attachVolume(ctx: RequestContext, instance: Instance, bdm: unknown): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'attach_volume', { instance, bdm });
  }
  async detachVolume(ctx: RequestContext, instance: Instance, volumeId: string, attachmentId: string | null): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'detach_volume', { instance, volume_id: volumeId, attachment_id: attachmentId });
  }
  /** rebuild_instance to a chosen host (evacuate: `recreate`), not to instance.host. */
  async rebuildInstanceOnHost(ctx: RequestContext, host: string, a: Record<string, unknown> & { instance: Instance }): Promise<void> {
    await this.to(host).cast(ctx, 'rebuild_instance', a);
  }
  /** A call: the API answers with the attached interface. */
  async attachInterface(ctx: RequestContext, instance: Instance, a: { network_id: string | null; port_id: string | null; requested_ip: string | null; tag: string | null }): Promise<Record<string, unknown>> {
    return this.to(instance.host!).call(ctx, 'attach_interface', { instance, ...a });
  }
  async detachInterface(ctx: RequestContext, instance: Instance, portId: string): Promise<void> {
    await this.to(instance.host!).cast(ctx, 'detach_interface', { instance, port_id: portId });
  }
  /** call: the driver's free-form diagnostics of a running guest. */
  async getDiagnostics(ctx: RequestContext, instance: Instance): Promise<Record<string, unknown>> {
    return this.to(instance.host!).call(ctx, 'get_diagnostics', { instance });
  }
  /** call: the standardized diagnostics (nova.objects.diagnostics.Diagnostics as a dict). */
  async getInstanceDiagnostics(ctx: RequestContext, instance: Instance): Promise<Record<string, unknown>> {
    return this.to(instance.host!).call(ctx, 'get_instance_diagnostics', { instance });
  }
  /** call (long-running): pre-cache images on the host; answers each image's status. */
  async cacheImages(ctx: RequestContext, host: string, imageIds: string[]): Promise<Record<string, string>> {
    return this.client.prepare({ server: host, version: '5.0', timeoutMs: 1_800_000, callMonitorTimeoutMs: 60_000 }).call(ctx, 'cache_images', { image_ids: imageIds });
  }
  /** call: the host's uptime(1) line. */
  async getHostUptime(ctx: RequestContext, host: string): Promise<string> {
    return this.to(host).call(ctx, 'get_host_uptime', {});
  }
  async externalInstanceEvent(ctx: RequestContext, host: string, instances: Instance[], events: ExternalEvent[]): Promise<void> {
    await this.to(host).cast(ctx, 'external_instance_event', { instances, events });
  }
}
