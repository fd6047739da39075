/**
 * Notification listener (oslo `get_notification_listener`): consumes `<topic>.<priority>`
 * for each priority its endpoints handle, and calls `endpoint.<priority>(ctx, publisherId,
 * eventType, payload, metadata)`. With a `pool`, listeners of the same pool share one queue.
 * @module
 */
import type { RequestContext } from '../context.js';
import { runWithContext } from '../context.js';
import { withSpan } from '../journey/span.js';
import { getLogger } from '../log.js';
import { decodeMessage, DuplicateCache, unpackContext } from './envelope.js';
import { noopSerializer, type Serializer } from './serializer.js';
import { DEFAULT_EXCHANGE } from './target.js';
import type { MessageBody, MessageBus, Subscription } from './transport.js';

const log = getLogger('rpc');

export const PRIORITIES = ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'] as const;

export interface NotificationMetadata {
  message_id: string | null;
  timestamp: string | null;
}

export type NotificationHandler = (
  ctx: RequestContext,
  publisherId: string,
  eventType: string,
  payload: unknown,
  metadata: NotificationMetadata,
) => unknown;

export interface NotificationListenerOptions {
  pool?: string;
  serializer?: Serializer;
  /** Service recorded on journey spans. */
  service?: string;
}

export class NotificationListener {
  private subs: Subscription[] = [];
  private readonly dups = new DuplicateCache();

  constructor(
    private readonly bus: MessageBus,
    private readonly targets: Array<{ topic: string; exchange?: string }>,
    private readonly endpoints: object[],
    private readonly opts: NotificationListenerOptions = {},
  ) {}

  private handlersFor(priority: string): NotificationHandler[] {
    const out: NotificationHandler[] = [];
    for (const ep of this.endpoints) {
      const fn = (ep as Record<string, unknown>)[priority];
      if (typeof fn === 'function') out.push((fn as NotificationHandler).bind(ep));
    }
    return out;
  }

  async start(): Promise<void> {
    if (this.subs.length) return;
    const priorities = PRIORITIES.filter((p) => this.handlersFor(p).length > 0);
    try {
      for (const t of this.targets) {
        for (const p of priorities) {
          const rk = `${t.topic}.${p}`;
          this.subs.push(await this.bus.consumeTopic(t.exchange ?? DEFAULT_EXCHANGE, rk, this.opts.pool ?? rk, this.onMessage));
        }
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    for (const s of this.subs.splice(0)) await s.close().catch((e: unknown) => log.warn({ err: e }, 'closing consumer failed'));
  }

  private onMessage = async (body: MessageBody): Promise<void> => {
    let msg: Record<string, unknown>;
    try {
      msg = decodeMessage(body);
    } catch (e) {
      log.error({ err: e }, 'undecodable notification dropped');
      return;
    }
    if (this.dups.seen(msg['_unique_id'])) return;
    const { ctx, journeyParent } = unpackContext(msg);
    const priority = String(msg['priority'] ?? '').toLowerCase();
    if (!(PRIORITIES as readonly string[]).includes(priority)) {
      log.warn({ priority }, 'Unknown priority');
      return;
    }
    const publisherId = String(msg['publisher_id'] ?? '');
    const eventType = String(msg['event_type'] ?? '');
    const serializer = this.opts.serializer ?? noopSerializer;
    const payload = serializer.deserializeEntity(ctx, msg['payload']);
    const metadata: NotificationMetadata = {
      message_id: typeof msg['message_id'] === 'string' ? msg['message_id'] : null,
      timestamp: typeof msg['timestamp'] === 'string' ? msg['timestamp'] : null,
    };
    for (const h of this.handlersFor(priority)) {
      try {
        await withSpan(
          {
            kind: 'notification',
            name: eventType,
            service: this.opts.service ?? 'notification-listener',
            parentId: journeyParent,
            ctx,
            attributes: { event_type: eventType, priority, publisher_id: publisherId, direction: 'receive' },
          },
          async () => runWithContext(ctx, () => h(ctx, publisherId, eventType, payload, metadata)),
        );
      } catch (e) {
        log.error({ err: e, event_type: eventType }, 'Notification callback raised an exception');
      }
    }
  };
}
