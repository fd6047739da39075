/**
 * The move actions of `POST /servers/{id}/action` (nova/api/openstack/compute/servers.py
 * `_resize`, `_action_confirm_resize`, `_action_revert_resize`; migrate_server.py `_migrate`)
 * and the compute API behind them (nova/compute/api.py `resize`, `confirm_resize`,
 * `revert_resize`); openstack-flows §2.1, §2.6, §2.7.
 *
 * Registered as a preHandler of the action route, so it answers these actions before the
 * generic action dispatcher (actions.ts) sees them.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../common/context.js';
import { ApiError, badRequest } from '../../common/errors.js';
import { validate } from '../../common/http/validation.js';
import { isServiceUp } from '../../common/service.js';
import { checkInstanceState, flavorIdFromRef, type ComputeApiFacade } from '../api.js';
import * as apiDb from '../db/api-api.js';
import * as hostApi from '../db/host-api.js';
import { NovaException } from '../exception.js';
import { fromPrimitive } from '../objects/base.js';
import { Flavor } from '../objects/flavor.js';
import type { Instance } from '../objects/instance.js';
import { InstanceAction } from '../objects/instance-action.js';
import { Migration, MigrationNotFound, MigrationStatus } from '../objects/migration.js';
import { RequestSpec } from '../objects/request-spec.js';
import { checkDeltas, countUsage, projectLimits } from '../quota.js';
import { TaskState, VmState } from '../states.js';
import { availableZones, hostAvailabilityZone } from '../../conductor/availability-zones.js';
import { mapErrors, mv, requireAdmin } from './common.js';

type Req = FastifyRequest<{ Params: { id: string } }>;
type MoveHandler = (req: Req, body: any) => Promise<number | { status: number; body: unknown }>;

export function registerMoveActions(app: FastifyInstance, compute: ComputeApiFacade): void {
  const handlers: Record<string, MoveHandler> = {
    resize: async (req, body) => {
      validate({
        type: 'object', required: ['flavorRef'], additionalProperties: false,
        properties: { flavorRef: { type: ['string', 'integer'], minLength: 1 }, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } },
      }, body);
      await resizeOrMigrate(compute, req, { flavorRef: String(body.flavorRef) });
      return 202;
    },
    migrate: async (req, body) => {
      requireAdmin(req, 'os_compute_api:os-migrate-server:migrate');
      // Nova validates the body from 2.56 only (`@validation.schema(schema.migrate, "2.56")`):
      // before that anything goes ({} included, as Tempest sends) and no host is read.
      let host: string | null = null;
      if (body !== null && body !== undefined && mv(req, '2.56')) {
        validate({ type: ['object', 'null'], additionalProperties: false, properties: { host: { type: ['string', 'null'], minLength: 1, maxLength: 255 } } }, body);
        host = body.host ?? null;
      }
      await resizeOrMigrate(compute, req, { host });
      return 202;
    },
    'os-migrateLive': async (req, body) => {
      requireAdmin(req, 'os_compute_api:os-migrate-server:migrate_live');
      const boolish = { oneOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'False', 'true', 'false', '1', '0', 'on', 'off', 'yes', 'no'] }] };
      validate({
        type: 'object', additionalProperties: false, required: mv(req, '2.25') ? ['host', 'block_migration'] : ['host', 'block_migration', 'disk_over_commit'],
        properties: {
          host: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
          block_migration: mv(req, '2.25') ? { oneOf: [boolish, { type: 'string', enum: ['auto'] }] } : boolish,
          disk_over_commit: boolish,
          // 2.30 .. 2.67 only: 2.68 removed `force`.
          ...(mv(req, '2.30') && !mv(req, '2.68') ? { force: boolish } : {}),
        },
      }, body);
      if (mv(req, '2.25') && body.disk_over_commit !== undefined) throw badRequest("Additional properties are not allowed ('disk_over_commit' was unexpected)");
      const blockMigration = body.block_migration === 'auto' ? 'auto' : truthy(body.block_migration);
      await liveMigrate(compute, req, body.host ?? null, blockMigration, body.disk_over_commit === undefined ? null : truthy(body.disk_over_commit));
      return 202;
    },
    shelve: async (req) => {
      await mapErrors('shelve', req.params.id, () => shelve(compute, req.ctx, req.params.id));
      return 202;
    },
    shelveOffload: async (req) => {
      requireAdmin(req, 'os_compute_api:os-shelve:shelve_offload');
      await mapErrors('shelveOffload', req.params.id, () => compute.action(req.ctx, req.params.id, {
        action: 'shelveOffload', method: 'shelve_offload', vmStates: [VmState.SHELVED], newTaskState: TaskState.SHELVING_OFFLOADING,
        cast: (rpc, inst) => rpc.shelveOffloadInstance(req.ctx, inst),
      }));
      return 202;
    },
    unshelve: async (req, body) => {
      // Before 2.77 the body is not looked at; 2.77 takes an availability zone (a name, required in an
      // object), 2.91 also `availability_zone: null` (unpin) and `host` (admin).
      const args: UnshelveArgs = {};
      if (mv(req, '2.91')) {
        validate({ type: ['object', 'null'], additionalProperties: false, properties: { availability_zone: { type: ['string', 'null'] }, host: { type: 'string' } } }, body ?? null);
        if (body && 'availability_zone' in body) args.newAz = body.availability_zone;
        if (body?.host) args.host = body.host;
      } else if (mv(req, '2.77')) {
        validate({ type: ['object', 'null'], required: ['availability_zone'], additionalProperties: false, properties: { availability_zone: { type: 'string', minLength: 1, maxLength: 255, format: 'name' } } }, body ?? null);
        if (body) args.newAz = body.availability_zone;
      }
      await mapErrors('unshelve', req.params.id, () => unshelve(compute, req, args));
      return 202;
    },
    evacuate: async (req, body) => {
      requireAdmin(req, 'os_compute_api:os-evacuate');
      const boolish = { oneOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'False', 'true', 'false', '1', '0', 'on', 'off', 'yes', 'no'] }] };
      validate({
        type: 'object', additionalProperties: false, required: mv(req, '2.14') ? [] : ['onSharedStorage'],
        properties: {
          host: { type: 'string', minLength: 1, maxLength: 255 }, adminPass: { type: 'string' },
          ...(mv(req, '2.14') ? {} : { onSharedStorage: boolish }), ...(mv(req, '2.29') && !mv(req, '2.68') ? { force: boolish } : {}),
        },
      }, body ?? {});
      const pass = await mapErrors('evacuate', req.params.id, () => evacuate(compute, req.ctx, req.params.id, body?.host ?? null, body?.adminPass ?? null));
      return mv(req, '2.14') ? 200 : { status: 200, body: { adminPass: pass } };
    },
    confirmResize: async (req) => {
      await mapErrors('confirmResize', req.params.id, () => confirmResize(compute, req.ctx, req.params.id));
      return 204;
    },
    revertResize: async (req) => {
      await mapErrors('revertResize', req.params.id, () => revertResize(compute, req.ctx, req.params.id));
      return 202;
    },
  };

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    // Deleting a server in VERIFY_RESIZE confirms the resize first (_confirm_resize_on_deleting),
    // so the source host's guest and the migration's allocation go too.
    if (req.method === 'DELETE' && req.routeOptions.url?.endsWith('/servers/:id')) {
      await confirmResizeOnDeleting(compute, req.ctx, (req.params as { id: string }).id).catch(() => undefined);
      return;
    }
    if (req.method !== 'POST' || !req.routeOptions.url?.endsWith('/servers/:id/action')) return;
    const body = req.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    const name = Object.keys(body)[0];
    const h = name ? handlers[name] : undefined;
    if (!h) return;
    const out = await h(req as Req, body[name!]);
    if (typeof out === 'number') {
      reply.code(out);
      return reply.send();
    }
    reply.code(out.status);
    return reply.send(out.body);
  });
}

/** compute API `resize` (flavor given) or `migrate` (same flavor, optional target host). */
async function resizeOrMigrate(compute: ComputeApiFacade, req: Req, o: { flavorRef?: string; host?: string | null }): Promise<void> {
  const ctx = req.ctx;
  const id = req.params.id;
  const action = o.flavorRef ? 'resize' : 'migrate';
  const loc = await mapErrors(action, id, () => compute.get(ctx, id));
  const current = loc.instance.flavor;
  let flavor: Flavor = current;
  if (o.flavorRef) {
    const row = await apiDb.flavorGetByFlavorId(compute.api, flavorIdFromRef(o.flavorRef));
    if (!row || (row['disabled'] && !ctx.isAdmin)) throw badRequest('Unable to locate requested flavor.', { type: 'FlavorNotFound' });
    flavor = new Flavor().update(row);
    flavor.extra_specs = await apiDb.flavorExtraSpecs(compute.api, flavor.id).catch(() => ({}));
    if (flavor.id === current.id) throw badRequest('When resizing, instances must change flavor!', { type: 'CannotResizeToSameFlavor' });
    if (flavor.root_gb === 0 && current.root_gb !== 0) {
      throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.', { type: 'CannotResizeDisk' });
    }
    // A smaller (non-zero) disk is refused by the source's driver, as in Nova (ResizeError, rolled back).
    // Upsize quota check: only the growth counts.
    const dCores = flavor.vcpus - current.vcpus;
    const dRam = flavor.memory_mb - current.memory_mb;
    if (dCores > 0 || dRam > 0) {
      const [limits, usage] = await Promise.all([projectLimits(compute.api, loc.instance.project_id), countUsage(compute.cells, loc.instance.project_id)]);
      checkDeltas(limits, usage, { instances: 0, cores: Math.max(0, dCores), ram: Math.max(0, dRam) });
    }
  }
  let requestedDestination: Record<string, unknown> | null = null;
  if (o.host) {
    // _validate_host_for_cold_migrate: the current host first, then the host must exist (in the cell).
    if (o.host === loc.instance.host) throw badRequest('Cannot migrate to the host where the server exists.', { type: 'CannotMigrateToSameHost' });
    if (loc.cell && !(await hostApi.serviceGetByHostBinary(loc.cell.db, o.host, 'nova-compute'))) {
      throw badRequest(`Compute host ${o.host} could not be found.`, { type: 'ComputeHostNotFound' });
    }
    requestedDestination = { host: o.host };
  }
  const specPrim = await apiDb.requestSpecGet(compute.api, id);
  const spec = specPrim ? (fromPrimitive(specPrim) as RequestSpec) : basicSpec(loc.instance);
  spec.requested_destination = requestedDestination;
  spec.ignore_hosts = null;
  try {
    await mapErrors(action, id, () => compute.action(ctx, id, {
      action, method: action, vmStates: [VmState.ACTIVE, VmState.STOPPED], newTaskState: TaskState.RESIZE_PREP,
      prepare: (i) => { i.progress = 0; },
      cast: (_rpc, inst) => compute.computeTasks.migrateServer(ctx, {
        instance: inst, scheduler_hint: { filter_properties: {} }, live: false, rebuild: false, flavor: o.flavorRef ? flavor : null,
        block_migration: null, disk_over_commit: null, clean_shutdown: true, request_spec: spec,
      }),
    }));
  } catch (e) {
    // NoValidHost (and the conductor's other refusals) come back synchronously as 400.
    if (e instanceof ApiError && e.status >= 500 && /No valid host|NoValidHost/.test(e.message)) throw badRequest(e.message, { type: 'NoValidHost' });
    if (e instanceof NovaException && e.name === 'NoValidHost') throw badRequest(e.message, { type: 'NoValidHost' });
    throw e;
  }
}

/** compute API shelve: snapshot image `<name>-shelved` in Glance, task `shelving`, cast to the host. */
async function shelve(compute: ComputeApiFacade, ctx: RequestContext, id: string): Promise<void> {
  const loc = await compute.get(ctx, id);
  const states = [VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED];
  compute.checkLocked(ctx, loc.instance);
  checkInstanceState(loc.instance, 'shelve', states, [null], true);
  let imageId = '';
  if (compute.glance) {
    const i0 = loc.instance;
    const base = i0.image_ref ? await compute.glance.show(ctx, i0.image_ref).catch(() => null) : null;
    const image = await compute.glance.create(ctx, {
      name: `${i0.display_name}-shelved`, container_format: base?.['container_format'] ?? 'bare', disk_format: base?.['disk_format'] ?? 'qcow2',
      visibility: 'private', min_ram: base?.['min_ram'] ?? 0, min_disk: Math.max(base?.['min_disk'] ?? 0, i0.root_gb ?? 0),
      instance_uuid: i0.uuid, image_type: 'snapshot', user_id: ctx.userId ?? '', base_image_ref: i0.image_ref ?? '',
    });
    imageId = image['id'];
  }
  try {
    await compute.action(ctx, id, {
      action: 'shelve', method: 'shelve', vmStates: states, newTaskState: TaskState.SHELVING,
      cast: (rpc, inst) => rpc.shelveInstance(ctx, inst, imageId),
    });
  } catch (e) {
    if (imageId && compute.glance) await compute.glance.delete(ctx, imageId).catch(() => undefined);
    throw e;
  }
}

/**
 * compute API evacuate: the server's host must be down (or forced down); an `evacuation`
 * migration is recorded, task `rebuilding`, and the super-conductor rebuilds it elsewhere.
 */
async function evacuate(compute: ComputeApiFacade, ctx: RequestContext, id: string, host: string | null, adminPass: string | null): Promise<string> {
  const loc = await compute.get(ctx, id);
  const inst = loc.instance;
  if (!loc.cell || loc.cell.isCell0) throw new ApiError(409, `Cannot 'evacuate' instance ${id} while it is in vm_state ${inst.vm_state}`, { type: 'InstanceInvalidState' });
  checkInstanceState(inst, 'evacuate', [VmState.ACTIVE, VmState.STOPPED, VmState.ERROR], [null], false);
  if (host) {
    if (!(await hostApi.serviceGetByHostBinary(loc.cell.db, host, 'nova-compute'))) throw new ApiError(404, `Compute host ${host} not found.`, { type: 'ComputeHostNotFound' });
    if (host === inst.host) throw badRequest("The target host can't be the same one.");
  }
  const svc = inst.host ? await hostApi.serviceGetByHostBinary(loc.cell.db, inst.host, 'nova-compute') : undefined;
  if (svc && !svc['forced_down'] && isServiceUp(svc['last_seen_up'] ?? svc['updated_at'] ?? svc['created_at'])) {
    throw badRequest(`Compute service of ${inst.host} is still in use.`, { type: 'ComputeServiceInUse' });
  }
  const pass = adminPass ?? randomPassword();
  const migration = new Migration();
  migration.backend = loc.cell.backend;
  migration.update({
    status: MigrationStatus.ACCEPTED, migration_type: 'evacuation', instance_uuid: id, source_compute: inst.host, source_node: inst.node,
    dest_compute: host, dest_node: null, dest_host: null, old_instance_type_id: inst.flavor.id, new_instance_type_id: inst.flavor.id,
    hidden: false, cross_cell_move: false, user_id: ctx.userId, project_id: ctx.projectId,
  });
  const specPrim = await apiDb.requestSpecGet(compute.api, id);
  await compute.action(ctx, id, {
    action: 'evacuate', method: 'evacuate', vmStates: [VmState.ACTIVE, VmState.STOPPED, VmState.ERROR], newTaskState: TaskState.REBUILDING, mustHaveLaunched: false,
    cast: async (_rpc, i) => {
      await migration.create(ctx);
      await compute.computeTasks.rebuildInstance(ctx, {
        instance: i, orig_image_ref: i.image_ref, image_ref: i.image_ref, new_pass: pass, recreate: true, on_shared_storage: null,
        preserve_ephemeral: false, host, request_spec: specPrim ? (fromPrimitive(specPrim) as RequestSpec) : basicSpec(i),
      });
    },
  });
  return pass;
}

interface UnshelveArgs {
  /** Present: pin to this zone (string) or unpin (null, 2.91); absent: keep the request spec's zone. */
  newAz?: string | null;
  host?: string;
}

/**
 * compute API unshelve (nova/compute/api.py): lock and state checks (409), then with a zone or host
 * the server must be SHELVED_OFFLOADED (409), the zone must be available (400), the host admin-only
 * (403), known (400) and in the zone the server will have (409). The request spec takes the zone and
 * the host as requested destination; the super-conductor schedules.
 */
async function unshelve(compute: ComputeApiFacade, req: Req, a: UnshelveArgs): Promise<void> {
  const ctx = req.ctx;
  const id = req.params.id;
  const loc = await compute.get(ctx, id);
  const inst = loc.instance;
  compute.checkLocked(ctx, inst);
  checkInstanceState(inst, 'unshelve', [VmState.SHELVED, VmState.SHELVED_OFFLOADED], null, false);
  const specPrim = await apiDb.requestSpecGet(compute.api, id);
  const spec = specPrim ? (fromPrimitive(specPrim) as RequestSpec) : basicSpec(inst);
  const azPassed = 'newAz' in a;
  if ((azPassed || a.host) && inst.vm_state !== VmState.SHELVED_OFFLOADED) {
    throw new ApiError(409, `Specifying an availability zone or a host when unshelving server "${id}" with status "${inst.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`, { type: 'UnshelveInstanceInvalidState' });
  }
  if (azPassed && a.newAz) {
    const services: { host: string; binary: string; disabled: boolean }[] = [];
    for (const cell of await compute.cells.all()) {
      for (const s of await hostApi.serviceList(cell.db)) services.push({ host: s['host'], binary: s['binary'], disabled: Boolean(s['disabled']) });
    }
    if (!(await availableZones(compute.api, services)).has(a.newAz)) throw badRequest('The requested availability zone is not available', { type: 'InvalidRequest' });
  }
  const expectedAz = azPassed ? (a.newAz ?? null) : (spec.availability_zone ?? null);
  if (a.host) {
    requireAdmin(req, 'os_compute_api:os-shelve:unshelve_to_host');
    let known = false;
    for (const cell of await compute.cells.computeCells()) {
      if ((await hostApi.computeNodeList(cell.db)).some((n) => n['host'] === a.host)) known = true;
    }
    if (!known) throw badRequest(`Compute host ${a.host} could not be found.`, { type: 'ComputeHostNotFound' });
    if (expectedAz !== null && (await hostAvailabilityZone(compute.api, a.host)) !== expectedAz) {
      throw new ApiError(409, `Host "${a.host}" is not in the availability zone "${expectedAz}".`, { type: 'UnshelveHostNotInAZ' });
    }
  }
  spec.availability_zone = expectedAz;
  if (a.host) spec.requested_destination = { host: a.host };
  await apiDb.requestSpecSave(compute.api, id, spec.toPrimitive());
  await compute.action(ctx, id, {
    action: 'unshelve', method: 'unshelve', vmStates: [VmState.SHELVED, VmState.SHELVED_OFFLOADED], newTaskState: TaskState.UNSHELVING, mustHaveLaunched: false,
    cast: (_rpc, i) => compute.computeTasks.unshelveInstance(ctx, { instance: i, request_spec: spec }),
  });
}

function randomPassword(): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let s = '';
  for (let i = 0; i < 12; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

function truthy(v: unknown): boolean {
  return v === true || ['true', '1', 'on', 'yes'].includes(String(v).toLowerCase());
}

/** compute API live_migrate: task `migrating`, action `live-migration`, conductor migrate_server(live=True). */
async function liveMigrate(compute: ComputeApiFacade, req: Req, host: string | null, blockMigration: boolean | 'auto', diskOverCommit: boolean | null): Promise<void> {
  const ctx = req.ctx;
  const id = req.params.id;
  const loc = await mapErrors('os-migrateLive', id, () => compute.get(ctx, id));
  if (host && loc.cell && !(await hostApi.serviceGetByHostBinary(loc.cell.db, host, 'nova-compute'))) {
    throw badRequest(`Compute host ${host} could not be found.`, { type: 'ComputeHostNotFound' });
  }
  const specPrim = await apiDb.requestSpecGet(compute.api, id);
  const spec = specPrim ? (fromPrimitive(specPrim) as RequestSpec) : basicSpec(loc.instance);
  try {
    await mapErrors('os-migrateLive', id, () => compute.action(ctx, id, {
      action: 'live-migration', method: 'live_migrate', vmStates: [VmState.ACTIVE, VmState.PAUSED], newTaskState: TaskState.MIGRATING,
      cast: (_rpc, inst) => compute.computeTasks.migrateServer(ctx, {
        instance: inst, scheduler_hint: { host }, live: true, rebuild: false, flavor: null,
        block_migration: blockMigration, disk_over_commit: diskOverCommit, clean_shutdown: true, request_spec: spec,
      }),
    }));
  } catch (e) {
    if (e instanceof ApiError && e.status >= 500 && /No valid host|NoValidHost/.test(e.message)) throw badRequest(e.message, { type: 'NoValidHost' });
    throw e;
  }
}

function basicSpec(inst: Instance): RequestSpec {
  const spec = new RequestSpec();
  spec.update({
    image: { id: inst.image_ref, properties: {} }, project_id: inst.project_id, user_id: inst.user_id, availability_zone: inst.availability_zone ?? null,
    num_instances: 1, ignore_hosts: null, force_hosts: null, force_nodes: null, retry: null, limits: null, instance_group: null,
    scheduler_hints: {}, instance_uuid: inst.uuid, security_groups: [], is_bfv: false, requested_destination: null,
  });
  spec.flavor = inst.flavor;
  return spec;
}

/** The `finished` migration of a resized instance (400 "Instance has not been resized." when none). */
async function finishedMigration(compute: ComputeApiFacade, ctx: RequestContext, id: string): Promise<{ inst: Instance; migration: Migration; cell: NonNullable<Awaited<ReturnType<ComputeApiFacade['get']>>['cell']> }> {
  const loc = await compute.get(ctx, id);
  if (!loc.cell || loc.cell.isCell0) throw badRequest('Instance has not been resized.', { type: 'MigrationNotFoundByStatus' });
  try {
    const migration = await Migration.getByInstanceAndStatus(loc.cell.backend, ctx, id, [MigrationStatus.FINISHED]);
    return { inst: loc.instance, migration, cell: loc.cell };
  } catch (e) {
    if (e instanceof MigrationNotFound) throw badRequest('Instance has not been resized.', { type: 'MigrationNotFoundByStatus' });
    throw e;
  }
}

/** compute API confirm_resize: migration `confirming`, cast `confirm_resize` to the source. */
export async function confirmResize(compute: ComputeApiFacade, ctx: RequestContext, id: string): Promise<void> {
  const loc = await compute.get(ctx, id);
  compute.checkLocked(ctx, loc.instance);
  if (loc.instance.vm_state !== VmState.RESIZED) {
    throw new ApiError(409, `Cannot 'confirmResize' instance ${id} while it is in vm_state ${loc.instance.vm_state}`, { type: 'InstanceInvalidState' });
  }
  const { inst, migration, cell } = await finishedMigration(compute, ctx, id);
  migration.status = MigrationStatus.CONFIRMING;
  await migration.save(ctx);
  await InstanceAction.actionStart(cell.backend, ctx, id, 'confirmResize');
  const rpc = await compute.computeRpcFor(cell);
  await rpc.confirmResize(ctx, migration.source_compute!, { instance: inst, migration });
}

/** Before a delete: a server in VERIFY_RESIZE has its resize confirmed on the source. */
async function confirmResizeOnDeleting(compute: ComputeApiFacade, ctx: RequestContext, id: string): Promise<void> {
  const loc = await compute.find(ctx, id);
  if (!loc?.cell || loc.cell.isCell0 || loc.instance.vm_state !== VmState.RESIZED) return;
  if (!ctx.isAdmin && loc.instance.project_id !== ctx.projectId) return;
  const migration = await Migration.getByInstanceAndStatus(loc.cell.backend, ctx, id, [MigrationStatus.FINISHED]).catch(() => null);
  if (!migration) return;
  migration.status = MigrationStatus.CONFIRMING;
  await migration.save(ctx);
  await InstanceAction.actionStart(loc.cell.backend, ctx, id, 'confirmResize');
  const rpc = await compute.computeRpcFor(loc.cell);
  await rpc.confirmResize(ctx, migration.source_compute!, { instance: loc.instance, migration });
}

/**
 * _check_quota_for_upsize(is_revert=True): reverting a resize down grows the server back, so
 * the growth must fit the project's cores / ram quota. Nova raises TooManyInstances here, which
 * the revertResize controller does not expect: its API answers 500 "Unexpected API Error" with
 * that class, and so does this one.
 */
async function checkQuotaForRevert(compute: ComputeApiFacade, inst: Instance): Promise<void> {
  const oldJson = inst.system_metadata?.['old_flavor'];
  if (!oldJson) return;
  const old = JSON.parse(oldJson) as { vcpus: number; memory_mb: number };
  const deltas = { cores: Math.max(0, old.vcpus - inst.flavor.vcpus), ram: Math.max(0, old.memory_mb - inst.flavor.memory_mb) };
  if (!deltas.cores && !deltas.ram) return;
  const [limits, usage] = await Promise.all([projectLimits(compute.api, inst.project_id), countUsage(compute.cells, inst.project_id)]);
  try {
    checkDeltas(limits, usage, { instances: 0, ...deltas });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
    throw new ApiError(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'nova.exception.TooManyInstances'>");
  }
}

/** compute API revert_resize: task `resize_reverting`, migration `reverting`, cast `revert_resize` to the destination. */
export async function revertResize(compute: ComputeApiFacade, ctx: RequestContext, id: string): Promise<void> {
  const loc = await compute.get(ctx, id);
  compute.checkLocked(ctx, loc.instance);
  if (loc.instance.vm_state !== VmState.RESIZED || loc.instance.task_state !== null) {
    const [attr, state] = loc.instance.vm_state !== VmState.RESIZED ? ['vm_state', loc.instance.vm_state] : ['task_state', loc.instance.task_state];
    throw new ApiError(409, `Cannot 'revertResize' instance ${id} while it is in ${attr} ${state}`, { type: 'InstanceInvalidState' });
  }
  const { inst, migration, cell } = await finishedMigration(compute, ctx, id);
  await checkQuotaForRevert(compute, inst);
  // The request spec goes back to the old flavor (nova resets it so later moves use the right one).
  const specPrim = await apiDb.requestSpecGet(compute.api, id);
  const oldFlavorJson = inst.system_metadata?.['old_flavor'];
  if (specPrim && oldFlavorJson) {
    const spec = fromPrimitive(specPrim) as RequestSpec;
    spec.flavor = new Flavor().update(JSON.parse(oldFlavorJson));
    await apiDb.requestSpecSave(compute.api, id, spec.toPrimitive());
  }
  inst.task_state = TaskState.RESIZE_REVERTING;
  await inst.save(ctx, { expected_task_state: null });
  migration.status = MigrationStatus.REVERTING;
  await migration.save(ctx);
  await InstanceAction.actionStart(cell.backend, ctx, id, 'revertResize');
  const rpc = await compute.computeRpcFor(cell);
  await rpc.revertResize(ctx, migration.dest_compute!, { instance: inst, migration });
}
