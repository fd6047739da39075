/**
 * neutron-server -> agents: the ML2 AgentNotifierApi fanouts (`q-agent-notifier-<resource>-
 * <op>`), DhcpAgentNotifyAPI (`dhcp_agent.<host>` casts), L3AgentNotifyAPI (`l3_agent.<host>`).
 * They subscribe to the plugin's AFTER_* callbacks, so a change reaches the agents after commit.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { getLogger } from '../../common/log.js';
import { RpcClient, type MessageBus } from '../../common/rpc/index.js';
import * as C from '../common/constants.js';
import type { NeutronCore } from '../plugin/index.js';
import type { AgentSchedulers } from '../plugin/agentschedulers.js';
import type { Dict } from '../plugin/core.js';
import { Q } from '../db/queries.js';

const log = getLogger('neutron-server');

export class AgentNotifiers {
  private readonly agentClient: RpcClient;
  private readonly dhcpClient: RpcClient;
  private readonly l3Client: RpcClient;

  constructor(bus: MessageBus, private readonly n: NeutronCore, private readonly sched: AgentSchedulers, host: string) {
    const o = { service: 'neutron-server', host };
    this.agentClient = new RpcClient(bus, { exchange: C.EXCHANGE, topic: C.TOPIC_AGENT, version: '1.0' }, o);
    this.dhcpClient = new RpcClient(bus, { exchange: C.EXCHANGE, topic: C.TOPIC_DHCP_AGENT, version: '1.0' }, o);
    this.l3Client = new RpcClient(bus, { exchange: C.EXCHANGE, topic: C.TOPIC_L3_AGENT, version: '1.0' }, o);
    this.subscribe();
  }

  private fanout(ctx: RequestContext, resource: string, op: string, method: string, args: Dict): Promise<void> {
    return this.agentClient.prepare({ topic: C.agentTopic(resource, op), fanout: true }).cast(ctx, method, args)
      .catch((e) => log.warn({ err: e }, `fanout ${method} failed`));
  }

  /** ML2's port_update: port dict plus the bound segment. */
  async portUpdate(ctx: RequestContext, port: Dict): Promise<void> {
    const seg = port['binding:host_id'] ? await Q.boundSegmentOfPort.first(this.n.core.db, port['id']) : undefined;
    await this.fanout(ctx, 'port', 'update', 'port_update', {
      port, network_type: seg?.network_type ?? null, segmentation_id: seg?.segmentation_id || null, physical_network: seg?.physical_network || null,
    });
  }

  private async dhcpNotify(ctx: RequestContext, networkId: string, method: string, payload: Dict, schedule = true): Promise<void> {
    const hosts = await this.sched.dhcpHostsFor(networkId, schedule);
    for (const host of hosts) {
      await this.dhcpClient.prepare({ server: host }).cast(ctx, method, { payload }).catch((e) => log.warn({ err: e }, `dhcp ${method} failed`));
    }
  }

  async routersUpdated(ctx: RequestContext, routerIds: string[]): Promise<void> {
    const byHost = new Map<string, string[]>();
    for (const id of routerIds) {
      const host = await this.sched.l3HostFor(id);
      if (host) byHost.set(host, [...(byHost.get(host) ?? []), id]);
    }
    for (const [host, ids] of byHost) {
      await this.l3Client.prepare({ server: host }).cast(ctx, 'routers_updated', { routers: ids }).catch((e) => log.warn({ err: e }, 'routers_updated failed'));
    }
  }

  private subscribe(): void {
    const cb = this.n.core.callbacks;
    cb.subscribe('port.after_create', async (ctx, { resource }) => {
      const port = resource!;
      if (port['binding:host_id'] && this.n.core.isBound(port['binding:vif_type'])) await this.portUpdate(ctx, port);
      await this.dhcpNotify(ctx, port['network_id'], 'port_create_end', { port });
    });
    cb.subscribe('port.after_update', async (ctx, { resource, original }) => {
      const port = resource!;
      const relevant = ['binding:host_id', 'binding:vif_type', 'admin_state_up', 'fixed_ips', 'security_groups', 'mac_address', 'allowed_address_pairs', 'port_security_enabled']
        .some((k) => JSON.stringify(port[k]) !== JSON.stringify(original?.[k]));
      if (relevant) await this.portUpdate(ctx, port);
      await this.dhcpNotify(ctx, port['network_id'], 'port_update_end', { port });
    });
    cb.subscribe('port.after_delete', async (ctx, { resource }) => {
      const port = resource!;
      await this.fanout(ctx, 'port', 'delete', 'port_delete', { port_id: port['id'], network_id: port['network_id'], mac_address: port['mac_address'] });
      await this.dhcpNotify(ctx, port['network_id'], 'port_delete_end', { port_id: port['id'], network_id: port['network_id'], fixed_ips: port['fixed_ips'] }, false);
    });
    cb.subscribe('network.after_create', async (ctx, { resource }) => {
      await this.dhcpNotify(ctx, resource!['id'], 'network_create_end', { network: resource }, false);
    });
    cb.subscribe('network.after_update', async (ctx, { resource }) => {
      await this.fanout(ctx, 'network', 'update', 'network_update', { network: resource });
      await this.dhcpNotify(ctx, resource!['id'], 'network_update_end', { network: resource }, false);
    });
    cb.subscribe('network.after_delete', async (ctx, { resource }) => {
      await this.fanout(ctx, 'network', 'delete', 'network_delete', { network_id: resource!['id'] });
      // the bindings are gone with the network: tell every DHCP agent (Neutron fans this one out)
      await this.dhcpClient.prepare({ fanout: true }).cast(ctx, 'network_delete_end', { payload: { network_id: resource!['id'] } }).catch(() => undefined);
    });
    cb.subscribe('subnet.after_create', async (ctx, { resource }) => {
      await this.dhcpNotify(ctx, resource!['network_id'], 'subnet_create_end', { subnet: resource });
    });
    cb.subscribe('subnet.after_update', async (ctx, { resource }) => {
      await this.dhcpNotify(ctx, resource!['network_id'], 'subnet_update_end', { subnet: resource });
    });
    cb.subscribe('subnet.after_delete', async (ctx, { resource }) => {
      await this.dhcpNotify(ctx, resource!['network_id'], 'subnet_delete_end', { subnet_id: resource!['id'], network_id: resource!['network_id'] }, false);
    });
    cb.subscribe('security_group.rules_changed', async (ctx, { ids }) => {
      await this.fanout(ctx, 'security_group', 'update', 'security_groups_rule_updated', { security_groups: ids });
    });
    cb.subscribe('security_group.members_changed', async (ctx, { ids }) => {
      await this.fanout(ctx, 'security_group', 'update', 'security_groups_member_updated', { security_groups: ids });
    });
    cb.subscribe('router.after_update', async (ctx, { ids }) => this.routersUpdated(ctx, ids ?? []));
    cb.subscribe('router.after_delete', async (ctx, { ids, hosts }) => {
      for (const host of hosts ?? []) {
        for (const id of ids ?? []) await this.l3Client.prepare({ server: host }).cast(ctx, 'router_deleted', { router_id: id }).catch(() => undefined);
      }
    });
  }

  /** An agent (re)appeared: give it work that was waiting for an agent of its kind. */
  async agentRevived(ctx: RequestContext, state: Dict): Promise<void> {
    if (state['agent_type'] === C.AGENT_TYPE_L3) {
      const routers = await this.n.core.db.selectFrom('routers').select('id').execute();
      await this.routersUpdated(ctx, routers.map((r: any) => r.id));
    }
  }
}
