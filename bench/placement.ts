/**
 * `npm run bench -- placement`: GET /allocation_candidates p50/p99 with 1,000 and 10,000
 * compute-node providers (limit=1000), through the whole REST stack (app.inject), on SQLite.
 * Also: the same request right after a claim on one provider (the snapshot re-reads only it),
 * and the CPU time per request (wall time on a shared machine includes waiting for a core).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/common/db/index.js';
import { setLogDestination } from '../src/common/log.js';
import { createPlacementApp } from '../src/placement/service.js';
import { ResourceClassMap } from '../src/placement/db/resource-classes.js';
import type { PlacementDatabase } from '../src/placement/db/sql.js';

setLogDestination('/dev/null');

// What Nova's scheduler asks for a small flavor (it adds root_required=!COMPUTE_STATUS_DISABLED).
const QUERY = '/allocation_candidates?resources=VCPU:1,MEMORY_MB:2048,DISK_GB:20&root_required=!COMPUTE_STATUS_DISABLED&limit=1000';

/**
 * `n` providers: flat compute nodes, or (nested) n/2 trees of a compute node with memory and
 * disk and a NUMA child with the VCPUs. Returns the uuids of the providers holding VCPU.
 */
export async function populate(database: PlacementDatabase, n: number, nested = false): Promise<string[]> {
  const rcs = await ResourceClassMap.load(database.db);
  const traits = new Map((await database.db.selectFrom('traits').select(['id', 'name'])
    .where('name', 'in', ['COMPUTE_NODE', 'HW_CPU_X86_AVX2']).execute()).map((t) => [t.name, t.id]));
  const uuids: string[] = [];
  const now = new Date();
  await database.transaction(async (trx) => {
    const inv = (id: number, rc: string, total: number, ratio: number) => ({
      resource_provider_id: id, resource_class_id: rcs.idOf(rc), total, reserved: 0, min_unit: 1, max_unit: total,
      step_size: 1, allocation_ratio: ratio, created_at: now, updated_at: null,
    });
    for (let i = 0; i < (nested ? n / 2 : n); i++) {
      const uuid = randomUUID();
      const r = await trx.insertInto('resource_providers')
        .values({ uuid, name: `cn-${i}`, generation: 3, created_at: now, updated_at: null, parent_provider_id: null, root_provider_id: null })
        .returning('id').executeTakeFirstOrThrow();
      const id = Number(r.id);
      await trx.updateTable('resource_providers').set({ root_provider_id: id }).where('id', '=', id).execute();
      if (nested) {
        const childUuid = randomUUID();
        uuids.push(childUuid);
        const c = await trx.insertInto('resource_providers')
          .values({ uuid: childUuid, name: `cn-${i}-numa0`, generation: 1, created_at: now, updated_at: null, parent_provider_id: id, root_provider_id: id })
          .returning('id').executeTakeFirstOrThrow();
        await trx.insertInto('inventories').values([inv(Number(c.id), 'VCPU', 64, 4), inv(id, 'MEMORY_MB', 262144, 1), inv(id, 'DISK_GB', 2000, 1)]).execute();
      } else {
        uuids.push(uuid);
        await trx.insertInto('inventories').values([inv(id, 'VCPU', 64, 4), inv(id, 'MEMORY_MB', 262144, 1), inv(id, 'DISK_GB', 2000, 1)]).execute();
      }
      const t = [{ trait_id: traits.get('COMPUTE_NODE')!, resource_provider_id: id, created_at: now, updated_at: null }];
      if (i % 2 === 0) t.push({ trait_id: traits.get('HW_CPU_X86_AVX2')!, resource_provider_id: id, created_at: now, updated_at: null });
      await trx.insertInto('resource_provider_traits').values(t).execute();
    }
  });
  return uuids;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(n: number, iterations: number, nested = false): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stratus-bench-placement-'));
  const database = await openDatabase(`sqlite:///${path.join(dir, 'placement.db')}`, { service: 'placement' });
  const app = await createPlacementApp({ database });
  try {
    const uuids = await populate(database as PlacementDatabase, n, nested);
    const headers = { 'openstack-api-version': 'placement 1.39' };
    const cpu: number[] = [];
    const get = async () => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await app.inject({ method: 'GET', url: QUERY, headers });
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}: ${r.body}`);
      return { ms, count: (JSON.parse(r.body) as { allocation_requests: unknown[] }).allocation_requests.length };
    };
    const cold = await get();
    for (let i = 0; i < 5; i++) await get();
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < iterations; i++) {
      const r = await get();
      times.push(r.ms);
      count = r.count;
    }
    times.sort((a, b) => a - b);
    const steadyCpu = cpu.slice(-iterations).sort((a, b) => a - b);
    // After each claim one provider's generation moves: measure the refresh-and-answer path.
    const vcpuHolder = (i: number) => uuids[i % uuids.length]!;
    const afterClaim: number[] = [];
    for (let i = 0; i < Math.min(50, iterations); i++) {
      const put = await app.inject({
        method: 'PUT', url: `/allocations/${randomUUID()}`, headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify({
          allocations: { [vcpuHolder(i)]: { resources: { VCPU: 1 } } },
          project_id: 'bench', user_id: 'bench', consumer_generation: null, consumer_type: 'INSTANCE',
        }),
      });
      if (put.statusCode !== 204) throw new Error(`claim: ${put.statusCode} ${put.body}`);
      afterClaim.push((await get()).ms);
    }
    afterClaim.sort((a, b) => a - b);
    const f = (x: number) => x.toFixed(1).padStart(6);
    console.log(`providers=${String(n).padStart(6)}${nested ? ' (nested)' : '         '}  candidates=${count}  first=${f(cold.ms)} ms  p50=${f(pct(times, 50))} ms  p99=${f(pct(times, 99))} ms`
      + `  (cpu p50=${f(pct(steadyCpu, 50))} ms)  after-claim p50=${f(pct(afterClaim, 50))} ms p99=${f(pct(afterClaim, 99))} ms  (n=${iterations})`);
  } finally {
    await app.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const iterations = Number(args.find((a) => /^\d+$/.test(a)) ?? 200);
  console.log(`GET ${QUERY}`);
  for (const n of [1000, 10000]) await measure(n, iterations);
  await measure(10000, iterations, true);
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
