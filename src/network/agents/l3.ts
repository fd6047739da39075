/**
 * The L3 agent (neutron-l3-agent, legacy mode): converges the routers scheduled to it.
 * `routers_updated` / `router_deleted` casts and a periodic full sync call `sync_routers`
 * (which binds the router's ports to this host, so they go ACTIVE through the L2 agent), hand
 * each router to the backend, and report floating IP status (`update_floatingip_statuses`:
 * ACTIVE when associated through this router, DOWN otherwise).
 * @module
 */
import { RequestContext } from '../../common/context.js';
import { RpcClient } from '../../common/rpc/index.js';
import { Service } from '../../common/service.js';
import * as C from '../common/constants.js';
import { NoopL3Backend, type L3Backend } from './backend.js';
import { DEFAULT_REPORT_INTERVAL_MS, SerialRunner, StateReporter, type AgentOptions, type Dict } from './common.js';

export interface L3AgentOptions extends AgentOptions {
  backend?: L3Backend;
}

export class L3Agent {
  readonly backend: L3Backend;
  readonly service: Service;
  private readonly plugin: RpcClient;
  private readonly runner: SerialRunner;
  private fullSync = true;
  private readonly dirty = new Set<string>();
  private readonly deleted = new Set<string>();
  /** Floating IP statuses last reported, per router. */
  private readonly fipStatus = new Map<string, Map<string, string>>();

  constructor(private readonly o: L3AgentOptions) {
    this.backend = o.backend ?? new NoopL3Backend();
    this.plugin = new RpcClient(o.bus, { exchange: C.EXCHANGE, topic: C.TOPIC_L3PLUGIN, version: '1.0' }, { service: C.BINARY_L3, host: o.host, timeoutMs: 60_000 });
    this.runner = new SerialRunner(() => this.process(), (e) => this.service.log.error({ err: e }, 'router sync failed'));
    const reporter = new StateReporter(o.bus, () => ({
      binary: C.BINARY_L3, host: o.host, topic: C.TOPIC_L3_AGENT, agent_type: C.AGENT_TYPE_L3, availability_zone: o.availabilityZone ?? 'nova',
      configurations: {
        agent_mode: 'legacy', routers: this.backend.routers().length, interface_driver: this.backend instanceof NoopL3Backend ? 'noop' : 'linuxbridge',
        handle_internal_only_routers: true, log_agent_heartbeats: false,
      },
      resource_versions: {},
    }));
    this.service = new Service({
      binary: C.BINARY_L3, host: o.host, topic: C.TOPIC_L3_AGENT, bus: o.bus, exchange: C.EXCHANGE,
      endpoints: [new L3NotifierEndpoint(this)], heartbeat: reporter, reportIntervalMs: o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
      periodicTasks: [{ name: 'periodic_sync_routers_task', intervalMs: o.resyncIntervalMs ?? 10_000, runImmediately: true, run: async () => { this.fullSync = true; await this.runner.trigger(); } }],
    });
  }

  routersUpdated(ids: string[]): Promise<void> {
    for (const id of ids) this.dirty.add(id);
    return this.runner.trigger();
  }

  routerDeleted(id: string): Promise<void> {
    this.deleted.add(id);
    return this.runner.trigger();
  }

  private async process(): Promise<void> {
    const ctx = RequestContext.admin();
    for (const id of this.deleted) {
      await this.backend.remove(id);
      this.fipStatus.delete(id);
    }
    this.deleted.clear();
    const full = this.fullSync;
    this.fullSync = false;
    const ids = [...this.dirty];
    this.dirty.clear();
    if (!full && !ids.length) return;
    const routers = (await this.plugin.call(ctx, 'sync_routers', full ? { host: this.o.host } : { host: this.o.host, router_ids: ids })) as Dict[];
    const seen = new Set(routers.map((r) => r['id']));
    if (full) {
      for (const id of this.backend.routers()) if (!seen.has(id)) { await this.backend.remove(id); this.fipStatus.delete(id); }
    } else {
      // asked about a router the server no longer gives us: it moved or was deleted
      for (const id of ids) if (!seen.has(id)) { await this.backend.remove(id); this.fipStatus.delete(id); }
    }
    for (const r of routers) {
      await this.backend.process(r);
      const statuses: Record<string, string> = {};
      const prev = this.fipStatus.get(r['id']) ?? new Map<string, string>();
      const now = new Map<string, string>();
      const up = r['admin_state_up'] && r['gw_port'];
      for (const f of r['_floatingips'] as Dict[]) {
        const st = up && f['port_id'] ? C.FLOATINGIP_STATUS_ACTIVE : C.FLOATINGIP_STATUS_DOWN;
        now.set(f['id'], st);
        if (f['status'] !== st || prev.get(f['id']) !== st) statuses[f['id']] = st;
      }
      if (Object.keys(statuses).length) await this.plugin.call(ctx, 'update_floatingip_statuses', { router_id: r['id'], fip_statuses: statuses });
      this.fipStatus.set(r['id'], now);
    }
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

/** L3AgentNotifyAPI's methods (topic l3_agent.<host>). */
class L3NotifierEndpoint {
  readonly target = { version: '1.4', namespace: null };
  constructor(private readonly agent: L3Agent) {}
  async routers_updated(_ctx: RequestContext, a: Dict): Promise<void> {
    void this.agent.routersUpdated((a['routers'] as string[]) ?? []);
  }
  async router_deleted(_ctx: RequestContext, a: Dict): Promise<void> {
    void this.agent.routerDeleted(String(a['router_id']));
  }
  async router_added_to_agent(_ctx: RequestContext, a: Dict): Promise<void> {
    void this.agent.routersUpdated((a['payload'] as string[]) ?? []);
  }
  async router_removed_from_agent(_ctx: RequestContext, a: Dict): Promise<void> {
    void this.agent.routerDeleted(String(a['payload']?.['router_id'] ?? ''));
  }
  async agent_updated(): Promise<void> {}
  async update_port_status(): Promise<void> {}
}
