/**
 * The DHCP agent (neutron-dhcp-agent): keeps one DHCP service per network scheduled to it.
 * For each network it makes sure its DHCP port exists (`create_dhcp_port`, bound to this host),
 * hands the network to its backend, and tells the server which ports are now served
 * (`dhcp_ready_on_ports`), which lifts their DHCP provisioning block. `port_create_end` /
 * `port_update_end` of a served network update the cached network and report the port ready
 * at once; other notifications (`network_create_end`, `subnet_*`, `port_delete_end`, ...)
 * trigger a resync; a periodic full sync (`get_active_networks_info`) repairs anything missed.
 * @module
 */
import { RequestContext } from '../../common/context.js';
import { Service } from '../../common/service.js';
import * as C from '../common/constants.js';
import { dhcpDeviceId } from '../rpc/server-callbacks.js';
import { NoopDhcpBackend, type DhcpBackend } from './backend.js';
import { DEFAULT_REPORT_INTERVAL_MS, SerialRunner, StateReporter, pluginClient, type AgentOptions, type Dict } from './common.js';

export interface DhcpAgentOptions extends AgentOptions {
  backend?: DhcpBackend;
}

export class DhcpAgent {
  readonly backend: DhcpBackend;
  readonly service: Service;
  private readonly plugin;
  private readonly runner: SerialRunner;
  /** Revision of each port last reported ready, per network (a new revision is reported again). */
  private readonly ready = new Map<string, Map<string, number>>();
  private counts = { networks: 0, subnets: 0, ports: 0 };
  /** Context of the notification that asked for the next pass (its journey continues here). */
  private nextCtx: RequestContext | null = null;
  /** Each served network as last configured (Neutron's NetModel cache), kept current by port events. */
  private readonly nets = new Map<string, Dict>();

  constructor(private readonly o: DhcpAgentOptions) {
    this.backend = o.backend ?? new NoopDhcpBackend();
    this.plugin = pluginClient(o.bus, o.host, C.BINARY_DHCP, 'dhcp', '1.8');
    this.runner = new SerialRunner(() => this.syncState(), (e) => this.service.log.error({ err: e }, 'DHCP sync failed'));
    const reporter = new StateReporter(o.bus, () => ({
      binary: C.BINARY_DHCP, host: o.host, topic: C.TOPIC_DHCP_AGENT, agent_type: C.AGENT_TYPE_DHCP,
      availability_zone: o.availabilityZone ?? 'nova',
      configurations: { dhcp_driver: this.backend instanceof NoopDhcpBackend ? 'noop' : 'dnsmasq', dhcp_lease_duration: 86400, log_agent_heartbeats: false, ...this.counts },
      resource_versions: {},
    }));
    this.service = new Service({
      binary: C.BINARY_DHCP, host: o.host, topic: C.TOPIC_DHCP_AGENT, bus: o.bus, exchange: C.EXCHANGE,
      endpoints: [new DhcpNotifierEndpoint(this)], heartbeat: reporter, reportIntervalMs: o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
      periodicTasks: [{ name: 'sync_state', intervalMs: o.resyncIntervalMs ?? 5000, runImmediately: true, run: async () => { await this.runner.trigger(); } }],
    });
  }

  /** Converge every network the server says is ours. */
  private async syncState(): Promise<void> {
    const origin = this.nextCtx;
    this.nextCtx = null;
    const ctx = origin ? origin.child().elevated() : RequestContext.admin();
    const networks = (await this.plugin.call(ctx, 'get_active_networks_info', { host: this.o.host })) as Dict[];
    const wanted = new Set(networks.map((n) => n['id']));
    for (const id of this.backend.networks()) {
      if (!wanted.has(id)) {
        await this.backend.disable(id);
        this.ready.delete(id);
        this.nets.delete(id);
      }
    }
    let subnets = 0;
    let ports = 0;
    for (const net of networks) {
      await this.configure(ctx, net);
      subnets += net['subnets'].length;
      ports += net['ports'].length;
    }
    this.counts = { networks: networks.length, subnets, ports };
  }

  private async configure(ctx: RequestContext, net: Dict): Promise<void> {
    const dhcpSubnets = (net['subnets'] as Dict[]).filter((s) => s['enable_dhcp']);
    const deviceId = dhcpDeviceId(this.o.host, net['id']);
    if (!dhcpSubnets.length) {
      if (this.backend.networks().includes(net['id'])) {
        await this.plugin.call(ctx, 'release_dhcp_port', { network_id: net['id'], device_id: deviceId, host: this.o.host });
        await this.backend.disable(net['id']);
      }
      this.nets.delete(net['id']);
      return;
    }
    let port = (net['ports'] as Dict[]).find((p) => p['device_id'] === deviceId);
    const covered = new Set((port?.['fixed_ips'] ?? []).map((f: Dict) => f['subnet_id']));
    const missing = dhcpSubnets.filter((s) => !covered.has(s['id']));
    if (!port || missing.length || port['binding:host_id'] !== this.o.host) {
      const fixed = [...(port?.['fixed_ips'] ?? []), ...missing.map((s) => ({ subnet_id: s['id'] }))];
      port = (await this.plugin.call(ctx, port ? 'update_dhcp_port' : 'create_dhcp_port', {
        ...(port ? { port_id: port['id'] } : {}),
        port: { port: { network_id: net['id'], device_id: deviceId, device_owner: C.DEVICE_OWNER_DHCP, fixed_ips: fixed } },
        host: this.o.host,
      })) as Dict | undefined;
    }
    const served = { ...net, dhcp_port: port ?? null };
    await this.backend.enable(served);
    this.nets.set(net['id'], served);
    const ready = this.ready.get(net['id']) ?? new Map<string, number>();
    this.ready.set(net['id'], ready);
    await this.reportReady(ctx, net, net['ports'] as Dict[]);
    const present = new Set((net['ports'] as Dict[]).map((p) => p['id']));
    for (const id of ready.keys()) if (!present.has(id)) ready.delete(id);
  }

  /** Ports with an address on a DHCP subnet are now served: lift their DHCP block (once per revision). */
  private async reportReady(ctx: RequestContext, net: Dict, ports: Dict[]): Promise<void> {
    const ready = this.ready.get(net['id'])!;
    const dhcpIds = new Set((net['subnets'] as Dict[]).filter((s) => s['enable_dhcp']).map((s) => s['id']));
    const fresh = ports.filter((p) => ready.get(p['id']) !== p['revision_number'] && (p['fixed_ips'] as Dict[]).some((f) => dhcpIds.has(f['subnet_id'])));
    if (!fresh.length) return;
    await this.plugin.call(ctx, 'dhcp_ready_on_ports', { port_ids: fresh.map((p) => p['id']) });
    for (const p of fresh) ready.set(p['id'], p['revision_number']);
  }

  /**
   * port_create_end / port_update_end: as Neutron's agent, a port of a network already served
   * is put in the cache and reported ready at once, without asking the server for the whole
   * network; anything else (unknown network or subnet, the DHCP port itself) falls back to a
   * resync. An event that arrives while a pass runs waits for it and then applies to what the
   * pass cached (Neutron's agent queues events behind sync_state's lock): resyncing for it
   * instead chained full passes back to back while ports were being created.
   */
  async portChanged(ctx: RequestContext, port: Dict | undefined): Promise<void> {
    while (this.runner.busy) await this.runner.idle();
    const net = port ? this.nets.get(port['network_id']) : undefined;
    const subnetIds = new Set(((net?.['subnets'] ?? []) as Dict[]).map((s) => s['id']));
    const known = !!net && !!port && port['device_owner'] !== C.DEVICE_OWNER_DHCP && Array.isArray(port['fixed_ips'])
      && (port['fixed_ips'] as Dict[]).every((f) => subnetIds.has(f['subnet_id']));
    if (!known) return this.networkChanged(ctx);
    const ports = net['ports'] as Dict[];
    const i = ports.findIndex((p) => p['id'] === port['id']);
    if (i >= 0 && Number(ports[i]!['revision_number']) > Number(port['revision_number'])) return; // a late, older event
    if (i >= 0) ports[i] = port; else ports.push(port);
    await this.backend.enable(net);
    await this.reportReady(ctx.child().elevated(), net, [port]);
  }

  /** A notification about one network: resync (folded into the next pass when one is running). */
  async networkChanged(ctx: RequestContext | null = null): Promise<void> {
    if (ctx) this.nextCtx = ctx;
    await this.runner.trigger();
  }

  async settle(): Promise<void> {
    await this.runner.idle();
  }

  async start(): Promise<void> {
    await this.service.start();
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.runner.idle();
  }
}

/** DhcpAgentNotifyAPI's methods (topic dhcp_agent.<host>). */
class DhcpNotifierEndpoint {
  readonly target = { version: '1.0', namespace: null };
  constructor(private readonly agent: DhcpAgent) {}
  private kick = async (ctx: RequestContext): Promise<void> => { void this.agent.networkChanged(ctx); };
  network_create_end = this.kick;
  network_update_end = this.kick;
  network_delete_end = this.kick;
  subnet_create_end = this.kick;
  subnet_update_end = this.kick;
  subnet_delete_end = this.kick;
  private portEvent = async (ctx: RequestContext, a: Dict): Promise<void> => {
    void this.agent.portChanged(ctx, a['payload']?.['port']).catch((e) => this.agent.service.log.error({ err: e }, 'DHCP port update failed'));
  };
  port_create_end = this.portEvent;
  port_update_end = this.portEvent;
  port_delete_end = this.kick;
  agent_updated = this.kick;
}
