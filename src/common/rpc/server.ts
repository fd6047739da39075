/**
 * RPC server (oslo `RPCServer`): consumes the queues `topic`, `topic.server` and a
 * `topic_fanout_<uuid>` queue, dispatches each request inside its context and journey span,
 * and replies to calls (with call-monitor heartbeats for long ones).
 * @module
 */
import { withSpan } from '../journey/span.js';
import { getLogger } from '../log.js';
import { DuplicateCache, decodeMessage, encodeMessage, unpackContext, uuidHex, type WireMessage } from './envelope.js';
import { serializeRemoteException } from './exceptions.js';
import { RpcDispatcher, type IncomingCall } from './dispatcher.js';
import type { Serializer } from './serializer.js';
import { DEFAULT_EXCHANGE } from './target.js';
import { PUBLISHED, type MessageBody, type MessageBus, type Subscription } from './transport.js';

const log = getLogger('rpc');

interface Incoming {
  msg: WireMessage;
  /** How it reached us: routing key, or the fanout exchange. */
  via: { exchange: string; routingKey: string; fanout: boolean };
}

export interface RpcServerTarget {
  topic: string;
  server: string;
  exchange?: string;
}

export interface RpcServerOptions {
  serializer?: Serializer;
  /** Requests handled at once (oslo `executor_thread_pool_size`, default 64). */
  executorConcurrency?: number;
  /** Service recorded on journey spans (default: the topic). */
  service?: string;
}

export class RpcServer {
  private subs: Subscription[] = [];
  private readonly dispatcher: RpcDispatcher;
  private readonly dups = new DuplicateCache();
  private readonly concurrency: number;
  private backlog: Incoming[] = [];
  private backlogHead = 0;
  private running = 0;
  private idle: Array<() => void> = [];
  private started = false;

  constructor(
    private readonly bus: MessageBus,
    readonly target: RpcServerTarget,
    endpoints: object[],
    private readonly opts: RpcServerOptions = {},
  ) {
    this.dispatcher = new RpcDispatcher(endpoints, opts.serializer);
    this.concurrency = opts.executorConcurrency ?? 64;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const exchange = this.target.exchange ?? DEFAULT_EXCHANGE;
    const { topic, server } = this.target;
    try {
      const direct = `${topic}.${server}`;
      const ack = { ack: 'receipt' as const };
      this.subs.push(await this.bus.consumeTopic(exchange, topic, topic, this.handler({ exchange, routingKey: topic, fanout: false }), ack));
      this.subs.push(await this.bus.consumeTopic(exchange, direct, direct, this.handler({ exchange, routingKey: direct, fanout: false }), ack));
      this.subs.push(await this.bus.consumeFanout(topic, this.handler({ exchange: `${topic}_fanout`, routingKey: topic, fanout: true }), ack));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops consuming and waits for the requests in progress to finish. */
  async stop(): Promise<void> {
    const subs = this.subs.splice(0);
    for (const s of subs) await s.close().catch((e: unknown) => log.warn({ err: e }, 'closing consumer failed'));
    this.started = false;
    if (this.running > 0 || this.pending() > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  // Like oslo, a request is acknowledged as soon as it is taken; the executor runs it.
  private handler(via: Incoming['via']): (body: MessageBody) => void {
    return (body) => this.onMessage(body, via);
  }

  private onMessage(body: MessageBody, via: Incoming['via']): void {
    let msg: WireMessage;
    try {
      msg = decodeMessage(body);
    } catch (e) {
      log.error({ err: e }, 'undecodable RPC message dropped');
      return;
    }
    if (this.dups.seen(msg['_unique_id'])) {
      log.warn({ unique_id: msg['_unique_id'] }, 'ignoring duplicate message');
      return;
    }
    this.backlog.push({ msg, via });
    this.pump();
  }

  private pending(): number {
    return this.backlog.length - this.backlogHead;
  }

  private take(): Incoming {
    const item = this.backlog[this.backlogHead]!;
    this.backlog[this.backlogHead++] = undefined as unknown as Incoming;
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
    return item;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending() > 0) {
      this.running++;
      void this.runOne(this.take());
    }
  }

  // One request from the backlog: dispatch inside its context and span, reply to a call.
  private async runOne({ msg, via }: Incoming): Promise<void> {
    try {
      const { ctx, journeyParent } = unpackContext(msg);
      const msgId = typeof msg['_msg_id'] === 'string' ? msg['_msg_id'] : null;
      const replyQ = typeof msg['_reply_q'] === 'string' ? msg['_reply_q'] : null;
      const method = String(msg['method'] ?? '');
      const version = typeof msg['version'] === 'string' ? msg['version'] : '1.0';
      const namespace = typeof msg['namespace'] === 'string' ? msg['namespace'] : null;
      const args = msg['args'] && typeof msg['args'] === 'object' ? (msg['args'] as Record<string, unknown>) : {};
      const heartbeat = msgId && replyQ ? this.startHeartbeat(msg['_timeout'], replyQ, msgId) : undefined;
      const call: IncomingCall = { method, args, namespace, version };
      let result: unknown = null;
      let failure: unknown = null;
      try {
        result =
          (await withSpan(
            {
              kind: 'rpc.receive',
              name: method,
              service: this.opts.service ?? this.target.topic,
              host: this.target.server,
              parentId: journeyParent,
              ctx,
              enterContext: true,
              attributes: {
                exchange: via.exchange,
                routing_key: via.routingKey,
                method,
                version,
                namespace,
                type: via.fanout ? 'fanout' : msgId ? 'call' : 'cast',
              },
            },
            // withSpan awaits what this returns, a value or a promise: no extra promise for it.
            (() => this.dispatcher.dispatch(ctx, call)) as () => Promise<unknown>,
          )) ?? null;
      } catch (e) {
        failure = e;
        if (!msgId) log.error({ err: e, method }, 'Exception during message handling');
        else log.debug({ err: e, method }, 'Exception during message handling');
      } finally {
        if (heartbeat) clearInterval(heartbeat);
      }
      if (msgId && replyQ) await this.reply(replyQ, msgId, result, failure);
    } catch (e) {
      log.error({ err: e }, 'RPC request processing failed');
    } finally {
      this.running--;
      if (this.pending() > 0) this.pump();
      else if (this.running === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  private reply(replyQ: string, msgId: string, result: unknown, failure: unknown): Promise<void> {
    const msg: WireMessage = {
      result: failure ? null : result,
      failure: failure ? serializeRemoteException(failure) : null,
      ending: true,
      _msg_id: msgId,
      _unique_id: uuidHex(),
    };
    let body: Buffer;
    try {
      body = encodeMessage(msg);
    } catch (e) {
      // A result that cannot be encoded becomes the caller's error, not a lost reply.
      body = encodeMessage({ ...msg, result: null, failure: serializeRemoteException(e) });
    }
    const sent = this.bus.publishReply(replyQ, body);
    return sent === PUBLISHED ? sent : sent.catch((e: unknown) => log.error({ err: e, reply_q: replyQ }, 'Can not send reply for message'));
  }

  /** oslo's call-monitor watchdog: a not-ending empty reply every `_timeout / 2` seconds. */
  private startHeartbeat(clientTimeout: unknown, replyQ: string, msgId: string): NodeJS.Timeout | undefined {
    if (clientTimeout === null || clientTimeout === undefined) return undefined;
    const seconds = Math.trunc(Number(clientTimeout));
    const interval = seconds / 2;
    if (!Number.isFinite(interval) || interval < 1) {
      log.warn({ client_timeout: clientTimeout }, 'Client provided an invalid timeout value');
      return undefined;
    }
    return setInterval(() => {
      const hb = encodeMessage({ result: null, failure: null, ending: false, _msg_id: msgId, _unique_id: uuidHex() });
      this.bus.publishReply(replyQ, hb).catch((e: unknown) => log.debug({ err: e }, 'Call-monitor heartbeat failed'));
    }, interval * 1000);
  }
}
