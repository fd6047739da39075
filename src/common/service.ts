/**
 * A `Service` is one OpenStack binary (nova-compute, neutron-dhcp-agent, ...): RPC server(s) on
 * its topic, periodic tasks, a heartbeat into its service's `services`/`agents` table, and a
 * graceful stop. The same class runs inside `stratus up` and alone as `stratus <binary>`.
 *
 * Periodic tasks are level-triggered reconciles: each run looks at the whole state and converges,
 * so a lost cast or a missed tick is repaired by the next run.
 * @module
 */
import { RequestContext, runWithContext } from './context.js';
import { getLogger, type Logger } from './log.js';
import { RpcServer, type MessageBus, type Serializer } from './rpc/index.js';

export interface PeriodicTask {
  name: string;
  intervalMs: number;
  /** Run once right after start (default false: first run after one interval). */
  runImmediately?: boolean;
  run(ctx: RequestContext): Promise<void>;
}

/** Writes the liveness row (`services.updated_at`, `report_count`) for one binary on one host. */
export interface HeartbeatReporter {
  report(binary: string, host: string, topic: string | null): Promise<void>;
}

export interface ServiceOptions {
  binary: string;
  host: string;
  topic?: string | null;
  bus?: MessageBus | null;
  exchange?: string;
  endpoints?: object[];
  serializer?: Serializer;
  periodicTasks?: PeriodicTask[];
  heartbeat?: HeartbeatReporter | null;
  /** `report_interval` (oslo default 10 s). */
  reportIntervalMs?: number;
  /** Extra start/stop work (an HTTP app, an agent's reconcile loop). */
  onStart?: () => Promise<void>;
  onStop?: () => Promise<void>;
}

/** "Up" while the last heartbeat is younger than `service_down_time` (Nova's default 60 s). */
export function isServiceUp(lastSeen: Date | string | null, serviceDownTimeSec = 60, now = new Date()): boolean {
  if (!lastSeen) return false;
  const t = typeof lastSeen === 'string' ? new Date(lastSeen) : lastSeen;
  return now.getTime() - t.getTime() <= serviceDownTimeSec * 1000;
}

export class Service {
  readonly binary: string;
  readonly host: string;
  readonly topic: string | null;
  readonly log: Logger;
  private readonly opts: ServiceOptions;
  private rpcServer: RpcServer | null = null;
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<void>>();
  private started = false;

  constructor(opts: ServiceOptions) {
    this.opts = opts;
    this.binary = opts.binary;
    this.host = opts.host;
    this.topic = opts.topic ?? null;
    this.log = getLogger(opts.binary, opts.host);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.topic && this.opts.bus) {
      const target: { topic: string; server: string; exchange?: string } = { topic: this.topic, server: this.host };
      if (this.opts.exchange) target.exchange = this.opts.exchange;
      const serverOpts = this.opts.serializer ? { serializer: this.opts.serializer } : undefined;
      this.rpcServer = new RpcServer(this.opts.bus, target, this.opts.endpoints ?? [], serverOpts);
      await this.rpcServer.start();
    }
    if (this.opts.heartbeat) {
      await this.beat();
      this.every('report_state', this.opts.reportIntervalMs ?? 10_000, () => this.beat());
    }
    for (const task of this.opts.periodicTasks ?? []) {
      const run = () => runWithContext(RequestContext.admin(), () => task.run(RequestContext.admin()));
      if (task.runImmediately) this.track(task.name, run);
      this.every(task.name, task.intervalMs, run);
    }
    await this.opts.onStart?.();
    this.log.info({ topic: this.topic }, `${this.binary} started`);
  }

  /** Stops taking work, waits for periodic runs in flight, then stops the RPC server. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
    await this.opts.onStop?.();
    if (this.rpcServer) await this.rpcServer.stop();
    this.rpcServer = null;
  }

  private async beat(): Promise<void> {
    await this.opts.heartbeat!.report(this.binary, this.host, this.topic);
  }

  private every(name: string, intervalMs: number, fn: () => Promise<void>): void {
    const t = setInterval(() => this.track(name, fn), intervalMs);
    t.unref();
    this.timers.push(t);
  }

  /** One run at a time per task; a slow run is not stacked on by the next tick. */
  private inFlight = new Set<string>();
  private track(name: string, fn: () => Promise<void>): void {
    if (this.inFlight.has(name) || !this.started) return;
    this.inFlight.add(name);
    const p = fn()
      .catch((e: unknown) => this.log.error({ err: e, task: name }, 'periodic task failed'))
      .finally(() => {
        this.inFlight.delete(name);
        this.running.delete(p);
      });
    this.running.add(p);
  }
}
