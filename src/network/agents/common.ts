/**
 * Pieces every Neutron agent shares: the `report_state` heartbeat (agents -> q-reports-plugin,
 * every `report_interval`), the plugin RPC clients, and extra RPC servers for the fanout
 * topics an agent listens on.
 * @module
 */
import { RequestContext } from '../../common/context.js';
import { getLogger } from '../../common/log.js';
import { RpcClient, RpcServer, type MessageBus } from '../../common/rpc/index.js';
import type { HeartbeatReporter } from '../../common/service.js';
import * as C from '../common/constants.js';

export type Dict = Record<string, any>;

/** Neutron's `[AGENT] report_interval` default. */
export const DEFAULT_REPORT_INTERVAL_MS = 30_000;

export interface AgentOptions {
  bus: MessageBus;
  host: string;
  reportIntervalMs?: number;
  /** Full resync period of the reconcile loop. */
  resyncIntervalMs?: number;
  availabilityZone?: string;
}

export function pluginClient(bus: MessageBus, host: string, service: string, namespace: string | null = null, version = '1.0'): RpcClient {
  return new RpcClient(bus, { exchange: C.EXCHANGE, topic: C.TOPIC_PLUGIN, namespace, version }, { service, host, timeoutMs: 60_000 });
}

/** The agent side of report_state: an RPC call with the agent's state dict. */
export class StateReporter implements HeartbeatReporter {
  private readonly client: RpcClient;
  private first = true;
  private readonly log;

  constructor(bus: MessageBus, private readonly state: () => Dict) {
    const s = state();
    this.client = new RpcClient(bus, { exchange: C.EXCHANGE, topic: C.TOPIC_REPORTS, namespace: 'report_state', version: '1.0' },
      { service: s['binary'], host: s['host'], timeoutMs: 30_000 });
    this.log = getLogger(s['binary'], s['host']);
  }

  async report(): Promise<void> {
    const agentState = { ...this.state(), ...(this.first ? { start_flag: true } : {}) };
    try {
      await this.client.call(RequestContext.admin(), 'report_state', { agent_state: { agent_state: agentState }, time: new Date().toISOString() });
      this.first = false;
    } catch (e) {
      this.log.warn({ err: e }, 'Failed reporting state!');
    }
  }
}

/** RPC servers for extra topics (the fanout notifier topics) with the agent's endpoints. */
export class ExtraServers {
  private servers: RpcServer[] = [];
  constructor(private readonly bus: MessageBus, private readonly host: string) {}

  async start(topics: string[], endpoints: object[]): Promise<void> {
    for (const topic of topics) {
      const s = new RpcServer(this.bus, { topic, server: this.host, exchange: C.EXCHANGE }, endpoints);
      await s.start();
      this.servers.push(s);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.servers) await s.stop();
    this.servers = [];
  }
}

/** Serializes reconcile work: one pass at a time, later requests folded into the next pass. */
export class SerialRunner {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly fn: () => Promise<void>, private readonly onError: (e: unknown) => void) {}

  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.fn();
        } catch (e) {
          this.onError(e);
        }
      } while (this.again);
    })().finally(() => { this.running = null; });
    return this.running;
  }

  /** A pass is running (work asked for now is folded into the next one). */
  get busy(): boolean {
    return this.running !== null;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
