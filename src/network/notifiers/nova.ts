/**
 * Neutron's Nova notifier (neutron/notifiers/nova.py): port status changes of compute ports
 * become `network-vif-plugged` / `network-vif-unplugged`, deletions `network-vif-deleted`,
 * address and floating-IP changes `network-changed`; they are batched and POSTed to Nova's
 * `/os-server-external-events` with the service user's credentials.
 *
 * Batching as Neutron's BatchNotifier: an event queued while no batch is being sent goes out
 * at once; the sender then waits one interval and sends whatever was queued meanwhile as one
 * batch, until an interval passes with nothing queued. Neutron's `send_events_interval` is 2 s;
 * every boot waits for its network-vif-plugged, which waits for the interval to end: the wait
 * is most of a boot here (at 50 ms, a lone boot took 52 ms; at 10 ms, 17 ms). Stratus defaults
 * to 10 ms (a burst still goes as one POST), `send_events_interval` in neutron.conf.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { getLogger } from '../../common/log.js';
import type { Session } from '../../common/http/client.js';
import * as C from '../common/constants.js';
import type { CallbackRegistry } from '../plugin/callbacks.js';
import type { Dict } from '../plugin/core.js';

export const DEFAULT_SEND_EVENTS_INTERVAL_MS = 10;

const log = getLogger('neutron-server');

export interface NovaEvent {
  name: 'network-vif-plugged' | 'network-vif-unplugged' | 'network-vif-deleted' | 'network-changed';
  server_uuid: string;
  tag?: string;
  status?: 'completed' | 'failed';
}

const isComputePort = (p: Dict | null | undefined): p is Dict =>
  !!p && typeof p['device_owner'] === 'string' && p['device_owner'].startsWith(C.DEVICE_OWNER_COMPUTE_PREFIX) && !!p['device_id'];

export class NovaNotifier {
  private pending: NovaEvent[] = [];
  /** The send-and-wait cycle in progress, if any. */
  private cycle: Promise<void> | null = null;
  private pause: { timer: NodeJS.Timeout; end: () => void } | null = null;
  private stopped = false;
  /** Every batch sent (tests and the journey view read it). */
  readonly sent: NovaEvent[][] = [];

  constructor(private readonly session: Session, private readonly intervalMs = DEFAULT_SEND_EVENTS_INTERVAL_MS) {}

  attach(cb: CallbackRegistry): void {
    cb.subscribe('port.status_changed', (ctx, { resource, previousStatus }) => this.portStatusChanged(ctx, resource!, previousStatus ?? ''));
    cb.subscribe('port.after_delete', (_ctx, { resource }) => {
      if (isComputePort(resource)) this.queue({ name: 'network-vif-deleted', server_uuid: resource['device_id'], tag: resource['id'] });
    });
    cb.subscribe('port.after_update', (_ctx, { resource, original }) => {
      if (!isComputePort(resource)) return;
      if (JSON.stringify(resource['fixed_ips']) !== JSON.stringify(original?.['fixed_ips'])) {
        this.queue({ name: 'network-changed', server_uuid: resource['device_id'], tag: resource['id'] });
      }
    });
    cb.subscribe('floatingip.after_update', async (_ctx, { resource, original }) => {
      const before = original?.['port_id'] ?? null;
      const after = resource?.['port_id'] ?? null;
      if (before === after) return;
      for (const details of [original?.['port_details'], resource?.['port_details']]) {
        const portId = details === original?.['port_details'] ? before : after;
        if (details && portId && String(details['device_owner']).startsWith(C.DEVICE_OWNER_COMPUTE_PREFIX) && details['device_id']) {
          this.queue({ name: 'network-changed', server_uuid: details['device_id'], tag: portId });
        }
      }
    });
  }

  private portStatusChanged(_ctx: RequestContext, port: Dict, previous: string): void {
    if (!isComputePort(port)) return;
    const current = port['status'];
    if ([C.PORT_STATUS_DOWN, C.PORT_STATUS_BUILD, ''].includes(previous) && current === C.PORT_STATUS_ACTIVE) {
      this.queue({ name: 'network-vif-plugged', server_uuid: port['device_id'], tag: port['id'], status: 'completed' });
    } else if (previous === C.PORT_STATUS_ACTIVE && current === C.PORT_STATUS_DOWN) {
      this.queue({ name: 'network-vif-unplugged', server_uuid: port['device_id'], tag: port['id'], status: 'completed' });
    } else if (current === C.PORT_STATUS_ERROR) {
      this.queue({ name: 'network-vif-plugged', server_uuid: port['device_id'], tag: port['id'], status: 'failed' });
    }
  }

  queue(ev: NovaEvent): void {
    if (this.stopped) return;
    this.pending.push(ev);
    this.cycle ??= this.sendCycle();
  }

  // BatchNotifier.synced_send: send, sleep one interval, repeat while events keep coming.
  private async sendCycle(): Promise<void> {
    try {
      while (this.pending.length) {
        await this.flush();
        if (this.stopped) break;
        await new Promise<void>((end) => {
          const timer = setTimeout(end, this.intervalMs);
          timer.unref();
          this.pause = { timer, end };
        });
        this.pause = null;
      }
    } finally {
      this.cycle = null;
    }
  }

  /** Sends what is queued now (one POST for the batch). */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const events = this.pending;
    this.pending = [];
    this.sent.push(events);
    try {
      const res = await this.session.request('POST', 'compute', '/os-server-external-events', { body: { events }, okStatuses: [207] });
      if (res.status === 207) {
        const body = res.body as { events?: Array<{ code?: number; server_uuid?: string; name?: string }> };
        for (const e of body.events ?? []) if (e.code && e.code !== 200) log.info({ event: e }, 'Nova event response');
      }
    } catch (e) {
      // Nova answers 404 when none of the servers exist; nothing to retry (Neutron logs too)
      log.warn({ err: e, events }, 'Failed to notify nova on events');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pause) {
      clearTimeout(this.pause.timer);
      this.pause.end();
    }
    await this.cycle;
    await this.flush();
  }
}
