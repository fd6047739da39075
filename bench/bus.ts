/**
 * `npm run bench -- bus [--rabbit URL] [--calls N] [--concurrency C] [--skip-amqp | --amqp-only]`:
 * call, cast and fanout rates and call p50/p99 latency, for the in-process bus (client and
 * server in this process) and for RabbitMQ between two processes (a child process serves).
 * Latency is measured with one call at a time; rates with C calls in flight.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RequestContext } from '../src/common/context.js';
import { createTransport, RpcClient, RpcServer, type MessageBus } from '../src/common/rpc/index.js';

const EXCHANGE = 'stratus_bench';

/** The endpoint both modes serve: echo for calls, a counter for casts and fanouts. */
class BenchEndpoint {
  casts = 0;
  fanouts = 0;
  async echo(_ctx: RequestContext, args: Record<string, unknown>): Promise<unknown> {
    return args;
  }
  async cast(): Promise<void> {
    this.casts++;
  }
  async fan(): Promise<void> {
    this.fanouts++;
  }
  async counts(): Promise<{ casts: number; fanouts: number }> {
    return { casts: this.casts, fanouts: this.fanouts };
  }
}

async function serve(bus: MessageBus, topic: string): Promise<RpcServer> {
  const server = new RpcServer(bus, { topic, server: 'bench', exchange: EXCHANGE }, [new BenchEndpoint()], { executorConcurrency: 256 });
  await server.start();
  return server;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(bus: MessageBus, topic: string, opts: { calls: number; concurrency: number; label: string }): Promise<Record<string, string>> {
  const ctx = new RequestContext({ userId: 'bench', projectId: 'bench' });
  const client = new RpcClient(bus, { topic, exchange: EXCHANGE }, { timeoutMs: 30_000 });
  const direct = client.prepare({ server: 'bench' });
  const payload = { instance_uuid: randomUUID(), host: 'cmp1', flavor: { vcpus: 2, ram: 2048 } };

  // Warm up (JIT, queue declarations, reply queue).
  for (let i = 0; i < 500; i++) await client.call(ctx, 'echo', payload);

  const latencies: number[] = [];
  const latencyCalls = Math.min(opts.calls, 5000);
  for (let i = 0; i < latencyCalls; i++) {
    const t0 = performance.now();
    await client.call(ctx, 'echo', payload);
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  let cpuSeconds = 0;
  const rate = async (n: number, fn: (i: number) => Promise<unknown>): Promise<number> => {
    let next = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < n) await fn(next++);
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return n / ((performance.now() - t0) / 1000);
  };
  const callRate = await rate(opts.calls, () => client.call(ctx, 'echo', payload));
  const callsPerCpuSecond = opts.calls / cpuSeconds;

  const base = await direct.call<{ casts: number; fanouts: number }>(ctx, 'counts');
  const t1 = performance.now();
  await rate(opts.calls, () => direct.cast(ctx, 'cast', payload));
  for (;;) {
    const c = await direct.call<{ casts: number }>(ctx, 'counts');
    if (c.casts - base.casts >= opts.calls) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const castRate = opts.calls / ((performance.now() - t1) / 1000);

  const fanout = client.prepare({ fanout: true });
  const t2 = performance.now();
  await rate(opts.calls, () => fanout.cast(ctx, 'fan', payload));
  for (;;) {
    const c = await direct.call<{ fanouts: number }>(ctx, 'counts');
    if (c.fanouts - base.fanouts >= opts.calls) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const fanoutRate = opts.calls / ((performance.now() - t2) / 1000);

  return {
    transport: opts.label,
    'call/s': callRate.toFixed(0),
    // Calls per CPU-second of this process: what the rate would be with a core to itself.
    'call/cpu-s (this proc)': callsPerCpuSecond.toFixed(0),
    'cast/s (delivered)': castRate.toFixed(0),
    'fanout/s (delivered)': fanoutRate.toFixed(0),
    'call p50 ms': pct(latencies, 50).toFixed(3),
    'call p99 ms': pct(latencies, 99).toFixed(3),
  };
}

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

/** Starts this file as a server process on RabbitMQ; resolves once it consumes. */
async function spawnServer(url: string, topic: string): Promise<{ stop(): Promise<void> }> {
  // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof") profiles the server process too.
  const extra = process.env['BENCH_CHILD_NODE_ARGS']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', url, topic], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, STRATUS_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l === 'READY') resolve();
    });
    child.on('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
  return {
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

async function deleteQueues(url: string, topic: string): Promise<void> {
  const { Connection } = await import('rabbitmq-client');
  const conn = new Connection({ url: url.replace(/^rabbit:/, 'amqp:') });
  for (const q of [topic, `${topic}.bench`]) await conn.queueDelete({ queue: q }).catch(() => undefined);
  await conn.close();
}

export async function run(args: string[]): Promise<void> {
  const calls = Number(arg(args, '--calls', '20000'));
  const concurrency = Number(arg(args, '--concurrency', '64'));
  const rabbit = arg(args, '--rabbit', process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/');
  const rows: Record<string, string>[] = [];

  if (!args.includes('--amqp-only')) {
    const topic = `bench_${randomUUID().slice(0, 8)}`;
    const url = `inproc://bench-${topic}`;
    const serverBus = await createTransport(url);
    const clientBus = await createTransport(url);
    const server = await serve(serverBus, topic);
    rows.push(await measure(clientBus, topic, { calls, concurrency, label: 'inproc (1 process)' }));
    await server.stop();
    await clientBus.close();
    await serverBus.close();
  }

  if (!args.includes('--skip-amqp')) {
    const topic = `bench_${randomUUID().slice(0, 8)}`;
    const child = await spawnServer(rabbit, topic);
    const bus = await createTransport(rabbit);
    try {
      rows.push(await measure(bus, topic, { calls, concurrency, label: 'rabbitmq (2 processes)' }));
    } finally {
      await bus.close();
      await child.stop();
      await deleteQueues(rabbit, topic);
    }
  }

  console.table(rows);
  console.log(`(${calls} messages per rate, ${concurrency} in flight; latency: one call at a time)`);
}

// Child mode: serve the bench topic on RabbitMQ until stdin closes.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--serve') {
  const [url, topic] = process.argv.slice(3);
  const bus = await createTransport(url!);
  const server = await serve(bus, topic!);
  console.log('READY');
  process.stdin.resume();
  process.stdin.on('end', () => {
    void server.stop().then(() => bus.close()).then(() => process.exit(0));
  });
}
