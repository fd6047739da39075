/**
 * InstanceEvents (nova/compute/manager.py): waiters for external events such as
 * `network-vif-plugged`, keyed by (instance, name, tag). nova-api delivers the events over RPC;
 * spawn blocks until they arrived or `vif_plugging_timeout` passed.
 *
 * Neutron may report a port plugged before spawn starts waiting (the L2 agent wires a port as
 * soon as it is bound); such early events are kept for a while so the waiter finds them.
 * @module
 */
import { VirtualInterfaceCreateException } from './exception.js';

interface Waiter {
  resolve: (status: string) => void;
}

const EARLY_EVENT_TTL_MS = 600_000;

export class InstanceEvents {
  private waiters = new Map<string, Waiter>();
  private early = new Map<string, { status: string; at: number }>();
  /** Set by cancelAll: the service is stopping and no event will come. */
  private cancelled = false;

  private key(uuid: string, name: string, tag: string | null): string {
    return `${uuid}|${name}|${tag ?? ''}`;
  }

  /** Delivers an event; returns false when nobody waited for it (it is kept as an early event). */
  pop(uuid: string, name: string, tag: string | null, status: string): boolean {
    const k = this.key(uuid, name, tag);
    const w = this.waiters.get(k);
    if (w) {
      this.waiters.delete(k);
      w.resolve(status);
      return true;
    }
    this.prune();
    this.early.set(k, { status, at: Date.now() });
    return false;
  }

  /**
   * wait_for_instance_event: registers the waiters, runs `body` (plug VIFs, start the domain
   * paused), then waits for every event. Failed events or the deadline raise
   * VirtualInterfaceCreateException when `fatal` (vif_plugging_is_fatal).
   */
  async waitFor<T>(uuid: string, events: [string, string][], body: () => Promise<T>, o: { timeoutMs: number; fatal: boolean }): Promise<T> {
    const promises = events.map(([name, tag]) => {
      const k = this.key(uuid, name, tag);
      const early = this.early.get(k);
      if (early) {
        this.early.delete(k);
        return Promise.resolve({ name, tag, status: early.status });
      }
      if (this.cancelled) return Promise.resolve({ name, tag, status: 'failed' });
      return new Promise<{ name: string; tag: string; status: string }>((resolve) => {
        this.waiters.set(k, { resolve: (status) => resolve({ name, tag, status }) });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await body();
      if (promises.length === 0) return result;
      const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), o.timeoutMs); });
      const all = await Promise.race([Promise.all(promises), timeout]);
      if (all === 'timeout') {
        if (o.fatal) throw new VirtualInterfaceCreateException('Virtual Interface creation failed');
        return result;
      }
      const failed = all.filter((e) => e.status === 'failed');
      if (failed.length && o.fatal) throw new VirtualInterfaceCreateException('Virtual Interface creation failed');
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      for (const [name, tag] of events) this.waiters.delete(this.key(uuid, name, tag));
    }
  }

  /** cancel_all_events (the compute is stopping): every waiter, now and later, gets a `failed` event. */
  cancelAll(): void {
    this.cancelled = true;
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiting) w.resolve('failed');
  }

  /** Forget everything about an instance (deleted, or its build was aborted). */
  clear(uuid: string): void {
    for (const k of [...this.waiters.keys()]) if (k.startsWith(`${uuid}|`)) this.waiters.delete(k);
    for (const k of [...this.early.keys()]) if (k.startsWith(`${uuid}|`)) this.early.delete(k);
  }

  private prune(): void {
    const now = Date.now();
    for (const [k, v] of this.early) if (now - v.at > EARLY_EVENT_TTL_MS) this.early.delete(k);
  }
}
