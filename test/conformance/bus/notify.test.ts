import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../../src/common/context.js';
import { Notifier, NotificationListener, decodeMessage, type NotificationMetadata } from '../../../src/common/rpc/index.js';
import { EXCHANGE, Harness, TRANSPORTS, sleep, until } from './harness.js';

interface Got {
  priority: string;
  ctx: RequestContext;
  publisherId: string;
  eventType: string;
  payload: unknown;
  metadata: NotificationMetadata;
}

class Collector {
  got: Got[] = [];
  private push(priority: string, ctx: RequestContext, publisherId: string, eventType: string, payload: unknown, metadata: NotificationMetadata): void {
    this.got.push({ priority, ctx, publisherId, eventType, payload, metadata });
  }
  info(ctx: RequestContext, p: string, e: string, payload: unknown, m: NotificationMetadata): void {
    this.push('info', ctx, p, e, payload, m);
  }
  error(ctx: RequestContext, p: string, e: string, payload: unknown, m: NotificationMetadata): void {
    this.push('error', ctx, p, e, payload, m);
  }
  warn(ctx: RequestContext, p: string, e: string, payload: unknown, m: NotificationMetadata): void {
    this.push('warn', ctx, p, e, payload, m);
  }
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;

for (const transport of TRANSPORTS) {
  void describe(`notifications over ${transport.name}`, () => {
    const h = new Harness(transport);
    after(() => h.cleanup());

    void test('info/error/warn reach listeners with publisher, event type, payload and metadata', async () => {
      const topic = h.topic();
      for (const p of ['info', 'error', 'warn']) h.queue(`${topic}.${p}`);
      const c = new Collector();
      const listener = new NotificationListener(await h.bus(), [{ topic, exchange: EXCHANGE }], [c]);
      await listener.start();
      h.defer(() => listener.stop());
      const notifier = new Notifier(await h.bus(), { publisherId: 'compute.host1', exchange: EXCHANGE, topics: [topic] });
      const ctx = new RequestContext({ userId: 'u1', projectId: 'p1', authToken: 'secret-token' });
      await notifier.info(ctx, 'compute.instance.create.end', { instance_id: 'i1' });
      await notifier.error(ctx, 'compute.instance.create.error', { code: 500 });
      await notifier.warn(ctx, 'compute.instance.exists', { n: 1 });
      await until(() => c.got.length === 3);
      const byPriority = Object.fromEntries(c.got.map((g) => [g.priority, g]));
      const info = byPriority['info']!;
      assert.equal(info.publisherId, 'compute.host1');
      assert.equal(info.eventType, 'compute.instance.create.end');
      assert.deepEqual(info.payload, { instance_id: 'i1' });
      assert.match(info.metadata.message_id ?? '', /^[0-9a-f-]{36}$/);
      assert.match(info.metadata.timestamp ?? '', TIMESTAMP);
      assert.equal(info.ctx.requestId, ctx.requestId);
      assert.equal(info.ctx.userId, 'u1');
      assert.equal(info.ctx.authToken, null, 'notifications never carry the token');
      assert.deepEqual(byPriority['error']!.payload, { code: 500 });
      assert.equal(byPriority['warn']!.eventType, 'compute.instance.exists');
    });

    void test('versioned topic through prepare(), and the wire fields', async () => {
      const topic = h.topic();
      const vtopic = `${topic}_versioned`;
      h.queue(`${topic}.info`);
      h.queue(`${vtopic}.info`);
      const bus = await h.bus();
      const raw: Record<string, unknown>[] = [];
      const sub = await bus.consumeTopic(EXCHANGE, `${vtopic}.info`, `${vtopic}.info`, (b) => {
        raw.push(decodeMessage(b));
      });
      h.defer(() => sub.close());
      const notifier = new Notifier(await h.bus(), { publisherId: 'nova-compute:host1', exchange: EXCHANGE, topics: [topic] });
      await notifier.prepare({ topics: [vtopic] }).info(new RequestContext(), 'instance.create.end', { 'nova_object.name': 'InstanceCreatePayload' });
      await until(() => raw.length === 1);
      const m = raw[0]!;
      assert.equal(m['publisher_id'], 'nova-compute:host1');
      assert.equal(m['event_type'], 'instance.create.end');
      assert.equal(m['priority'], 'INFO');
      assert.deepEqual(m['payload'], { 'nova_object.name': 'InstanceCreatePayload' });
      assert.match(String(m['timestamp']), TIMESTAMP);
      assert.match(String(m['message_id']), /^[0-9a-f-]{36}$/);
      assert.match(String(m['_unique_id']), /^[0-9a-f]{32}$/);
      assert.equal(typeof m['_context_request_id'], 'string');
    });

    void test('notifications wait in the default queue until a listener comes', async () => {
      const topic = h.topic();
      h.queue(`${topic}.info`);
      const notifier = new Notifier(await h.bus(), { publisherId: 'p', exchange: EXCHANGE, topics: [topic] });
      await notifier.info(new RequestContext(), 'early.event', { n: 1 });
      const c = new Collector();
      const listener = new NotificationListener(await h.bus(), [{ topic, exchange: EXCHANGE }], [c]);
      await listener.start();
      h.defer(() => listener.stop());
      await until(() => c.got.length === 1);
      assert.equal(c.got[0]!.eventType, 'early.event');
    });

    void test('listeners of one pool share the messages', async () => {
      const topic = h.topic();
      const pool = `${topic}_pool`;
      h.queue(pool);
      h.queue(`${topic}.info`);
      const a = new Collector();
      const b = new Collector();
      const la = new NotificationListener(await h.bus(), [{ topic, exchange: EXCHANGE }], [a], { pool });
      const lb = new NotificationListener(await h.bus(), [{ topic, exchange: EXCHANGE }], [b], { pool });
      await la.start();
      await lb.start();
      h.defer(() => la.stop());
      h.defer(() => lb.stop());
      const notifier = new Notifier(await h.bus(), { publisherId: 'p', exchange: EXCHANGE, topics: [topic] });
      for (let i = 0; i < 10; i++) await notifier.info(new RequestContext(), 'e', { i });
      await until(() => a.got.length + b.got.length === 10);
      await sleep(100);
      assert.equal(a.got.length + b.got.length, 10);
      const seen = [...a.got, ...b.got].map((g) => (g.payload as { i: number }).i).sort((x, y) => x - y);
      assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });
}
