/**
 * A whole cloud in process (as `stratus up` runs it, fake driver, noop agents) and a small
 * client that drives Nova the way a CLI does: token, catalog, JSON calls, polling.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCloud, type Cloud } from '../../../src/cmd/cloud.js';

export interface Client {
  token: string;
  catalog: any[];
  url(type: string): string;
  call(method: string, type: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function login(cloud: Cloud, who: 'admin' | 'demo'): Promise<Client> {
  const user = who === 'admin' ? cloud.admin : cloud.demo;
  const r = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user.username, domain: { id: 'default' }, password: user.password } } }, scope: { project: { name: user.projectName, domain: { id: 'default' } } } } }),
  });
  assert.equal(r.status, 201);
  const token = r.headers.get('x-subject-token')!;
  const catalog = ((await r.json()) as any).token.catalog;
  const url = (type: string) => catalog.find((s: any) => s.type === type).endpoints.find((e: any) => e.interface === 'public').url.replace(/\/+$/, '');
  return {
    token, catalog, url,
    async call(method, type, p, body, headers = {}) {
      const res = await fetch(`${url(type)}${p}`, {
        method, headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: any = null;
      try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}

export async function withCloud(computes: number, fn: (cloud: Cloud) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stratus-nova-'));
  const cloud = await startCloud({ stateDir: dir, randomPorts: true, computes });
  try {
    await fn(cloud);
  } finally {
    await cloud.stop();
    if (!process.env['STRATUS_KEEP_STATE']) rmSync(dir, { recursive: true, force: true });
    else console.log('state dir', dir);
  }
}

/** Polls a server like Tempest's waiter: status matches and task_state is null; ERROR fails at once. */
export async function waitForStatus(c: Client, id: string, status: string, timeoutMs = 30_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const r = await c.call('GET', 'compute', `/servers/${id}`);
    if (r.status === 404 && status === 'DELETED') return null;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body.server;
    if (s.status === status && s['OS-EXT-STS:task_state'] === null) return s;
    if (s.status === 'ERROR' && status !== 'ERROR') assert.fail(`server went to ERROR: ${JSON.stringify(s.fault)}`);
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${status}; last ${s.status}/${s['OS-EXT-STS:task_state']}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

export async function waitGone(c: Client, id: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const r = await c.call('GET', 'compute', `/servers/${id}`);
    if (r.status === 404) return;
    if (Date.now() - t0 > timeoutMs) assert.fail(`server ${id} not deleted: ${r.body?.server?.status}`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

export async function bootArgs(c: Client): Promise<{ imageRef: string; networkId: string }> {
  const imgs = (await c.call('GET', 'image', '/v2/images')).body.images;
  const img = imgs.find((i: any) => i.name.startsWith('cirros')) ?? imgs[0];
  const nets = (await c.call('GET', 'network', '/v2.0/networks?name=private')).body.networks;
  return { imageRef: img.id, networkId: nets[0].id };
}
