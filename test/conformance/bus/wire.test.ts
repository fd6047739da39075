import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../../src/common/context.js';
import { RpcClient, RpcServer, RemoteError, decodeMessage, encodeMessage } from '../../../src/common/rpc/index.js';
import { EXCHANGE, Harness, TRANSPORTS, sleep, until } from './harness.js';

for (const transport of TRANSPORTS) {
  void describe(`wire format over ${transport.name}`, () => {
    const h = new Harness(transport);
    after(() => h.cleanup());

    void test('a call is an oslo 2.0 envelope with flattened context; a hand-made reply is understood', async () => {
      const topic = h.topic();
      const bus = await h.bus();
      const seen: Array<{ outer: Record<string, unknown>; inner: Record<string, unknown> }> = [];
      const sub = await bus.consumeTopic(EXCHANGE, topic, topic, async (body) => {
        const outer = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : String(body)) as Record<string, unknown>;
        const inner = decodeMessage(body);
        seen.push({ outer, inner });
        const reply = { result: { ok: inner['args'] }, failure: null, ending: true, _msg_id: inner['_msg_id'], _unique_id: String(inner['_msg_id']).split('').reverse().join('') };
        await bus.publishReply(String(inner['_reply_q']), encodeMessage(reply));
      });
      h.defer(() => sub.close());
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, namespace: 'compute_task', version: '1.17' }, { callMonitorTimeoutMs: 60_000 });
      const ctx = new RequestContext({ userId: 'u1', projectId: 'p1', roles: ['admin'], globalRequestId: 'req-00000000-0000-0000-0000-000000000001' });
      const r = await client.call(ctx, 'schedule_and_build_instances', { build_requests: [1] });
      assert.deepEqual(r, { ok: { build_requests: [1] } });
      const { outer, inner } = seen[0]!;
      assert.deepEqual(Object.keys(outer).sort(), ['oslo.message', 'oslo.version']);
      assert.equal(outer['oslo.version'], '2.0');
      assert.equal(typeof outer['oslo.message'], 'string');
      assert.equal(inner['method'], 'schedule_and_build_instances');
      assert.deepEqual(inner['args'], { build_requests: [1] });
      assert.equal(inner['namespace'], 'compute_task');
      assert.equal(inner['version'], '1.17');
      assert.match(String(inner['_msg_id']), /^[0-9a-f]{32}$/);
      assert.match(String(inner['_unique_id']), /^[0-9a-f]{32}$/);
      assert.match(String(inner['_reply_q']), /^reply_[0-9a-f]{32}$/);
      assert.equal(inner['_timeout'], 60);
      assert.equal(inner['_context_request_id'], ctx.requestId);
      assert.equal(inner['_context_global_request_id'], 'req-00000000-0000-0000-0000-000000000001');
      assert.equal(inner['_context_user_id'], 'u1');
      assert.equal(inner['_context_project_id'], 'p1');
      assert.deepEqual(inner['_context_roles'], ['admin']);
      assert.equal(inner['_context_is_admin'], true);
      assert.equal(inner['_context_read_deleted'], 'no');
      assert.match(String(inner['_context_journey_parent']), /^[0-9a-f]{16}$/);
      // One reply queue per transport, reused by every call.
      await client.call(ctx, 'again');
      assert.equal(seen[1]!.inner['_reply_q'], inner['_reply_q']);
      assert.notEqual(seen[1]!.inner['_msg_id'], inner['_msg_id']);
    });

    void test('casts carry no reply fields; no namespace key without a namespace', async () => {
      const topic = h.topic(['h9']);
      const bus = await h.bus();
      const seen: Record<string, unknown>[] = [];
      const sub = await bus.consumeTopic(EXCHANGE, `${topic}.h9`, `${topic}.h9`, (b) => {
        seen.push(decodeMessage(b));
      });
      h.defer(() => sub.close());
      await new RpcClient(await h.bus(), { topic, exchange: EXCHANGE, version: '5.0' }).prepare({ server: 'h9' }).cast(new RequestContext(), 'build_and_run_instance', { x: 1 });
      await until(() => seen.length === 1);
      const m = seen[0]!;
      assert.equal(m['method'], 'build_and_run_instance');
      assert.equal(m['version'], '5.0');
      assert.ok(!('namespace' in m));
      assert.ok(!('_msg_id' in m) && !('_reply_q' in m) && !('_timeout' in m));
    });

    void test('a failure reply in oslo JSON becomes RemoteError; replies of the server are {result, failure, ending}', async () => {
      const topic = h.topic(['h1']);
      const bus = await h.bus();
      // Server side of the check: a Stratus server's reply as seen on the reply queue.
      class Ep {
        target = { version: '1.0' };
        async add(_c: RequestContext, a: Record<string, unknown>): Promise<number> {
          return Number(a['x']) + 1;
        }
        async boom(): Promise<never> {
          throw new TypeError('bad thing');
        }
      }
      const server = new RpcServer(bus, { topic, server: 'h1', exchange: EXCHANGE }, [new Ep()]);
      await server.start();
      h.defer(() => server.stop());
      const replyQ = `reply_${'a'.repeat(24)}${Math.random().toString(16).slice(2, 10)}`;
      const replies: Record<string, unknown>[] = [];
      const rsub = await bus.consumeReply(replyQ, (b) => {
        replies.push(decodeMessage(b));
      });
      h.defer(() => rsub.close());
      const ctxDict = new RequestContext().toDict();
      const req = (method: string, msgId: string): Buffer => {
        const m: Record<string, unknown> = { method, args: { x: 41 }, version: '1.0', _msg_id: msgId, _reply_q: replyQ, _timeout: null, _unique_id: msgId };
        for (const [k, v] of Object.entries(ctxDict)) m[`_context_${k}`] = v;
        return encodeMessage(m);
      };
      await bus.publishTopic(EXCHANGE, topic, req('add', '1'.repeat(32)));
      await bus.publishTopic(EXCHANGE, topic, req('boom', '2'.repeat(32)));
      await until(() => replies.length === 2);
      const ok = replies.find((r) => r['_msg_id'] === '1'.repeat(32))!;
      assert.equal(ok['result'], 42);
      assert.equal(ok['failure'], null);
      assert.equal(ok['ending'], true);
      const bad = replies.find((r) => r['_msg_id'] === '2'.repeat(32))!;
      assert.equal(bad['result'], null);
      assert.equal(bad['ending'], true);
      const failure = JSON.parse(String(bad['failure'])) as Record<string, unknown>;
      assert.equal(failure['class'], 'TypeError');
      assert.equal(failure['message'], 'bad thing');
      assert.ok(Array.isArray(failure['tb']));
      assert.deepEqual(failure['args'], ['bad thing']);
      assert.deepEqual(failure['kwargs'], {});
      assert.equal(typeof failure['module'], 'string');

      // And the caller side of the same JSON.
      const client = new RpcClient(await h.bus(), { topic, exchange: EXCHANGE });
      await assert.rejects(client.call(new RequestContext(), 'boom'), (e: unknown) => e instanceof RemoteError && e.excType === 'TypeError' && e.value === 'bad thing');
    });

    void test('a message delivered twice (same _unique_id) is handled once', async () => {
      const topic = h.topic(['h1']);
      const bus = await h.bus();
      let n = 0;
      class Ep {
        async hit(): Promise<void> {
          n++;
        }
      }
      const server = new RpcServer(bus, { topic, server: 'h1', exchange: EXCHANGE }, [new Ep()]);
      await server.start();
      h.defer(() => server.stop());
      const body = encodeMessage({ method: 'hit', args: {}, _unique_id: 'd'.repeat(32) });
      await bus.publishTopic(EXCHANGE, topic, body);
      await bus.publishTopic(EXCHANGE, topic, body);
      await bus.publishTopic(EXCHANGE, topic, encodeMessage({ method: 'hit', args: {}, _unique_id: 'e'.repeat(32) }));
      await until(() => n >= 2);
      await sleep(100);
      assert.equal(n, 2);
    });
  });
}
