/**
 * The amqp transport survives the broker going away. The broker is shared with other tests,
 * so instead of restarting it the test runs the bus through a TCP proxy it can cut, and
 * deletes the queues meanwhile (what a restart does to oslo's non-durable queues).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { RequestContext } from '../../../src/common/context.js';
import { createTransport, parseTransportUrl, RpcClient, RpcServer } from '../../../src/common/rpc/index.js';

const RABBIT_URL = process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/';
const EXCHANGE = 'stratus_conformance';

class Proxy {
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}
  async listen(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  /** The broker "goes down": every connection is cut and no new ones are accepted. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    const closed = s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await closed;
  }
}

void test('calls work again after the broker connection is lost and queues are gone', async () => {
  const parsed = parseTransportUrl(RABBIT_URL);
  assert.equal(parsed.driver, 'rabbit');
  const h = parsed.driver === 'rabbit' ? parsed.hosts[0]! : undefined;
  const proxy = new Proxy(h!.hostname, h!.port);
  await proxy.listen();
  const url = `rabbit://${h!.username}:${h!.password}@127.0.0.1:${proxy.port}/`;
  const topic = `reconn_${randomUUID().slice(0, 8)}`;
  const bus = await createTransport(url);
  const admin = new Connection({ url: RABBIT_URL.replace(/^rabbit:/, 'amqp:') });
  try {
    class Ep {
      async ping(_c: RequestContext, a: Record<string, unknown>): Promise<unknown> {
        return a['n'];
      }
    }
    const server = new RpcServer(bus, { topic, server: 's1', exchange: EXCHANGE }, [new Ep()]);
    await server.start();
    const client = new RpcClient(bus, { topic, exchange: EXCHANGE }, { timeoutMs: 1000 });
    assert.equal(await client.call(new RequestContext(), 'ping', { n: 1 }), 1);

    await proxy.cut();
    await admin.queueDelete({ queue: topic });
    await admin.queueDelete({ queue: `${topic}.s1` });
    await new Promise((r) => setTimeout(r, 300));
    await proxy.listen(proxy.port);

    let got: unknown;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        got = await client.call(new RequestContext(), 'ping', { n: 2 });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.equal(got, 2);
    assert.equal(await client.prepare({ server: 's1' }).call(new RequestContext(), 'ping', { n: 3 }), 3);
    await server.stop();
  } finally {
    await bus.close();
    await proxy.cut();
    await admin.queueDelete({ queue: topic }).catch(() => undefined);
    await admin.queueDelete({ queue: `${topic}.s1` }).catch(() => undefined);
    await admin.close();
  }
});
