/**
 * /os-services (nova/api/openstack/compute/services.py): list, enable/disable/force down, delete.
 * Below 2.53 a service is named by host + binary in the body of PUT /os-services/{action}
 * (enable, disable, disable-log-reason, force-down from 2.11) and by integer id for DELETE; from
 * 2.53 by uuid: PUT /os-services/{uuid} answers the full service. A disabled nova-compute is
 * skipped by the scheduler's ComputeFilter; a forced-down one counts as down everywhere
 * (service list, hypervisors, evacuate).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound } from '../../common/errors.js';
import { isUuidLike, validateBody, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import { isServiceUp } from '../../common/service.js';
import type { ComputeApiFacade } from '../api.js';
import type { Cell } from '../cells.js';
import * as hostApi from '../db/host-api.js';
import { mv, requireAdmin } from './common.js';
import { usec } from './time-format.js';

type Row = Record<string, any>;

/** servicegroup API service_is_up: never when forced down, else the heartbeat is recent. */
export function serviceIsUp(svc: Row | undefined): boolean {
  if (!svc || svc['forced_down']) return false;
  return isServiceUp(svc['last_seen_up'] ?? svc['created_at']);
}

/** servicegroup get_updated_time: the later of updated_at and the last heartbeat. */
function updatedTime(svc: Row): string | null {
  const u = svc['updated_at'] ?? null, l = svc['last_seen_up'] ?? null;
  return usec(u && l ? (l > u ? l : u) : (u ?? l));
}

/** host -> availability zone from aggregate metadata (set_availability_zones). */
export async function hostZones(compute: ComputeApiFacade): Promise<Map<string, string>> {
  const db = compute.api.db;
  const [meta, hosts] = await Promise.all([
    db.selectFrom('aggregate_metadata').select(['aggregate_id', 'value']).where('key', '=', 'availability_zone').execute(),
    db.selectFrom('aggregate_hosts').select(['aggregate_id', 'host']).execute(),
  ]);
  const out = new Map<string, string>();
  for (const m of meta) for (const h of hosts) if (h['aggregate_id'] === m['aggregate_id'] && !out.has(h['host'])) out.set(h['host'], m['value']);
  return out;
}

const BOOLEAN = { type: ['boolean', 'string'], enum: [true, false, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] };
const REASON = { type: 'string', minLength: 1, maxLength: 255 };
const LEGACY_PROPS = { host: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: 'string', minLength: 1, maxLength: 255 }, disabled_reason: REASON };
const UPDATE: VersionedSchema[] = [
  { schema: { type: 'object', properties: LEGACY_PROPS, required: ['host', 'binary'], additionalProperties: false }, max: '2.10' },
  { schema: { type: 'object', properties: { ...LEGACY_PROPS, forced_down: BOOLEAN }, required: ['host', 'binary'], additionalProperties: false }, min: '2.11', max: '2.52' },
  { schema: { type: 'object', properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: REASON, forced_down: BOOLEAN }, additionalProperties: false }, min: '2.53' },
];
const common = { type: 'array', items: { type: 'string' } };
const INDEX_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', properties: { host: common, binary: common }, additionalProperties: true }, max: '2.74' },
  { schema: { type: 'object', properties: { host: common, binary: common }, additionalProperties: false }, min: '2.75' },
];
const toBool = (v: unknown) => ['true', '1', 'on', 'yes', 'y', 't'].includes(String(v).toLowerCase());
const API_BINARIES = ['nova-osapi_compute', 'nova-metadata'];
/** Migration statuses that are over (MigrationList.get_in_progress_by_host_and_node excludes them). */
const MIGRATION_DONE = ['confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done'];

export function registerServices(app: FastifyInstance, compute: ComputeApiFacade): void {
  const view = (req: FastifyRequest, s: Row, zones: Map<string, string>, forcedDown: boolean): Record<string, unknown> => ({
    binary: s['binary'], host: s['host'], id: mv(req, '2.53') ? s['uuid'] : s['id'],
    zone: s['binary'] === 'nova-compute' ? (zones.get(s['host']) ?? 'nova') : 'internal',
    status: s['disabled'] ? 'disabled' : 'enabled', state: serviceIsUp(s) ? 'up' : 'down',
    updated_at: updatedTime(s), disabled_reason: s['disabled_reason'] ?? null,
    ...(forcedDown ? { forced_down: Boolean(s['forced_down']) } : {}),
  });
  /** The service by uuid (2.53) or integer id, searched in every cell. */
  const find = async (id: string): Promise<{ cell: Cell; svc: Row } | null> => {
    for (const cell of await compute.cells.all()) {
      const svc = await hostApi.serviceGetByIdOrUuid(cell.db, id);
      if (svc) return { cell, svc };
    }
    return null;
  };
  const findByHostBinary = async (host: string, binary: string): Promise<{ cell: Cell; svc: Row } | null> => {
    for (const cell of await compute.cells.all()) {
      const svc = await hostApi.serviceGetByHostBinary(cell.db, host, binary);
      if (svc) return { cell, svc };
    }
    return null;
  };
  const onlyCompute = (binary: string) => {
    if (binary !== 'nova-compute') throw badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);
  };
  /** _check_for_evacuations: a host may not be forced up while `done` evacuations still name it. */
  const checkEvacuations = async (host: string) => {
    for (const cell of await compute.cells.computeCells()) {
      const m = await cell.db.db.selectFrom('migrations').select('id').where('source_compute', '=', host).where('status', '=', 'done')
        .where('migration_type', '=', 'evacuation').where('deleted', '=', 0).executeTakeFirst();
      if (m) {
        throw badRequest(`Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. Ensure the compute service has been restarted, allowing these records to move to \`completed\` before retrying this request.`);
      }
    }
  };

  app.get('/os-services', async (req) => {
    requireAdmin(req, 'os_compute_api:os-services:list');
    const q = validateQuery(req, INDEX_QUERY);
    const host = q['host']?.[q['host'].length - 1], binary = q['binary']?.[q['binary'].length - 1];
    const zones = await hostZones(compute);
    const cellDown = mv(req, '2.69');
    const out: Record<string, unknown>[] = [];
    const byCell = await compute.cells.scatterGather((cell) => hostApi.serviceList(cell.db));
    for (const [cell, services] of byCell) {
      if (services === null) {
        // A cell that does not answer: from 2.69 its computes are listed by host mapping, status UNKNOWN.
        if (!cellDown) continue;
        const hms = await compute.api.db.selectFrom('host_mappings').innerJoin('cell_mappings', 'cell_mappings.id', 'host_mappings.cell_id')
          .select('host_mappings.host').where('cell_mappings.uuid', '=', cell.uuid).execute();
        for (const hm of hms) {
          if ((!host || hm['host'] === host) && (!binary || binary === 'nova-compute')) out.push({ binary: 'nova-compute', host: hm['host'], status: 'UNKNOWN' });
        }
        continue;
      }
      for (const s of services) {
        if (API_BINARIES.includes(s['binary']) || (host && s['host'] !== host) || (binary && s['binary'] !== binary)) continue;
        out.push(view(req, s, zones, mv(req, '2.11')));
      }
    }
    return { services: out };
  });

  app.put<{ Params: { id: string } }>('/os-services/:id', async (req) => {
    if (mv(req, '2.53')) {
      const id = req.params.id;
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
      requireAdmin(req, 'os_compute_api:os-services:update');
      const body = validateBody<{ status?: string; disabled_reason?: string; forced_down?: unknown }>(req, UPDATE);
      const found = await find(id);
      if (!found) throw notFound(`Service ${id} could not be found.`, { type: 'ServiceNotFound' });
      onlyCompute(found.svc['binary']);
      const upd: { disabled?: boolean; disabled_reason?: string | null; forced_down?: boolean } = {};
      if (body.status === 'enabled') {
        if (body.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
        upd.disabled = false;
        upd.disabled_reason = null;
      } else if (body.status === 'disabled') {
        upd.disabled = true;
        upd.disabled_reason = body.disabled_reason ?? null;
      }
      if (body.forced_down !== undefined) {
        upd.forced_down = toBool(body.forced_down);
        if (!upd.forced_down) await checkEvacuations(found.svc['host']);
      }
      // obj_what_changed(): nothing was set.
      if (body.status === undefined && body.forced_down === undefined) {
        throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
      }
      await hostApi.serviceUpdate(found.cell.db, found.svc['id'], upd);
      const fresh = (await hostApi.serviceGetByIdOrUuid(found.cell.db, id))!;
      return { service: view(req, fresh, await hostZones(compute), true) };
    }
    // Below 2.53: the path names the action, the body the service.
    const body = validateBody<{ host: string; binary: string; disabled_reason?: string; forced_down?: unknown }>(req, UPDATE);
    requireAdmin(req, 'os_compute_api:os-services:update');
    const actions = ['enable', 'disable', 'disable-log-reason', ...(mv(req, '2.11') ? ['force-down'] : [])];
    const action = req.params.id;
    if (!actions.includes(action)) throw notFound('Unknown action');
    let upd: { disabled?: boolean; disabled_reason?: string | null; forced_down?: boolean };
    let answer: Record<string, unknown>;
    if (action === 'force-down') {
      if (body.forced_down === undefined) throw badRequest('Missing forced_down field');
      const down = toBool(body.forced_down);
      if (body.binary === 'nova-compute' && !down) await checkEvacuations(body.host);
      upd = { forced_down: down };
      answer = { host: body.host, binary: body.binary, forced_down: down };
    } else if (action === 'enable') {
      upd = { disabled: false, disabled_reason: null };
      answer = { host: body.host, binary: body.binary, status: 'enabled' };
    } else {
      if (action === 'disable-log-reason' && body.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
      const reason = action === 'disable-log-reason' ? body.disabled_reason! : null;
      upd = { disabled: true, disabled_reason: reason };
      answer = { host: body.host, binary: body.binary, status: 'disabled', ...(reason ? { disabled_reason: reason } : {}) };
    }
    onlyCompute(body.binary);
    const hm = await compute.api.db.selectFrom('host_mappings').select('id').where('host', '=', body.host).executeTakeFirst();
    if (!hm) throw notFound(`Host '${body.host}' is not mapped to any cell`, { type: 'HostMappingNotFound' });
    const found = await findByHostBinary(body.host, body.binary);
    if (!found) throw notFound(`Could not find binary ${body.binary} on host ${body.host}.`, { type: 'HostBinaryNotFound' });
    await hostApi.serviceUpdate(found.cell.db, found.svc['id'], upd);
    return { service: answer };
  });

  app.delete<{ Params: { id: string } }>('/os-services/:id', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-services:delete');
    const id = req.params.id;
    if (mv(req, '2.53')) {
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    } else if (!/^-?\d+$/.test(id)) throw badRequest(`Invalid input for id. Value: ${id}. Value must be an integer`);
    const found = await find(id);
    if (!found) throw notFound(`Service ${id} not found.`, { type: 'ServiceNotFound' });
    const { cell, svc } = found;
    if (svc['binary'] === 'nova-compute') {
      const host = svc['host'] as string;
      const n = await cell.db.db.selectFrom('instances').select('uuid').where('host', '=', host).where('deleted', '=', 0).executeTakeFirst();
      if (n) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
      const nodes = await hostApi.computeNodeList(cell.db, { host });
      for (const node of nodes) {
        const busy = await cell.db.db.selectFrom('migrations').select('id').where('deleted', '=', 0).where('status', 'not in', MIGRATION_DONE)
          .where((eb) => eb.or([
            eb.and([eb('source_compute', '=', host), eb('source_node', '=', node['hypervisor_hostname'])]),
            eb.and([eb('dest_compute', '=', host), eb('dest_node', '=', node['hypervisor_hostname'])]),
          ])).executeTakeFirst();
        if (busy) throw conflict('Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.');
      }
      // Out of its aggregates, its providers out of Placement, its host mapping gone.
      await compute.api.db.deleteFrom('aggregate_hosts').where('host', '=', host).execute();
      for (const node of nodes) await compute.placement?.deleteResourceProvider(req.ctx, node['uuid']).catch(() => undefined);
      await compute.api.db.deleteFrom('host_mappings').where('host', '=', host).execute();
    }
    await hostApi.serviceDestroy(cell.db, svc['id']);
    reply.code(204);
    return reply.send();
  });
}
