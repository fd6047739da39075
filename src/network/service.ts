/**
 * Entry points of Neutron's binaries: neutron-server (REST API on the common app, the ML2
 * plugin, the RPC servers agents talk to, the agent notifiers and the Nova notifier) and the
 * agents (L2, DHCP, L3, metadata), each a `Service` on the bus.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { createApp } from '../common/http/app.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import type { Session } from '../common/http/client.js';
import type { Database } from '../common/db/connection.js';
import { migrate, registerDbSchema } from '../common/db/index.js';
import { RequestContext } from '../common/context.js';
import { RpcServer, type MessageBus } from '../common/rpc/index.js';
import * as C from './common/constants.js';
import { migrations } from './db/schema.js';
import { NeutronCore } from './plugin/index.js';
import type { NeutronConfig } from './plugin/config.js';
import { AgentSchedulers } from './plugin/agentschedulers.js';
import { registerNeutronRoutes } from './api/routes.js';
import { AgentNotifiers } from './rpc/agent-notifiers.js';
import {
  AgentStateCallback, DhcpRpcCallback, L3RpcCallback, MetadataRpcCallback, Ml2RpcCallbacks, SecurityGroupRpcCallback,
} from './rpc/server-callbacks.js';
import { NovaNotifier, DEFAULT_SEND_EVENTS_INTERVAL_MS } from './notifiers/nova.js';
import { L2Agent, type L2AgentOptions } from './agents/l2.js';
import { DhcpAgent, type DhcpAgentOptions } from './agents/dhcp.js';
import { L3Agent, type L3AgentOptions } from './agents/l3.js';
import { MetadataAgent, type MetadataAgentOptions } from './agents/metadata.js';
import { createDevstackDefaults } from './defaults.js';
import { startCheckpointer, type Checkpointer } from './db/checkpointer.js';

registerDbSchema('neutron', migrations);

export { NeutronCore } from './plugin/index.js';
export { L2Agent } from './agents/l2.js';
export { DhcpAgent } from './agents/dhcp.js';
export { L3Agent } from './agents/l3.js';
export { MetadataAgent } from './agents/metadata.js';
export { NovaNotifier, DEFAULT_SEND_EVENTS_INTERVAL_MS } from './notifiers/nova.js';

export interface NeutronServerOptions {
  database: Database;
  bus: MessageBus;
  host: string;
  validator?: TokenValidator;
  authUrl?: string;
  /** Posts port events to Nova; null/absent = no notifier. `sendEventsIntervalMs` defaults to 10 ms. */
  novaNotifier?: { session: Session; sendEventsIntervalMs?: number } | null;
  config?: Partial<NeutronConfig>;
  /** SQLite only: WAL checkpoints in a worker thread instead of inside commits (default true). */
  backgroundCheckpoints?: boolean;
}

export interface NeutronServer {
  app: FastifyInstance;
  start(): Promise<void>;
  stop(): Promise<void>;
  plugin: NeutronCore;
  nova: NovaNotifier | null;
}

export async function createNeutronServer(opts: NeutronServerOptions): Promise<NeutronServer> {
  await migrate(opts.database, 'neutron', migrations);
  const plugin = new NeutronCore(opts.database, opts.config ?? {});
  const sched = new AgentSchedulers(plugin.core);
  const notifiers = new AgentNotifiers(opts.bus, plugin, sched, opts.host);
  const nova = opts.novaNotifier
    ? new NovaNotifier(opts.novaNotifier.session, opts.novaNotifier.sendEventsIntervalMs ?? DEFAULT_SEND_EVENTS_INTERVAL_MS)
    : null;
  nova?.attach(plugin.core.callbacks);

  const app = createApp({
    service: 'neutron-server', host: opts.host, faults: 'neutron',
    ...(opts.validator ? { validator: opts.validator } : {}), ...(opts.authUrl ? { authUrl: opts.authUrl } : {}),
  });
  registerNeutronRoutes(app, plugin);

  const pluginEndpoints = [new Ml2RpcCallbacks(plugin), new DhcpRpcCallback(plugin, sched), new SecurityGroupRpcCallback(plugin), new MetadataRpcCallback(plugin)];
  const servers = [
    new RpcServer(opts.bus, { topic: C.TOPIC_PLUGIN, server: opts.host, exchange: C.EXCHANGE }, pluginEndpoints, { service: 'neutron-server' }),
    new RpcServer(opts.bus, { topic: C.TOPIC_REPORTS, server: opts.host, exchange: C.EXCHANGE },
      [new AgentStateCallback(plugin, (state) => notifiers.agentRevived(RequestContext.admin(), state))], { service: 'neutron-server' }),
    new RpcServer(opts.bus, { topic: C.TOPIC_L3PLUGIN, server: opts.host, exchange: C.EXCHANGE }, [new L3RpcCallback(plugin, sched)], { service: 'neutron-server' }),
  ];
  let started = false;
  let checkpointer: Checkpointer | null = null;
  return {
    app,
    plugin,
    nova,
    async start() {
      if (started) return;
      started = true;
      if (opts.backgroundCheckpoints !== false) checkpointer = await startCheckpointer(opts.database);
      for (const s of servers) await s.start();
    },
    async stop() {
      if (started) for (const s of servers) await s.stop();
      started = false;
      await nova?.stop();
      await app.close();
      await checkpointer?.stop();
      checkpointer = null;
    },
  };
}

type AgentHandle<T> = T & { start(): Promise<void>; stop(): Promise<void> };

/**
 * L2 agents created in this process, per bus and host. A network node runs an L2 agent next to
 * its DHCP and L3 agents (their ports bind to that host); when the all-in-one process starts a
 * DHCP or L3 agent on a host without one, that agent brings one along and stops it when done.
 */
const l2ByBus = new WeakMap<MessageBus, Map<string, L2Agent>>();
function l2Registry(bus: MessageBus): Map<string, L2Agent> {
  let m = l2ByBus.get(bus);
  if (!m) l2ByBus.set(bus, (m = new Map()));
  return m;
}

export async function createL2Agent(opts: { bus: MessageBus; host: string } & Partial<L2AgentOptions>): Promise<AgentHandle<L2Agent>> {
  const agent = new L2Agent(opts);
  l2Registry(opts.bus).set(opts.host, agent);
  return agent;
}

/** Wraps a network-node agent so it starts (and later stops) an L2 agent on its host if none runs. */
function withNodeL2<T extends { start(): Promise<void>; stop(): Promise<void> }>(agent: T, bus: MessageBus, host: string): T {
  let own: L2Agent | null = null;
  const start = agent.start.bind(agent);
  const stop = agent.stop.bind(agent);
  agent.start = async () => {
    const reg = l2Registry(bus);
    if (!reg.has(host)) {
      own = new L2Agent({ bus, host });
      reg.set(host, own);
      await own.start();
    }
    await start();
  };
  agent.stop = async () => {
    await stop();
    if (own) {
      await own.stop();
      if (l2Registry(bus).get(host) === own) l2Registry(bus).delete(host);
      own = null;
    }
  };
  return agent;
}

export async function createDhcpAgent(opts: { bus: MessageBus; host: string } & Partial<DhcpAgentOptions>): Promise<AgentHandle<DhcpAgent>> {
  return withNodeL2(new DhcpAgent(opts), opts.bus, opts.host);
}

export async function createL3Agent(opts: { bus: MessageBus; host: string } & Partial<L3AgentOptions>): Promise<AgentHandle<L3Agent>> {
  return withNodeL2(new L3Agent(opts), opts.bus, opts.host);
}

export async function createMetadataAgent(opts: { bus: MessageBus; host: string } & Partial<MetadataAgentOptions>): Promise<AgentHandle<MetadataAgent>> {
  return new MetadataAgent(opts);
}

/** devstack's public / private / router1 (openstack-flows §7.3). */
export async function ensureDefaultNetworks(server: { plugin: NeutronCore }, opts: { demoProjectId: string; adminProjectId: string }): Promise<void> {
  await createDevstackDefaults(server.plugin, opts);
}
