/**
 * Entry points of Cinder's binaries: cinder-api (REST on the common app, mounted at
 * /v3/{project_id}), cinder-scheduler and cinder-volume (RPC servers on exchange `cinder`, each a
 * `Service` with a heartbeat in the `services` table), and devstack's default volume type.
 * @module
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../common/http/app.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import type { Session } from '../common/http/client.js';
import { ApiError } from '../common/errors.js';
import type { Database } from '../common/db/connection.js';
import { migrate, registerDbSchema } from '../common/db/index.js';
import { RequestContext } from '../common/context.js';
import type { MessageBus } from '../common/rpc/index.js';
import { Service, type HeartbeatReporter } from '../common/service.js';
import { migrations } from './db/schema.js';
import { CinderDb, nowIso } from './db/api.js';
import { CinderAPI } from './api.js';
import { registerVolumeRoutes } from './api/volumes.js';
import { registerSnapshotRoutes } from './api/snapshots.js';
import { registerMiscRoutes, MAX_VERSION, MIN_VERSION } from './api/misc.js';
import { registerAttachmentRoutes } from './api/attachments.js';
import { registerTransferRoutes } from './api/transfers.js';
import { SchedulerManager } from './scheduler.js';
import { VolumeManager } from './manager.js';
import { FileVolumeDriver } from './drivers/file.js';
import { EXCHANGE, SCHEDULER_TOPIC, VOLUME_TOPIC, VolumeAPI } from './rpcapi.js';

registerDbSchema('cinder', migrations);

export { CinderAPI } from './api.js';
export { CinderDb } from './db/api.js';
export { FileVolumeDriver } from './drivers/file.js';
export const DEFAULT_BACKEND = 'lvmdriver-1';
export const DEFAULT_AZ = 'nova';

/** Writes `services` rows the way Cinder's `Service.report_state` does. */
export class CinderHeartbeat implements HeartbeatReporter {
  constructor(private readonly db: CinderDb, private readonly az: string) {}
  async report(binary: string, host: string, topic: string | null): Promise<void> {
    const t = nowIso();
    const existing = await this.db.db.selectFrom('services').select('report_count').where('host', '=', host).where('binary', '=', binary).executeTakeFirst();
    if (existing) {
      await this.db.db.updateTable('services').set({ report_count: Number(existing.report_count) + 1, updated_at: t })
        .where('host', '=', host).where('binary', '=', binary).execute();
    } else {
      await this.db.db.insertInto('services').values({
        host, binary, uuid: randomUUID(), topic, availability_zone: this.az, disabled: 0, disabled_reason: null, report_count: 1, created_at: t, updated_at: t,
      }).execute();
    }
  }
}

export interface CinderApiOptions {
  database: Database;
  bus: MessageBus;
  validator?: TokenValidator;
  authUrl?: string;
  host?: string;
  novaSession?: Session | null;
  /** Glance for create-from-image and upload-to-image (acts with the user's token). */
  glanceSession?: Session | null;
  defaultVolumeType?: string;
}

export async function createCinderApi(opts: CinderApiOptions): Promise<FastifyInstance> {
  await migrate(opts.database, 'cinder', migrations);
  const host = opts.host ?? 'localhost';
  const api = new CinderAPI({
    db: new CinderDb(opts.database), bus: opts.bus, host,
    glanceSession: opts.glanceSession ?? null,
    defaultVolumeType: opts.defaultVolumeType ?? DEFAULT_BACKEND,
  });
  const app = createApp({
    service: 'cinder-api', host, faults: 'cinder',
    microversion: { service: 'volume', min: MIN_VERSION, max: MAX_VERSION },
    ...(opts.validator ? { validator: opts.validator } : {}),
    ...(opts.authUrl ? { authUrl: opts.authUrl } : {}),
  });
  // One callback-style preHandler (an async hook costs promises on every request):
  // `GET /volumes/` is Cinder's show with an empty id, not the list: 404 as upstream; then
  // Cinder's default policies: readers read, members (and admins) change things.
  app.addHook('preHandler', (req, _reply, done) => {
    const q = req.url.indexOf('?');
    const p = q < 0 ? req.url : req.url.slice(0, q);
    if (p.endsWith('/') && /\/(volumes|snapshots|types|attachments)\/$/.test(p)) return done(new ApiError(404, 'The resource could not be found.'));
    if (req.method === 'GET' || req.method === 'HEAD' || req.routeOptions.config?.public) return done();
    const ctx = req.ctx;
    if (!ctx || ctx.isAdmin || ctx.roles.includes('member') || ctx.roles.includes('service')) return done();
    done(new ApiError(403, `Policy doesn't allow ${policyName(req.method, req.routeOptions.url ?? '')} to be performed.`, { type: 'PolicyNotAuthorized' }));
  });
  registerMiscRoutes(app, api);
  registerVolumeRoutes(app, api);
  registerSnapshotRoutes(app, api);
  registerAttachmentRoutes(app, api);
  registerTransferRoutes(app, api);
  return app;
}

/** The policy rule a write request is checked against (`cinder/policies/*.py` names). */
function policyName(method: string, url: string): string {
  const verb = ({ POST: 'create', PUT: 'update', DELETE: 'delete', PATCH: 'update' } as Record<string, string>)[method] ?? 'update';
  const path = url.replace('/v3/:project_id/', '');
  if (path.startsWith('volumes/:id/action')) return 'volume:update';
  if (path.startsWith('volumes/:id/metadata')) return `volume:${verb === 'create' ? 'create' : verb}_volume_metadata`;
  if (path.startsWith('volumes')) return `volume:${verb}`;
  if (path.startsWith('snapshots/:id/metadata')) return `volume:${verb}_snapshot_metadata`;
  if (path.startsWith('snapshots')) return `volume:${verb}_snapshot`;
  if (path.startsWith('attachments')) return `volume:attachment_${verb}`;
  if (path.startsWith('messages')) return 'message:delete';
  return `volume_extension:${path.split('/')[0]}`;
}

export async function createCinderScheduler(opts: { database: Database; bus: MessageBus; host: string; reportIntervalMs?: number }): Promise<{ start(): Promise<void>; stop(): Promise<void> }> {
  await migrate(opts.database, 'cinder', migrations);
  const db = new CinderDb(opts.database);
  const manager = new SchedulerManager(db, opts.bus, opts.host);
  const volumes = new VolumeAPI(opts.bus, { service: 'cinder-scheduler', host: opts.host });
  return new Service({
    binary: 'cinder-scheduler', host: opts.host, topic: SCHEDULER_TOPIC, exchange: EXCHANGE, bus: opts.bus, endpoints: [manager],
    heartbeat: new CinderHeartbeat(db, DEFAULT_AZ), reportIntervalMs: opts.reportIntervalMs ?? 10_000,
    // A fresh scheduler asks every backend for its capacity (`request_service_capabilities`).
    onStart: () => volumes.publishServiceCapabilities(RequestContext.admin()),
  });
}

export interface CinderVolumeOptions {
  database: Database;
  bus: MessageBus;
  host: string;
  /** Volumes live under `<stateDir>/volumes`. */
  stateDir: string;
  glanceSession?: Session | null;
  /** Posts `volume-extended` events to Nova. */
  novaSession?: Session | null;
  backendName?: string;
  availabilityZone?: string;
  totalCapacityGb?: number;
  reportIntervalMs?: number;
}

export async function createCinderVolume(opts: CinderVolumeOptions): Promise<{ start(): Promise<void>; stop(): Promise<void> }> {
  await migrate(opts.database, 'cinder', migrations);
  const backend = opts.backendName ?? DEFAULT_BACKEND;
  const serviceHost = `${opts.host}@${backend}`;
  const db = new CinderDb(opts.database);
  const driver = new FileVolumeDriver({
    dir: path.join(opts.stateDir, 'volumes'), backendName: backend,
    ...(opts.totalCapacityGb !== undefined ? { totalCapacityGb: opts.totalCapacityGb } : {}),
  });
  await driver.setup();
  const az = opts.availabilityZone ?? DEFAULT_AZ;
  const manager = new VolumeManager({
    db, driver, bus: opts.bus, host: serviceHost, availabilityZone: az,
    glanceSession: opts.glanceSession ?? null, novaSession: opts.novaSession ?? null,
  });
  return new Service({
    binary: 'cinder-volume', host: serviceHost, topic: VOLUME_TOPIC, exchange: EXCHANGE, bus: opts.bus, endpoints: [manager],
    heartbeat: new CinderHeartbeat(db, az), reportIntervalMs: opts.reportIntervalMs ?? 10_000,
    periodicTasks: [{
      name: 'publish_service_capabilities', intervalMs: 60_000, runImmediately: false,
      run: (ctx) => manager.publish_service_capabilities(ctx),
    }],
    onStart: () => manager.publish_service_capabilities(RequestContext.admin()),
    onStop: async () => manager.stopTimers(),
  });
}

/**
 * devstack's volume types: `__DEFAULT__` (Cinder's built-in) and `lvmdriver-1`
 * (`volume_backend_name=lvmdriver-1`), the configured `default_volume_type`.
 */
export async function ensureDefaultVolumeType(opts: { database: Database; backendName?: string }): Promise<void> {
  await migrate(opts.database, 'cinder', migrations);
  const db = new CinderDb(opts.database);
  const backend = opts.backendName ?? DEFAULT_BACKEND;
  const wanted: { name: string; description: string; specs: Record<string, string> }[] = [
    { name: '__DEFAULT__', description: 'Default Volume Type', specs: {} },
    { name: backend, description: '', specs: { volume_backend_name: backend } },
  ];
  for (const w of wanted) {
    if (await db.getTypeByName(w.name)) continue;
    const id = randomUUID();
    await db.database.transaction(async (trx) => {
      await trx.insertInto('volume_types').values({ id, name: w.name, description: w.description || null, is_public: 1, created_at: nowIso(), updated_at: null, deleted: 0 }).execute();
      await db.setMeta('volume_type_extra_specs', id, w.specs, true, trx as any);
    });
  }
}
