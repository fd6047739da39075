/**
 * RPC client stubs of cinder-scheduler and cinder-volume (`cinder/scheduler/rpcapi.py`,
 * `cinder/volume/rpcapi.py`): exchange `cinder`, topics `cinder-scheduler` and `cinder-volume`,
 * a volume service's server name is `host@backend` (the pool after `#` is stripped, as
 * `volume_utils.extract_host(host)` does).
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { RpcClient, type MessageBus } from '../common/rpc/index.js';

export const EXCHANGE = 'cinder';
export const SCHEDULER_TOPIC = 'cinder-scheduler';
export const VOLUME_TOPIC = 'cinder-volume';
export const SCHEDULER_VERSION = '3.12';
export const VOLUME_VERSION = '3.18';

/** `host@backend#pool` -> `host@backend`. */
export function backendOf(host: string): string {
  return host.split('#')[0]!;
}

export interface CreateVolumeRequest {
  volume_id: string;
  snapshot_id?: string | null;
  source_volid?: string | null;
  image_id?: string | null;
  request_spec: Record<string, unknown>;
  filter_properties?: Record<string, unknown>;
}

export class SchedulerAPI {
  private readonly client: RpcClient;
  constructor(bus: MessageBus, opts: { service?: string; host?: string } = {}) {
    this.client = new RpcClient(bus, { topic: SCHEDULER_TOPIC, exchange: EXCHANGE, version: SCHEDULER_VERSION }, opts);
  }

  createVolume(ctx: RequestContext, req: CreateVolumeRequest): Promise<void> {
    return this.client.cast(ctx, 'create_volume', req as unknown as Record<string, unknown>);
  }

  getPools(ctx: RequestContext, filters: Record<string, unknown> | null): Promise<Record<string, unknown>[]> {
    return this.client.call(ctx, 'get_pools', { filters });
  }

  /** Fanout from every volume service: its backend's capacity. */
  updateServiceCapabilities(ctx: RequestContext, serviceName: string, host: string, capabilities: Record<string, unknown>): Promise<void> {
    return this.client.prepare({ fanout: true }).cast(ctx, 'update_service_capabilities', {
      service_name: serviceName, host, capabilities, timestamp: new Date().toISOString(),
    });
  }
}

export class VolumeAPI {
  private readonly client: RpcClient;
  constructor(bus: MessageBus, opts: { service?: string; host?: string; timeoutMs?: number } = {}) {
    this.client = new RpcClient(bus, { topic: VOLUME_TOPIC, exchange: EXCHANGE, version: VOLUME_VERSION }, opts);
  }

  private at(host: string): RpcClient {
    return this.client.prepare({ server: backendOf(host) });
  }

  createVolume(ctx: RequestContext, host: string, req: CreateVolumeRequest): Promise<void> {
    return this.at(host).cast(ctx, 'create_volume', req as unknown as Record<string, unknown>);
  }
  deleteVolume(ctx: RequestContext, host: string, volumeId: string): Promise<void> {
    return this.at(host).cast(ctx, 'delete_volume', { volume_id: volumeId });
  }
  createSnapshot(ctx: RequestContext, host: string, snapshotId: string): Promise<void> {
    return this.at(host).cast(ctx, 'create_snapshot', { snapshot_id: snapshotId });
  }
  deleteSnapshot(ctx: RequestContext, host: string, snapshotId: string): Promise<void> {
    return this.at(host).cast(ctx, 'delete_snapshot', { snapshot_id: snapshotId });
  }
  revertToSnapshot(ctx: RequestContext, host: string, volumeId: string, snapshotId: string): Promise<void> {
    return this.at(host).cast(ctx, 'revert_to_snapshot', { volume_id: volumeId, snapshot_id: snapshotId });
  }
  extendVolume(ctx: RequestContext, host: string, volumeId: string, newSize: number): Promise<void> {
    return this.at(host).cast(ctx, 'extend_volume', { volume_id: volumeId, new_size: newSize });
  }
  copyVolumeToImage(ctx: RequestContext, host: string, volumeId: string, imageMeta: Record<string, unknown>): Promise<void> {
    return this.at(host).cast(ctx, 'copy_volume_to_image', { volume_id: volumeId, image_meta: imageMeta });
  }
  initializeConnection(ctx: RequestContext, host: string, volumeId: string, connector: unknown): Promise<Record<string, unknown>> {
    return this.at(host).call(ctx, 'initialize_connection', { volume_id: volumeId, connector });
  }
  terminateConnection(ctx: RequestContext, host: string, volumeId: string, connector: unknown): Promise<void> {
    return this.at(host).call(ctx, 'terminate_connection', { volume_id: volumeId, connector });
  }
  /** New attach flow: exports the volume for the connector, returns connection_info. */
  attachmentUpdate(ctx: RequestContext, host: string, volumeId: string, connector: unknown, attachmentId: string): Promise<Record<string, unknown>> {
    return this.at(host).call(ctx, 'attachment_update', { volume_id: volumeId, connector, attachment_id: attachmentId });
  }
  attachmentDelete(ctx: RequestContext, host: string, volumeId: string, attachmentId: string): Promise<void> {
    return this.at(host).call(ctx, 'attachment_delete', { volume_id: volumeId, attachment_id: attachmentId });
  }
  getCapabilities(ctx: RequestContext, host: string): Promise<Record<string, unknown>> {
    return this.at(host).prepare({ timeoutMs: 10_000 }).call(ctx, 'get_capabilities', { discover: true });
  }
  publishServiceCapabilities(ctx: RequestContext): Promise<void> {
    return this.client.prepare({ fanout: true }).cast(ctx, 'publish_service_capabilities', {});
  }
}
