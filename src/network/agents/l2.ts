/**
 * The L2 agent (neutron-l2-agent, agent type "Linux bridge agent"): learns the ports bound to
 * its host from the server's `port_update` fanouts, asks for their details
 * (`get_devices_details_list_and_failed_devices`, which moves them to BUILD), wires them through
 * its backend and reports them up (`update_device_list`) so the server can make them ACTIVE;
 * `port_delete` unwires. A periodic pass retries whatever is not confirmed yet.
 *
 * Firewall, as Neutron's SecurityGroupAgentRpc with `defer_refresh_firewall` (what the Linux
 * bridge and OVS agents use): a newly wired device gets its filter from
 * `security_group_info_for_devices` for the new devices only (prepare_devices_filter); a
 * `security_groups_rule_updated` / `security_groups_member_updated` fanout marks the devices
 * whose groups (rules) or remote groups (members) it names for refiltering, and the agent loop
 * (the periodic pass, Neutron's polling interval) refreshes them in one call. Refreshing every
 * device of the host per member change made each port create cost every agent a read of all
 * its ports and all the group's members.
 * @module
 */
import { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import { Service } from '../../common/service.js';
import * as C from '../common/constants.js';
import { NoopL2Backend, type L2Backend } from './backend.js';
import { DEFAULT_REPORT_INTERVAL_MS, ExtraServers, SerialRunner, StateReporter, pluginClient, type AgentOptions, type Dict } from './common.js';

interface Device {
  id: string;
  adminUp: boolean;
  /** Context of the notification that brought the device, so the wiring joins that journey. */
  ctx: RequestContext | null;
  /** Reported to the server in this state. */
  reported: 'up' | 'down' | null;
  /** Its security groups and the remote groups their rules name, from its last filter (null: none yet). */
  groups: Set<string> | null;
  sourceGroups: Set<string> | null;
}

export interface L2AgentOptions extends AgentOptions {
  backend?: L2Backend;
  /** Physical networks this host reaches (bridge_mappings). */
  physicalNetworks?: string[];
  tunnelTypes?: string[];
}

export class L2Agent {
  readonly backend: L2Backend;
  readonly service: Service;
  private readonly devices = new Map<string, Device>();
  private readonly plugin;
  private readonly sg;
  private readonly extra: ExtraServers;
  private readonly runner: SerialRunner;
  private readonly agentId: string;
  /** Devices a rule or member change asked to refilter (Neutron's devices_to_refilter). */
  private readonly devicesToRefilter = new Set<string>();
  /** Set by the agent loop's periodic pass: process the deferred refilters in this pass. */
  private refilterDue = false;

  constructor(private readonly o: L2AgentOptions) {
    this.backend = o.backend ?? new NoopL2Backend();
    this.agentId = `lb${o.host}`;
    this.plugin = pluginClient(o.bus, o.host, C.BINARY_L2, null, '1.5');
    this.sg = pluginClient(o.bus, o.host, C.BINARY_L2, 'securitygroup', '1.2');
    this.extra = new ExtraServers(o.bus, o.host);
    this.runner = new SerialRunner(() => this.reconcile(), (e) => this.service.log.error({ err: e }, 'L2 reconcile failed'));
    const mappings = Object.fromEntries((o.physicalNetworks ?? ['public', 'physnet1']).map((p) => [p, `br-${p}`]));
    const reporter = new StateReporter(o.bus, () => ({
      binary: C.BINARY_L2, host: o.host, topic: 'N/A', agent_type: C.AGENT_TYPE_L2,
      configurations: {
        bridge_mappings: mappings, interface_mappings: {}, tunnel_types: o.tunnelTypes ?? ['vxlan'], tunneling_ip: '127.0.0.1',
        devices: this.devices.size, backend: this.backend instanceof NoopL2Backend ? 'noop' : 'linux', l2_population: false,
      },
      resource_versions: {},
    }));
    this.service = new Service({
      binary: C.BINARY_L2, host: o.host, bus: o.bus, exchange: C.EXCHANGE, heartbeat: reporter,
      reportIntervalMs: o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
      periodicTasks: [{ name: 'resync', intervalMs: o.resyncIntervalMs ?? 2000, run: async () => { this.refilterDue = true; await this.runner.trigger(); } }],
      onStart: () => this.extra.start(
        [C.agentTopic('port', 'update'), C.agentTopic('port', 'delete'), C.agentTopic('network', 'update'), C.agentTopic('network', 'delete'), C.agentTopic('security_group', 'update')],
        [new L2NotifierEndpoint(this)],
      ),
      onStop: () => this.extra.stop(),
    });
  }

  get host(): string {
    return this.o.host;
  }

  /** port_update fanout: take the port if it is bound here, drop it if it moved away. */
  async onPortUpdate(port: Dict, ctx: RequestContext | null = null): Promise<void> {
    const id = port['id'];
    if (port['binding:host_id'] === this.o.host && port['binding:vif_type'] !== C.VIF_TYPE_BINDING_FAILED && port['binding:vif_type'] !== C.VIF_TYPE_UNBOUND) {
      const d = this.devices.get(id);
      const adminUp = port['admin_state_up'] !== false;
      if (!d) this.devices.set(id, { id, adminUp, reported: null, ctx, groups: null, sourceGroups: null });
      else if (d.adminUp !== adminUp || port['status'] !== (d.reported === 'up' ? C.PORT_STATUS_ACTIVE : C.PORT_STATUS_DOWN)) {
        d.adminUp = adminUp;
        d.reported = null;
        d.ctx = ctx;
      }
      await this.runner.trigger();
    } else if (this.devices.has(id)) {
      await this.onPortDelete(id);
    }
  }

  async onPortDelete(portId: string): Promise<void> {
    this.devices.delete(portId);
    this.devicesToRefilter.delete(portId);
    await this.backend.unplugPort(portId);
  }

  /** Filters of `ids` (all devices when omitted) from the server, handed to the backend. */
  async refreshFirewall(ctx: RequestContext | null = null, ids: string[] = [...this.devices.keys()]): Promise<void> {
    const devices = ids.filter((id) => this.devices.has(id));
    if (!devices.length) return;
    const info = (await this.sg.call(ctx ?? RequestContext.admin(), 'security_group_info_for_devices', { devices })) as Dict;
    const rules = (info['security_groups'] ?? {}) as Record<string, Dict[]>;
    for (const [id, dev] of Object.entries<Dict>(info['devices'] ?? {})) {
      const d = this.devices.get(id);
      if (!d) continue;
      const groups = (dev['security_groups'] ?? []) as string[];
      d.groups = new Set(groups);
      d.sourceGroups = new Set(groups.flatMap((g) => (rules[g] ?? []).map((r) => r['remote_group_id']).filter((r): r is string => !!r)));
    }
    await this.backend.applyFirewall(info);
  }

  /**
   * security_groups_rule_updated / _member_updated: mark the devices in (rules) or referring to
   * (members) these groups; a device without a filter yet is marked too. The next periodic
   * pass refreshes them.
   */
  securityGroupsUpdated(ids: string[], attribute: 'groups' | 'sourceGroups'): void {
    for (const d of this.devices.values()) {
      if (this.devicesToRefilter.has(d.id)) continue;
      const of = d[attribute];
      if (!of || ids.some((g) => of.has(g))) this.devicesToRefilter.add(d.id);
    }
  }

  /** The agent loop's refilter step: one call for every device marked since the last one. */
  private async refilter(): Promise<void> {
    if (!this.devicesToRefilter.size) return;
    const ids = [...this.devicesToRefilter];
    this.devicesToRefilter.clear();
    try {
      await this.refreshFirewall(null, ids);
    } catch (e) {
      for (const id of ids) this.devicesToRefilter.add(id);
      throw e;
    }
  }

  /** One pass: wire and report every device not yet confirmed in its admin state. */
  private async reconcile(): Promise<void> {
    await this.wirePending();
    if (this.refilterDue) {
      this.refilterDue = false;
      await this.refilter();
    }
  }

  private async wirePending(): Promise<void> {
    const pending = [...this.devices.values()].filter((d) => d.reported === null);
    if (!pending.length) return;
    // one pass per journey, so each request's wiring (and its vif-plugged) stays in its own journey
    const groups = new Map<string, Device[]>();
    for (const d of pending) {
      const key = d.ctx?.journeyId ?? '';
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const group of groups.values()) {
      const origin = group[0]!.ctx;
      const ctx = origin ? origin.child().elevated() : RequestContext.admin();
      await withSpan({ kind: 'agent', name: 'l2-agent.wire_devices', service: C.BINARY_L2, host: this.o.host, ctx, attributes: { devices: group.map((d) => d.id) } },
        () => this.wire(ctx, group));
    }
  }

  private async wire(ctx: RequestContext, pending: Device[]): Promise<void> {
    const res = (await this.plugin.call(ctx, 'get_devices_details_list_and_failed_devices', {
      devices: pending.map((d) => d.id), agent_id: this.agentId, host: this.o.host,
    })) as { devices: Dict[]; failed_devices: string[] };
    const up: string[] = [];
    const down: string[] = [];
    for (const det of res.devices) {
      const dev = this.devices.get(det['device']);
      if (!dev) continue;
      if (!det['port_id']) {
        // the server no longer has it bound here
        this.devices.delete(det['device']);
        await this.backend.unplugPort(det['device']);
        continue;
      }
      await this.backend.plugPort(det);
      (det['admin_state_up'] ? up : down).push(det['device']);
    }
    if (up.length || down.length) {
      // prepare_devices_filter: the devices wired in this pass (their filter is current as of now)
      const wired = [...up, ...down];
      for (const id of wired) this.devicesToRefilter.delete(id);
      await this.refreshFirewall(ctx, wired);
      await this.plugin.call(ctx, 'update_device_list', { devices_up: up, devices_down: down, agent_id: this.agentId, host: this.o.host });
      for (const id of up) { const d = this.devices.get(id); if (d) { d.reported = 'up'; d.ctx = null; } }
      for (const id of down) { const d = this.devices.get(id); if (d) { d.reported = 'down'; d.ctx = null; } }
    }
  }

  /** Waits until no reconcile pass is running (tests). */
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

/** Methods the server fans out to L2 agents (q-agent-notifier-*). */
class L2NotifierEndpoint {
  readonly target = { version: '1.7', namespace: null };
  constructor(private readonly agent: L2Agent) {}

  async port_update(ctx: RequestContext, a: Dict): Promise<void> {
    await this.agent.onPortUpdate(a['port'] ?? {}, ctx);
  }
  async port_delete(_ctx: RequestContext, a: Dict): Promise<void> {
    await this.agent.onPortDelete(String(a['port_id']));
  }
  async network_update(): Promise<void> {}
  async network_delete(): Promise<void> {}
  async security_groups_rule_updated(_ctx: RequestContext, a: Dict): Promise<void> {
    this.agent.securityGroupsUpdated((a['security_groups'] as string[]) ?? [], 'groups');
  }
  async security_groups_member_updated(_ctx: RequestContext, a: Dict): Promise<void> {
    this.agent.securityGroupsUpdated((a['security_groups'] as string[]) ?? [], 'sourceGroups');
  }
  async security_groups_provider_updated(): Promise<void> {}
}
