/**
 * `stratus up` as a real process in a temporary state directory on free ports, and Debian's
 * `openstack` CLI pointed at its openrc: what a person following the README does.
 * @module
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
export const bin = path.join(root, 'bin', 'stratus.mjs');
export const OPENSTACK = '/usr/bin/openstack';
/** node:test `skip` value: the CLI comes from Debian's python3-openstackclient. */
export const skipWithoutCli = existsSync(OPENSTACK) ? false : 'python3-openstackclient is not installed';

export function parseOpenrc(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

export interface RunningCloud {
  stateDir: string;
  /** process.env plus the openrc's OS_* variables. */
  env: NodeJS.ProcessEnv;
  /** `openstack <args> -f json`, parsed. */
  os(...args: string[]): Promise<any>;
  /** `openstack <args>`, raw stdout. */
  osPlain(...args: string[]): Promise<string>;
  /** Ctrl-C, and wait for a clean exit. */
  stop(): Promise<void>;
}

export async function startStratusUp(extraArgs: string[] = [], label = 'e2e'): Promise<RunningCloud> {
  const stateDir = mkdtempSync(path.join(tmpdir(), `stratus-${label}-`));
  const child = spawn(process.execPath, [bin, 'up', '--state-dir', stateDir, '--random-ports', '--admin-password', 'secret-e2e', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`stratus up did not come up:\n${out}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Stratus is up')) { clearTimeout(timer); resolve(); }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`stratus up exited ${code}:\n${out}`)); });
  });
  const env: NodeJS.ProcessEnv = { ...process.env, ...parseOpenrc(path.join(stateDir, 'openrc')) };
  delete env['OS_CLOUD'];
  const osPlain = async (...args: string[]) => (await run(OPENSTACK, args, { env, timeout: 120_000 })).stdout;
  return {
    stateDir, env, osPlain,
    os: async (...args: string[]) => {
      const stdout = await osPlain(...args, '-f', 'json');
      return stdout.trim() ? JSON.parse(stdout) : null;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
