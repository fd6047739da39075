/**
 * Every OpenStack binary as its own process: `stratus <binary> --config-file F [--config-dir D]`.
 * The config files are the same shape as OpenStack's: `[DEFAULT] transport_url, host`,
 * `[database] connection`, `[keystone_authtoken]` (how this service validates tokens and who it
 * is when it calls other services), `[api] bind_host, bind_port`.
 * @module
 */
import { resolveNovaMoveConfig } from '../common/config/nova-move-opts.js';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { ConfigOpts, IntOpt, StrOpt, parseConfigArgs, registerCommonOpts, registerDatabaseOpts } from '../common/config/index.js';
import { openDatabase, ensureDatabaseExists } from '../common/db/index.js';
import { createTransport, type MessageBus } from '../common/rpc/index.js';
import { listen } from '../common/http/app.js';
import { Session } from '../common/http/client.js';
import { HttpTokenValidator } from '../identity/middleware.js';
import { DEFAULT_PORTS, type ServiceType } from './ports.js';

export interface Running {
  describe: string;
  stop(): Promise<void>;
}

type Starter = (conf: ConfigOpts) => Promise<Running>;

export const authtokenOpts = [
  new StrOpt('www_authenticate_uri', { default: 'http://127.0.0.1:5000/v3', help: 'Public Identity API endpoint, sent in WWW-Authenticate.' }),
  new StrOpt('auth_url', { default: 'http://127.0.0.1:5000/v3', help: 'Identity endpoint used to validate tokens and authenticate this service.' }),
  new StrOpt('username', { default: null, help: 'Service user name.' }),
  new StrOpt('password', { default: null, secret: true, help: 'Service user password.' }),
  new StrOpt('project_name', { default: 'service', help: 'Service project name.' }),
  new StrOpt('user_domain_id', { default: 'default', help: "Service user's domain id." }),
  new StrOpt('project_domain_id', { default: 'default', help: "Service project's domain id." }),
];

function apiOpts(port: number) {
  return [
    new StrOpt('bind_host', { default: '127.0.0.1', help: 'Address the REST API listens on.' }),
    new IntOpt('bind_port', { default: port, min: 0, max: 65535, help: 'Port the REST API listens on.' }),
  ];
}

function loadConf(argv: string[], service: ServiceType | null): ConfigOpts {
  const conf = new ConfigOpts();
  registerCommonOpts(conf);
  registerDatabaseOpts(conf, null);
  conf.register('keystone_authtoken', authtokenOpts);
  if (service) conf.register('api', apiOpts(DEFAULT_PORTS[service]));
  const args = parseConfigArgs(argv);
  conf.load({ configFiles: args.configFiles, configDirs: args.configDirs });
  return conf;
}

async function database(conf: ConfigOpts, service: string) {
  const url = conf.get<string | null>('database', 'connection');
  if (!url) throw new Error('[database] connection is required');
  await ensureDatabaseExists(url);
  return openDatabase(url, { service });
}

async function bus(conf: ConfigOpts): Promise<MessageBus> {
  return createTransport(conf.get<string | null>('DEFAULT', 'transport_url') ?? 'inproc://');
}

function authOf(conf: ConfigOpts) {
  const g = (n: string) => conf.get<string | null>('keystone_authtoken', n);
  const creds = {
    authUrl: g('auth_url')!,
    username: g('username') ?? '',
    password: g('password') ?? '',
    projectName: g('project_name') ?? 'service',
    userDomainId: g('user_domain_id') ?? 'default',
    projectDomainId: g('project_domain_id') ?? 'default',
  };
  return { validator: new HttpTokenValidator(creds), authUrl: g('www_authenticate_uri')!, session: () => new Session(creds) };
}

async function serveApp(conf: ConfigOpts, app: FastifyInstance, name: string, extra: () => Promise<void> = async () => {}): Promise<Running> {
  const url = await listen(app, { host: conf.get<string>('api', 'bind_host'), port: conf.get<number>('api', 'bind_port') });
  return { describe: `${name} listening on ${url}`, stop: async () => { await app.close(); await extra(); } };
}

const STARTERS: Record<string, { service: ServiceType | null; start: Starter }> = {
  keystone: {
    service: 'identity',
    start: async (conf) => {
      const { createIdentityService } = await import('../identity/service.js');
      const db = await database(conf, 'keystone');
      const host = conf.get<string>('api', 'bind_host');
      const id = await createIdentityService({ database: db, stateDir: conf.get<string>('DEFAULT', 'state_path'), publicUrl: `http://${host}:${conf.get<number>('api', 'bind_port')}`, config: conf });
      return serveApp(conf, id.app, 'keystone', async () => { await id.close(); await db.close(); });
    },
  },
  'placement-api': {
    service: 'placement',
    start: async (conf) => {
      const { createPlacementApp } = await import('../placement/service.js');
      const db = await database(conf, 'placement');
      const a = authOf(conf);
      return serveApp(conf, await createPlacementApp({ database: db, validator: a.validator, authUrl: a.authUrl }), 'placement-api', () => db.close());
    },
  },
  'glance-api': {
    service: 'image',
    start: async (conf) => {
      const { createImageApp } = await import('../image/service.js');
      const db = await database(conf, 'glance');
      const a = authOf(conf);
      const app = await createImageApp({ database: db, stateDir: conf.get<string>('DEFAULT', 'state_path'), validator: a.validator, authUrl: a.authUrl, config: conf });
      return serveApp(conf, app, 'glance-api', () => db.close());
    },
  },
  'neutron-server': {
    service: 'network',
    start: async (conf) => {
      const { createNeutronServer } = await import('../network/service.js');
      const { sendEventsIntervalMs } = await import('../network/config.js');
      const db = await database(conf, 'neutron');
      const b = await bus(conf);
      const a = authOf(conf);
      const server = await createNeutronServer({ database: db, bus: b, host: conf.get<string>('DEFAULT', 'host'), validator: a.validator, authUrl: a.authUrl, novaNotifier: { session: a.session(), sendEventsIntervalMs: sendEventsIntervalMs(conf) } });
      await server.start();
      return serveApp(conf, server.app, 'neutron-server', async () => { await server.stop(); await b.close(); await db.close(); });
    },
  },
};

for (const [binary, kind] of [['neutron-l2-agent', 'L2'], ['neutron-dhcp-agent', 'Dhcp'], ['neutron-l3-agent', 'L3'], ['neutron-metadata-agent', 'Metadata']] as const) {
  STARTERS[binary] = {
    service: null,
    start: async (conf) => {
      const net = await import('../network/service.js');
      const make = { L2: net.createL2Agent, Dhcp: net.createDhcpAgent, L3: net.createL3Agent, Metadata: net.createMetadataAgent }[kind];
      const b = await bus(conf);
      const agent = await make({ bus: b, host: conf.get<string>('DEFAULT', 'host') ?? os.hostname() });
      await agent.start();
      return { describe: `${binary} on ${conf.get<string>('DEFAULT', 'host')}`, stop: async () => { await agent.stop(); await b.close(); } };
    },
  };
}

/** Nova's binaries read nova.conf's shape: `[api_database] connection` for the API DB (super-conductor,
 * scheduler, nova-api), `[database] connection` for a cell DB (cell conductor), `[DEFAULT] transport_url`
 * for the bus (a cell's bus for nova-compute and the cell conductor). */
async function novaParts(conf: ConfigOpts) {
  const deploy = await import('../compute/deploy.js');
  const { CellRegistry } = await import('../compute/cells.js');
  const a = authOf(conf);
  const g = (n: string) => conf.get<string | null>('keystone_authtoken', n);
  const sp = { authUrl: g('auth_url')!, serviceCredentials: { username: g('username') ?? 'nova', password: g('password') ?? '', projectName: g('project_name') ?? 'service' } };
  const closers: (() => Promise<void>)[] = [];
  const openApi = async () => {
    const url = conf.get<string | null>('api_database', 'connection');
    if (!url) throw new Error('[api_database] connection is required');
    await ensureDatabaseExists(url);
    const api = await deploy.openNovaDatabase(url, 'api');
    closers.push(() => api.close());
    const cells = new CellRegistry(api, { openDatabase: (u) => deploy.openNovaDatabase(u, 'cell'), openTransport: (u) => createTransport(u) });
    return { api, cells };
  };
  const b = await bus(conf);
  closers.push(() => b.close());
  return { deploy, a, sp, b, openApi, close: async () => { for (const c of closers.reverse()) await c(); } };
}

function novaBinary(name: string, service: ServiceType | null, start: (conf: ConfigOpts, n: Awaited<ReturnType<typeof novaParts>>) => Promise<{ stop(): Promise<void>; describe: string }>): void {
  STARTERS[name] = {
    service,
    start: async (conf) => {
      conf.register('api_database', [new StrOpt('connection', { default: null, secret: true, help: 'Nova API database.' })]);
      const n = await novaParts(conf);
      const r = await start(conf, n);
      return { describe: r.describe, stop: async () => { await r.stop(); await n.close(); } };
    },
  };
}

novaBinary('nova-api', 'compute', async (conf, n) => {
  const { api, cells } = await n.openApi();
  const host = conf.get<string>('DEFAULT', 'host');
  const r = await n.deploy.createNovaApi({ ...n.sp, api, cells, bus: n.b, host, validator: n.a.validator, listen: { host: conf.get<string>('api', 'bind_host'), port: conf.get<number>('api', 'bind_port') } });
  return { describe: `nova-api listening on ${r.url}`, stop: r.stop };
});
novaBinary('nova-conductor', null, async (conf, n) => {
  const host = conf.get<string>('DEFAULT', 'host');
  const cellUrl = conf.get<string | null>('database', 'connection');
  const isSuper = conf.get<string | null>('api_database', 'connection') !== null;
  const parts = isSuper ? await n.openApi() : null;
  const cellDb = cellUrl ? await n.deploy.openNovaDatabase(cellUrl, 'cell') : undefined;
  const role = isSuper ? (cellDb ? 'single' : 'super') : 'cell';
  const { allowResizeToSameHost } = resolveNovaMoveConfig(conf);
  const svc = n.deploy.createConductor({ ...n.sp, role, host, bus: n.b, allowResizeToSameHost, ...(parts ? { api: parts.api, cells: parts.cells } : {}), ...(cellDb ? { cellDb } : {}) });
  await svc.start();
  return { describe: `nova-conductor (${role}) on ${host}`, stop: async () => { await svc.stop(); await cellDb?.close(); } };
});
novaBinary('nova-scheduler', null, async (conf, n) => {
  const { api, cells } = await n.openApi();
  const host = conf.get<string>('DEFAULT', 'host');
  const s = n.deploy.createScheduler({ ...n.sp, api, cells, host, bus: n.b });
  await s.service.start();
  return { describe: `nova-scheduler on ${host}`, stop: () => s.service.stop() };
});
novaBinary('nova-compute', null, async (conf, n) => {
  const host = conf.get<string>('DEFAULT', 'host');
  const { resizeConfirmWindowSec, shelvedOffloadTimeSec, maxConcurrentLiveMigrations } = resolveNovaMoveConfig(conf);
  const c = n.deploy.createCompute({ ...n.sp, host, bus: n.b, resizeConfirmWindowSec, shelvedOffloadTimeSec, maxConcurrentLiveMigrations });
  await c.start();
  return { describe: `nova-compute on ${host} (fake driver)`, stop: c.stop };
});

STARTERS['cinder-api'] = {
  service: 'volume',
  start: async (conf) => {
    const { createCinderApi } = await import('../volume/service.js');
    const db = await database(conf, 'cinder');
    const b = await bus(conf);
    const a = authOf(conf);
    const app = await createCinderApi({ database: db, bus: b, host: conf.get<string>('DEFAULT', 'host'), validator: a.validator, authUrl: a.authUrl, novaSession: a.session(), glanceSession: a.session() });
    return serveApp(conf, app, 'cinder-api', async () => { await b.close(); await db.close(); });
  },
};
for (const binary of ['cinder-scheduler', 'cinder-volume'] as const) {
  STARTERS[binary] = {
    service: null,
    start: async (conf) => {
      const cinder = await import('../volume/service.js');
      const db = await database(conf, 'cinder');
      const b = await bus(conf);
      const host = conf.get<string>('DEFAULT', 'host');
      const a = authOf(conf);
      const svc = binary === 'cinder-scheduler'
        ? await cinder.createCinderScheduler({ database: db, bus: b, host })
        : await cinder.createCinderVolume({ database: db, bus: b, host, stateDir: conf.get<string>('DEFAULT', 'state_path'), glanceSession: a.session(), novaSession: a.session() });
      await svc.start();
      return { describe: `${binary} on ${host}`, stop: async () => { await svc.stop(); await b.close(); await db.close(); } };
    },
  };
}

export function binaryNames(): string[] {
  return Object.keys(STARTERS);
}

/** Registers extra binaries (Nova's) without this module importing them eagerly. */
export function registerBinary(name: string, service: ServiceType | null, start: Starter): void {
  STARTERS[name] = { service, start };
}

export async function runBinary(name: string, argv: string[]): Promise<Running> {
  const s = STARTERS[name];
  if (!s) throw new Error(`unknown binary '${name}'; one of: ${binaryNames().join(', ')}`);
  return s.start(loadConf(argv, s.service));
}
