/**
 * A placement app on an in-memory SQLite database, driven with app.inject(), and a test
 * TokenValidator: token 'admin' is an admin, 'member' a plain project member.
 */
import type { FastifyInstance } from 'fastify';
import { openDatabase } from '../../../src/common/db/index.js';
import type { Database } from '../../../src/common/db/connection.js';
import type { TokenValidator, ValidatedToken } from '../../../src/common/http/auth-types.js';
import { ApiError } from '../../../src/common/errors.js';
import { createPlacementApp } from '../../../src/placement/service.js';
import { setLogDestination } from '../../../src/common/log.js';

// Request logs would drown the test report.
setLogDestination('/dev/null');

export const PROJECT = '6a1c2f1e5c3a4b6c9d8e7f6a5b4c3d2e';
export const USER = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

export const testValidator: TokenValidator = {
  async validate(token: string): Promise<ValidatedToken> {
    const base = {
      userId: USER, userName: 'u', userDomainId: 'default', projectId: PROJECT, projectName: 'p', projectDomainId: 'default',
      methods: ['password'], auditIds: ['x'], expiresAt: new Date(Date.now() + 3600e3).toISOString(), issuedAt: new Date().toISOString(),
    };
    if (token === 'admin') return { ...base, roles: ['admin', 'member', 'reader'] };
    if (token === 'member') return { ...base, roles: ['member', 'reader'] };
    throw new ApiError(401, 'invalid token');
  },
};

export interface Harness {
  app: FastifyInstance;
  database: Database;
  call(method: string, url: string, body?: unknown, opts?: { version?: string; token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startPlacement(): Promise<Harness> {
  const database = await openDatabase('sqlite://', { service: 'placement' });
  const app = await createPlacementApp({ database, validator: testValidator, authUrl: 'http://keystone.test/v3' });
  await app.ready();
  return {
    app,
    database,
    async call(method, url, body, opts = {}) {
      const headers: Record<string, string> = { 'x-auth-token': opts.token ?? 'admin', ...(opts.headers ?? {}) };
      if (opts.version !== undefined) headers['openstack-api-version'] = `placement ${opts.version}`;
      else headers['openstack-api-version'] = 'placement latest';
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
      let parsed: unknown = null;
      if (r.body) {
        try { parsed = JSON.parse(r.body); } catch { parsed = r.body; }
      }
      return { status: r.statusCode, body: parsed, headers: r.headers as Record<string, unknown> };
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}

/** Creates a provider with inventory; returns its uuid. */
export async function provider(
  h: Harness, name: string, inventories: Record<string, Record<string, number>>, opts: { parent?: string; traits?: string[]; aggregates?: string[] } = {},
): Promise<string> {
  const r = await h.call('POST', '/resource_providers', { name, ...(opts.parent ? { parent_provider_uuid: opts.parent } : {}) });
  if (r.status !== 200) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  const uuid = r.body.uuid as string;
  let gen = r.body.generation as number;
  if (Object.keys(inventories).length) {
    const inv = await h.call('PUT', `/resource_providers/${uuid}/inventories`, { resource_provider_generation: gen, inventories });
    if (inv.status !== 200) throw new Error(`inventory ${name}: ${inv.status} ${JSON.stringify(inv.body)}`);
    gen = inv.body.resource_provider_generation;
  }
  if (opts.traits) {
    const t = await h.call('PUT', `/resource_providers/${uuid}/traits`, { resource_provider_generation: gen, traits: opts.traits });
    if (t.status !== 200) throw new Error(`traits ${name}: ${t.status} ${JSON.stringify(t.body)}`);
    gen = t.body.resource_provider_generation;
  }
  if (opts.aggregates) {
    const a = await h.call('PUT', `/resource_providers/${uuid}/aggregates`, { resource_provider_generation: gen, aggregates: opts.aggregates });
    if (a.status !== 200) throw new Error(`aggregates ${name}: ${a.status} ${JSON.stringify(a.body)}`);
  }
  return uuid;
}
