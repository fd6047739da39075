/**
 * `npm run bench -- machine`: how fast this machine runs the work Stratus does, so figures taken
 * on different days (different hosts under the same "2-core machine") can be set side by side.
 * One thread, no I/O: JSON round trips of an RPC-sized message (what the bus spends most on) and
 * integer arithmetic. Prints the median of five runs of each; lower is faster.
 */
import { RequestContext } from '../src/common/context.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  const ctx = new RequestContext({ userId: 'u'.repeat(32), projectId: 'p'.repeat(32), roles: ['admin', 'member', 'reader'], requestId: 'req-00000000-0000-0000-0000-000000000000' });
  const message = { method: 'select_destinations', args: { spec: { flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 }, image: { properties: {} } }, hosts: ['a', 'b', 'c'] }, version: '4.5', ...Object.fromEntries(Object.entries(ctx.toDict()).map(([k, v]) => [`_context_${k}`, v])) };
  const json = () => {
    for (let i = 0; i < 50_000; i++) {
      const inner = JSON.stringify(message);
      const outer = JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner });
      JSON.parse(JSON.parse(outer)['oslo.message'] as string);
    }
  };
  const arithmetic = () => {
    let x = 0;
    for (let i = 0; i < 100_000_000; i++) x = (x + i * 7) % 1_000_003;
    if (x < 0) console.log(x);
  };
  json();
  const j = median(Array.from({ length: 5 }, () => timeIt(json)));
  const a = median(Array.from({ length: 5 }, () => timeIt(arithmetic)));
  console.log(`machine: 50,000 oslo envelope JSON round trips ${j.toFixed(0)} ms (${((j * 1000) / 50_000).toFixed(2)} µs each); 1e8 integer steps ${a.toFixed(0)} ms`);
}
