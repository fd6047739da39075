import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../../src/common/context.js';
import { addSpanSink, withSpan, type Span } from '../../../src/common/journey/span.js';
import { RpcClient, RpcServer } from '../../../src/common/rpc/index.js';
import { EXCHANGE, Harness, TRANSPORTS, until } from './harness.js';

for (const transport of TRANSPORTS) {
  void describe(`journey spans over ${transport.name}`, () => {
    const h = new Harness(transport);
    after(() => h.cleanup());

    void test('rpc.send and rpc.receive spans nest across the bus, including a second hop', async () => {
      const spans: Span[] = [];
      const remove = addSpanSink({ write: (s) => spans.push(s) });
      h.defer(async () => {
        remove();
      });
      const topicA = h.topic(['a1']);
      const topicB = h.topic(['b1']);
      const busB = await h.bus();
      class B {
        async leaf(): Promise<string> {
          return 'leaf';
        }
      }
      const clientB = new RpcClient(await h.bus(), { topic: topicB, exchange: EXCHANGE }, { service: 'conductor', host: 'a1' });
      class A {
        async relay(ctx: RequestContext): Promise<string> {
          await clientB.prepare({ server: 'b1' }).cast(ctx, 'leaf');
          return clientB.call(ctx, 'leaf');
        }
      }
      const sa = new RpcServer(await h.bus(), { topic: topicA, server: 'a1', exchange: EXCHANGE }, [new A()], { service: 'conductor' });
      const sb = new RpcServer(busB, { topic: topicB, server: 'b1', exchange: EXCHANGE }, [new B()], { service: 'scheduler' });
      await sa.start();
      await sb.start();
      h.defer(() => sa.stop());
      h.defer(() => sb.stop());
      const ctx = new RequestContext({ globalRequestId: 'req-11111111-1111-1111-1111-111111111111' });
      const client = new RpcClient(await h.bus(), { topic: topicA, exchange: EXCHANGE }, { service: 'api' });
      const r = await withSpan({ kind: 'http.in', name: 'POST /servers', service: 'api', ctx }, () => client.call(ctx, 'relay'));
      assert.equal(r, 'leaf');
      await until(() => spans.filter((s) => s.kind === 'rpc.receive' && s.name === 'leaf').length === 2);
      const mine = spans.filter((s) => s.journeyId === 'req-11111111-1111-1111-1111-111111111111');
      const http = mine.find((s) => s.kind === 'http.in')!;
      const send = mine.find((s) => s.kind === 'rpc.send' && s.name === 'relay')!;
      const recv = mine.find((s) => s.kind === 'rpc.receive' && s.name === 'relay')!;
      assert.equal(send.parentId, http.id);
      assert.equal(recv.parentId, send.id);
      assert.equal(send.service, 'api');
      assert.equal(recv.service, 'conductor');
      assert.equal(recv.host, 'a1');
      assert.deepEqual(
        { exchange: send.attributes['exchange'], routing_key: send.attributes['routing_key'], method: send.attributes['method'], type: send.attributes['type'] },
        { exchange: EXCHANGE, routing_key: topicA, method: 'relay', type: 'call' },
      );
      assert.equal(recv.attributes['type'], 'call');
      const leafSends = mine.filter((s) => s.kind === 'rpc.send' && s.name === 'leaf');
      assert.deepEqual(leafSends.map((s) => s.attributes['type']).sort(), ['call', 'cast']);
      for (const s of leafSends) assert.equal(s.parentId, recv.id);
      const leafRecvs = mine.filter((s) => s.kind === 'rpc.receive' && s.name === 'leaf');
      assert.deepEqual(leafRecvs.map((s) => s.parentId).sort(), leafSends.map((s) => s.id).sort());
      const castRecv = leafRecvs.find((s) => s.attributes['type'] === 'cast')!;
      assert.equal(castRecv.attributes['routing_key'], `${topicB}.b1`);
      assert.equal(castRecv.service, 'scheduler');
    });
  });
}
