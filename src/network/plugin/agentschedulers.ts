/**
 * DHCP and L3 agent schedulers (neutron/scheduler): networks with a DHCP-enabled subnet go to
 * `dhcp_agents_per_network` live DHCP agents, routers to the live L3 agent with the fewest
 * routers. Bindings live in networkdhcpagentbindings / routerl3agentbindings.
 * @module
 */
import { AGENT_TYPE_DHCP, AGENT_TYPE_L3 } from '../common/constants.js';
import type { NeutronPlugin } from './core.js';
import { b } from './dbutil.js';
import { Q } from '../db/queries.js';

export class AgentSchedulers {
  constructor(private readonly p: NeutronPlugin) {}

  private async liveAgentRows(type: string): Promise<any[]> {
    const rows = await this.p.db.selectFrom('agents').selectAll().where('agent_type', '=', type).execute();
    return rows.filter((r: any) => b(r.admin_state_up) && this.p.agentAlive(r.heartbeat_timestamp));
  }

  /** Hosts of the DHCP agents serving a network, scheduling it first when it needs DHCP and has none. */
  async dhcpHostsFor(networkId: string, schedule = true): Promise<string[]> {
    const bound = await Q.dhcpHostsOfNetwork.rows(this.p.db, networkId);
    if (bound.length || !schedule) return bound.map((r) => r.host);
    const dhcpSubnet = await Q.dhcpSubnetOfNetwork.first(this.p.db, networkId);
    if (!dhcpSubnet) return [];
    const agents = await this.liveAgentRows(AGENT_TYPE_DHCP);
    const chosen = agents.slice(0, this.p.cfg.dhcpAgentsPerNetwork);
    for (const a of chosen) {
      try {
        await this.p.db.insertInto('networkdhcpagentbindings').values({ network_id: networkId, dhcp_agent_id: a.id }).execute();
      } catch {
        // scheduled concurrently
      }
    }
    return chosen.map((a) => a.host);
  }

  /** Networks a DHCP agent should serve; unscheduled DHCP networks are given to it (auto_schedule_networks). */
  async networksForDhcpAgent(host: string): Promise<string[]> {
    const agent = await this.p.db.selectFrom('agents').selectAll().where('agent_type', '=', AGENT_TYPE_DHCP).where('host', '=', host).executeTakeFirst();
    if (!agent) return [];
    if (b(agent.admin_state_up)) {
      const unscheduled = await this.p.db.selectFrom('subnets').select('network_id').distinct().where('enable_dhcp', '=', 1)
        .where('network_id', 'not in', this.p.db.selectFrom('networkdhcpagentbindings').select('network_id')).execute();
      for (const n of unscheduled) {
        try {
          await this.p.db.insertInto('networkdhcpagentbindings').values({ network_id: n.network_id, dhcp_agent_id: agent.id }).execute();
        } catch {
          // another agent took it
        }
      }
    }
    const rows = await this.p.db.selectFrom('networkdhcpagentbindings').select('network_id').where('dhcp_agent_id', '=', agent.id).execute();
    return rows.map((r: any) => r.network_id);
  }

  /** Host of the L3 agent hosting a router, scheduling it to the least loaded live agent if needed. */
  async l3HostFor(routerId: string, schedule = true): Promise<string | null> {
    const bound = await this.p.db.selectFrom('routerl3agentbindings').innerJoin('agents', 'agents.id', 'routerl3agentbindings.l3_agent_id')
      .select(['agents.host as host']).where('router_id', '=', routerId).executeTakeFirst();
    if (bound || !schedule) return bound?.host ?? null;
    const agents = await this.liveAgentRows(AGENT_TYPE_L3);
    if (!agents.length) return null;
    const loads = await Promise.all(agents.map(async (a) => {
      const r: any = await this.p.db.selectFrom('routerl3agentbindings').select((eb: any) => eb.fn.countAll().as('n')).where('l3_agent_id', '=', a.id).executeTakeFirst();
      return { a, n: Number(r?.n ?? 0) };
    }));
    loads.sort((x, y) => x.n - y.n);
    const agent = loads[0]!.a;
    try {
      await this.p.db.insertInto('routerl3agentbindings').values({ router_id: routerId, l3_agent_id: agent.id }).execute();
    } catch {
      return this.l3HostFor(routerId, false);
    }
    return agent.host;
  }

  /** Routers an L3 agent hosts; unscheduled routers are given to it (auto_schedule_routers). */
  async routersForL3Agent(host: string): Promise<string[]> {
    const agent = await this.p.db.selectFrom('agents').selectAll().where('agent_type', '=', AGENT_TYPE_L3).where('host', '=', host).executeTakeFirst();
    if (!agent) return [];
    if (b(agent.admin_state_up)) {
      const unscheduled = await this.p.db.selectFrom('routers').select('id')
        .where('id', 'not in', this.p.db.selectFrom('routerl3agentbindings').select('router_id')).execute();
      for (const r of unscheduled) {
        try {
          await this.p.db.insertInto('routerl3agentbindings').values({ router_id: r.id, l3_agent_id: agent.id }).execute();
        } catch {
          // another agent took it
        }
      }
    }
    const rows = await this.p.db.selectFrom('routerl3agentbindings').select('router_id').where('l3_agent_id', '=', agent.id).execute();
    return rows.map((r: any) => r.router_id);
  }
}
