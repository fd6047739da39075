/**
 * The caller side of `call`: one `reply_<uuid>` queue per transport (oslo creates it lazily on
 * the first call and keeps it), and the waiters for replies by `_msg_id`.
 * @module
 */
import { getLogger } from '../log.js';
import { DuplicateCache, decodeMessage, uuidHex, type WireMessage } from './envelope.js';
import { MessagingTimeout } from './exceptions.js';
import type { MessageBody, MessageBus } from './transport.js';

const log = getLogger('rpc');

export interface ReplyHandler {
  onReply(msg: WireMessage): void;
  onClose(err: Error): void;
}

export class ReplyWaiter {
  readonly queue = `reply_${uuidHex()}`;
  private readonly waiters = new Map<string, ReplyHandler>();
  private readonly dups = new DuplicateCache();

  private constructor() {}

  private handle = (body: MessageBody): void => {
    let msg: WireMessage;
    try {
      msg = decodeMessage(body);
    } catch (e) {
      log.warn({ err: e }, 'undecodable reply dropped');
      return;
    }
    if (this.dups.seen(msg['_unique_id'])) return;
    const msgId = msg['_msg_id'];
    const w = typeof msgId === 'string' ? this.waiters.get(msgId) : undefined;
    if (!w) {
      log.info({ msg_id: msgId }, 'No calling threads waiting for msg_id');
      return;
    }
    w.onReply(msg);
  };

  listen(msgId: string, h: ReplyHandler): void {
    this.waiters.set(msgId, h);
  }

  unlisten(msgId: string): void {
    this.waiters.delete(msgId);
  }

  private static readonly byBus = new WeakMap<MessageBus, Promise<ReplyWaiter>>();
  private static readonly readyByBus = new WeakMap<MessageBus, ReplyWaiter>();

  /** The bus's reply waiter if its queue is already consumed (saves a tick per call). */
  static ready(bus: MessageBus): ReplyWaiter | undefined {
    return ReplyWaiter.readyByBus.get(bus);
  }

  /** The bus's reply waiter, declaring its queue on first use. */
  static for(bus: MessageBus): Promise<ReplyWaiter> {
    let p = ReplyWaiter.byBus.get(bus);
    if (!p) {
      const w = new ReplyWaiter();
      p = bus.consumeReply(w.queue, w.handle).then((sub) => {
        bus.onClose(async () => {
          for (const h of w.waiters.values()) h.onClose(new MessagingTimeout('Transport closed while waiting for a reply'));
          w.waiters.clear();
          ReplyWaiter.readyByBus.delete(bus);
          await sub.close();
        });
        ReplyWaiter.readyByBus.set(bus, w);
        return w;
      });
      p.catch(() => ReplyWaiter.byBus.delete(bus));
      ReplyWaiter.byBus.set(bus, p);
    }
    return p;
  }
}
