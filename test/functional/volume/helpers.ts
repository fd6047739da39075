/**
 * A whole Cinder in one process for functional tests: cinder-api (driven with `inject`),
 * cinder-scheduler and cinder-volume on an in-process bus, one SQLite file, a Glance app on
 * loopback for image copies, and fixed test tokens.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../src/common/errors.js';
import { openDatabase, type Database } from '../../../src/common/db/index.js';
import { listen } from '../../../src/common/http/app.js';
import type { TokenValidator, ValidatedToken } from '../../../src/common/http/auth-types.js';
import { Session } from '../../../src/common/http/client.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createTransport, type MessageBus } from '../../../src/common/rpc/index.js';
import { createImageApp } from '../../../src/image/service.js';
import { createCinderApi, createCinderScheduler, createCinderVolume, ensureDefaultVolumeType } from '../../../src/volume/service.js';

export const PROJECT_A = 'a0000000000000000000000000000001';
export const PROJECT_B = 'b0000000000000000000000000000002';
export const ADMIN_PROJECT = 'ad000000000000000000000000000003';

function token(projectId: string, roles: string[], user: string): ValidatedToken {
  return {
    userId: user, userName: user, userDomainId: 'default', projectId, projectName: projectId,
    projectDomainId: 'default', roles, methods: ['password'], auditIds: ['x'],
    expiresAt: '2099-01-01T00:00:00Z', issuedAt: '2024-01-01T00:00:00Z',
  };
}

export const TOKENS: Record<string, ValidatedToken> = {
  'member-a': token(PROJECT_A, ['member', 'reader'], 'c0000000000000000000000000000001'),
  'member-b': token(PROJECT_B, ['member', 'reader'], 'c0000000000000000000000000000002'),
  'reader-a': token(PROJECT_A, ['reader'], 'c0000000000000000000000000000004'),
  admin: token(ADMIN_PROJECT, ['admin', 'member', 'reader'], 'c0000000000000000000000000000003'),
};

export const testValidator: TokenValidator = {
  async validate(t: string) {
    const v = TOKENS[t];
    if (!v) throw new ApiError(401, 'The request you have made requires authentication.');
    return v;
  },
};

export interface Cinder {
  app: FastifyInstance;
  glance: FastifyInstance;
  glanceUrl: string;
  database: Database;
  stateDir: string;
  bus: MessageBus;
  req(method: string, url: string, opts?: { token?: string; body?: unknown; version?: string }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  waitVolume(id: string, status: string, token?: string): Promise<any>;
  /** POST /volumes (202 expected) and wait until the volume is available. */
  createVolume(body: Record<string, unknown>, token?: string): Promise<any>;
  /** The file-driver file that backs a volume. */
  volumeFile(id: string): string;
  waitSnapshot(id: string, status: string, token?: string): Promise<any>;
  waitGone(url: string, token?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCinder(opts: { withGlance?: boolean; databaseUrl?: string } = {}): Promise<Cinder> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'cinder-func-'));
  setLogDestination(process.env["CINDER_TEST_LOG"] ?? path.join(stateDir, "stratus.log"));
  const database = await openDatabase(opts.databaseUrl ?? `sqlite:///${path.join(stateDir, 'cinder.db')}`, { service: 'cinder', poolSize: 8 });
  const bus = await createTransport(`inproc://cinder-${randomUUID()}`);
  let glance: FastifyInstance | null = null;
  let glanceDb: Database | null = null;
  let glanceUrl = '';
  let glanceSession: Session | null = null;
  if (opts.withGlance !== false) {
    glanceDb = await openDatabase('sqlite://', { service: 'glance' });
    glance = await createImageApp({ database: glanceDb, stateDir: path.join(stateDir, 'glance'), validator: testValidator, authUrl: 'http://keystone/v3' });
    glanceUrl = await listen(glance, { host: '127.0.0.1', port: 0 });
    glanceSession = new Session({ token: 'admin', endpointOverrides: { image: glanceUrl } });
  }
  await ensureDefaultVolumeType({ database });
  const app = await createCinderApi({ database, bus, validator: testValidator, authUrl: 'http://keystone/v3', host: 'api1', glanceSession });
  await app.ready();
  const scheduler = await createCinderScheduler({ database, bus, host: 'sched1' });
  const volume = await createCinderVolume({ database, bus, host: 'vol1', stateDir, glanceSession });
  await volume.start();
  await scheduler.start();

  const req: Cinder['req'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { 'x-auth-token': o.token ?? 'member-a' };
    if (o.version) headers['openstack-api-version'] = `volume ${o.version}`;
    const r = await app.inject({ method: method as any, url, headers, ...(o.body !== undefined ? { payload: o.body as any } : {}) });
    let body: any = null;
    try {
      body = r.body ? JSON.parse(r.body) : null;
    } catch {
      body = r.body;
    }
    return { status: r.statusCode, body, headers: r.headers };
  };
  const wait = async (url: string, key: string, status: string, token?: string) => {
    const deadline = Date.now() + 120_000; // a 1 GiB upload through Glance takes a minute on a loaded machine
    while (Date.now() < deadline) {
      const r = await req('GET', url, token ? { token } : {});
      const cur = r.body?.[key]?.status;
      if (cur === status) return r.body[key];
      if (typeof cur === 'string' && cur.startsWith('error') && !status.startsWith('error')) throw new Error(`${url} went to ${cur}`);
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`${url} never reached ${status}`);
  };
  return {
    app, glance: glance!, glanceUrl, database, stateDir, bus, req,
    waitVolume: (id, status, token) => wait(`/v3/${projectOf(token)}/volumes/${id}`, 'volume', status, token),
    async createVolume(body, token) {
      const r = await req('POST', `/v3/${projectOf(token)}/volumes`, { body: { volume: body }, ...(token ? { token } : {}) });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      return wait(`/v3/${projectOf(token)}/volumes/${r.body.volume.id}`, 'volume', 'available', token);
    },
    volumeFile: (id) => path.join(stateDir, 'volumes', `volume-${id}`),
    waitSnapshot: (id, status, token) => wait(`/v3/${projectOf(token)}/snapshots/${id}`, 'snapshot', status, token),
    async waitGone(url, token) {
      for (let i = 0; i < 400; i++) {
        if ((await req('GET', url, token ? { token } : {})).status === 404) return;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`${url} never went away`);
    },
    async close() {
      await volume.stop();
      await scheduler.stop();
      await app.close();
      await glance?.close();
      await glanceDb?.close();
      await bus.close();
      await database.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** `len` bytes of `file` from `offset`. */
export async function readAt(file: string, offset: number, len: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  const buf = Buffer.alloc(len);
  await fh.read(buf, 0, len, offset);
  await fh.close();
  return buf;
}

function projectOf(token?: string): string {
  return TOKENS[token ?? 'member-a']!.projectId!;
}

/** What Cinder posted to a stand-in Nova's os-server-external-events. */
export interface NovaPost { url: string | undefined; headers: IncomingHttpHeaders; body: any }

/**
 * A stand-in Nova on loopback that records the external events Cinder posts (answering each
 * event `completed`), and a second cinder-volume host `vol2` whose Nova session reaches it.
 * `volumeOnVol2(make)` makes volumes until the scheduler puts one there.
 */
export async function startStandInNova(c: Cinder): Promise<{ posts: NovaPost[]; volumeOnVol2(make: () => Promise<any>): Promise<any>; close(): Promise<void> }> {
  const posts: NovaPost[] = [];
  const nova: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      posts.push({ url: req.url, headers: req.headers, body: JSON.parse(body) });
      const events = JSON.parse(body).events.map((e: any) => ({ ...e, status: 'completed', code: 200 }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events }));
    });
  });
  await new Promise<void>((r) => nova.listen(0, '127.0.0.1', r));
  const novaUrl = `http://127.0.0.1:${(nova.address() as AddressInfo).port}/v2.1`;
  const vol2 = await createCinderVolume({
    database: c.database, bus: c.bus, host: 'vol2', stateDir: c.stateDir, backendName: 'lvmdriver-1',
    novaSession: new Session({ token: 'admin', endpointOverrides: { compute: novaUrl } }), totalCapacityGb: 100_000,
  });
  await vol2.start();
  return {
    posts,
    async volumeOnVol2(make) {
      for (let i = 0; i < 100; i++) {
        const v = await make();
        const host = (await c.req('GET', `/v3/x/volumes/${v.id}`, { token: 'admin' })).body.volume['os-vol-host-attr:host'];
        if (host.startsWith('vol2@')) return v;
        await c.req('DELETE', `/v3/x/volumes/${v.id}`, { token: 'admin' });
      }
      throw new Error('no volume landed on vol2');
    },
    async close() {
      await vol2.stop();
      await new Promise((r) => nova.close(r));
    },
  };
}
