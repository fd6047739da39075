/**
 * `npm run bench -- startup`: time from `stratus up` to the line `Stratus is up`,
 * on a fresh state directory (migrations, bootstrap, default image and networks) and on a
 * second start of the same directory. Target: < 3 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'stratus.mjs');

function upOnce(stateDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'up', '--state-dir', stateDir, '--computes', '2', '--random-ports'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no "Stratus is up" within 60 s:\n${out}\n${err}`)); }, 60_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Stratus is up')) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        child.once('exit', () => resolve(ms));
        child.kill('SIGINT');
      }
    });
    child.once('exit', (code) => { if (!out.includes('Stratus is up')) { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}\n${err}`)); } });
  });
}

export async function run(_args: string[]): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-bench-startup-'));
  try {
    const cold = await upOnce(dir);
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push(await upOnce(dir));
    warm.sort((a, b) => a - b);
    console.log(`startup, fresh state dir (process start -> "Stratus is up"): ${(cold / 1000).toFixed(2)} s`);
    console.log(`startup, existing state dir, median of 3:                  ${(warm[1]! / 1000).toFixed(2)} s  (target < 3 s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
