/**
 * `npm run bench -- network [--ports N] [--db URL]`: Neutron port throughput and list latency
 * through the REST API (Fastify inject, real validation, SQLite file by default).
 *
 * Prints: port create p50/p99 and creates/s (serial and 16 concurrent) with 10,000 ports
 * present, and list latency for a page of 100 and for a filtered list at 1,000 and 10,000 ports.
 * Creates per CPU-second (this process's user + system time) go with each creates/s figure:
 * on a machine shared with other work, wall-clock rates say as much about the neighbours.
 * Published OpenStack figure to compare with: about 2 port creates/s sustained (Rally, Mitaka).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/common/db/index.js';
import { createTransport } from '../src/common/rpc/index.js';
import type { TokenValidator } from '../src/common/http/auth-types.js';
import { createNeutronServer } from '../src/network/service.js';

const ADMIN_PROJECT = 'b0000000000000000000000000000001';
const validator: TokenValidator = {
  async validate() {
    return {
      userId: 'bench', userName: 'admin', userDomainId: 'default', projectId: ADMIN_PROJECT, projectName: 'admin', projectDomainId: 'default',
      roles: ['admin', 'member', 'reader'], methods: ['password'], auditIds: ['b'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(), issuedAt: new Date().toISOString(),
    };
  },
};

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (x: number) => `${x.toFixed(2)} ms`;
const cpuSecs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};

export async function run(args: string[]): Promise<void> {
  process.env['STRATUS_LOG_LEVEL'] ??= 'error';
  const total = Number(args[args.indexOf('--ports') + 1] ?? '') || 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-net-'));
  const url = args.includes('--db') ? args[args.indexOf('--db') + 1]! : `sqlite:///${join(dir, 'neutron.db')}`;
  const database = await openDatabase(url, { service: 'neutron' });
  const bus = await createTransport('inproc://');
  const server = await createNeutronServer({ database, bus, host: 'bench', validator });
  await server.start();
  const app = server.app;
  const req = async (method: string, path: string, body?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url: path, headers: { 'x-auth-token': 't', 'content-type': 'application/json' }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${r.body}`);
    return JSON.parse(r.body || 'null');
  };
  try {
    // an enforced port quota, so every create passes the quota check as a tenant's would
    await req('PUT', `/v2.0/quotas/${ADMIN_PROJECT}`, { quota: { port: 1_000_000, network: -1, subnet: -1 } });
    const net = (await req('POST', '/v2.0/networks', { network: { name: 'bench' } })).network;
    await req('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.0.0.0/16', enable_dhcp: false } });
    const fill = async (upTo: number) => {
      const have = (await req('GET', `/v2.0/ports?network_id=${net.id}&fields=id`)).ports.length;
      for (let n = have; n < upTo; n += 100) {
        const batch = Math.min(100, upTo - n);
        await req('POST', '/v2.0/ports', { ports: Array.from({ length: batch }, () => ({ network_id: net.id, name: 'fill' })) });
      }
    };
    const listLatency = async (label: string) => {
      const page: number[] = [];
      const filtered: number[] = [];
      for (let k = 0; k < 30; k++) {
        let t = performance.now();
        await req('GET', `/v2.0/ports?network_id=${net.id}&limit=100`);
        page.push(performance.now() - t);
        t = performance.now();
        await req('GET', `/v2.0/ports?device_id=nonexistent`);
        filtered.push(performance.now() - t);
      }
      page.sort((a, b) => a - b);
      filtered.sort((a, b) => a - b);
      console.log(`list ports at ${label}: page of 100 p50 ${ms(pct(page, 50))} p99 ${ms(pct(page, 99))}; filtered (device_id) p50 ${ms(pct(filtered, 50))}`);
    };

    const t0 = performance.now();
    await fill(Math.min(1000, total));
    await listLatency('1,000 ports');
    await fill(total);
    console.log(`prefilled ${total} ports in ${((performance.now() - t0) / 1000).toFixed(1)} s (bulk requests of 100)`);
    await listLatency(`${total.toLocaleString('en')} ports`);

    const lat: number[] = [];
    const n = 500;
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    for (let k = 0; k < n; k++) {
      const t = performance.now();
      await req('POST', '/v2.0/ports', { port: { network_id: net.id, name: 'bench' } });
      lat.push(performance.now() - t);
    }
    const serialSecs = (performance.now() - t1) / 1000;
    const serialCpu = cpuSecs(cpu1);
    lat.sort((a, b) => a - b);
    if (process.env['BENCH_DEBUG']) console.log(lat.slice(-25).map((x) => x.toFixed(1)).join(' '));
    console.log(`port create (serial, ${total} present): p50 ${ms(pct(lat, 50))} p99 ${ms(pct(lat, 99))}, ${(n / serialSecs).toFixed(0)} creates/s, ${(n / serialCpu).toFixed(0)} creates per CPU-second`);

    const conc = 16;
    const per = 40;
    const clat: number[] = [];
    const cpu2 = process.cpuUsage();
    const t2 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => {
      for (let k = 0; k < per; k++) {
        const t = performance.now();
        await req('POST', '/v2.0/ports', { port: { network_id: net.id, name: 'bench' } });
        clat.push(performance.now() - t);
      }
    }));
    const concSecs = (performance.now() - t2) / 1000;
    const concCpu = cpuSecs(cpu2);
    clat.sort((a, b) => a - b);
    console.log(`port create (${conc} concurrent): p50 ${ms(pct(clat, 50))} p99 ${ms(pct(clat, 99))}, ${((conc * per) / concSecs).toFixed(0)} creates/s, ${((conc * per) / concCpu).toFixed(0)} creates per CPU-second`);
    console.log('reference: OpenStack Mitaka sustained about 2 port creates/s (performance-docs, create_and_list_ports)');
  } finally {
    await server.stop();
    await bus.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
