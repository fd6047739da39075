/**
 * `npm run bench -- startup [--threads N]`: time from `stratus up` to the line `Stratus is up`,
 * on a fresh state directory (migrations, bootstrap, default image and networks) and on a
 * second start of the same directory, with the CPU time the process used until then (every
 * thread, from /proc) and the load average. Target: < 3 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'stratus.mjs');

/** User + system CPU ms of a process so far (Linux /proc; NaN elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

interface Up {
  ms: number;
  cpuMs: number;
}

function upOnce(stateDir: string, extra: string[]): Promise<Up> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'up', '--state-dir', stateDir, '--computes', '2', '--random-ports', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no "Stratus is up" within 60 s:\n${out}\n${err}`)); }, 60_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Stratus is up')) {
        const ms = performance.now() - t0;
        const cpuMs = cpuMsOf(child.pid!);
        clearTimeout(timer);
        child.once('exit', () => resolve({ ms, cpuMs }));
        child.kill('SIGINT');
      }
    });
    child.once('exit', (code) => { if (!out.includes('Stratus is up')) { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}\n${err}`)); } });
  });
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--threads');
  const extra = i >= 0 ? ['--threads', args[i + 1]!] : [];
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-bench-startup-'));
  const fmt = (u: Up) => `${(u.ms / 1000).toFixed(2)} s (CPU ${(u.cpuMs / 1000).toFixed(2)} s; load ${loadavg()[0]!.toFixed(2)})`;
  try {
    const cold = await upOnce(dir, extra);
    const warm: Up[] = [];
    for (let i = 0; i < 3; i++) warm.push(await upOnce(dir, extra));
    warm.sort((a, b) => a.ms - b.ms);
    console.log(`startup, fresh state dir (process start -> "Stratus is up"): ${fmt(cold)}`);
    console.log(`startup, existing state dir, median of 3:                  ${fmt(warm[1]!)}  (target < 3 s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
