/**
 * A whole Neutron in process for functional tests: SQLite in memory, the in-process bus,
 * neutron-server with a test token validator, and optionally the agents with noop backends.
 */
import type { FastifyInstance } from 'fastify';
import { openDatabase } from '../../../src/common/db/index.js';
import { ApiError } from '../../../src/common/errors.js';
import type { TokenValidator, ValidatedToken } from '../../../src/common/http/auth-types.js';
import { createTransport, type MessageBus } from '../../../src/common/rpc/index.js';
import {
  createNeutronServer, createL2Agent, createDhcpAgent, createL3Agent, createMetadataAgent, type NeutronServer,
} from '../../../src/network/service.js';
import type { Session } from '../../../src/common/http/client.js';

export const PROJECTS = { admin: 'a0000000000000000000000000000001', demo: 'd0000000000000000000000000000002', alt: 'e0000000000000000000000000000003' };

/** Tokens are the user names: admin (admin role), demo and alt (member). */
export const testValidator: TokenValidator = {
  async validate(token: string): Promise<ValidatedToken> {
    const who = token as keyof typeof PROJECTS;
    if (!(who in PROJECTS)) throw new ApiError(401, 'invalid token');
    return {
      userId: `u-${who}`, userName: who, userDomainId: 'default', projectId: PROJECTS[who], projectName: who, projectDomainId: 'default',
      roles: who === 'admin' ? ['admin', 'member', 'reader'] : ['member', 'reader'], methods: ['password'], auditIds: ['x'],
      expiresAt: new Date(Date.now() + 3600_000).toISOString(), issuedAt: new Date().toISOString(),
    };
  },
};

export interface Cloud {
  server: NeutronServer;
  app: FastifyInstance;
  bus: MessageBus;
  agents: Array<{ stop(): Promise<void> }>;
  l2?: Awaited<ReturnType<typeof createL2Agent>>;
  dhcp?: Awaited<ReturnType<typeof createDhcpAgent>>;
  l3?: Awaited<ReturnType<typeof createL3Agent>>;
  close(): Promise<void>;
}

export async function startCloud(opts: { agents?: boolean; nova?: Session | null; host?: string; resyncIntervalMs?: number } = {}): Promise<Cloud> {
  process.env['STRATUS_TEST'] ??= '1';
  const database = await openDatabase('sqlite://', { service: 'neutron' });
  const bus = await createTransport('inproc://');
  const host = opts.host ?? 'net1';
  const server = await createNeutronServer({
    database, bus, host, validator: testValidator, authUrl: 'http://keystone.test/v3',
    novaNotifier: opts.nova ? { session: opts.nova, sendEventsIntervalMs: 10 } : null,
  });
  await server.start();
  const cloud: Cloud = {
    server, app: server.app, bus, agents: [],
    async close() {
      for (const a of cloud.agents.reverse()) await a.stop();
      await server.stop();
      await bus.close();
      await database.close();
    },
  };
  if (opts.agents) {
    cloud.l2 = await createL2Agent({ bus, host, resyncIntervalMs: opts.resyncIntervalMs ?? 100 });
    cloud.dhcp = await createDhcpAgent({ bus, host, resyncIntervalMs: opts.resyncIntervalMs ?? 200 });
    cloud.l3 = await createL3Agent({ bus, host, resyncIntervalMs: opts.resyncIntervalMs ?? 200 });
    const meta = await createMetadataAgent({ bus, host });
    for (const a of [cloud.l2, cloud.dhcp, cloud.l3, meta]) {
      await a.start();
      cloud.agents.push(a);
    }
  }
  return cloud;
}

export interface Res {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** One API call as `who` (admin, demo, alt). */
export async function call(app: FastifyInstance, who: string, method: string, url: string, body?: unknown): Promise<Res> {
  const r = await app.inject({
    method: method as any, url, headers: { 'x-auth-token': who, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null, headers: r.headers as Record<string, unknown> };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
