/**
 * The hand-encoded basic.publish frames are the frames rabbitmq-client's own codec writes
 * for the same message, and its decoder reads them back, body split over frames included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { encodePublish } from './amqp-frames.js';

interface Frame {
  type: number;
  channelId: number;
  methodId?: number;
  params?: Record<string, unknown>;
  bodySize?: number;
  fields?: Record<string, unknown>;
  payload?: Buffer;
}
interface Codec {
  genContentFrames(channelId: number, params: Record<string, unknown>, body: Buffer, frameMax: number): Iterable<Buffer>;
  decodeFrame(read: (n: number) => Promise<Buffer>): Promise<Frame>;
}
const codec = createRequire(import.meta.url)('rabbitmq-client/lib/codec.js') as Codec;

function reader(buf: Buffer): { read: (n: number) => Promise<Buffer>; left: () => number } {
  let o = 0;
  return {
    read: async (n) => {
      const b = buf.subarray(o, o + n);
      o += n;
      return b;
    },
    left: () => buf.length - o,
  };
}

void test('same bytes as rabbitmq-client for a message that fits one frame', () => {
  const body = Buffer.from('{"oslo.version":"2.0","oslo.message":"{\\"method\\":\\"echo\\"}"}');
  for (const [mandatory, expirationMs, exchange] of [
    [false, 60_000, 'nova'],
    [true, undefined, ''],
  ] as const) {
    const before = Math.floor(Date.now() / 1000);
    const ours = encodePublish({ channel: 3, exchange, routingKey: 'compute.host-1', mandatory, ...(expirationMs !== undefined ? { expirationMs } : {}), body, frameMax: 131072 });
    const after = Math.floor(Date.now() / 1000);
    let matched = false;
    for (let ts = before; ts <= after && !matched; ts++) {
      const params = {
        exchange,
        routingKey: 'compute.host-1',
        mandatory,
        timestamp: ts,
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 1,
        rsvp1: 0,
        ...(expirationMs !== undefined ? { expiration: String(expirationMs) } : {}),
      };
      const theirs = Buffer.concat([...codec.genContentFrames(3, params, body, 131072)]);
      matched = theirs.equals(ours);
    }
    assert.ok(matched, `frames differ (mandatory=${mandatory})`);
  }
});

void test('a body larger than frame_max is split into frames rabbitmq-client decodes', async () => {
  const body = Buffer.alloc(10_000, 'x');
  const frameMax = 4096;
  const buf = encodePublish({ channel: 7, exchange: 'ex', routingKey: 'rk', mandatory: false, expirationMs: 1500.4, body, frameMax });
  const r = reader(buf);
  const method = await codec.decodeFrame(r.read);
  assert.equal(method.type, 1);
  assert.equal(method.channelId, 7);
  assert.equal(method.params!['exchange'], 'ex');
  assert.equal(method.params!['routingKey'], 'rk');
  const header = await codec.decodeFrame(r.read);
  assert.equal(header.type, 2);
  assert.equal(header.bodySize, 10_000);
  assert.equal(header.fields!['contentType'], 'application/json');
  assert.equal(header.fields!['contentEncoding'], 'utf-8');
  assert.equal(header.fields!['deliveryMode'], 1);
  assert.equal(header.fields!['expiration'], '1500');
  const parts: Buffer[] = [];
  while (r.left() > 0) {
    const f = await codec.decodeFrame(r.read);
    assert.equal(f.type, 3);
    assert.ok(f.payload!.length + 8 <= frameMax);
    parts.push(f.payload!);
  }
  assert.equal(parts.length, 3);
  assert.ok(Buffer.concat(parts).equals(body));
});

void test('names longer than an AMQP short string are refused', () => {
  assert.throws(() => encodePublish({ channel: 1, exchange: 'x'.repeat(256), routingKey: 'k', mandatory: false, body: Buffer.alloc(1), frameMax: 4096 }), RangeError);
});
