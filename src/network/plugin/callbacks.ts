/**
 * neutron_lib.callbacks in miniature: the plugin publishes AFTER_* events once a transaction
 * has committed; notifiers (agents over RPC, Nova's external events) subscribe. A failing
 * subscriber is logged and never undoes the API call, as in Neutron.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { getLogger } from '../../common/log.js';

export type EventName =
  | 'network.after_create' | 'network.after_update' | 'network.after_delete'
  | 'subnet.after_create' | 'subnet.after_update' | 'subnet.after_delete'
  | 'port.after_create' | 'port.after_update' | 'port.after_delete' | 'port.status_changed'
  | 'security_group.rules_changed' | 'security_group.members_changed'
  | 'router.after_update' | 'router.after_delete'
  | 'floatingip.after_update';

export interface EventPayload {
  resource?: Record<string, any>;
  original?: Record<string, any> | null;
  ids?: string[];
  previousStatus?: string;
  /** For router events: the agent hosting it before the change (router deleted). */
  hosts?: string[];
}

type Handler = (ctx: RequestContext, payload: EventPayload) => void | Promise<void>;

const log = getLogger('neutron-server');

export class CallbackRegistry {
  private handlers = new Map<EventName, Handler[]>();

  subscribe(event: EventName, h: Handler): void {
    const list = this.handlers.get(event) ?? [];
    list.push(h);
    this.handlers.set(event, list);
  }

  /** Runs subscribers in order; awaits each so tests and callers see a settled state. */
  async publish(ctx: RequestContext, event: EventName, payload: EventPayload): Promise<void> {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        await h(ctx, payload);
      } catch (e) {
        log.error({ err: e, event }, `callback for ${event} failed`);
      }
    }
  }
}
