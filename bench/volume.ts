/**
 * `npm run bench -- volume [--volumes N] [--concurrency C] [--warmup W] [--wait poll|notify] [--db URL] [--profile DIR]`:
 * Cinder create+delete with the file driver, through the REST API (Fastify inject, real
 * validation and policy), the bus (in-process, oslo wire format), cinder-scheduler and
 * cinder-volume, on a SQLite file by default.
 *
 * A client waits the way openstacksdk's `wait_for_status` / `wait_for_delete` do: it polls
 * `GET /volumes/{id}` until `available`, then until 404 — only smarter than the SDK's fixed 2 s:
 * it tunes the delay of its first GET so that about 70% of first GETs already see the change,
 * then backs off from 2 ms to 20 ms, so waiting adds little latency and few wasted GETs.
 * `--wait notify` instead observes cinder-volume's `volume.create.end` / `volume.delete.end`
 * notifications (Ceilometer-style) and checks each final state once through the API.
 *
 * First W cycles (default 400, at concurrency C) warm the process up and are not counted.
 * Prints: create-to-available and delete-to-gone p50/p99, the full create+delete cycle p50/p99,
 * volumes/s (cycles per wall-clock second), volumes per CPU-second of this process (API,
 * scheduler, volume service and client together: the figure that still means something when
 * other work shares the cores) and GETs per volume, serially and with C concurrent clients.
 * Targets (issue 8): p99 < 100 ms, >= 200 volumes/s. OpenStack's published knee: 6-8 creates/s.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/common/db/index.js';
import { createTransport, NotificationListener } from '../src/common/rpc/index.js';
import { inFlight } from './pool.js';
import { setLogDestination } from '../src/common/log.js';
import type { TokenValidator } from '../src/common/http/auth-types.js';
import { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType } from '../src/volume/service.js';

const PROJECT = 'b0000000000000000000000000000001';
const validator: TokenValidator = {
  async validate() {
    return {
      userId: 'c0000000000000000000000000000001', userName: 'admin', userDomainId: 'default', projectId: PROJECT, projectName: 'admin', projectDomainId: 'default',
      roles: ['admin', 'member', 'reader'], methods: ['password'], auditIds: ['b'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(), issuedAt: new Date().toISOString(),
    };
  },
};

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const arg = (args: string[], name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

export async function run(args: string[]): Promise<void> {
  const total = Number(arg(args, '--volumes', '400'));
  const concurrency = Number(arg(args, '--concurrency', '16'));
  const warmup = Number(arg(args, '--warmup', '400'));
  const wait = arg(args, '--wait', 'poll');
  if (wait !== 'poll' && wait !== 'notify') throw new Error('--wait is poll or notify');
  const profileDir = args.includes('--profile') ? arg(args, '--profile', '.') : null;
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-vol-'));
  setLogDestination(join(dir, 'stratus.log'));
  const url = arg(args, '--db', `sqlite:///${join(dir, 'cinder.db')}`);
  const database = await openDatabase(url, { service: 'cinder' });
  const bus = await createTransport(`inproc://bench-${randomUUID()}`);
  await ensureDefaultVolumeType({ database });
  const app = await createCinderApi({ database, bus, validator, host: 'bench' });
  const scheduler = await createCinderScheduler({ database, bus, host: 'bench' });
  const volume = await createCinderVolume({ database, bus, host: 'bench', stateDir: dir, totalCapacityGb: 1_000_000 });
  await volume.start();
  await scheduler.start();
  let gets = 0;
  const req = async (method: string, path: string, body?: unknown) => {
    if (method === 'GET') gets++;
    const r = await app.inject({ method: method as 'GET', url: path, headers: { 'x-auth-token': 't', 'content-type': 'application/json' }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
  };
  const base = `/v3/${PROJECT}`;

  // --wait notify: completion from cinder-volume's notifications.
  const waiters = new Map<string, () => void>();
  const seen = new Set<string>();
  const listener = new NotificationListener(bus, [{ topic: 'notifications' }], [{
    info(_ctx: unknown, _publisher: string, eventType: string, payload: { volume_id?: string }) {
      if (!['volume.create.end', 'volume.create.error', 'volume.delete.end'].includes(eventType)) return;
      const key = `${eventType === 'volume.create.error' ? 'volume.create.end' : eventType}:${payload.volume_id}`;
      const w = waiters.get(key);
      if (w) {
        waiters.delete(key);
        w();
      } else seen.add(key);
    },
  }]);
  if (wait === 'notify') await listener.start();
  const event = (name: string, id: string) => new Promise<void>((resolve) => {
    const key = `${name}:${id}`;
    if (seen.delete(key)) resolve();
    else waiters.set(key, resolve);
  });

  /**
   * Polls the volume until `done` says so (status or 404). The client tunes when it makes its
   * first GET: sooner after a first GET that already saw the change, later after one that did
   * not (settling where about 70% of first GETs see it), then backs off from 2 ms to 20 ms.
   * Few wasted GETs, and the change is still seen within a poll interval.
   */
  const firstPoll = { create: 4, delete: 4 };
  const poll = async (id: string, step: 'create' | 'delete', done: (r: { status: number; body: any }) => boolean) => {
    await sleep(firstPoll[step]);
    for (let delay = 2, first = true; ; delay = Math.min(20, delay * 1.5), first = false) {
      const r = await req('GET', `${base}/volumes/${id}`);
      if (first) firstPoll[step] = Math.min(200, Math.max(1, firstPoll[step] * (done(r) ? 0.97 : 1.08)));
      if (done(r)) return r;
      if (r.body?.volume?.status === 'error') throw new Error(`volume ${id} went to error`);
      await sleep(delay);
    }
  };

  const create: number[] = [];
  const remove: number[] = [];
  const cycle: number[] = [];
  const one = async () => {
    const t0 = performance.now();
    const c = await req('POST', `${base}/volumes`, { volume: { size: 1 } });
    if (c.status !== 202) throw new Error(`create: ${c.status} ${JSON.stringify(c.body)}`);
    const id = c.body.volume.id as string;
    if (wait === 'notify') {
      await event('volume.create.end', id);
      const shown = await req('GET', `${base}/volumes/${id}`);
      if (shown.body?.volume?.status !== 'available') throw new Error(`volume ${id} is ${shown.body?.volume?.status}`);
    } else {
      await poll(id, 'create', (r) => r.body?.volume?.status === 'available');
    }
    const t1 = performance.now();
    const d = await req('DELETE', `${base}/volumes/${id}`);
    if (d.status !== 202) throw new Error(`delete: ${d.status} ${JSON.stringify(d.body)}`);
    if (wait === 'notify') {
      await event('volume.delete.end', id);
      if ((await req('GET', `${base}/volumes/${id}`)).status !== 404) throw new Error(`volume ${id} still shows after delete.end`);
    } else {
      await poll(id, 'delete', (r) => r.status === 404);
    }
    const t2 = performance.now();
    create.push(t1 - t0);
    remove.push(t2 - t1);
    cycle.push(t2 - t0);
  };
  const phase = async (label: string, n: number, clients: number, quiet = false) => {
    create.length = remove.length = cycle.length = 0;
    gets = 0;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    await inFlight(n, clients, one);
    const wall = performance.now() - t;
    const cpu = cpuSeconds(process.cpuUsage(cpu0));
    for (const a of [create, remove, cycle]) a.sort((x, y) => x - y);
    if (quiet) return;
    console.log(`${label}: create->available p50 ${ms(pct(create, 50))} p99 ${ms(pct(create, 99))}; delete->gone p50 ${ms(pct(remove, 50))} p99 ${ms(pct(remove, 99))}; `
      + `create+delete p50 ${ms(pct(cycle, 50))} p99 ${ms(pct(cycle, 99))}; ${(n / (wall / 1000)).toFixed(0)} volumes/s, `
      + `${(n / cpu).toFixed(0)} volumes/CPU-s (${cpu.toFixed(2)} CPU-s in ${(wall / 1000).toFixed(2)} s), ${(gets / n).toFixed(1)} GETs/volume (${n} volumes)`);
  };
  const profiler = profileDir ? new Session() : null;
  try {
    await req('PUT', `${base}/os-quota-sets/${PROJECT}`, { quota_set: { volumes: -1, gigabytes: -1, snapshots: -1 } });
    // Warm-up, not counted: a cloud runs warm, and V8 keeps compiling the hot paths for the first
    // few hundred cycles (the boot bench saw ~13 ms of background compile per boot after 50 boots).
    await phase('warm-up (not counted)', warmup, concurrency, true);
    console.log(`wait: ${wait === 'poll' ? 'GET /volumes/{id} polling (first GET tuned to hit ~70% of the time, then 2-20 ms back-off)' : 'volume.*.end notifications'}`);
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    await phase('serial', Math.max(1, Math.floor(total / 4)), 1);
    await phase(`${concurrency} concurrent`, total, concurrency);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(profileDir!, `volume-bench-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`profile: ${file}`);
      profiler.disconnect();
    }
  } finally {
    if (wait === 'notify') await listener.stop();
    await volume.stop();
    await scheduler.stop();
    await app.close();
    await bus.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
