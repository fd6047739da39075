/**
 * `npm run bench -- boot [--servers N] [--list-servers M] [--concurrency C1,C2,...] [--threads T] [--thread-names] [--journey]`:
 * for each concurrency (default 1,5,20) boots N servers (default 200) through the whole cloud
 * (fake driver, zero spawn time) and prints boot-to-ACTIVE p50/p95, boots/s and the process's CPU
 * time per boot (every thread); then fills up to M servers (default 1,000) and prints `GET
 * /servers/detail` p50/p99 (`--journey`: then the hops of the last boot of each concurrency). ACTIVE is observed from the versioned `instance.create.end`
 * notification on the cell's bus, so polling does not distort the figures.
 * By Little's law the targets together (p50 < 100 ms at >= 50 boots/s) mean about 5 boots in flight.
 * First `--warmup W` boots (default 300, at concurrency 5) are not counted, and are deleted again
 * (freeing the hosts for the rows that count): a cloud runs warm, and the first hundreds of boots
 * of a fresh process still pay V8 for compiling and recompiling the code they run (on 2 cores,
 * ~13 ms of background compile per boot after 50 boots, ~3 ms after 500).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startCloud } from '../src/cmd/cloud.js';
import { formatJourney } from '../src/common/journey/format.js';
import { readJourney } from '../src/common/journey/store.js';
import { NotificationListener, createTransport } from '../src/common/rpc/index.js';
import { inFlight } from './pool.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** CPU ms of each OS thread of this process (Linux /proc; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      out.set(tid, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    }
  } catch {
    // not Linux
  }
  return out;
}

/** "main 17.1, worker 12.0 ms/boot": the main thread and the busiest other thread (the control services' worker). */
function threadSplit(before: Map<string, number>, after: Map<string, number>, n: number): string {
  const d = [...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const);
  const main = d.find(([tid]) => tid === String(process.pid))?.[1] ?? NaN;
  const others = d.filter(([tid]) => tid !== String(process.pid)).map(([, ms]) => ms).sort((a, b) => b - a);
  const busiest = others[0] ?? 0;
  const rest = others.slice(1).reduce((a, b) => a + b, 0);
  return `main thread ${(main / n).toFixed(1)}, busiest other ${(busiest / n).toFixed(1)}, all the rest ${(rest / n).toFixed(1)} ms/boot`;
}

/** The busiest threads (`comm#tid`: Node names them all "node") and their CPU per boot, for `--thread-names`. */
function busiestThreads(before: Map<string, number>, after: Map<string, number>, n: number): string {
  const rows: [string, number][] = [];
  for (const [tid, ms] of after) {
    let name = 'gone';
    try {
      name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      // the thread ended
    }
    rows.push([`${name}#${tid}`, ms - (before.get(tid) ?? 0)]);
  }
  return rows.sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => `${k} ${(ms / n).toFixed(1)}`).join(', ');
}

// The hot requests (boots, listings) go through node:http on a keep-alive agent: the load
// generator shares the main thread with Nova, so it should cost as little as it can.
const agent = new http.Agent({ keepAlive: true });
function call(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string; requestId: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, agent, headers: data === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(data)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), requestId: String(res.headers['x-openstack-request-id'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

export async function run(args: string[]): Promise<void> {
  const nBoot = arg(args, 'servers', 200);
  const nList = arg(args, 'list-servers', 1000);
  const nWarmup = arg(args, 'warmup', 300);
  const ci = args.indexOf('--concurrency');
  const concurrencies = (ci >= 0 ? args[ci + 1]! : '1,5,20').split(',').map(Number).filter((n) => n > 0);
  const threads = args.includes('--threads') ? (arg(args, 'threads', 2) === 1 ? 1 : 2) : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stratus-bench-boot-'));
  const cloud = await startCloud({ stateDir: dir, randomPorts: true, computes: 4, ...(threads ? { threads } : {}) });
  const cellBus = await createTransport('inproc://nova_cell1');
  const active = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const deleted = new Map<string, () => void>();
  const failed: string[] = [];
  const listener = new NotificationListener(cellBus, [{ topic: 'versioned_notifications', exchange: 'nova' }], [{
    info: (_c: unknown, _p: string, eventType: string, payload: any) => {
      if (eventType === 'instance.delete.end') deleted.get(payload?.['nova_object.data']?.uuid)?.();
      if (eventType !== 'instance.create.end') return;
      const id = payload?.['nova_object.data']?.uuid;
      active.set(id, performance.now());
      waiters.get(id)?.();
    },
    error: (_c: unknown, _p: string, eventType: string, payload: any) => {
      if (eventType !== 'instance.create.error') return;
      const id = payload?.['nova_object.data']?.uuid;
      failed.push(`${id}: ${payload?.['nova_object.data']?.fault?.['nova_object.data']?.exception_message}`);
      active.set(id, NaN);
      waiters.get(id)?.();
    },
  }], { pool: 'bench' });
  await listener.start();
  // A boot that finds no host is buried in cell0 by the super-conductor, which says so on the
  // API-level bus (compute_task.build_instances.error), not on the cell's.
  const apiBus = await createTransport('inproc://');
  const buried = new NotificationListener(apiBus, [{ topic: 'versioned_notifications', exchange: 'nova' }], [{
    error: (_c: unknown, _p: string, eventType: string, payload: any) => {
      if (eventType !== 'compute_task.build_instances.error') return;
      const data = payload?.['nova_object.data'] ?? {};
      const id = data.instance_uuid;
      failed.push(`${id}: ${data.reason?.['nova_object.data']?.exception_message ?? 'buried in cell0'}`);
      active.set(id, NaN);
      waiters.get(id)?.();
    },
  }], { pool: 'bench' });
  await buried.start();
  // --journey: the last boot of each concurrency, printed hop by hop once the spans are flushed.
  const journeys: [number, string][] = [];
  try {
    const auth = await fetch(`${cloud.authUrl}/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.admin.password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
    });
    const token = auth.headers.get('x-subject-token')!;
    const body = (await auth.json()) as any;
    const ep = (t: string) => body.token.catalog.find((s: any) => s.type === t).endpoints.find((e: any) => e.interface === 'public').url.replace(/\/+$/, '');
    const h = { 'x-auth-token': token, 'content-type': 'application/json' };
    const nova = ep('compute');
    await fetch(`${nova}/os-quota-sets/${body.token.project.id}`, { method: 'PUT', headers: h, body: JSON.stringify({ quota_set: { instances: -1, cores: -1, ram: -1 } }) });
    const image = ((await (await fetch(`${ep('image')}/v2/images`, { headers: h })).json()) as any).images[0].id;
    // devstack's private subnet is a /26: the bench gets its own /16 and no port quota.
    const neutron = ep('network');
    await fetch(`${neutron}/v2.0/quotas/${body.token.project.id}`, { method: 'PUT', headers: h, body: JSON.stringify({ quota: { port: -1, network: -1, subnet: -1 } }) });
    const net = ((await (await fetch(`${neutron}/v2.0/networks`, { method: 'POST', headers: h, body: JSON.stringify({ network: { name: 'bench-net' } }) })).json()) as any).network.id;
    await fetch(`${neutron}/v2.0/subnets`, { method: 'POST', headers: h, body: JSON.stringify({ subnet: { network_id: net, ip_version: 4, cidr: '10.128.0.0/16', name: 'bench-subnet' } }) });

    const ids: string[] = [];
    let lastBoot = '';
    const boot = async (name: string): Promise<number> => {
      const t0 = performance.now();
      const r = await call('POST', `${nova}/servers`, h, { server: { name, imageRef: image, flavorRef: '42', networks: [{ uuid: net }] } });
      if (r.status !== 202) throw new Error(`boot ${r.status} ${r.text}`);
      lastBoot = r.requestId;
      const id = (JSON.parse(r.text) as any).server.id as string;
      ids.push(id);
      if (!active.has(id)) await new Promise<void>((res) => waiters.set(id, res));
      waiters.delete(id);
      return active.get(id)! - t0;
    };
    const runMany = async (n: number, prefix: string, concurrency: number): Promise<number[]> => {
      const times: number[] = [];
      await inFlight(n, concurrency, async (i) => times.push(await boot(`${prefix}-${i}`)));
      return times;
    };
    let booted = 0;
    if (nWarmup > 0) {
      const warm = (await runMany(nWarmup, 'bench-warmup', 5)).filter((t) => !Number.isNaN(t));
      // (a boot that failed stays: its delete would be announced elsewhere, as would its burial)
      const doomed = ids.splice(0).filter((id) => !Number.isNaN(active.get(id)));
      const gone = doomed.map((id) => new Promise<void>((res) => deleted.set(id, res)));
      await inFlight(doomed.length, 5, async (i) => {
        const r = await call('DELETE', `${nova}/servers/${doomed[i]}`, h);
        if (r.status !== 204) throw new Error(`delete ${r.status} ${r.text}`);
      });
      await Promise.all(gone);
      deleted.clear();
      failed.length = 0;
      console.log(`warm-up: ${nWarmup} boots at concurrency 5 and their deletes, not counted (boot p50 ${pct(warm, 50).toFixed(1)} ms)`);
    }
    for (const concurrency of concurrencies) {
      const cpu0 = process.cpuUsage();
      const threads0 = threadCpu();
      const t0 = performance.now();
      const times = (await runMany(nBoot, `bench-c${concurrency}`, concurrency)).filter((t) => !Number.isNaN(t));
      const secs = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const threads1 = threadCpu();
      const split = threadSplit(threads0, threads1, nBoot);
      if (args.includes('--thread-names')) console.log(`  CPU ms/boot of the busiest threads: ${busiestThreads(threads0, threads1, nBoot)}`);
      booted += nBoot;
      if (args.includes('--journey')) journeys.push([concurrency, lastBoot]);
      if (failed.length) console.log(`${failed.length} boots failed, e.g. ${failed[0]}`);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      console.log(`boot ${nBoot} servers (concurrency ${concurrency}): boot-to-ACTIVE p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, mean ${mean.toFixed(1)} ms; ${(nBoot / secs).toFixed(1)} boots/s; CPU ${((cpu.user + cpu.system) / 1000 / nBoot).toFixed(1)} ms/boot (${split}); load ${os.loadavg()[0]!.toFixed(2)}`);
    }

    if (nList === 0) return;
    if (nList > booted) await runMany(nList - booted, 'fill', Math.max(...concurrencies));
    const lt: number[] = [];
    let count = 0;
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      const r = await call('GET', `${nova}/servers/detail`, h);
      count = (JSON.parse(r.text) as any).servers.length;
      lt.push(performance.now() - s);
    }
    console.log(`GET /servers/detail with ${count} servers: p50 ${pct(lt, 50).toFixed(1)} ms, p99 ${pct(lt, 99).toFixed(1)} ms`);
  } finally {
    agent.destroy();
    await listener.stop();
    await buried.stop();
    await cellBus.close();
    await apiBus.close();
    await cloud.stop();
    for (const [concurrency, id] of journeys) console.log(`\nlast boot at concurrency ${concurrency}:\n${formatJourney(readJourney(dir, id))}`);
    rmSync(dir, { recursive: true, force: true });
  }
}
