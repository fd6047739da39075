/**
 * With the fast reader installed, rabbitmq-client's frame decoder still reads every frame of a
 * byte stream that arrives in arbitrary pieces: some reads are served at once, some wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { PassThrough, type Readable } from 'node:stream';
import { encodePublish } from './amqp-frames.js';
import { installFastReader } from './amqp-reader.js';

const require = createRequire(import.meta.url);
const util = require('rabbitmq-client/lib/util.js') as { createAsyncReader(s: Readable): (n: number) => Promise<Buffer> };
const codec = require('rabbitmq-client/lib/codec.js') as {
  decodeFrame(read: (n: number) => Promise<Buffer>): Promise<{ type: number; params?: Record<string, unknown>; bodySize?: number; payload?: Buffer }>;
};

void test('frames split at arbitrary points are all decoded, in order', async () => {
  assert.equal(installFastReader(), true);
  const messages = Array.from({ length: 40 }, (_, i) => Buffer.from(`{"n":${i},"pad":"${'y'.repeat((i * 37) % 300)}"}`));
  const wire = Buffer.concat(messages.map((body, i) => encodePublish({ channel: 1, exchange: 'ex', routingKey: `rk${i}`, mandatory: false, body, frameMax: 4096 })));
  const socket = new PassThrough();
  const read = util.createAsyncReader(socket);

  // Feed the bytes in uneven pieces, some at once and some later.
  const feeding = (async () => {
    let o = 0;
    let i = 0;
    while (o < wire.length) {
      const n = [1, 7, 13, 200, 3, 900][i++ % 6]!;
      socket.write(wire.subarray(o, o + n));
      o += n;
      if (i % 4 === 0) await new Promise((r) => setImmediate(r));
    }
  })();

  for (let i = 0; i < messages.length; i++) {
    const method = await codec.decodeFrame(read);
    assert.equal(method.type, 1);
    assert.equal(method.params!['routingKey'], `rk${i}`);
    const header = await codec.decodeFrame(read);
    assert.equal(header.bodySize, messages[i]!.length);
    const body = await codec.decodeFrame(read);
    assert.ok(body.payload!.equals(messages[i]!));
  }
  await feeding;
  socket.destroy();
});
