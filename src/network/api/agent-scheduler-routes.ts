/**
 * The dhcp_agent_scheduler and l3_agent_scheduler extensions: which agent hosts which network
 * or router, and moving them (`openstack network agent list --network/--router`,
 * `network agent add/remove network|router`). Admin only, as Neutron's policy has it.
 * @module
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RequestContext } from '../../common/context.js';
import { ApiError } from '../../common/errors.js';
import * as C from '../common/constants.js';
import * as X from '../common/exceptions.js';
import type { NeutronCore } from '../plugin/index.js';
import type { Dict } from '../plugin/core.js';
import { emptyList } from '../plugin/dbutil.js';
import { isUuid } from './validators.js';

const V = '/v2.0';

export function registerAgentSchedulerRoutes(app: FastifyInstance, n: NeutronCore): void {
  const db = n.core.db;
  const admin = (ctx: RequestContext, action: string) => {
    if (!ctx.isAdmin) throw X.PolicyNotAuthorized(action);
  };
  const agentOf = async (ctx: RequestContext, id: string, type: string, invalid: string): Promise<Dict> => {
    const a = await n.agents.get(ctx, id);
    if (a['agent_type'] !== type || !a['admin_state_up']) throw new ApiError(404, invalid, { type: type === C.AGENT_TYPE_DHCP ? 'InvalidDHCPAgent' : 'InvalidL3Agent', detail: '' });
    return a;
  };
  const body = (b: unknown, key: string): string => {
    const v = (b as Dict | undefined)?.[key];
    if (!isUuid(v)) throw X.HTTPBadRequest(`Invalid input for ${key}. Reason: '${String(v)}' is not a valid UUID.`);
    return v;
  };

  app.get(`${V}/agents/:id/dhcp-networks`, async (req) => {
    admin(req.ctx, 'get_dhcp-networks');
    const a = await n.agents.get(req.ctx, (req.params as Dict)['id']);
    const ids = (await db.selectFrom('networkdhcpagentbindings').select('network_id').where('dhcp_agent_id', '=', a['id']).execute()).map((r: any) => r.network_id);
    const items = ids.length ? (await n.core.listNetworks(req.ctx, { ...emptyList(), filters: { id: ids } })).items : [];
    return { networks: items };
  });
  app.post(`${V}/agents/:id/dhcp-networks`, async (req, reply: FastifyReply) => {
    admin(req.ctx, 'create_dhcp-network');
    const id = (req.params as Dict)['id'];
    const a = await agentOf(req.ctx, id, C.AGENT_TYPE_DHCP, `Agent ${id} is not a valid DHCP Agent or has been disabled.`);
    const netId = body(req.body, 'network_id');
    const net = await n.core.getNetwork(req.ctx, netId);
    const bound = await db.selectFrom('networkdhcpagentbindings').select('network_id').where('dhcp_agent_id', '=', a['id']).where('network_id', '=', netId).executeTakeFirst();
    if (bound) throw new ApiError(409, `The network ${netId} has been already hosted by the DHCP Agent ${a['id']}.`, { type: 'NetworkHostedByDHCPAgent', detail: '' });
    await db.insertInto('networkdhcpagentbindings').values({ network_id: netId, dhcp_agent_id: a['id'] }).execute();
    await n.core.callbacks.publish(req.ctx, 'network.after_update', { resource: net, original: net });
    reply.code(201);
    return null;
  });
  app.delete(`${V}/agents/:id/dhcp-networks/:net`, async (req, reply: FastifyReply) => {
    admin(req.ctx, 'delete_dhcp-network');
    const { id, net } = req.params as Dict;
    const a = await n.agents.get(req.ctx, id);
    const r = await db.deleteFrom('networkdhcpagentbindings').where('dhcp_agent_id', '=', a['id']).where('network_id', '=', net).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) {
      throw new ApiError(409, `The network ${net} is not hosted by the DHCP Agent ${a['id']}.`, { type: 'NetworkNotHostedByDhcpAgent', detail: '' });
    }
    reply.code(204);
    return reply.send();
  });
  app.get(`${V}/networks/:id/dhcp-agents`, async (req) => {
    admin(req.ctx, 'get_dhcp-agents');
    const net = await n.core.getNetwork(req.ctx, (req.params as Dict)['id']);
    const ids = (await db.selectFrom('networkdhcpagentbindings').select('dhcp_agent_id').where('network_id', '=', net['id']).execute()).map((r: any) => r.dhcp_agent_id);
    return { agents: ids.length ? (await n.agents.list(req.ctx, { ...emptyList(), filters: { id: ids } })).items : [] };
  });

  app.get(`${V}/agents/:id/l3-routers`, async (req) => {
    admin(req.ctx, 'get_l3-routers');
    const a = await n.agents.get(req.ctx, (req.params as Dict)['id']);
    const ids = (await db.selectFrom('routerl3agentbindings').select('router_id').where('l3_agent_id', '=', a['id']).execute()).map((r: any) => r.router_id);
    return { routers: ids.length ? (await n.l3.list(req.ctx, { ...emptyList(), filters: { id: ids } })).items : [] };
  });
  app.post(`${V}/agents/:id/l3-routers`, async (req, reply: FastifyReply) => {
    admin(req.ctx, 'create_l3-router');
    const id = (req.params as Dict)['id'];
    const a = await agentOf(req.ctx, id, C.AGENT_TYPE_L3, `Agent ${id} is not a L3 Agent or has been disabled.`);
    const routerId = body(req.body, 'router_id');
    await n.l3.get(req.ctx, routerId);
    const cur = await db.selectFrom('routerl3agentbindings').select('l3_agent_id').where('router_id', '=', routerId).executeTakeFirst();
    if (cur) {
      throw new ApiError(409, `The router ${routerId} has been already hosted by the L3 Agent ${cur.l3_agent_id}.`, { type: 'RouterHostedByL3Agent', detail: '' });
    }
    await db.insertInto('routerl3agentbindings').values({ router_id: routerId, l3_agent_id: a['id'] }).execute();
    await n.core.callbacks.publish(req.ctx, 'router.after_update', { ids: [routerId] });
    reply.code(201);
    return null;
  });
  app.delete(`${V}/agents/:id/l3-routers/:router`, async (req, reply: FastifyReply) => {
    admin(req.ctx, 'delete_l3-router');
    const { id, router } = req.params as Dict;
    const a = await n.agents.get(req.ctx, id);
    const r = await db.deleteFrom('routerl3agentbindings').where('l3_agent_id', '=', a['id']).where('router_id', '=', router).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) {
      throw new ApiError(409, `The router ${router} is not hosted by L3 agent ${a['id']}.`, { type: 'RouterNotHostedByL3Agent', detail: '' });
    }
    await n.core.callbacks.publish(req.ctx, 'router.after_delete', { ids: [router], hosts: [a['host']] });
    reply.code(204);
    return reply.send();
  });
  app.get(`${V}/routers/:id/l3-agents`, async (req) => {
    admin(req.ctx, 'get_l3-agents');
    const r = await n.l3.get(req.ctx, (req.params as Dict)['id']);
    const ids = (await db.selectFrom('routerl3agentbindings').select('l3_agent_id').where('router_id', '=', r['id']).execute()).map((x: any) => x.l3_agent_id);
    return { agents: ids.length ? (await n.agents.list(req.ctx, { ...emptyList(), filters: { id: ids } })).items : [] };
  });
}
