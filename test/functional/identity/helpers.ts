/**
 * Starts Keystone in process on an in-memory SQLite database with a temp state dir, bootstrapped
 * like `stratus up` does, and small helpers to drive it with app.inject().
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../src/common/db/index.js';
import { createIdentityService, type IdentityService, type IdentityServiceOptions } from '../../../src/identity/service.js';

export const ADMIN_PASSWORD = 'secret-admin';
export const DEMO_PASSWORD = 'secret-demo';

export interface Harness {
  svc: IdentityService;
  stateDir: string;
  close(): Promise<void>;
  request(method: string, url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  login(user: string, password: string, project?: string): Promise<string>;
}

export async function startIdentity(opts: { publicUrl?: string; overrides?: IdentityServiceOptions['overrides'] } = {}): Promise<Harness> {
  process.env['STRATUS_TEST'] ??= '1';
  const stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-keystone-'));
  const database = await openDatabase(`sqlite:///${path.join(stateDir, 'keystone.db')}`, { service: 'keystone' });
  const svc = await createIdentityService({ database, stateDir, publicUrl: opts.publicUrl ?? 'http://127.0.0.1:5000', overrides: opts.overrides });
  await svc.bootstrap({
    adminPassword: ADMIN_PASSWORD,
    region: 'RegionOne',
    services: [
      { type: 'compute', name: 'nova', publicUrl: 'http://127.0.0.1:8774/v2.1' },
      { type: 'image', name: 'glance', publicUrl: 'http://127.0.0.1:9292' },
    ],
    serviceUsers: [{ name: 'nova', password: 'nova-pw' }],
    demoPassword: DEMO_PASSWORD,
  });
  const request: Harness['request'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers['x-auth-token'] = o.token;
    const res = await svc.app.inject({ method: method as any, url, headers, ...(o.body !== undefined ? { payload: o.body as any } : {}) });
    let body: any = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      /* not json */
    }
    return { status: res.statusCode, body, headers: res.headers as Record<string, unknown> };
  };
  const login: Harness['login'] = async (user, password, project) => {
    const res = await request('POST', '/v3/auth/tokens', { body: passwordAuth(user, password, project) });
    if (res.status !== 201) throw new Error(`login ${user} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.headers['x-subject-token'] as string;
  };
  return {
    svc,
    stateDir,
    request,
    login,
    async close() {
      await svc.close();
      await database.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function passwordAuth(user: string, password: string, project?: string | Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const scope = project === undefined ? undefined : typeof project === 'string' ? { project: { name: project, domain: { id: 'default' } } } : project;
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
      ...(scope ? { scope } : {}),
      ...extra,
    },
  };
}
