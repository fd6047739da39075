/**
 * RabbitMQ transport through rabbitmq-client, declaring exchanges and queues with the flags
 * oslo.messaging's rabbit driver uses (amqp_durable_queues=false, amqp_auto_delete=false,
 * rabbit_transient_queues_ttl=1800 s) so Python and Stratus peers can declare the same names.
 * rabbitmq-client reconnects after a broker restart; consumers then re-declare their queues.
 * @module
 */
import type { Socket } from 'node:net';
import { Connection, type Channel, type Consumer } from 'rabbitmq-client';
import { getLogger } from '../log.js';
import { encodePublish } from './amqp-frames.js';
import { installFastReader } from './amqp-reader.js';
import { uuidHex } from './envelope.js';
import { fanoutExchange } from './target.js';
import { PUBLISHED, type ConsumeOptions, type DeliveryHandler, type MessageBus, type PublishOptions, type Subscription } from './transport.js';
import type { TransportUrl } from './url.js';

const log = getLogger('rpc');

installFastReader();

/** rabbit_transient_queues_ttl (seconds) -> x-expires of fanout and reply queues. */
const TRANSIENT_QUEUE_TTL_MS = 1800 * 1000;
/** Unacknowledged deliveries per consumer; RPC servers ack as soon as they take a request. */
const PREFETCH = 256;

// What kombu puts on every message it publishes for oslo.
const MESSAGE_PROPS = { contentType: 'application/json', contentEncoding: 'utf-8' };


export class AmqpBus implements MessageBus {
  readonly kind = 'amqp' as const;
  private ch: Channel | undefined;
  private chPending: Promise<Channel> | undefined;
  /** Exchanges / default queues declared on the current publishing channel. */
  private declared = new Set<string>();
  private readonly subs = new Set<Subscription>();
  private readonly closeHooks: Array<() => void | Promise<void>> = [];
  private closed = false;

  private constructor(private readonly conn: Connection) {}

  static async connect(url: Extract<TransportUrl, { driver: 'rabbit' }>): Promise<AmqpBus> {
    const first = url.hosts[0]!;
    const heartbeat = Number(url.query.get('heartbeat') ?? 60);
    const conn = new Connection({
      hosts: url.hosts.map((h) => `${h.hostname}:${h.port}`),
      username: first.username,
      password: first.password,
      vhost: url.vhost,
      heartbeat: Number.isFinite(heartbeat) ? heartbeat : 60,
      frameMax: 131072,
      noDelay: true,
      retryLow: 250,
      retryHigh: 5000,
      connectionName: `stratus:${process.pid}`,
    });
    const bus = new AmqpBus(conn);
    conn.on('error', (err) => log.warn({ err }, 'AMQP connection error'));
    conn.on('connection', () => {
      bus.declared.clear();
    });
    try {
      await conn.onConnect(10_000);
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
    return bus;
  }

  private async channel(): Promise<Channel> {
    if (this.ch?.active) return this.ch;
    if (!this.chPending) {
      this.chPending = this.conn
        .acquire()
        .then((ch) => {
          this.declared.clear();
          this.ch = ch;
          ch.on('basic.return', (msg) => log.debug({ routing_key: msg.routingKey }, 'reply queue gone; reply dropped'));
          return ch;
        })
        .finally(() => {
          this.chPending = undefined;
        });
    }
    return this.chPending;
  }

  private corked: Socket | undefined;

  /**
   * Holds the socket's writes until the next turn of the event loop so that every message
   * published in this one leaves in one syscall (rabbitmq-client writes each message on its
   * own, and hands each delivery to its own setImmediate, so a tick is too short a window).
   */
  private corkUntilNextTurn(sock: Socket | undefined = (this.conn as unknown as { _socket?: Socket })._socket): void {
    if (this.corked || !sock || typeof sock.cork !== 'function' || !sock.writable) return;
    sock.cork();
    this.corked = sock;
    setImmediate(() => {
      this.corked = undefined;
      sock.uncork();
    });
  }

  /**
   * Publishes on the shared channel by writing the frames straight to its socket (see
   * amqp-frames.ts). Only when the channel's own writer is idle, so that nothing it has
   * queued (a declaration, a publish waiting for the socket to drain) is overtaken or split.
   * False when that is not possible right now; the caller then uses basicPublish.
   * Reads rabbitmq-client's private channel state (`_state.stream`, the connection's
   * negotiated `frameMax`); if those are not there, publishing just takes the library's path.
   */
  private publishRaw(exchange: string, routingKey: string, mandatory: boolean, expirationMs: number | undefined, body: Buffer): boolean {
    const ch = this.ch;
    if (this.closed || !ch?.active) return false;
    const stream = (ch as unknown as { _state?: { stream?: { _cur?: unknown; writableLength?: number; _out?: Socket } } })._state?.stream;
    const sock = stream?._out;
    const frameMax = (this.conn as unknown as { _state?: { frameMax?: number } })._state?.frameMax;
    if (!stream || !sock || stream._cur !== undefined || stream.writableLength !== 0 || !sock.writable || !frameMax) return false;
    const frames = encodePublish({ channel: ch.id, exchange, routingKey, mandatory, ...(expirationMs !== undefined ? { expirationMs } : {}), body, frameMax });
    this.corkUntilNextTurn(sock);
    sock.write(frames);
    return true;
  }

  /** Runs a publish on the shared channel, once more on a fresh channel if that one died. */
  private async onChannel(fn: (ch: Channel) => Promise<void>): Promise<void> {
    this.assertOpen();
    this.corkUntilNextTurn();
    for (let attempt = 0; ; attempt++) {
      const ch = await this.channel();
      try {
        return await fn(ch);
      } catch (e) {
        if (attempt >= 2 || ch.active) throw e;
      }
    }
  }

  private async declareExchange(ch: Channel, exchange: string, type: 'topic' | 'fanout', autoDelete: boolean): Promise<void> {
    const key = `x:${exchange}`;
    if (this.declared.has(key)) return;
    await ch.exchangeDeclare({ exchange, type, durable: false, autoDelete });
    this.declared.add(key);
  }

  private async consume(
    queue: string,
    queueArgs: Record<string, unknown> | undefined,
    exchange: { name: string; type: 'topic' | 'fanout' | 'direct'; autoDelete: boolean; routingKey: string } | null,
    handler: DeliveryHandler,
    opts: { noAck?: boolean; concurrency?: number; deleteOnClose: boolean },
  ): Promise<Subscription> {
    this.assertOpen();
    const consumer: Consumer = this.conn.createConsumer(
      {
        queue,
        queueOptions: { queue, durable: false, autoDelete: false, ...(queueArgs ? { arguments: queueArgs } : {}) },
        exchanges: exchange ? [{ exchange: exchange.name, type: exchange.type, durable: false, autoDelete: exchange.autoDelete }] : [],
        queueBindings: exchange ? [{ queue, exchange: exchange.name, routingKey: exchange.routingKey }] : [],
        qos: { prefetchCount: PREFETCH },
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
        noAck: opts.noAck ?? false,
        requeue: false,
      },
      async (msg) => {
        await handler(msg.body as Buffer);
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        consumer.once('ready', resolve);
        consumer.once('error', reject);
      });
    } catch (e) {
      await consumer.close().catch(() => undefined);
      throw e;
    }
    consumer.on('error', (err) => log.warn({ err, queue }, 'AMQP consumer error'));
    const sub: Subscription = {
      queue,
      close: async () => {
        this.subs.delete(sub);
        await consumer.close();
        if (opts.deleteOnClose) await this.conn.queueDelete({ queue }).catch(() => undefined);
      },
    };
    this.subs.add(sub);
    return sub;
  }

  consumeTopic(exchange: string, routingKey: string, queue: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription> {
    return this.consume(queue, undefined, { name: exchange, type: 'topic', autoDelete: false, routingKey }, handler, {
      deleteOnClose: false,
      noAck: opts?.ack === 'receipt',
      ...(opts?.concurrency ? { concurrency: opts.concurrency } : {}),
    });
  }

  consumeFanout(topic: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription> {
    const queue = `${topic}_fanout_${uuidHex()}`;
    return this.consume(
      queue,
      { 'x-expires': TRANSIENT_QUEUE_TTL_MS },
      { name: fanoutExchange(topic), type: 'fanout', autoDelete: true, routingKey: topic },
      handler,
      { deleteOnClose: true, noAck: opts?.ack === 'receipt', ...(opts?.concurrency ? { concurrency: opts.concurrency } : {}) },
    );
  }

  consumeReply(queue: string, handler: DeliveryHandler): Promise<Subscription> {
    // Replies arrive through the default exchange; the direct exchange named after the queue
    // is the one older oslo releases bound it to.
    return this.consume(
      queue,
      { 'x-expires': TRANSIENT_QUEUE_TTL_MS },
      { name: queue, type: 'direct', autoDelete: true, routingKey: queue },
      handler,
      { deleteOnClose: true, noAck: true },
    );
  }

  publishTopic(exchange: string, routingKey: string, body: Buffer, opts?: PublishOptions): Promise<void> {
    // Fast path: channel up and exchange declared, the common case once a service runs.
    if (this.declared.has(`x:${exchange}`) && this.publishRaw(exchange, routingKey, false, opts?.expirationMs, body)) return PUBLISHED;
    const envelope = { exchange, routingKey, ...MESSAGE_PROPS, ...(opts?.expirationMs !== undefined ? { expiration: String(Math.max(0, Math.round(opts.expirationMs))) } : {}) };
    return this.onChannel(async (ch) => {
      await this.declareExchange(ch, exchange, 'topic', false);
      await ch.basicPublish(envelope, body);
    });
  }

  publishFanout(topic: string, body: Buffer): Promise<void> {
    const exchange = fanoutExchange(topic);
    if (this.declared.has(`x:${exchange}`) && this.publishRaw(exchange, '', false, undefined, body)) return PUBLISHED;
    return this.onChannel(async (ch) => {
      await this.declareExchange(ch, exchange, 'fanout', true);
      await ch.basicPublish({ exchange, routingKey: '', ...MESSAGE_PROPS }, body);
    });
  }

  publishReply(queue: string, body: Buffer): Promise<void> {
    // oslo's direct_mandatory_flag: an unroutable reply comes back instead of vanishing silently.
    if (this.publishRaw('', queue, true, undefined, body)) return PUBLISHED;
    return this.onChannel((ch) => ch.basicPublish({ exchange: '', routingKey: queue, mandatory: true, ...MESSAGE_PROPS }, body));
  }

  publishNotification(exchange: string, routingKey: string, body: Buffer): Promise<void> {
    return this.onChannel(async (ch) => {
      await this.declareExchange(ch, exchange, 'topic', false);
      const key = `q:${exchange}:${routingKey}`;
      if (!this.declared.has(key)) {
        await ch.queueDeclare({ queue: routingKey, durable: false, autoDelete: false });
        await ch.queueBind({ queue: routingKey, exchange, routingKey });
        this.declared.add(key);
      }
      await ch.basicPublish({ exchange, routingKey, ...MESSAGE_PROPS }, body);
    });
  }

  onClose(fn: () => void | Promise<void>): void {
    this.closeHooks.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const fn of this.closeHooks.splice(0)) await fn();
    this.closed = true;
    for (const sub of [...this.subs]) await sub.close().catch(() => undefined);
    if (this.ch?.active) await this.ch.close().catch(() => undefined);
    await this.conn.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('message bus is closed');
  }
}
