/**
 * `npm run bench -- bus [--rabbit URL] [--calls N] [--warmup W] [--concurrency 64,256] [--repeat R] [--skip-amqp | --amqp-only]`
 *
 * What it measures, for the in-process bus (client and server in this process) and for
 * RabbitMQ between two processes (a child process serves; the broker runs locally):
 * - `call/s @C`: calls completed per second of wall time with C calls in flight (each of C
 *   workers issues its next call when the previous reply arrives), as a busy server sees;
 * - `calls/cpu-s`: the same calls per CPU-second of this (client) process, which other work
 *   on a shared machine does not lower the way it lowers the wall-clock rate;
 * - `µs cpu/call`: CPU time per call of the client, the serving child and the broker
 *   (from /proc, when a local `beam.smp` is found) over the highest-concurrency run;
 * - cast and fanout rates: messages sent with the same concurrency and counted as delivered
 *   by the server (the clock stops when the server has handled the last one);
 * - `p50` / `p99`: call latency with one call at a time.
 * Every message is a real oslo 2.0 envelope with the full request context (~1.2 kB).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RequestContext } from '../src/common/context.js';
import { createTransport, RpcClient, RpcServer, type MessageBus } from '../src/common/rpc/index.js';
import { inFlight } from './pool.js';

const EXCHANGE = 'stratus_bench';

/** The endpoint both modes serve: echo for calls, counters for casts and fanouts, its CPU use. */
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
  async cpu(): Promise<number> {
    return cpuMicros();
  }
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Reads a process's CPU time (µs) from /proc, or null. */
function procCpuMicros(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime), in clock ticks of 10 ms.
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return null;
  }
}

/**
 * The local RabbitMQ's pid: the `beam.smp` with the most CPU time (rabbitmqctl runs a
 * short-lived beam.smp of its own), or null.
 */
function brokerPid(): string | null {
  let best: string | null = null;
  let bestCpu = -1;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let comm = '';
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      const cpu = comm === 'beam.smp' ? procCpuMicros(pid) : null;
      if (cpu !== null && cpu > bestCpu) [best, bestCpu] = [pid, cpu];
    }
  } catch {
    // no /proc
  }
  return best;
}

async function serve(bus: MessageBus, topic: string): Promise<RpcServer> {
  const server = new RpcServer(bus, { topic, server: 'bench', exchange: EXCHANGE }, [new BenchEndpoint()], { executorConcurrency: 512 });
  await server.start();
  return server;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `n` operations with `concurrency` in flight; wall seconds and client CPU µs. */
async function timedInFlight(n: number, concurrency: number, fn: () => Promise<unknown>): Promise<{ seconds: number; cpu: number }> {
  const t0 = performance.now();
  const cpu0 = cpuMicros();
  await inFlight(n, concurrency, fn);
  return { seconds: (performance.now() - t0) / 1000, cpu: cpuMicros() - cpu0 };
}

interface MeasureOptions {
  calls: number;
  /** Calls made (64 in flight) before anything is measured. */
  warmup: number;
  concurrency: number[];
  label: string;
  /** The server's CPU counter (µs), when it runs in another process. */
  serverCpu: (() => Promise<number>) | null;
}

async function measure(bus: MessageBus, topic: string, opts: MeasureOptions): Promise<Record<string, string>> {
  const ctx = new RequestContext({ userId: 'bench', projectId: 'bench', roles: ['member'] });
  const client = new RpcClient(bus, { topic, exchange: EXCHANGE }, { timeoutMs: 60_000 });
  const direct = client.prepare({ server: 'bench' });
  const payload = { instance_uuid: randomUUID(), host: 'cmp1', flavor: { vcpus: 2, ram: 2048 } };
  const echo = (): Promise<unknown> => client.call(ctx, 'echo', payload);

  // Warm up (JIT, queue declarations, reply queue).
  await inFlight(opts.warmup, 64, echo);

  const row: Record<string, string> = { transport: opts.label };
  const latencies: number[] = [];
  for (let i = 0; i < Math.min(opts.calls, 3000); i++) {
    const t0 = performance.now();
    await echo();
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  for (const c of opts.concurrency) {
    const server0 = opts.serverCpu ? await opts.serverCpu() : 0;
    const broker = opts.serverCpu ? brokerPid() : null;
    const broker0 = broker ? procCpuMicros(broker) : null;
    const r = await timedInFlight(opts.calls, c, echo);
    const broker1 = broker ? procCpuMicros(broker) : null;
    const server1 = opts.serverCpu ? await opts.serverCpu() : 0;
    row[`call/s @${c}`] = (opts.calls / r.seconds).toFixed(0);
    row[`calls/cpu-s @${c}`] = ((opts.calls * 1e6) / r.cpu).toFixed(0);
    if (c === opts.concurrency[opts.concurrency.length - 1]) {
      row['µs cpu/call client'] = (r.cpu / opts.calls).toFixed(1);
      if (opts.serverCpu) row['server'] = ((server1 - server0) / opts.calls).toFixed(1);
      if (opts.serverCpu && broker0 !== null && broker1 !== null) row['broker'] = ((broker1 - broker0) / opts.calls).toFixed(1);
    }
  }
  const c = opts.concurrency[opts.concurrency.length - 1]!;

  const base = await direct.call<{ casts: number; fanouts: number }>(ctx, 'counts');
  const delivered = async (key: 'casts' | 'fanouts'): Promise<void> => {
    for (;;) {
      const now = await direct.call<{ casts: number; fanouts: number }>(ctx, 'counts');
      if (now[key] - base[key] >= opts.calls) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  let t = performance.now();
  await inFlight(opts.calls, c, () => direct.cast(ctx, 'cast', payload));
  await delivered('casts');
  row['cast/s'] = (opts.calls / ((performance.now() - t) / 1000)).toFixed(0);

  const fanout = client.prepare({ fanout: true });
  t = performance.now();
  await inFlight(opts.calls, c, () => fanout.cast(ctx, 'fan', payload));
  await delivered('fanouts');
  row['fanout/s'] = (opts.calls / ((performance.now() - t) / 1000)).toFixed(0);

  row['p50 ms'] = pct(latencies, 50).toFixed(3);
  row['p99 ms'] = pct(latencies, 99).toFixed(3);
  return row;
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
  const warmup = Number(arg(args, '--warmup', '3000'));
  const concurrency = arg(args, '--concurrency', '64,256').split(',').map(Number);
  const repeat = Number(arg(args, '--repeat', '1'));
  const rabbit = arg(args, '--rabbit', process.env['STRATUS_TEST_RABBIT_URL'] ?? 'rabbit://guest:guest@127.0.0.1:5672/');
  const rows: Record<string, string>[] = [];

  for (let i = 0; i < repeat; i++) {
    if (!args.includes('--amqp-only')) {
      const topic = `bench_${randomUUID().slice(0, 8)}`;
      const url = `inproc://bench-${topic}`;
      const serverBus = await createTransport(url);
      const clientBus = await createTransport(url);
      const server = await serve(serverBus, topic);
      rows.push(await measure(clientBus, topic, { calls, warmup, concurrency, label: 'inproc (1 process)', serverCpu: null }));
      await server.stop();
      await clientBus.close();
      await serverBus.close();
    }

    if (!args.includes('--skip-amqp')) {
      const topic = `bench_${randomUUID().slice(0, 8)}`;
      const child = await spawnServer(rabbit, topic);
      const bus = await createTransport(rabbit);
      try {
        const cpuClient = new RpcClient(bus, { topic, exchange: EXCHANGE, server: 'bench' });
        const ctx = new RequestContext();
        rows.push(await measure(bus, topic, { calls, warmup, concurrency, label: 'rabbitmq (2 processes)', serverCpu: () => cpuClient.call<number>(ctx, 'cpu') }));
      } finally {
        await bus.close();
        await child.stop();
        await deleteQueues(rabbit, topic);
      }
    }
  }

  console.table(rows);
  console.log(
    `${calls} messages per rate; call/s @C: C calls in flight; calls/cpu-s: per CPU-second of the client process; ` +
      `µs cpu/call: client, server process, broker at the highest C; p50/p99: one call at a time. ` +
      `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${(await import('node:os')).cpus().length} CPUs.`,
  );
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
