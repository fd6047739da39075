/**
 * Client stub of nova-scheduler (nova/scheduler/rpcapi.py), topic `scheduler`.
 *
 * Version history kept by Stratus:
 *   4.0 - Removed 3.x compat.  4.3 - Modify select_destinations() to accept RequestSpec objects.
 *   4.4 - select_destinations() takes instance_uuids.  4.5 - return_objects and return_alternates.
 * @module
 */
import '../compute/objects/index.js';
import type { RequestContext } from '../common/context.js';
import { RpcClient, type MessageBus } from '../common/rpc/index.js';
import { NovaObjectSerializer } from '../compute/objects/base.js';
import type { RequestSpec, Selection } from '../compute/objects/request-spec.js';

export const RPC_TOPIC = 'scheduler';
export const VERSION_ALIASES: Record<string, string> = { queens: '4.5', rocky: '4.5', stein: '4.5' };
/** `long_rpc_timeout` (1800 s) with a call-monitor heartbeat every `rpc_response_timeout` (60 s). */
const LONG_RPC_TIMEOUT_MS = 1_800_000;
const CALL_MONITOR_MS = 60_000;

export class SchedulerAPI {
  private readonly client: RpcClient;

  constructor(bus: MessageBus, opts: { versionCap?: string; service?: string; host?: string } = {}) {
    this.client = new RpcClient(bus, { topic: RPC_TOPIC, exchange: 'nova', version: '4.0' }, {
      serializer: new NovaObjectSerializer(),
      ...(opts.versionCap ? { versionCap: VERSION_ALIASES[opts.versionCap] ?? opts.versionCap } : {}),
      ...(opts.service ? { service: opts.service } : {}),
      ...(opts.host ? { host: opts.host } : {}),
    });
  }

  async selectDestinations(ctx: RequestContext, spec: RequestSpec, instanceUuids: string[], returnObjects = true, returnAlternates = false): Promise<Selection[][]> {
    let version = '4.5';
    const args: Record<string, unknown> = { request_spec: spec, instance_uuids: instanceUuids, return_objects: returnObjects, return_alternates: returnAlternates };
    if (!this.client.canSendVersion(version)) {
      version = '4.4';
      delete args['return_objects'];
      delete args['return_alternates'];
    }
    const cctxt = this.client.prepare({ version, timeoutMs: LONG_RPC_TIMEOUT_MS, callMonitorTimeoutMs: CALL_MONITOR_MS });
    return cctxt.call<Selection[][]>(ctx, 'select_destinations', args);
  }

  async updateAggregates(ctx: RequestContext, aggregates: unknown[]): Promise<void> {
    await this.client.prepare({ fanout: true, version: '4.1' }).cast(ctx, 'update_aggregates', { aggregates });
  }
  async deleteAggregate(ctx: RequestContext, aggregate: unknown): Promise<void> {
    await this.client.prepare({ fanout: true, version: '4.1' }).cast(ctx, 'delete_aggregate', { aggregate });
  }
  async updateInstanceInfo(ctx: RequestContext, hostName: string, instanceInfo: { uuid: string }[]): Promise<void> {
    await this.client.prepare({ fanout: true, version: '4.2' }).cast(ctx, 'update_instance_info', { host_name: hostName, instance_info: instanceInfo });
  }
  async deleteInstanceInfo(ctx: RequestContext, hostName: string, instanceUuid: string): Promise<void> {
    await this.client.prepare({ fanout: true, version: '4.2' }).cast(ctx, 'delete_instance_info', { host_name: hostName, instance_uuid: instanceUuid });
  }
  async syncInstanceInfo(ctx: RequestContext, hostName: string, instanceUuids: string[]): Promise<void> {
    await this.client.prepare({ fanout: true, version: '4.2' }).cast(ctx, 'sync_instance_info', { host_name: hostName, instance_uuids: instanceUuids });
  }
}
