/**
 * OpenStack binaries as separate processes configured by INI files: `stratus keystone` and
 * `stratus placement-api --config-file F`, placement validating tokens against keystone over HTTP.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../src/cmd/ports.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const bin = path.join(root, 'bin', 'stratus.mjs');
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
});

function start(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start:\n${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

test('keystone and placement-api run as their own processes from config files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-bin-'));
  const ksPort = await freePort();
  const ksConf = path.join(dir, 'keystone.conf');
  writeFileSync(ksConf, `[DEFAULT]\nstate_path = ${dir}\n[database]\nconnection = sqlite:///${dir}/keystone.db\n[api]\nbind_port = ${ksPort}\n`);
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [bin, 'manage', 'keystone', 'bootstrap', '--bootstrap-password', 'adminpw', '--bootstrap-public-url', `http://127.0.0.1:${ksPort}`, '--config-file', ksConf, '--state-dir', dir]);
  const ks = await start(['keystone', '--config-file', ksConf]);
  const versions = await fetch(`${ks}/v3`);
  assert.equal(versions.status, 200);
  assert.equal(((await versions.json()) as any).version.status, 'stable');

  const plConf = path.join(dir, 'placement.conf');
  writeFileSync(plConf, `[DEFAULT]\nstate_path = ${dir}\n[database]\nconnection = sqlite:///${dir}/placement.db\n[api]\nbind_port = 0\n[keystone_authtoken]\nauth_url = ${ks}/v3\nwww_authenticate_uri = ${ks}/v3\nusername = admin\npassword = adminpw\nproject_name = admin\n`);
  // --config-dir: a later directory file overrides the bind port.
  const confDir = path.join(dir, 'placement.conf.d');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(confDir);
  const plPort = await freePort();
  writeFileSync(path.join(confDir, '10-port.conf'), `[api]\nbind_port = ${plPort}\n`);
  const pl = await start(['placement-api', '--config-file', plConf, '--config-dir', confDir]);
  assert.equal(pl, `http://127.0.0.1:${plPort}`);
  const root = await fetch(`${pl}/`);
  assert.equal(root.status, 200, 'the version document needs no token');
  const rps = await fetch(`${pl}/resource_providers`, { headers: { 'x-auth-token': 'not-a-token' } });
  assert.equal(rps.status, 401);
  assert.match(rps.headers.get('www-authenticate') ?? '', new RegExp(`Keystone uri="${ks}/v3"`));
  // A real token from keystone is accepted by placement (validated over HTTP with its service user).
  const auth = await fetch(`${ks}/v3/auth/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'adminpw' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  assert.equal(auth.status, 201);
  const ok = await fetch(`${pl}/resource_providers`, { headers: { 'x-auth-token': auth.headers.get('x-subject-token')! } });
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as any).resource_providers, []);
});
