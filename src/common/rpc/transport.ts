/**
 * The transport under the RPC and notification layers: oslo.messaging's AMQP topology
 * (topic exchanges, `<topic>_fanout` exchanges, reply queues, notification default queues)
 * expressed as a handful of publish/consume operations. Implementations: `inproc.ts`
 * (in memory, same bytes) and `amqp.ts` (RabbitMQ).
 * @module
 */

/**
 * What a publish returns when the message has already been handed over (the in-process
 * broker, the RabbitMQ fast path): callers compare against it to skip attaching a handler.
 */
export const PUBLISHED: Promise<void> = Promise.resolve();

/** A delivered message body: wire bytes (or a body a client library already parsed). */
export type MessageBody = Buffer | string | Record<string, unknown>;

/** Called for each delivered message; the message is acknowledged when it settles. */
export type DeliveryHandler = (body: MessageBody) => void | Promise<void>;

export interface Subscription {
  /** Name of the queue consumed (for fanout: `<topic>_fanout_<uuid>`). */
  readonly queue: string;
  /** Stops consuming; per-process queues (fanout, reply) are deleted too. */
  close(): Promise<void>;
}

export interface ConsumeOptions {
  /** Handlers running at once for this consumer (default: unbounded). */
  concurrency?: number;
  /**
   * When a delivery is acknowledged: `handled` (default) once the handler settles, or
   * `receipt` as soon as it arrives (oslo's RPC listener acks requests before running them).
   */
  ack?: 'handled' | 'receipt';
}

export interface PublishOptions {
  /** Per-message TTL (AMQP `expiration`): a call request nobody picks up in time is dropped. */
  expirationMs?: number;
}

export interface MessageBus {
  readonly kind: 'inproc' | 'amqp';
  /** Consume queue `queue` bound to topic exchange `exchange` with `routingKey`. */
  consumeTopic(exchange: string, routingKey: string, queue: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription>;
  /** Consume a new `<topic>_fanout_<uuid>` queue bound to the `<topic>_fanout` exchange. */
  consumeFanout(topic: string, handler: DeliveryHandler, opts?: ConsumeOptions): Promise<Subscription>;
  /** Consume this process's reply queue. */
  consumeReply(queue: string, handler: DeliveryHandler): Promise<Subscription>;
  publishTopic(exchange: string, routingKey: string, body: Buffer, opts?: PublishOptions): Promise<void>;
  publishFanout(topic: string, body: Buffer): Promise<void>;
  /** Publish through the default exchange straight to a reply queue. */
  publishReply(queue: string, body: Buffer): Promise<void>;
  /** Publish a notification, declaring the default queue named after the routing key first. */
  publishNotification(exchange: string, routingKey: string, body: Buffer): Promise<void>;
  /** Run `fn` when the bus closes (before connections go away). */
  onClose(fn: () => void | Promise<void>): void;
  close(): Promise<void>;
}
