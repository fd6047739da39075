/**
 * RPC client (oslo `RPCClient`): call, cast and fanout cast to a target, with `prepare()`,
 * version caps and `canSendVersion`.
 * @module
 */
import type { RequestContext } from '../context.js';
import { withSpan } from '../journey/span.js';
import { encodeWithContext, uuidHex, type WireMessage } from './envelope.js';
import { InvalidTarget, MessagingTimeout, RpcVersionCapError, deserializeRemoteException } from './exceptions.js';
import { ReplyWaiter, type ReplyHandler } from './reply.js';
import { noopSerializer, type Serializer } from './serializer.js';
import { DEFAULT_EXCHANGE, checkVersion, fanoutExchange, routingKey, versionIsCompatible, type Target } from './target.js';
import { PUBLISHED, type MessageBus } from './transport.js';

/** oslo's `rpc_response_timeout` default. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface RpcClientOptions {
  versionCap?: string;
  timeoutMs?: number;
  serializer?: Serializer;
  /** oslo `call_monitor_timeout`: the server heartbeats, and the call fails after this long without one. */
  callMonitorTimeoutMs?: number;
  /** Service and host recorded on journey spans (the sender). */
  service?: string;
  host?: string;
}

export interface PrepareOptions {
  server?: string;
  fanout?: boolean;
  version?: string;
  timeoutMs?: number;
  topic?: string;
  namespace?: string | null;
  exchange?: string;
  callMonitorTimeoutMs?: number;
  versionCap?: string;
}

export class RpcClient {
  readonly target: Target;
  private readonly opts: RpcClientOptions;

  constructor(
    private readonly bus: MessageBus,
    target: Target,
    opts: RpcClientOptions = {},
  ) {
    if (target.version !== undefined) checkVersion(target.version);
    this.target = { ...target };
    this.opts = { ...opts };
  }

  /** A client with some target fields and options overridden (oslo `prepare`). */
  prepare(o: PrepareOptions): RpcClient {
    const t: Target = { ...this.target };
    if (o.server !== undefined) t.server = o.server;
    if (o.fanout !== undefined) t.fanout = o.fanout;
    if (o.version !== undefined) t.version = o.version;
    if (o.topic !== undefined) t.topic = o.topic;
    if (o.namespace !== undefined) t.namespace = o.namespace;
    if (o.exchange !== undefined) t.exchange = o.exchange;
    const opts: RpcClientOptions = { ...this.opts };
    if (o.timeoutMs !== undefined) opts.timeoutMs = o.timeoutMs;
    if (o.callMonitorTimeoutMs !== undefined) opts.callMonitorTimeoutMs = o.callMonitorTimeoutMs;
    if (o.versionCap !== undefined) opts.versionCap = o.versionCap;
    return new RpcClient(this.bus, t, opts);
  }

  /** Whether `v` (default: the target's version) is within the version cap. */
  canSendVersion(v?: string): boolean {
    return versionIsCompatible(this.opts.versionCap, v ?? this.target.version);
  }

  private get exchange(): string {
    return this.target.exchange ?? DEFAULT_EXCHANGE;
  }

  private get serializer(): Serializer {
    return this.opts.serializer ?? noopSerializer;
  }

  private makeMessage(ctx: RequestContext, method: string, args: Record<string, unknown> | undefined): WireMessage {
    const version = this.target.version;
    if (version !== undefined && !versionIsCompatible(this.opts.versionCap, version)) {
      throw new RpcVersionCapError(
        `Requested message version, ${version} is incompatible.  It needs to be equal in major version and less than or equal in minor version as the specified version cap ${this.opts.versionCap}.`,
      );
    }
    const serializer = this.serializer;
    let serialized: Record<string, unknown> = args ?? {};
    // The encoder copies the arguments anyway; only a real serializer needs a pass over them.
    if (serializer !== noopSerializer) {
      serialized = {};
      for (const [k, v] of Object.entries(args ?? {})) serialized[k] = serializer.serializeEntity(ctx, v);
    }
    const msg: WireMessage = { method, args: serialized };
    if (this.target.namespace != null) msg['namespace'] = this.target.namespace;
    if (version !== undefined) msg['version'] = version;
    return msg;
  }

  private spanInit(ctx: RequestContext, method: string, type: 'call' | 'cast' | 'fanout') {
    const fanout = type === 'fanout';
    return {
      kind: 'rpc.send' as const,
      name: method,
      service: this.opts.service ?? 'rpc',
      host: this.opts.host ?? null,
      ctx,
      attributes: {
        exchange: fanout ? fanoutExchange(this.target.topic) : this.exchange,
        routing_key: fanout ? this.target.topic : routingKey(this.target),
        method,
        version: this.target.version ?? null,
        namespace: this.target.namespace ?? null,
        type,
      },
    };
  }

  /** Sends and returns immediately; with `fanout` every server of the topic gets it. */
  async cast(ctx: RequestContext, method: string, args?: Record<string, unknown>): Promise<void> {
    const msg = this.makeMessage(ctx, method, args);
    const type = this.target.fanout ? 'fanout' : 'cast';
    await withSpan(this.spanInit(ctx, method, type), (span) => {
      msg['_unique_id'] = uuidHex();
      const body = encodeWithContext(msg, ctx, span.id);
      return this.target.fanout ? this.bus.publishFanout(this.target.topic, body) : this.bus.publishTopic(this.exchange, routingKey(this.target), body);
    });
  }

  /** Sends and waits for the reply; rejects with the remote error or `MessagingTimeout`. */
  call<T = unknown>(ctx: RequestContext, method: string, args?: Record<string, unknown>): Promise<T> {
    const waiter = ReplyWaiter.ready(this.bus);
    // The common case (reply queue up, no serializer) returns the span's promise itself;
    // errors are still rejections, never throws.
    if (!waiter || this.serializer !== noopSerializer || this.target.fanout) return this.callSlow(ctx, method, args);
    let msg: WireMessage;
    try {
      msg = this.makeMessage(ctx, method, args);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.send(ctx, method, msg, waiter) as Promise<T>;
  }

  private async callSlow<T>(ctx: RequestContext, method: string, args?: Record<string, unknown>): Promise<T> {
    if (this.target.fanout) throw new InvalidTarget('A call cannot be used with fanout');
    const msg = this.makeMessage(ctx, method, args);
    const waiter = ReplyWaiter.ready(this.bus) ?? (await ReplyWaiter.for(this.bus));
    const result = await this.send(ctx, method, msg, waiter);
    return (this.serializer === noopSerializer ? result : this.serializer.deserializeEntity(ctx, result)) as T;
  }

  private send(ctx: RequestContext, method: string, msg: WireMessage, waiter: ReplyWaiter): Promise<unknown> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const monitorMs = this.opts.callMonitorTimeoutMs;
    return withSpan(this.spanInit(ctx, method, 'call'), (span) => {
      const msgId = uuidHex();
      msg['_msg_id'] = msgId;
      msg['_reply_q'] = waiter.queue;
      msg['_timeout'] = monitorMs !== undefined ? Math.max(1, Math.round(monitorMs / 1000)) : null;
      msg['_unique_id'] = uuidHex();
      const body = encodeWithContext(msg, ctx, span.id);
      return new Promise<unknown>((resolve, reject) => {
        const pending = new PendingCall(waiter, msgId, timeoutMs, monitorMs, resolve, reject);
        const sent = this.bus.publishTopic(this.exchange, routingKey(this.target), body, { expirationMs: timeoutMs });
        if (sent !== PUBLISHED) sent.catch((e: unknown) => pending.fail(e));
      });
    });
  }
}

/** One call waiting for its reply: the overall timer, the call-monitor timer, the partial result. */
class PendingCall implements ReplyHandler {
  private readonly overall: NodeJS.Timeout;
  private readonly monitor: NodeJS.Timeout | undefined;
  private partial: unknown = null;

  constructor(
    private readonly waiter: ReplyWaiter,
    private readonly msgId: string,
    timeoutMs: number,
    monitorMs: number | undefined,
    private readonly resolve: (v: unknown) => void,
    private readonly reject: (e: Error) => void,
  ) {
    // Timers get the call as their argument: no closure per call.
    this.overall = setTimeout(PendingCall.timedOut, timeoutMs, this);
    this.monitor = monitorMs !== undefined ? setTimeout(PendingCall.timedOut, monitorMs, this) : undefined;
    waiter.listen(msgId, this);
  }

  private static timedOut(call: PendingCall): void {
    call.finish(new MessagingTimeout(`Timed out waiting for a reply to message ID ${call.msgId}`));
  }

  private finish(err: Error | null, value?: unknown): void {
    clearTimeout(this.overall);
    if (this.monitor) clearTimeout(this.monitor);
    this.waiter.unlisten(this.msgId);
    if (err) this.reject(err);
    else this.resolve(value);
  }

  onReply(reply: WireMessage): void {
    if (reply['failure']) return this.finish(deserializeRemoteException(reply['failure']));
    const r = reply['result'] ?? null;
    if (r !== null) this.partial = r;
    if (reply['ending']) return this.finish(null, this.partial);
    // A call-monitor heartbeat (no result, not ending) renews the monitor timer.
    if (r === null && this.monitor) this.monitor.refresh();
  }

  onClose(err: Error): void {
    this.finish(err);
  }

  fail(e: unknown): void {
    this.finish(e instanceof Error ? e : new Error(String(e)));
  }
}
