/**
 * Runs a conformance case on both transports. AMQP cases use the local RabbitMQ
 * (STRATUS_TEST_RABBIT_URL, default rabbit://guest:guest@127.0.0.1:5672/); every case uses its
 * own topic names and the queues it leaves on the broker are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { createTransport, type MessageBus } from '../../../src/common/rpc/index.js';

export const RABBIT_URL = process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/';
export const EXCHANGE = 'stratus_conformance';

export const TRANSPORTS = [
  { name: 'inproc', url: `inproc://conformance-${randomUUID()}` },
  { name: 'amqp', url: RABBIT_URL },
] as const;

export class Harness {
  private buses: MessageBus[] = [];
  private queues = new Set<string>();
  private closers: Array<() => Promise<void>> = [];
  constructor(readonly transport: (typeof TRANSPORTS)[number]) {}

  get isAmqp(): boolean {
    return this.transport.name === 'amqp';
  }

  async bus(): Promise<MessageBus> {
    const b = await createTransport(this.transport.url);
    this.buses.push(b);
    return b;
  }

  /** A fresh topic; its queues (topic, topic.<server>) are deleted at cleanup. */
  topic(servers: string[] = []): string {
    const t = `conf_${randomUUID().slice(0, 8)}`;
    this.queues.add(t);
    // Notification default queues a listener or notifier may declare for this topic.
    for (const p of ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample']) this.queues.add(`${t}.${p}`);
    for (const s of servers) this.queues.add(`${t}.${s}`);
    return t;
  }

  queue(name: string): void {
    this.queues.add(name);
  }

  /** Stop/close something at cleanup, before the buses close. */
  defer(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) await fn().catch(() => undefined);
    for (const b of this.buses.splice(0)) await b.close();
    if (this.isAmqp && this.queues.size) {
      const conn = new Connection({ url: amqpUrl(RABBIT_URL) });
      try {
        for (const q of this.queues) await conn.queueDelete({ queue: q }).catch(() => undefined);
      } finally {
        await conn.close();
      }
    }
    this.queues.clear();
  }
}

function amqpUrl(rabbit: string): string {
  return rabbit.replace(/^rabbit:/, 'amqp:');
}

/** Waits until `cond()` holds (messages arrive asynchronously), failing after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
