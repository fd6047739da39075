import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext, currentContext } from '../../../src/common/context.js';
import {
  RpcClient,
  RpcServer,
  MessagingTimeout,
  RemoteError,
  NoSuchMethod,
  UnsupportedVersion,
  RpcVersionCapError,
  InvalidTarget,
  registerRemoteException,
  type Serializer,
  createTransport,
} from '../../../src/common/rpc/index.js';
import { EXCHANGE, Harness, TRANSPORTS, sleep, until } from './harness.js';

class InstanceNotFound extends Error {
  override name = 'InstanceNotFound';
}
registerRemoteException('InstanceNotFound', InstanceNotFound);
class QuotaExceededLocal extends Error {}

class ComputeManager {
  target = { version: '5.1' };
  calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  constructor(readonly host: string) {}
  async echo(ctx: RequestContext, args: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ method: 'echo', args });
    return { host: this.host, args, user: ctx.userId, requestId: ctx.requestId, current: currentContext()?.requestId };
  }
  async note(_ctx: RequestContext, args: Record<string, unknown>): Promise<void> {
    this.calls.push({ method: 'note', args });
  }
  async mutate(_ctx: RequestContext, args: Record<string, unknown>): Promise<unknown> {
    (args['obj'] as Record<string, unknown>)['changed'] = true;
    return args['obj'];
  }
  async missing(_ctx: RequestContext, args: Record<string, unknown>): Promise<never> {
    throw new InstanceNotFound(`Instance ${String(args['id'])} could not be found.`);
  }
  async quota(): Promise<never> {
    throw new QuotaExceededLocal('Quota exceeded');
  }
  async slow(_ctx: RequestContext, args: Record<string, unknown>): Promise<string> {
    this.calls.push({ method: 'slow', args });
    await sleep(Number(args['ms']));
    return 'done';
  }
  _private(): string {
    return 'secret';
  }
}

class TaskManager {
  target = { namespace: 'compute_task', version: '1.20' };
  async migrate_server(): Promise<string> {
    return 'compute_task';
  }
}

const ctx = (): RequestContext => new RequestContext({ userId: 'u1', projectId: 'p1', roles: ['member'] });

for (const transport of TRANSPORTS) {
  void describe(`rpc over ${transport.name}`, () => {
    const h = new Harness(transport);
    after(() => h.cleanup());

    async function serve(topic: string, host: string, endpoints: object[], bus?: Awaited<ReturnType<Harness['bus']>>): Promise<RpcServer> {
      const server = new RpcServer(bus ?? (await h.bus()), { topic, server: host, exchange: EXCHANGE }, endpoints);
      await server.start();
      h.defer(() => server.stop());
      return server;
    }

    void test('call returns the result and carries the context', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      const c = ctx();
      const r = await client.call<Record<string, unknown>>(c, 'echo', { a: 1, nested: { b: [1, 2] } });
      assert.deepEqual(r, { host: 'h1', args: { a: 1, nested: { b: [1, 2] } }, user: 'u1', requestId: c.requestId, current: c.requestId });
    });

    void test('call to a server goes to that server only; topic calls are shared', async () => {
      const topic = h.topic(['a', 'b']);
      const a = new ComputeManager('a');
      const b = new ComputeManager('b');
      await serve(topic, 'a', [a]);
      await serve(topic, 'b', [b]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      for (let i = 0; i < 4; i++) {
        const r = await client.prepare({ server: 'b' }).call<{ host: string }>(ctx(), 'echo', { i });
        assert.equal(r.host, 'b');
      }
      assert.equal(a.calls.length, 0);
      const hosts = new Set<string>();
      for (let i = 0; i < 10; i++) hosts.add((await client.call<{ host: string }>(ctx(), 'echo', {})).host);
      assert.deepEqual([...hosts].sort(), ['a', 'b']);
    });

    void test('cast and fanout cast', async () => {
      const topic = h.topic(['a', 'b']);
      const a = new ComputeManager('a');
      const b = new ComputeManager('b');
      await serve(topic, 'a', [a]);
      await serve(topic, 'b', [b]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      await client.prepare({ server: 'a' }).cast(ctx(), 'note', { n: 1 });
      await until(() => a.calls.length === 1);
      assert.deepEqual(a.calls[0], { method: 'note', args: { n: 1 } });
      await client.prepare({ fanout: true }).cast(ctx(), 'note', { n: 2 });
      await until(() => a.calls.length === 2 && b.calls.length === 1);
      assert.deepEqual(b.calls[0], { method: 'note', args: { n: 2 } });
      await sleep(100);
      assert.equal(a.calls.length + b.calls.length, 3);
    });

    void test('a call with fanout is refused', async () => {
      const client = new RpcClient(await h.bus(), { topic: h.topic(), exchange: EXCHANGE, fanout: true });
      await assert.rejects(client.call(ctx(), 'echo'), InvalidTarget);
    });

    void test('no server: MessagingTimeout', async () => {
      const client = new RpcClient(await h.bus(), { topic: h.topic(), exchange: EXCHANGE }, { timeoutMs: 300 });
      await assert.rejects(client.call(ctx(), 'echo'), MessagingTimeout);
    });

    void test('dispatch by namespace and version; NoSuchMethod and UnsupportedVersion', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1'), new TaskManager()]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      assert.equal(await client.prepare({ namespace: 'compute_task', version: '1.17' }).call(ctx(), 'migrate_server'), 'compute_task');
      await assert.rejects(client.prepare({ namespace: 'compute_task', version: '1.21' }).call(ctx(), 'migrate_server'), UnsupportedVersion);
      await assert.rejects(client.prepare({ version: '5.2' }).call(ctx(), 'echo'), UnsupportedVersion);
      await assert.rejects(client.prepare({ version: '4.0' }).call(ctx(), 'echo'), UnsupportedVersion);
      assert.equal((await client.prepare({ version: '5.1' }).call<{ host: string }>(ctx(), 'echo')).host, 'h1');
      await assert.rejects(client.call(ctx(), 'nope'), NoSuchMethod);
      await assert.rejects(client.call(ctx(), '_private'), NoSuchMethod);
      await assert.rejects(client.call(ctx(), 'toString'), NoSuchMethod);
      await assert.rejects(client.call(ctx(), 'migrate_server'), NoSuchMethod);
    });

    void test('remote exceptions: registered class, else RemoteError with excType', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      await assert.rejects(client.call(ctx(), 'missing', { id: 'x1' }), (e: unknown) => {
        assert.ok(e instanceof InstanceNotFound);
        assert.equal(e.message, 'Instance x1 could not be found.');
        return true;
      });
      await assert.rejects(client.call(ctx(), 'quota'), (e: unknown) => {
        assert.ok(e instanceof RemoteError);
        assert.equal(e.excType, 'QuotaExceededLocal');
        assert.equal(e.value, 'Quota exceeded');
        assert.match(e.traceback, /QuotaExceededLocal|Quota exceeded/);
        return true;
      });
      // The server keeps serving after errors.
      assert.equal((await client.call<{ host: string }>(ctx(), 'echo')).host, 'h1');
    });

    void test('version caps and canSendVersion', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' }, { versionCap: '5.0' });
      assert.equal(client.canSendVersion('5.0'), true);
      assert.equal(client.canSendVersion('5.1'), false);
      assert.equal(client.canSendVersion('4.9'), false);
      assert.equal(client.canSendVersion(), true);
      assert.equal(new RpcClient(await h.bus(), { topic }).canSendVersion('9.9'), true);
      await assert.rejects(client.prepare({ version: '5.1' }).call(ctx(), 'echo'), RpcVersionCapError);
      await assert.rejects(client.prepare({ version: '5.1' }).cast(ctx(), 'note'), RpcVersionCapError);
      assert.equal((await client.call<{ host: string }>(ctx(), 'echo')).host, 'h1');
    });

    void test('call monitor: heartbeats keep a long call alive', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' }, { timeoutMs: 20_000, callMonitorTimeoutMs: 2000 });
      assert.equal(await client.call(ctx(), 'slow', { ms: 3500 }), 'done');
    });

    void test('call monitor: a dead server is noticed before the overall timeout', async () => {
      const topic = h.topic(['h1']);
      const bus = await h.bus();
      // A consumer that takes the request and never answers (no heartbeats either).
      const sub = await bus.consumeTopic(EXCHANGE, topic, topic, () => undefined);
      h.defer(() => sub.close());
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE }, { timeoutMs: 60_000, callMonitorTimeoutMs: 500 });
      await assert.rejects(client.call(ctx(), 'echo'), MessagingTimeout);
    });

    void test('nothing passes by reference', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      const obj: Record<string, unknown> = { id: 1, when: new Date(0) };
      const r = await client.call<Record<string, unknown>>(ctx(), 'mutate', { obj });
      assert.deepEqual(obj, { id: 1, when: new Date(0) });
      assert.deepEqual(r, { id: 1, when: '1970-01-01T00:00:00.000Z', changed: true });
    });

    void test('serializers run on both sides', async () => {
      const topic = h.topic(['h1']);
      const tag: Serializer = {
        serializeEntity: (_c, v) => (v instanceof Set ? { __set: [...v] } : v),
        deserializeEntity: (_c, v) => (v && typeof v === 'object' && '__set' in v ? new Set((v as { __set: unknown[] }).__set) : v),
      };
      class Ep {
        async size(_c: RequestContext, args: Record<string, unknown>): Promise<Set<number>> {
          const s = args['s'] as Set<number>;
          assert.ok(s instanceof Set);
          return new Set([...s, s.size]);
        }
      }
      const server = new RpcServer(await h.bus(), { topic, server: 'h1', exchange: EXCHANGE }, [new Ep()], { serializer: tag });
      await server.start();
      h.defer(() => server.stop());
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE }, { serializer: tag });
      const r = await client.call<Set<number>>(ctx(), 'size', { s: new Set([7, 8]) });
      assert.deepEqual(r, new Set([7, 8, 2]));
    });

    void test('stop waits for requests in progress and stops consuming', async () => {
      const topic = h.topic(['h1']);
      const m = new ComputeManager('h1');
      const server = new RpcServer(await h.bus(), { topic, server: 'h1', exchange: EXCHANGE }, [m]);
      await server.start();
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' }, { timeoutMs: 1000 });
      const pending = client.call(ctx(), 'slow', { ms: 200 });
      // Stop only once the request is in progress (a fixed sleep races a loaded machine).
      while (!m.calls.some((c) => c.method === 'slow')) await sleep(5);
      await server.stop();
      assert.equal(await pending, 'done');
      await assert.rejects(client.call(ctx(), 'echo'), MessagingTimeout);
    });

    void test('closing the transport fails its pending calls, and later sends', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const bus = await createTransport(transport.url);
      const client = new RpcClient(bus, { topic, exchange: EXCHANGE, version: '5.0' });
      const pending = client.call(ctx(), 'slow', { ms: 300 }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await sleep(50);
      await bus.close();
      assert.ok((await pending) instanceof MessagingTimeout);
      await assert.rejects(client.call(ctx(), 'echo'), /closed/);
    });

    void test('many concurrent calls', async () => {
      const topic = h.topic(['h1']);
      await serve(topic, 'h1', [new ComputeManager('h1')]);
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' });
      const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<{ args: { i: number } }>(ctx(), 'echo', { i })));
      assert.deepEqual(rs.map((r) => r.args.i), Array.from({ length: 200 }, (_, i) => i));
    });
  });
}
