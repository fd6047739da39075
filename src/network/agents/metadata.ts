/**
 * The metadata agent (neutron-metadata-agent): resolves the instance behind a request from a
 * guest (network or router id plus source IP -> port -> device_id and project) over the
 * `metadata` RPC namespace, and signs the instance id for Nova's metadata API
 * (`X-Instance-ID-Signature` = HMAC-SHA256 with `metadata_proxy_shared_secret`).
 * The HTTP proxy in front of it belongs to the dataplane backend and comes later.
 * @module
 */
import { createHmac } from 'node:crypto';
import { RequestContext } from '../../common/context.js';
import { Service } from '../../common/service.js';
import * as C from '../common/constants.js';
import { DEFAULT_REPORT_INTERVAL_MS, StateReporter, pluginClient, type AgentOptions, type Dict } from './common.js';

export interface MetadataAgentOptions extends AgentOptions {
  sharedSecret?: string;
  novaMetadataHost?: string;
  novaMetadataPort?: number;
}

export interface InstanceIdentity {
  instanceId: string;
  projectId: string;
  signature: string;
}

export class MetadataAgent {
  readonly service: Service;
  private readonly plugin;

  constructor(private readonly o: MetadataAgentOptions) {
    this.plugin = pluginClient(o.bus, o.host, C.BINARY_METADATA, 'metadata', '1.0');
    const reporter = new StateReporter(o.bus, () => ({
      binary: C.BINARY_METADATA, host: o.host, topic: 'N/A', agent_type: C.AGENT_TYPE_METADATA,
      configurations: {
        metadata_proxy_socket: '/var/lib/neutron/metadata_proxy', nova_metadata_host: o.novaMetadataHost ?? '127.0.0.1',
        nova_metadata_port: o.novaMetadataPort ?? 8775, log_agent_heartbeats: false,
      },
      resource_versions: {},
    }));
    this.service = new Service({
      binary: C.BINARY_METADATA, host: o.host, bus: o.bus, exchange: C.EXCHANGE, heartbeat: reporter,
      reportIntervalMs: o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
    });
  }

  /** The instance behind `remoteIp` on a network (X-Neutron-Network-ID) or router (X-Neutron-Router-ID). */
  async resolve(remoteIp: string, opts: { networkId?: string; routerId?: string }): Promise<InstanceIdentity | null> {
    const ctx = RequestContext.admin();
    let networks: string[] = opts.networkId ? [opts.networkId] : [];
    if (opts.routerId) {
      const ifaces = (await this.plugin.call(ctx, 'get_ports', { filters: { device_id: [opts.routerId], device_owner: [C.DEVICE_OWNER_ROUTER_INTF] } })) as Dict[];
      networks = ifaces.map((p) => p['network_id']);
    }
    for (const net of networks) {
      const ports = (await this.plugin.call(ctx, 'get_ports', { filters: { network_id: [net], fixed_ips: { ip_address: [remoteIp] } } })) as Dict[];
      const p = ports[0];
      if (p && p['device_id']) return { instanceId: p['device_id'], projectId: p['project_id'], signature: this.sign(p['device_id']) };
    }
    return null;
  }

  sign(instanceId: string): string {
    return createHmac('sha256', this.o.sharedSecret ?? '').update(instanceId).digest('hex');
  }

  async start(): Promise<void> {
    await this.service.start();
  }

  async stop(): Promise<void> {
    await this.service.stop();
  }
}
