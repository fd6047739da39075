/**
 * Nova's binaries, each startable alone, and `startNova` which runs them all in one process
 * the way devstack's superconductor layout runs them on one host:
 * nova-api + super-conductor + scheduler on the API-level bus, a cell conductor and one
 * nova-compute per host on cell1's bus; databases nova_api, nova_cell0, nova_cell1.
 * @module
 */
import type { ConfigOpts } from '../common/config/config.js';
import { resolveNovaMoveConfig } from '../common/config/nova-move-opts.js';
import './objects/index.js';
import type { AddressInfo } from 'node:net';
import { RequestContext } from '../common/context.js';
import { migrate, openDatabase, type Database } from '../common/db/index.js';
import { Session } from '../common/http/client.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { getLogger } from '../common/log.js';
import { RpcServer, createTransport, type MessageBus } from '../common/rpc/index.js';
import { Service, type HeartbeatReporter } from '../common/service.js';
import { BaseRpcApi, ComputeTaskManager, ConductorManager } from '../conductor/manager.js';
import { ComputeTaskAPI, ConductorAPI } from '../conductor/rpcapi.js';
import { BuildTasks } from '../conductor/tasks/build.js';
import { MigrateServerEndpoint } from '../conductor/tasks/migrate.js';
import { CacheImagesEndpoint } from '../conductor/tasks/cache-images.js';
import { SchedulerReportClient } from '../scheduler/client/report.js';
import { HostManager } from '../scheduler/host-manager.js';
import { SchedulerManager } from '../scheduler/manager.js';
import { SchedulerAPI } from '../scheduler/rpcapi.js';
import type { ComputeDriver } from '../virt/driver.js';
import { FakeDriver } from '../virt/fake.js';
import { ComputeApiFacade } from './api.js';
import { createNovaApiApp } from './api/app.js';
import { CellRegistry, type Cell } from './cells.js';
import { API_DB_MIGRATIONS, CELL_DB_MIGRATIONS } from './db/migrations.js';
import { GlanceAPI } from './image/glance.js';
import { createCell, createDefaultFlavors, discoverHosts, mapCell0 } from './manage.js';
import { ComputeManager } from './manager.js';
import { ComputeEvacuateManager } from './manager/evacuate.js';
import { ComputeLiveMigrationManager } from './manager/migrate-live.js';
import { ComputeResizeManager } from './manager/resize.js';
import { ComputeVolumeManager } from './manager/volume.js';
import { CinderAPI } from './volume/cinder.js';
import { localDeleteVolumes } from './volume/local-delete.js';
import { checkBootVolumes } from './volume/boot-check.js';
import { ComputeShelveManager } from './manager/shelve.js';
import { NeutronAPI } from './network/neutron.js';
import { NovaNotifier } from './notifications.js';
import { NovaObjectSerializer } from './objects/base.js';
import { CellDbBackend } from './objects/backend.js';
import { serviceHeartbeat } from './objects/compute-node.js';
import { ResourceTracker } from './resource-tracker.js';
import { ComputeAPI } from './rpcapi.js';

export interface ServiceCredentials {
  username: string;
  password: string;
  projectName: string;
}

export interface SessionParams {
  authUrl: string;
  serviceCredentials: ServiceCredentials;
  /** Service type -> URL, bypassing the catalog (tests). */
  endpointOverrides?: Record<string, string>;
}

function makeSession(p: SessionParams, service: string, host: string): Session {
  return new Session({
    authUrl: p.authUrl, username: p.serviceCredentials.username, password: p.serviceCredentials.password,
    projectName: p.serviceCredentials.projectName, userDomainId: 'default', projectDomainId: 'default', service, host,
    ...(p.endpointOverrides ? { endpointOverrides: p.endpointOverrides } : {}),
  });
}

/** One RPC server with Nova's serializer, recorded on journey spans under the binary's name. */
function rpcServer(bus: MessageBus, topic: string, host: string, service: string, endpoints: object[], serializer: NovaObjectSerializer): RpcServer {
  return new RpcServer(bus, { topic, server: host, exchange: 'nova' }, endpoints, { serializer, service });
}

/** The servicegroup DB driver: services rows in a cell DB (directly or through the conductor). */
function dbHeartbeat(backend: CellDbBackend | ConductorAPI): HeartbeatReporter {
  return { report: (binary, host, topic) => serviceHeartbeat(backend, RequestContext.admin(), binary, host, topic) };
}

export interface CellsParams {
  api: Database;
  cells: CellRegistry;
}

// ------------------------------------------------------------------ nova-api

export async function createNovaApi(o: CellsParams & SessionParams & {
  bus: MessageBus; host: string; validator?: TokenValidator; listen: { host: string; port: number };
}): Promise<{ url: string; app: ReturnType<typeof createNovaApiApp>; stop(): Promise<void> }> {
  const session = makeSession(o, 'nova-api', o.host);
  const computeTasks = new ComputeTaskAPI(o.bus, { service: 'nova-api', host: o.host });
  const rpcByCell = new Map<string, ComputeAPI>();
  const computeRpcFor = async (cell: Cell) => {
    if (!rpcByCell.has(cell.uuid)) rpcByCell.set(cell.uuid, new ComputeAPI(await o.cells.busFor(cell), { service: 'nova-api', host: o.host }));
    return rpcByCell.get(cell.uuid)!;
  };
  const facade = new ComputeApiFacade(o.api, o.cells, computeTasks, computeRpcFor, new GlanceAPI(session), new NeutronAPI(session), new SchedulerReportClient(session));
  const cinder = new CinderAPI(session);
  facade.localDeleteVolumes = (ctx, inst, cell) => localDeleteVolumes(cinder, ctx, inst, cell.backend);
  facade.checkBootVolumes = (ctx, bdms, supportsMultiattach) => checkBootVolumes(cinder, ctx, bdms, supportsMultiattach);
  const app = createNovaApiApp(facade, { host: o.host, cinder, ...(o.validator ? { validator: o.validator } : {}), authUrl: o.authUrl, scheduler: new SchedulerAPI(o.bus, { service: 'nova-api', host: o.host }) });
  await app.listen({ host: o.listen.host, port: o.listen.port });
  const addr = app.server.address() as AddressInfo;
  const url = `http://${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${addr.port}`;
  return { url, app, stop: async () => { await app.close(); } };
}

// ------------------------------------------------------------------ conductors

/**
 * `role: 'super'` listens on the API-level bus (schedule_and_build_instances); `role: 'cell'`
 * on a cell's bus (the DB proxy for computes and reschedules); `role: 'single'` does both on one bus.
 */
export function createConductor(o: SessionParams & {
  role: 'super' | 'cell' | 'single'; host: string; bus: MessageBus; api?: Database; cells?: CellRegistry;
  /** The cell DB a cell conductor serves. */
  cellDb?: Database; cellUuid?: string; maxAttempts?: number;
  /** Where a super-conductor's services row lives (cell0 in devstack's layout). */
  heartbeatDb?: Database;
  /** `[DEFAULT]allow_resize_to_same_host`. */
  allowResizeToSameHost?: boolean;
}): Service {
  const binary = o.role === 'cell' ? 'nova-conductor' : 'nova-conductor';
  const spanName = o.role === 'super' ? 'nova-super-conductor' : o.role === 'cell' ? 'nova-cell-conductor' : 'nova-conductor';
  const session = makeSession(o, spanName, o.host);
  const placement = new SchedulerReportClient(session);
  const notifier = new NovaNotifier(o.bus, 'conductor', o.host);
  const cellBackend = o.cellDb ? new CellDbBackend(o.cellDb, o.cellUuid ?? null) : undefined;
  const localCompute = new ComputeAPI(o.bus, { service: spanName, host: o.host });
  const rpcByCell = new Map<string, ComputeAPI>();
  const tasks = new BuildTasks({
    host: o.host, notifier, placement, maxAttempts: o.maxAttempts ?? 3,
    ...(o.api ? { api: o.api } : {}), ...(o.cells ? { cells: o.cells } : {}), ...(cellBackend ? { cellBackend } : {}),
    ...(o.role !== 'cell' ? { scheduler: new SchedulerAPI(o.bus, { service: spanName, host: o.host }) } : {}),
    computeRpcFor: async (cell) => {
      if (!cell || !o.cells) return localCompute;
      if (!rpcByCell.has(cell.uuid)) rpcByCell.set(cell.uuid, new ComputeAPI(await o.cells.busFor(cell), { service: spanName, host: o.host }));
      return rpcByCell.get(cell.uuid)!;
    },
  });
  const endpoints: object[] = [new ComputeTaskManager(tasks), new BaseRpcApi(binary)];
  if (o.role !== 'cell' && o.api && o.cells) {
    // Move operations (resize, migrate, live migrate, unshelve, evacuate) run in the
    // super-conductor, like scheduling.
    const cells = o.cells;
    endpoints.push(new MigrateServerEndpoint({
      host: o.host, api: o.api, cells, placement, notifier, scheduler: new SchedulerAPI(o.bus, { service: spanName, host: o.host }),
      allowResizeToSameHost: o.allowResizeToSameHost ?? false,
      computeRpcFor: async (cell) => {
        if (!cell) return localCompute;
        if (!rpcByCell.has(cell.uuid)) rpcByCell.set(cell.uuid, new ComputeAPI(await cells.busFor(cell), { service: spanName, host: o.host }));
        return rpcByCell.get(cell.uuid)!;
      },
    }));
    // 2.81 image pre-caching: the super-conductor fans the request out to the aggregate's computes.
    endpoints.push(new CacheImagesEndpoint({
      host: o.host, api: o.api, cells,
      computeRpcFor: async (cell) => {
        if (!rpcByCell.has(cell.uuid)) rpcByCell.set(cell.uuid, new ComputeAPI(await cells.busFor(cell), { service: spanName, host: o.host }));
        return rpcByCell.get(cell.uuid)!;
      },
    }));
  } else if (o.role === 'cell') {
    // A cell conductor only reschedules a failed prep_resize to the alternates it is given.
    endpoints.push(new MigrateServerEndpoint({ host: o.host, placement, notifier, computeRpcFor: async () => localCompute }));
  }
  if (cellBackend) endpoints.push(new ConductorManager(cellBackend));
  const serializer = new NovaObjectSerializer(cellBackend ?? null);
  let server: RpcServer | null = null;
  const heartbeatDb = o.heartbeatDb ? new CellDbBackend(o.heartbeatDb) : o.role === 'cell' ? cellBackend : undefined;
  return new Service({
    binary, host: o.host, topic: 'conductor',
    ...(heartbeatDb ? { heartbeat: dbHeartbeat(heartbeatDb) } : {}),
    onStart: async () => {
      server = rpcServer(o.bus, 'conductor', o.host, spanName, endpoints, serializer);
      await server.start();
    },
    onStop: async () => { await server?.stop(); },
  });
}

// ------------------------------------------------------------------ scheduler

export function createScheduler(o: CellsParams & SessionParams & { host: string; bus: MessageBus; enabledFilters?: string[]; maxAttempts?: number; heartbeatDb?: Database }): { service: Service; manager: SchedulerManager } {
  const session = makeSession(o, 'nova-scheduler', o.host);
  const manager = new SchedulerManager(new HostManager(o.cells, o.api), new SchedulerReportClient(session), new NovaNotifier(o.bus, 'scheduler', o.host), {
    host: o.host, maxAttempts: o.maxAttempts ?? 3, ...(o.enabledFilters ? { enabledFilters: o.enabledFilters } : {}),
  });
  let server: RpcServer | null = null;
  const service = new Service({
    binary: 'nova-scheduler', host: o.host, topic: 'scheduler',
    ...(o.heartbeatDb ? { heartbeat: dbHeartbeat(new CellDbBackend(o.heartbeatDb)) } : {}),
    onStart: async () => {
      server = rpcServer(o.bus, 'scheduler', o.host, 'nova-scheduler', [manager, new BaseRpcApi('nova-scheduler')], new NovaObjectSerializer());
      await server.start();
    },
    onStop: async () => { await server?.stop(); },
  });
  return { service, manager };
}

// ------------------------------------------------------------------ nova-compute

export interface ComputeOptions extends SessionParams {
  host: string;
  /** The bus of the compute's cell. */
  bus: MessageBus;
  driver?: ComputeDriver;
  vifPluggingTimeoutMs?: number;
  vifPluggingIsFatal?: boolean;
  maxConcurrentBuilds?: number;
  /** Periodic intervals (ms). */
  resourceIntervalMs?: number;
  powerSyncIntervalMs?: number;
  reportIntervalMs?: number;
  /** `[DEFAULT]resize_confirm_window` in seconds (0: never confirm automatically). */
  resizeConfirmWindowSec?: number;
  /** `[DEFAULT]shelved_offload_time` in seconds (0: offload at once, as Nova's default; -1: never). */
  shelvedOffloadTimeSec?: number;
  /** `[DEFAULT]max_concurrent_live_migrations` (default 1; 0: unlimited); the others wait `queued`. */
  maxConcurrentLiveMigrations?: number;
}

export function createCompute(o: ComputeOptions): { service: Service; manager: ComputeManager; driver: ComputeDriver; start(): Promise<void>; stop(): Promise<void> } {
  const session = makeSession(o, 'nova-compute', o.host);
  const driver = o.driver ?? new FakeDriver({ host: o.host });
  const conductor = new ConductorAPI(o.bus, { service: 'nova-compute', host: o.host });
  const placement = new SchedulerReportClient(session);
  const rt = new ResourceTracker(o.host, driver, conductor, placement);
  const manager = new ComputeManager(o.host, driver, conductor, new ComputeTaskAPI(o.bus, { service: 'nova-compute', host: o.host }), rt,
    new NeutronAPI(session), new GlanceAPI(session), placement, new NovaNotifier(o.bus, 'compute', o.host), {
      vifPluggingTimeoutMs: o.vifPluggingTimeoutMs ?? 300_000, vifPluggingIsFatal: o.vifPluggingIsFatal ?? true, maxConcurrentBuilds: o.maxConcurrentBuilds ?? 10,
    });
  let server: RpcServer | null = null;
  const peerRpc = new ComputeAPI(o.bus, { service: 'nova-compute', host: o.host });
  const moves = new ComputeResizeManager(manager, peerRpc);
  const liveMoves = new ComputeLiveMigrationManager(manager, peerRpc, o.maxConcurrentLiveMigrations ?? 1);
  const volumes = new ComputeVolumeManager(manager, new CinderAPI(session));
  manager.volumes = volumes;
  const shelvedOffload = o.shelvedOffloadTimeSec ?? 0;
  const shelving = new ComputeShelveManager(manager, shelvedOffload);
  // Evacuation first: it takes rebuild_instance(recreate) and hands other rebuilds to the manager.
  const evacuation = new ComputeEvacuateManager(manager);
  const confirmWindow = o.resizeConfirmWindowSec ?? 0;
  const service = new Service({
    binary: 'nova-compute', host: o.host, topic: 'compute', heartbeat: dbHeartbeat(conductor), reportIntervalMs: o.reportIntervalMs ?? 10_000,
    periodicTasks: [
      // _poll_unconfirmed_resizes (only when `resize_confirm_window` > 0), at most every 60 s.
      ...(shelvedOffload > 0 ? [{ name: '_poll_shelved_instances', intervalMs: Math.min(60_000, Math.max(500, shelvedOffload * 500)), run: (ctx: RequestContext) => shelving.pollShelvedInstances(ctx) }] : []),
      ...(confirmWindow > 0 ? [{ name: '_poll_unconfirmed_resizes', intervalMs: Math.min(60_000, Math.max(500, confirmWindow * 500)), run: (ctx: RequestContext) => moves.pollUnconfirmedResizes(ctx, confirmWindow) }] : []),
      { name: 'update_available_resource', intervalMs: o.resourceIntervalMs ?? 60_000, run: (ctx) => rt.updateAvailableResource(ctx) },
      { name: '_sync_power_states', intervalMs: o.powerSyncIntervalMs ?? 600_000, run: (ctx) => manager.syncPowerStates(ctx) },
      { name: '_check_instance_build_time', intervalMs: 60_000, run: (ctx) => manager.checkInstanceBuildTime(ctx, 0) },
    ],
    onStart: async () => {
      await driver.initHost(o.host);
      server = rpcServer(o.bus, 'compute', o.host, 'nova-compute', [evacuation, manager, moves, liveMoves, shelving, volumes, new BaseRpcApi('nova-compute')], new NovaObjectSerializer(conductor));
      await server.start();
      // The compute node record and its resource provider exist before the host is discovered.
      await rt.updateAvailableResource(RequestContext.admin());
      await manager.initInstances(RequestContext.admin());
      await evacuation.destroyEvacuatedInstances(RequestContext.admin()).catch((e) => getLogger('nova-compute', o.host).warn({ err: e }, 'cleaning evacuated instances failed'));
    },
    onStop: async () => {
      await server?.stop();
      await manager.stopBuilds();
    },
  });
  return { service, manager, driver, start: () => service.start(), stop: () => service.stop() };
}

// ------------------------------------------------------------------ all in one

export async function openNovaDatabase(url: string, kind: 'api' | 'cell'): Promise<Database> {
  const db = await openDatabase(url, { service: kind === 'api' ? 'nova_api' : 'nova' });
  await migrate(db, kind === 'api' ? 'nova_api' : 'nova', kind === 'api' ? API_DB_MIGRATIONS : CELL_DB_MIGRATIONS);
  return db;
}

export interface StartNovaOptions extends SessionParams {
  apiDatabaseUrl: string;
  cell0DatabaseUrl: string;
  cell1DatabaseUrl: string;
  bus: MessageBus;
  host: string;
  computes: string[];
  validator?: TokenValidator;
  listen: { host: string; port: number };
  /** cell1's transport_url; default `inproc://nova_cell1` on an in-process bus, else the API bus (one conductor). */
  cell1TransportUrl?: string;
  /** Drivers per compute host (default FakeDriver). */
  driverFor?: (host: string) => ComputeDriver;
  vifPluggingTimeoutMs?: number;
  /** Create devstack's flavors (default true). */
  defaultFlavors?: boolean;
  /** nova.conf: the move options (`[DEFAULT]allow_resize_to_same_host`, `resize_confirm_window`,
   * `shelved_offload_time`, `max_concurrent_live_migrations`); without it they come from
   * OS_DEFAULT__<NAME> environment variables or Nova's defaults. The fields below win over it. */
  config?: ConfigOpts;
  /** `[DEFAULT]allow_resize_to_same_host` (default false, as Nova). */
  allowResizeToSameHost?: boolean;
  /** `[DEFAULT]resize_confirm_window` (s); default 0. */
  resizeConfirmWindowSec?: number;
  /** `[DEFAULT]shelved_offload_time` (s); default 0. */
  shelvedOffloadTimeSec?: number;
}

export interface NovaDeployment {
  url: string;
  stop(): Promise<void>;
  computes: Map<string, ReturnType<typeof createCompute>>;
  scheduler: SchedulerManager;
  api: Database;
}

export async function startNova(opts: StartNovaOptions): Promise<NovaDeployment> {
  const log = getLogger('nova', opts.host);
  const dbs = new Map<string, Database>();
  const open = async (url: string, kind: 'api' | 'cell') => {
    if (!dbs.has(url)) dbs.set(url, await openNovaDatabase(url, kind));
    return dbs.get(url)!;
  };
  const api = await open(opts.apiDatabaseUrl, 'api');
  const cell0Db = await open(opts.cell0DatabaseUrl, 'cell');
  const cell1Db = await open(opts.cell1DatabaseUrl, 'cell');
  const separateCellBus = opts.cell1TransportUrl !== undefined || opts.bus.kind === 'inproc';
  const cell1Url = opts.cell1TransportUrl ?? (opts.bus.kind === 'inproc' ? 'inproc://nova_cell1' : 'api-bus://');
  const buses = new Map<string, MessageBus>();
  const openTransport = async (url: string): Promise<MessageBus> => {
    if (url === 'api-bus://') return opts.bus;
    if (!buses.has(url)) buses.set(url, await createTransport(url));
    return buses.get(url)!;
  };
  await mapCell0(api, opts.cell0DatabaseUrl);
  const cell1 = await createCell(api, { name: 'cell1', transportUrl: cell1Url, databaseConnection: opts.cell1DatabaseUrl });
  if (opts.defaultFlavors !== false) await createDefaultFlavors(api);
  const cells = new CellRegistry(api, { openDatabase: (url) => open(url, 'cell'), openTransport });
  const cellBus = await openTransport(cell1['transport_url']);
  const sp: SessionParams = { authUrl: opts.authUrl, serviceCredentials: opts.serviceCredentials, ...(opts.endpointOverrides ? { endpointOverrides: opts.endpointOverrides } : {}) };

  // `[DEFAULT]allow_resize_to_same_host` (devstack sets it on one-host clouds).
  const moveConf = resolveNovaMoveConfig(opts.config);
  const sameHost = opts.allowResizeToSameHost ?? moveConf.allowResizeToSameHost;
  const started: { stop(): Promise<void> }[] = [];
  try {
    // Control services keep their service rows in cell0 (devstack's superconductor layout).
    let superConductor: Service;
    if (separateCellBus) {
      superConductor = createConductor({ ...sp, role: 'super', host: opts.host, bus: opts.bus, api, cells, heartbeatDb: cell0Db, allowResizeToSameHost: sameHost });
      const cellConductor = createConductor({ ...sp, role: 'cell', host: opts.host, bus: cellBus, cellDb: cell1Db, cellUuid: cell1['uuid'] });
      await cellConductor.start();
      started.push(cellConductor);
    } else {
      superConductor = createConductor({ ...sp, role: 'single', host: opts.host, bus: opts.bus, api, cells, cellDb: cell1Db, cellUuid: cell1['uuid'], allowResizeToSameHost: sameHost });
    }
    await superConductor.start();
    started.push(superConductor);
    const sched = createScheduler({ ...sp, api, cells, host: opts.host, bus: opts.bus, heartbeatDb: cell0Db });
    await sched.service.start();
    started.push(sched.service);

    const computes = new Map<string, ReturnType<typeof createCompute>>();
    for (const host of opts.computes) {
      const c = createCompute({
        ...sp, host, bus: cellBus, ...(opts.driverFor ? { driver: opts.driverFor(host) } : {}),
        ...(opts.vifPluggingTimeoutMs !== undefined ? { vifPluggingTimeoutMs: opts.vifPluggingTimeoutMs } : {}),
        resizeConfirmWindowSec: opts.resizeConfirmWindowSec ?? moveConf.resizeConfirmWindowSec,
        shelvedOffloadTimeSec: opts.shelvedOffloadTimeSec ?? moveConf.shelvedOffloadTimeSec,
        maxConcurrentLiveMigrations: moveConf.maxConcurrentLiveMigrations,
      });
      await c.start();
      started.push(c);
      computes.set(host, c);
    }
    const mapped = await discoverHosts(api, { openCell: (url) => open(url, 'cell') });
    if (mapped.length) log.info({ hosts: mapped.map((m) => m.host) }, 'Discovered compute hosts');

    const novaApi = await createNovaApi({ ...sp, api, cells, bus: opts.bus, host: opts.host, listen: opts.listen, ...(opts.validator ? { validator: opts.validator } : {}) });
    started.push(novaApi);
    return {
      url: novaApi.url,
      computes,
      scheduler: sched.manager,
      api,
      stop: async () => {
        for (const s of started.reverse()) await s.stop().catch((e) => log.warn({ err: e }, 'stop failed'));
        for (const b of buses.values()) await b.close().catch(() => undefined);
        for (const d of dbs.values()) await d.close().catch(() => undefined);
      },
    };
  } catch (e) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    for (const b of buses.values()) await b.close().catch(() => undefined);
    for (const d of dbs.values()) await d.close().catch(() => undefined);
    throw e;
  }
}
