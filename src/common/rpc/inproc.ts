/**
 * In-process transport: a small AMQP-like broker in memory with the same exchanges, queues,
 * bindings and routing as RabbitMQ under oslo.messaging. Callers hand it encoded bytes and
 * consumers decode their own copy, so nothing is shared by reference.
 *
 * Brokers are per process and per name: every `inproc://` transport of the process talks to
 * the same broker (all services of `stratus up`), `inproc://cell1` to another one.
 * @module
 */
import { getLogger } from '../log.js';
import { uuidHex } from './envelope.js';
import { fanoutExchange } from './target.js';
import { PUBLISHED, type ConsumeOptions, type DeliveryHandler, type MessageBus, type PublishOptions, type Subscription } from './transport.js';

const log = getLogger('rpc');


/** Notification default queues nobody consumes must not grow without bound in memory. */
const DEFAULT_QUEUE_MAX_LENGTH = 10_000;

interface Queued {
  body: Buffer;
  expiresAt: number;
}

class Consumer {
  active = 0;
  closed = false;
  constructor(
    readonly handler: DeliveryHandler,
    readonly concurrency: number,
  ) {}
}

class Queue {
  private items: Queued[] = [];
  private head = 0;
  private consumers: Consumer[] = [];
  private rr = 0;
  private scheduled = false;
  deleted = false;
  constructor(
    readonly name: string,
    readonly maxLength = Infinity,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(m: Queued): void {
    this.items.push(m);
    if (this.length > this.maxLength) this.head++;
    this.schedule();
  }

  addConsumer(c: Consumer): void {
    this.consumers.push(c);
    this.schedule();
  }

  removeConsumer(c: Consumer): void {
    c.closed = true;
    this.consumers = this.consumers.filter((x) => x !== c);
  }

  // Deliveries happen on a later turn of the event loop, as they would from a socket.
  private schedule(): void {
    if (this.scheduled || this.consumers.length === 0 || this.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    const now = Date.now();
    while (this.length > 0 && !this.deleted) {
      const c = this.pickConsumer();
      if (!c) return;
      const m = this.items[this.head]!;
      this.items[this.head] = undefined as unknown as Queued;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (m.expiresAt <= now) continue;
      this.deliver(c, m.body);
    }
  }

  private pickConsumer(): Consumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.rr + i) % n]!;
      if (c.active < c.concurrency) {
        this.rr = (this.rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private deliver(c: Consumer, body: Buffer): void {
    c.active++;
    let r: void | Promise<void>;
    try {
      r = c.handler(body);
    } catch (e) {
      this.failed(e);
      this.done(c);
      return;
    }
    if (r && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => this.done(c),
        (e: unknown) => {
          this.failed(e);
          this.done(c);
        },
      );
    } else this.done(c);
  }

  private done(c: Consumer): void {
    c.active--;
    this.schedule();
  }

  private failed(e: unknown): void {
    log.error({ err: e, queue: this.name }, 'message handler failed; message dropped');
  }
}

interface Exchange {
  type: 'topic' | 'fanout' | 'direct';
  /** routing key -> queue names (fanout ignores the key). */
  bindings: Map<string, Set<string>>;
}

/** One in-memory broker (a RabbitMQ vhost). */
class Broker {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();

  declareExchange(name: string, type: Exchange['type']): Exchange {
    let ex = this.exchanges.get(name);
    if (!ex) {
      ex = { type, bindings: new Map() };
      this.exchanges.set(name, ex);
    }
    return ex;
  }

  declareQueue(name: string, maxLength?: number): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, maxLength);
      this.queues.set(name, q);
    }
    return q;
  }

  bind(exchange: string, type: Exchange['type'], routingKey: string, queue: string): void {
    const ex = this.declareExchange(exchange, type);
    let set = ex.bindings.get(routingKey);
    if (!set) ex.bindings.set(routingKey, (set = new Set()));
    set.add(queue);
  }

  deleteQueue(name: string): void {
    const q = this.queues.get(name);
    if (q) q.deleted = true;
    this.queues.delete(name);
    for (const [exName, ex] of this.exchanges) {
      for (const [key, set] of ex.bindings) {
        set.delete(name);
        if (set.size === 0) ex.bindings.delete(key);
      }
      // auto_delete exchanges (fanout) go away with their last binding, as on RabbitMQ.
      if (ex.type === 'fanout' && ex.bindings.size === 0) this.exchanges.delete(exName);
    }
  }

  publish(exchange: string, routingKey: string, body: Buffer, expiresAt = Infinity): void {
    if (exchange === '') {
      this.queues.get(routingKey)?.push({ body, expiresAt });
      return;
    }
    const ex = this.exchanges.get(exchange);
    if (!ex) return;
    const targets = new Set<string>();
    if (ex.type === 'fanout') {
      for (const set of ex.bindings.values()) for (const q of set) targets.add(q);
    } else {
      for (const q of ex.bindings.get(routingKey) ?? []) targets.add(q);
      if (ex.type === 'topic') {
        for (const [key, set] of ex.bindings) {
          if ((key.includes('*') || key.includes('#')) && topicMatches(key, routingKey)) for (const q of set) targets.add(q);
        }
      }
    }
    for (const name of targets) this.queues.get(name)?.push({ body, expiresAt });
  }
}

/** AMQP topic pattern matching (`*` one word, `#` zero or more words). */
function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    if (j === k.length) return false;
    return (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

const brokers = new Map<string, Broker>();
function brokerFor(name: string): Broker {
  let b = brokers.get(name);
  if (!b) brokers.set(name, (b = new Broker()));
  return b;
}

/** A connection to an in-process broker. */
export class InprocBus implements MessageBus {
  readonly kind = 'inproc' as const;
  private readonly broker: Broker;
  private readonly subs = new Set<Subscription>();
  private readonly closeHooks: Array<() => void | Promise<void>> = [];
  private closed = false;

  constructor(brokerName = '') {
    this.broker = brokerFor(brokerName);
  }

  private subscribe(queueName: string, handler: DeliveryHandler, opts: ConsumeOptions | undefined, deleteOnClose: boolean): Subscription {
    this.assertOpen();
    const q = this.broker.declareQueue(queueName);
    const consumer = new Consumer(handler, opts?.concurrency ?? Infinity);
    q.addConsumer(consumer);
    const sub: Subscription = {
      queue: queueName,
      close: async () => {
        q.removeConsumer(consumer);
        if (deleteOnClose) this.broker.deleteQueue(queueName);
        this.subs.delete(sub);
      },
    };
    this.subs.add(sub);
    return sub;
  }

  async consumeTopic(exchange: string, routingKey: string, queue: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription> {
    this.assertOpen();
    this.broker.declareQueue(queue);
    this.broker.bind(exchange, 'topic', routingKey, queue);
    return this.subscribe(queue, handler, opts, false);
  }

  async consumeFanout(topic: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription> {
    this.assertOpen();
    const queue = `${topic}_fanout_${uuidHex()}`;
    this.broker.declareQueue(queue);
    this.broker.bind(fanoutExchange(topic), 'fanout', topic, queue);
    return this.subscribe(queue, handler, opts, true);
  }

  async consumeReply(queue: string, handler: DeliveryHandler): Promise<Subscription> {
    this.assertOpen();
    this.broker.declareQueue(queue);
    this.broker.bind(queue, 'direct', queue, queue);
    return this.subscribe(queue, handler, undefined, true);
  }

  publishTopic(exchange: string, routingKey: string, body: Buffer, opts?: PublishOptions): Promise<void> {
    if (this.closed) return Promise.reject(new Error('message bus is closed'));
    this.broker.declareExchange(exchange, 'topic');
    const expiresAt = opts?.expirationMs !== undefined ? Date.now() + opts.expirationMs : Infinity;
    this.broker.publish(exchange, routingKey, body, expiresAt);
    return PUBLISHED;
  }

  publishFanout(topic: string, body: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('message bus is closed'));
    this.broker.publish(fanoutExchange(topic), topic, body);
    return PUBLISHED;
  }

  publishReply(queue: string, body: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('message bus is closed'));
    this.broker.publish('', queue, body);
    return PUBLISHED;
  }

  publishNotification(exchange: string, routingKey: string, body: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('message bus is closed'));
    this.broker.declareQueue(routingKey, DEFAULT_QUEUE_MAX_LENGTH);
    this.broker.bind(exchange, 'topic', routingKey, routingKey);
    this.broker.publish(exchange, routingKey, body);
    return PUBLISHED;
  }

  onClose(fn: () => void | Promise<void>): void {
    this.closeHooks.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const fn of this.closeHooks.splice(0)) await fn();
    this.closed = true;
    for (const sub of [...this.subs]) await sub.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('message bus is closed');
  }
}
