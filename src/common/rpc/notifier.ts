/**
 * Notifier (oslo `Notifier`, `messagingv2` driver): publishes `{message_id, publisher_id,
 * event_type, priority, payload, timestamp}` to `<topic>.<priority>` on the control exchange,
 * declaring the default queue so notifications wait for a consumer.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../context.js';
import { withSpan } from '../journey/span.js';
import { getLogger } from '../log.js';
import { encodeWithContext, osloTimestamp, uuidHex } from './envelope.js';
import { noopSerializer, type Serializer } from './serializer.js';
import { DEFAULT_EXCHANGE } from './target.js';
import type { MessageBus } from './transport.js';

const log = getLogger('rpc');

export type NotificationPriority = 'AUDIT' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SAMPLE';

export interface NotifierOptions {
  publisherId: string;
  exchange?: string;
  /** Default `['notifications']`; Nova's versioned notifier uses `['versioned_notifications']`. */
  topics?: string[];
  serializer?: Serializer;
  /** Service and host recorded on journey spans. */
  service?: string;
  host?: string;
}

export class Notifier {
  private readonly opts: NotifierOptions;

  constructor(
    private readonly bus: MessageBus,
    opts: NotifierOptions,
  ) {
    this.opts = { ...opts };
  }

  get publisherId(): string {
    return this.opts.publisherId;
  }

  prepare(o: { publisherId?: string; topics?: string[] }): Notifier {
    return new Notifier(this.bus, {
      ...this.opts,
      ...(o.publisherId !== undefined ? { publisherId: o.publisherId } : {}),
      ...(o.topics !== undefined ? { topics: o.topics } : {}),
    });
  }

  audit(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'AUDIT');
  }
  debug(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'DEBUG');
  }
  info(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'INFO');
  }
  warn(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'WARN');
  }
  /** oslo's `warning` alias. */
  warning(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'WARN');
  }
  error(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'ERROR');
  }
  critical(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'CRITICAL');
  }
  sample(ctx: RequestContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctx, eventType, payload, 'SAMPLE');
  }

  /**
   * Publishes to every topic. Like oslo, a failure to notify is logged, never thrown at the
   * operation that emitted the notification.
   */
  async notify(ctx: RequestContext, eventType: string, payload: unknown, priority: NotificationPriority): Promise<void> {
    const exchange = this.opts.exchange ?? DEFAULT_EXCHANGE;
    const topics = this.opts.topics ?? ['notifications'];
    const serializer = this.opts.serializer ?? noopSerializer;
    await withSpan(
      {
        kind: 'notification',
        name: eventType,
        service: this.opts.service ?? this.opts.publisherId.split(/[.:]/)[0] ?? 'notifier',
        host: this.opts.host ?? null,
        ctx,
        attributes: { exchange, event_type: eventType, priority, publisher_id: this.opts.publisherId, topics },
      },
      async (span) => {
        const base = {
          message_id: randomUUID(),
          publisher_id: this.opts.publisherId,
          event_type: eventType,
          priority,
          payload: serializer.serializeEntity(ctx, payload),
          timestamp: osloTimestamp(),
        };
        for (const topic of topics) {
          const rk = `${topic}.${priority.toLowerCase()}`;
          // The context without credentials (oslo's _sanitize_context), encoded once per context.
          const body = encodeWithContext({ ...base, _unique_id: uuidHex() }, ctx, span.id, true);
          try {
            await this.bus.publishNotification(exchange, rk, body);
          } catch (e) {
            log.error({ err: e, topic: rk, event_type: eventType }, 'Could not send notification');
          }
        }
      },
    );
  }
}
