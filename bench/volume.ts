/**
 * `npm run bench -- volume [--volumes N] [--concurrency C] [--db URL]`: Cinder create+delete with
 * the file driver, through the REST API (Fastify inject, real validation and policy), the bus
 * (in-process, oslo wire format), cinder-scheduler and cinder-volume, on a SQLite file by default.
 *
 * Completion is observed the way Ceilometer-style consumers see it, from cinder-volume's
 * `volume.create.end` / `volume.delete.end` notifications, so client polling does not load the
 * cloud being measured; each volume's final state is then checked once through the API.
 *
 * Prints: create-to-available and delete-to-gone p50/p99, full create+delete cycle p50/p99, and
 * volumes/s (cycles per second) serially and with C concurrent clients.
 * Targets (issue 8): p99 < 100 ms, >= 200 volumes/s. OpenStack's published knee: 6-8 creates/s.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/common/db/index.js';
import { createTransport, NotificationListener } from '../src/common/rpc/index.js';
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

export async function run(args: string[]): Promise<void> {
  process.env['STRATUS_LOG_LEVEL'] ??= 'error';
  const total = Number(arg(args, '--volumes', '400'));
  const concurrency = Number(arg(args, '--concurrency', '16'));
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
  const req = async (method: string, path: string, body?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url: path, headers: { 'x-auth-token': 't', 'content-type': 'application/json' }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
  };
  const base = `/v3/${PROJECT}`;
  const waiters = new Map<string, () => void>();
  const seen = new Set<string>();
  const listener = new NotificationListener(bus, [{ topic: 'notifications' }], [{
    info(_ctx: unknown, _publisher: string, eventType: string, payload: { volume_id?: string }) {
      if (eventType === 'volume.create.error') console.error(`volume ${payload.volume_id} went to error`);
      if (!['volume.create.end', 'volume.create.error', 'volume.delete.end'].includes(eventType)) return;
      const key = `${eventType}:${payload.volume_id}`;
      const w = waiters.get(key);
      if (w) {
        waiters.delete(key);
        w();
      } else seen.add(key);
    },
  }]);
  await listener.start();
  const event = (name: string, id: string) => new Promise<void>((resolve) => {
    const key = `${name}:${id}`;
    if (seen.delete(key)) resolve();
    else waiters.set(key, resolve);
  });
  const create: number[] = [];
  const remove: number[] = [];
  const cycle: number[] = [];
  const one = async () => {
    const t0 = performance.now();
    const c = await req('POST', `${base}/volumes`, { volume: { size: 1 } });
    if (c.status !== 202) throw new Error(`create: ${c.status} ${JSON.stringify(c.body)}`);
    const id = c.body.volume.id as string;
    await event('volume.create.end', id);
    const t1 = performance.now();
    const shown = await req('GET', `${base}/volumes/${id}`);
    if (shown.body?.volume?.status !== 'available') throw new Error(`volume ${id} is ${shown.body?.volume?.status}`);
    const t1b = performance.now();
    const d = await req('DELETE', `${base}/volumes/${id}`);
    if (d.status !== 202) throw new Error(`delete: ${d.status} ${JSON.stringify(d.body)}`);
    await event('volume.delete.end', id);
    const t2 = performance.now();
    if ((await req('GET', `${base}/volumes/${id}`)).status !== 404) throw new Error(`volume ${id} still shows after delete.end`);
    create.push(t1 - t0);
    remove.push(t2 - t1b);
    cycle.push(t2 - t0);
  };
  const report = (label: string, wall: number, n: number) => {
    for (const a of [create, remove, cycle]) a.sort((x, y) => x - y);
    console.log(`${label}: create->available p50 ${ms(pct(create, 50))} p99 ${ms(pct(create, 99))}; delete->gone p50 ${ms(pct(remove, 50))} p99 ${ms(pct(remove, 99))}; `
      + `create+delete p50 ${ms(pct(cycle, 50))} p99 ${ms(pct(cycle, 99))}; ${(n / (wall / 1000)).toFixed(0)} volumes/s (${n} volumes)`);
    create.length = remove.length = cycle.length = 0;
  };
  try {
    await req('PUT', `${base}/os-quota-sets/${PROJECT}`, { quota_set: { volumes: -1, gigabytes: -1, snapshots: -1 } });
    for (let i = 0; i < 20; i++) await one(); // warm-up
    create.length = remove.length = cycle.length = 0;
    const serialN = Math.max(1, Math.floor(total / 4));
    let t = performance.now();
    for (let i = 0; i < serialN; i++) await one();
    report('serial', performance.now() - t, serialN);
    t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < total) await one();
    }));
    report(`${concurrency} concurrent`, performance.now() - t, total);
  } finally {
    await listener.stop();
    await volume.stop();
    await scheduler.stop();
    await app.close();
    await bus.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
