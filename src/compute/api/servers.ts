/**
 * /servers: create, list and detail (build requests first, then every cell, merged in sort
 * order), show, update, delete (nova/api/openstack/compute/servers.py).
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../common/errors.js';
import { isUuidLike, validateBody, validateQuery } from '../../common/http/validation.js';
import type { ComputeApiFacade, CreateServerRequest, Located } from '../api.js';
import type { Cell } from '../cells.js';
import * as cellApi from '../db/cell-api.js';
import { listInstancesForView, rowsForUuids, type ListedInstance, type ListNeeds } from '../db/instance-list.js';
import type { Instance } from '../objects/instance.js';
import { statesFromStatus } from '../states.js';
import { compactIpv6 } from './access-ip.js';
import { baseUrl, boolParam, mapErrors, mv, requireAdmin, requireProject } from './common.js';
import * as schema from './schemas/servers.js';
import { JOINED_TABLE_QUERY_PARAMS } from './schemas/servers.js';
import { serverBasic, serverDetail, serverFromDownCell, serverReduced, type DownCellServer } from './views.js';
import { volumesAttached } from './volume-attachments.js';
import { fromPrimitive } from '../objects/base.js';
import type { RequestSpec } from '../objects/request-spec.js';

type Q = Record<string, string | string[] | undefined>;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/** Nova stores access IPv6 addresses in netaddr's compact form (access-ip.ts). */
export function normalizeIpv6(v: string | null | undefined): string | null | undefined {
  return v ? compactIpv6(v) : v;
}

export interface ServersOptions {
  /** Detail documents show the attached volumes (os-extended-volumes), read from the cells' BDMs: only with a Cinder. */
  volumesAttached?: boolean;
}

export function registerServers(app: FastifyInstance, compute: ComputeApiFacade, opts: ServersOptions = {}): void {
  app.post('/servers', async (req, reply) => {
    requireProject(req);
    const body = validateBody<{ server: Record<string, any>; 'os:scheduler_hints'?: Record<string, unknown>; 'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown> }>(req, schema.create);
    const s = body.server;
    const networks: CreateServerRequest['networks'] = s['networks'] === undefined ? null
      : typeof s['networks'] === 'string' ? (s['networks'] as 'auto' | 'none')
        : (s['networks'] as Record<string, string>[]).map((n) => {
          if (n['uuid'] !== undefined && !isUuidLike(n['uuid'])) throw badRequest(`Bad networks format: network uuid is not in proper format (${n['uuid']})`);
          return { network_id: n['uuid'] ?? null, port_id: n['port'] ?? null, fixed_ip: n['fixed_ip'] ?? null, tag: n['tag'] ?? null };
        });
    const request: CreateServerRequest = {
      name: s['name'], description: s['description'] ?? null, imageRef: s['imageRef'] || undefined, flavorRef: String(s['flavorRef']),
      min_count: s['min_count'] !== undefined ? Number(s['min_count']) : 1,
      max_count: s['max_count'] !== undefined ? Number(s['max_count']) : undefined,
      return_reservation_id: boolParam(s['return_reservation_id']) ?? false, key_name: s['key_name'] ?? null, metadata: s['metadata'],
      user_data: s['user_data'] ?? null, networks, availability_zone: s['availability_zone'] ?? null,
      security_groups: (s['security_groups'] ?? []).map((g: { name: string }) => g.name), config_drive: boolParam(s['config_drive']) ?? false,
      adminPass: s['adminPass'] ?? null, disk_config: s['OS-DCF:diskConfig'] ?? 'MANUAL', accessIPv4: s['accessIPv4'] ?? null,
      accessIPv6: normalizeIpv6(s['accessIPv6']) ?? null, block_device_mapping_v2: s['block_device_mapping_v2'],
      scheduler_hints: body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {}, tags: mv(req, '2.52') ? s['tags'] : undefined,
      trusted_certs: s['trusted_image_certificates'] ?? null, hostname: s['hostname'] ?? null,
      supports_multiattach: mv(req, '2.60'),
    };
    checkBdmVolumeTypes(s['block_device_mapping_v2']);
    if (mv(req, '2.74') && (s['host'] || s['hypervisor_hostname'])) {
      // compute:servers:create:requested_destination is admin-only by default.
      requireAdmin(req, 'compute:servers:create:requested_destination');
      if (request.availability_zone?.includes(':')) {
        throw badRequest('One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.');
      }
      request.requested_host = s['host'] ?? null;
      request.requested_hypervisor_hostname = s['hypervisor_hostname'] ?? null;
    }
    const r = await mapErrors('create', '', () => compute.create(req.ctx, request));
    reply.code(202);
    if (request.return_reservation_id) return { reservation_id: r.reservationId };
    const inst = r.instances[0]!;
    const server: Record<string, unknown> = { ...serverBasic(req, inst), 'OS-DCF:diskConfig': request.disk_config, security_groups: s['security_groups'] ?? [{ name: 'default' }] };
    delete server['name'];
    server['adminPass'] = r.adminPass;
    const self = (server['links'] as { href: string }[])[0]!.href;
    reply.header('Location', self);
    return { server };
  });

  app.get('/servers', async (req, reply) => listBody(reply, await list(req, compute, false, opts)));
  app.get('/servers/detail', async (req, reply) => listBody(reply, await list(req, compute, true, opts)));

  app.get<{ Params: { id: string } }>('/servers/:id', async (req) => {
    const loc: Located | Record<string, unknown> = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id)).catch(async (e: unknown) => {
      // A server nova-api cannot read may live in a cell that does not answer (2.69).
      const down = await showFromDownCell(req, compute, req.params.id);
      if (down && mv(req, '2.69')) return down;
      // Before 2.69 nova has nothing to show and fails (NovaException: the cell is not responding).
      if (down) throw new ApiError(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'nova.exception.NovaException'>");
      throw e;
    });
    if (!isLocated(loc)) return { server: loc };
    const sgs = await securityGroupsFor(compute, [loc.instance.uuid]);
    return { server: serverDetail(req, loc.instance, { securityGroups: sgs.get(loc.instance.uuid) ?? [{ name: 'default' }], ...(await serverGroupsOption(req, compute, loc.instance.uuid)) }) };
  });

  app.put<{ Params: { id: string } }>('/servers/:id', async (req) => {
    const body = validateBody<{ server: Record<string, any> }>(req, schema.update);
    const s = body.server;
    const changes: Record<string, unknown> = {};
    if (s['name'] !== undefined) changes['display_name'] = s['name'];
    if (s['description'] !== undefined) changes['display_description'] = s['description'];
    if (s['accessIPv4'] !== undefined) changes['access_ip_v4'] = s['accessIPv4'];
    if (s['accessIPv6'] !== undefined) changes['access_ip_v6'] = normalizeIpv6(s['accessIPv6']);
    if (s['OS-DCF:diskConfig'] !== undefined) changes['auto_disk_config'] = s['OS-DCF:diskConfig'] === 'AUTO';
    if (s['hostname'] !== undefined) changes['hostname'] = s['hostname'];
    const loc = await mapErrors('update', req.params.id, () => compute.update(req.ctx, req.params.id, changes));
    return { server: await serverAfterChange(req, compute, loc.instance, loc.cell) };
  });

  app.delete<{ Params: { id: string } }>('/servers/:id', async (req, reply) => {
    await mapErrors('delete', req.params.id, () => compute.delete(req.ctx, req.params.id));
    reply.code(204);
    return reply.send();
  });
}

function isLocated(x: Located | Record<string, unknown>): x is Located {
  return 'instance' in x && 'cell' in x;
}

/** 2.71: the server groups of the server (one at most), for show, update and rebuild. */
async function serverGroupsOption(req: FastifyRequest, compute: ComputeApiFacade, uuid: string): Promise<{ serverGroups?: string[] }> {
  if (!mv(req, '2.71')) return {};
  const rows = await compute.api.db.selectFrom('instance_group_member as m').innerJoin('instance_groups as g', 'g.id', 'm.group_id')
    .select('g.uuid').where('m.instance_uuid', '=', uuid).execute();
  return { serverGroups: rows.map((r) => r['uuid'] as string) };
}

/**
 * The answer of update and rebuild: the reduced document before 2.75, the whole GET
 * representation from 2.75 (security groups and attached volumes included).
 */
export async function serverAfterChange(req: FastifyRequest, compute: ComputeApiFacade, inst: Instance, cell: Cell | null, o: { rebuild?: boolean } = {}): Promise<Record<string, unknown>> {
  const groups = await serverGroupsOption(req, compute, inst.uuid);
  if (!mv(req, '2.75')) {
    const s = serverReduced(req, inst);
    if (groups.serverGroups) s['server_groups'] = groups.serverGroups;
    return s;
  }
  const sgs = await securityGroupsFor(compute, [inst.uuid]);
  const volumes = cell ? (await cellApi.bdmList(cell.db, inst.uuid)).filter((b) => b['volume_id'])
    .map((b) => ({ id: b['volume_id'] as string, delete_on_termination: Boolean(b['delete_on_termination']) })) : [];
  const s = serverDetail(req, inst, { securityGroups: sgs.get(inst.uuid) ?? [{ name: 'default' }], volumes, ...groups });
  // Rebuild answers user_data at the top level instead (show_user_data=False upstream).
  if (o.rebuild) delete s['OS-EXT-SRV-ATTR:user_data'];
  return s;
}

/** BlockDeviceDict.from_api's volume_type rules (2.67): only for volumes Nova creates. */
function checkBdmVolumeTypes(bdms: Record<string, unknown>[] | undefined): void {
  for (const b of bdms ?? []) {
    if (!b['volume_type']) continue;
    if (b['destination_type'] === 'local') throw badRequest('Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.', { type: 'InvalidBDMFormat' });
    if (b['source_type'] === 'volume') throw badRequest('Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.', { type: 'InvalidBDMFormat' });
  }
}

/** Request spec security groups, the names the server was booted with. */
async function securityGroupsFor(compute: ComputeApiFacade, uuids: string[]): Promise<Map<string, { name: string }[]>> {
  const out = new Map<string, { name: string }[]>();
  if (!uuids.length) return out;
  const rows = await rowsForUuids(compute.api.db, 'request_specs', ['instance_uuid', 'spec'], 'instance_uuid', uuids);
  // Only one field of a large JSON document is needed: read it without parsing the whole spec.
  const re = /"security_groups":(\[[^\]]*\])/;
  for (const r of rows) {
    try {
      const m = re.exec(r['spec']);
      const sg = m ? (JSON.parse(m[1]!) as string[]) : undefined;
      out.set(r['instance_uuid'], (sg?.length ? sg : ['default']).map((name) => ({ name })));
    } catch { /* keep default */ }
  }
  return out;
}

function one(q: Q, k: string): string | undefined {
  const v = q[k];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Filters a non-admin may use (`_get_server_search_options`); admins may use every one. */
function userSearchOptions(req: FastifyRequest): Set<string> {
  const opts = ['reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since', 'all_tenants'];
  if (mv(req, '2.5')) opts.push('ip6');
  if (mv(req, '2.26')) opts.push('tags', 'tags-any', 'not-tags', 'not-tags-any');
  if (mv(req, '2.66')) opts.push('changes-before');
  if (mv(req, '2.73')) opts.push('locked');
  if (mv(req, '2.83')) {
    opts.push('availability_zone', 'config_drive', 'key_name', 'created_at', 'launched_at', 'terminated_at', 'power_state',
      'task_state', 'vm_state', 'progress', 'user_id');
  }
  if (mv(req, '2.90')) opts.push('hostname');
  return new Set(opts);
}

const PAGING_SORTING = ['sort_key', 'sort_dir', 'limit', 'marker'];
/** Query parameters matched as regular expressions on the column of the same (or aliased) name. */
const REGEX_COLUMNS: Record<string, string> = {
  key_name: 'key_name', power_state: 'power_state', config_drive: 'config_drive', launched_at: 'launched_at',
  terminated_at: 'terminated_at', created_at: 'created_at', progress: 'progress', hostname: 'hostname', kernel_id: 'kernel_id',
  ramdisk_id: 'ramdisk_id', description: 'display_description', display_description: 'display_description', locked_by: 'locked_by',
  root_device_name: 'root_device_name', access_ip_v4: 'access_ip_v4', access_ip_v6: 'access_ip_v6', auto_disk_config: 'auto_disk_config',
  launch_index: 'launch_index',
};

function dateParam(req: FastifyRequest, q: Q, key: string): string | undefined {
  const v = one(q, key);
  if (v === undefined) return undefined;
  if (!ISO_8601.test(v) || Number.isNaN(Date.parse(v))) throw badRequest(`Invalid input for query parameters ${key}. Value: ${v}. '${v}' is not a 'date-time'`);
  void req;
  return new Date(v).toISOString();
}

/** A list page: each server's document already serialised, and the next-page link. */
interface ListPage {
  servers: string[];
  links?: { rel: string; href: string }[];
}

/**
 * The page's JSON, as JSON.stringify({servers, servers_links}) writes it. Each server was
 * serialised as soon as its document was built, so the documents of a 1,000-server page do
 * not all stay alive (and get copied by the young-generation GC) until the end.
 */
function listBody(reply: FastifyReply, page: ListPage): string {
  reply.type('application/json; charset=utf-8');
  const links = page.links ? `,"servers_links":${JSON.stringify(page.links)}` : '';
  return `{"servers":[${page.servers.join(',')}]${links}}`;
}

async function list(req: FastifyRequest, compute: ComputeApiFacade, detail: boolean, opts: ServersOptions): Promise<ListPage> {
  const raw = (req.query ?? {}) as Q;
  const ctx = req.ctx;
  const admin = ctx.isAdmin;
  // Dates first, worded as nova's validator words them; then the version's query schema.
  const changesSince = dateParam(req, raw, 'changes-since');
  const changesBefore = mv(req, '2.66') ? dateParam(req, raw, 'changes-before') : undefined;
  // An empty query satisfies every version's schema (no required parameters): do not compile
  // one (AJV's first compile is ~0.1 s, and most lists carry no parameters).
  if (Object.keys(raw).length) validateQuery(req, schema.index);
  // remove_invalid_options: a non-admin's filters outside the allowed list are dropped.
  const allowed = userSearchOptions(req);
  const q: Q = {};
  for (const [k, v] of Object.entries(raw)) if (admin || allowed.has(k) || PAGING_SORTING.includes(k)) q[k] = v;
  for (const k of Object.keys(q)) {
    if (JOINED_TABLE_QUERY_PARAMS.includes(k) || k.startsWith('_')) throw badRequest(`Invalid filter field: ${k}.`);
  }
  const f: cellApi.InstanceFilters = {};
  const filterKeys = Object.keys(q).filter((k) => !PAGING_SORTING.includes(k));
  const allTenants = admin && (one(q, 'all_tenants') !== undefined ? boolParamAllTenants(one(q, 'all_tenants')!) : false);
  const projectFilter = admin ? (one(q, 'project_id') ?? one(q, 'tenant_id')) : undefined;
  if (!allTenants) f.project_id = projectFilter ?? ctx.projectId ?? '\u0000';
  else if (projectFilter) f.project_id = projectFilter;
  if (admin && one(q, 'host')) f.host = one(q, 'host');
  if (admin && one(q, 'node')) f.node = one(q, 'node');
  if (one(q, 'name') ?? one(q, 'display_name')) f.name = one(q, 'name') ?? one(q, 'display_name');
  if (one(q, 'image') ?? one(q, 'image_ref')) f.image_ref = (one(q, 'image') ?? one(q, 'image_ref'))!.split('/').pop();
  if (one(q, 'reservation_id')) f.reservation_id = one(q, 'reservation_id');
  if (one(q, 'availability_zone')) f.availability_zone = one(q, 'availability_zone');
  if (one(q, 'user_id')) f.user_id = one(q, 'user_id');
  if (one(q, 'uuid')) f.uuids = [one(q, 'uuid')!];
  const regex: Record<string, string> = {};
  for (const [param, col] of Object.entries(REGEX_COLUMNS)) {
    const v = one(q, param);
    if (v !== undefined && v !== '') regex[col] = v;
  }
  if (Object.keys(regex).length) f.regex = regex;
  if (changesSince !== undefined && 'changes-since' in q) f.changes_since = changesSince;
  if (changesBefore !== undefined && 'changes-before' in q) {
    if (f.changes_since && changesBefore < f.changes_since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    f.changes_before = changesBefore;
  }
  if (one(q, 'deleted') !== undefined) {
    f.deleted = boolFromString(one(q, 'deleted')!);
  }
  const status = one(q, 'status');
  let includeBuildRequests = true;
  if (status) {
    const st = statesFromStatus(status.toUpperCase());
    if (st.vmStates.length === 0) {
      if (mv(req, '2.38')) throw badRequest(`Invalid status value`);
      return { servers: [] };
    }
    f.vm_state = st.vmStates;
    if (st.taskStates) f.task_state = st.taskStates;
    includeBuildRequests = status.toUpperCase() === 'BUILD';
  }
  // vm_state / task_state as filters of their own (2.83 for non-admins), exact matches.
  const vmStates = [q['vm_state']].flat().filter((x): x is string => Boolean(x));
  if (vmStates.length) {
    f.vm_state = f.vm_state ? f.vm_state.filter((x) => vmStates.includes(x)) : vmStates;
    includeBuildRequests = includeBuildRequests && vmStates.includes('building');
  }
  const taskStates = [q['task_state']].flat().filter((x): x is string => Boolean(x));
  if (taskStates.length) {
    f.task_state = taskStates;
    includeBuildRequests = includeBuildRequests && taskStates.includes('scheduling');
  }
  if (f.vm_state?.includes('deleted')) {
    if (!admin) throw new ApiError(403, 'Only administrators may list deleted instances');
    f.deleted = true;
  }
  if (one(q, 'locked') !== undefined && mv(req, '2.73')) f.locked = boolParam(one(q, 'locked'));
  if (mv(req, '2.26')) {
    const split = (k: string) => (one(q, k) ? one(q, k)!.split(',').filter(Boolean) : undefined);
    f.tags = split('tags'); f.tags_any = split('tags-any'); f.not_tags = split('not-tags'); f.not_tags_any = split('not-tags-any');
  }
  const flavor = one(q, 'flavor');
  if (flavor) {
    const row = await compute.api.db.selectFrom('flavors').select('id').where('flavorid', '=', flavor).executeTakeFirst();
    f.instance_type_ids = row ? [row['id']] : [];
  }
  const ip = one(q, 'ip');
  const ip6 = one(q, 'ip6');
  let limit: number | undefined;
  if (one(q, 'limit') !== undefined) {
    limit = Number(one(q, 'limit'));
    if (!Number.isInteger(limit) || limit < 0) throw badRequest('limit param must be an integer');
  }
  limit = Math.min(limit ?? 1000, 1000);
  const marker = one(q, 'marker');
  const sort = sortParams(req, q);

  // Build requests come first, then cells (nova's InstanceLister).
  let brs: Instance[] = [];
  const exactOnly = !f.host && !f.node && f.deleted !== true && !ip && !ip6 && !f.tags?.length && !f.tags_any?.length && !f.regex && !f.locked && !f.changes_before;
  if (includeBuildRequests && exactOnly) {
    brs = (await compute.buildRequestInstances(f.project_id ?? null)).filter((i) => {
      if (f.name) { try { if (!new RegExp(f.name).test(i.display_name)) return false; } catch { return false; } }
      if (f.image_ref && i.image_ref !== f.image_ref) return false;
      if (f.reservation_id && i.reservation_id !== f.reservation_id) return false;
      if (f.instance_type_ids && !f.instance_type_ids.includes(i.instance_type_id)) return false;
      if (f.user_id && i.user_id !== f.user_id) return false;
      if (f.availability_zone && i.availability_zone !== f.availability_zone) return false;
      if (f.uuids && !f.uuids.includes(i.uuid)) return false;
      return true;
    });
  }
  let markerRow: Record<string, unknown> | null = null;
  if (marker) {
    const bi = brs.findIndex((i) => i.uuid === marker);
    if (bi >= 0) brs = brs.slice(bi + 1);
    else {
      const loc = await compute.find({ readDeleted: 'yes' }, marker);
      if (!loc || !loc.cell) throw badRequest(`marker [${marker}] not found`, { type: 'MarkerNotFound' });
      markerRow = (await cellApi.instanceRowByUuid(loc.cell.db, marker)) ?? null;
      if (!markerRow) throw badRequest(`marker [${marker}] not found`, { type: 'MarkerNotFound' });
      brs = [];
    }
  }
  const cells = await compute.cells.all();
  // Only what this version's document shows is read (plain records, no Instance objects).
  const needs: ListNeeds = {
    detail, networkInfo: detail || Boolean(ip || ip6), metadata: detail, tags: detail && mv(req, '2.26'),
    lockedReason: detail && mv(req, '2.73'), trustedCerts: detail && mv(req, '2.63'), userData: detail && admin && mv(req, '2.3'),
  };
  const perCell = await compute.cells.scatterGather((cell: Cell) => listInstancesForView(cell.db, f, { limit: limit! + 0, sort, markerRow }, needs), cells);
  let merged: ListedInstance[] = [];
  const downCells: Cell[] = [];
  for (const [cell, l] of perCell) {
    if (l) merged.push(...l);
    else downCells.push(cell);
  }
  merged.sort((a, b) => compareBy(a, b, sort));
  if (ip || ip6) {
    const re = safeRe(ip ?? ip6!);
    merged = merged.filter((i) => i.info_cache.network_info.some((v) => v.network.subnets.some((s) => s.ips.some((x) => (ip ? x.version === 4 : x.version === 6) && re.test(x.address)))));
  }
  const all: (Instance | ListedInstance)[] = [...brs, ...merged].slice(0, limit);
  const uuids = all.map((i) => i.uuid);
  const [sgs, volumes] = detail
    ? await Promise.all([securityGroupsFor(compute, uuids), opts.volumesAttached ? volumesAttached(compute, uuids) : null])
    : [null, null];
  const servers: string[] = all.map((i) => JSON.stringify(detail
    ? serverDetail(req, i, { securityGroups: sgs!.get(i.uuid) ?? [{ name: 'default' }], ...(volumes ? { volumes: volumes.get(i.uuid) ?? [] } : {}) })
    : serverBasic(req, i)));
  // 2.69: servers of cells that do not answer appear as minimal records, unless filtering,
  // sorting or paging asked for what those records cannot tell (then they are skipped).
  const pagingOrSorting = PAGING_SORTING.some((k) => k in raw);
  const filtered = !(filterKeys.length === 0 || (filterKeys.length === 1 && filterKeys[0] === 'all_tenants'));
  if (downCells.length && mv(req, '2.69') && !pagingOrSorting && !filtered) {
    for (const s of await downCellServers(req, compute, downCells, f.project_id ?? null, detail)) servers.push(JSON.stringify(s));
  }
  const out: ListPage = { servers };
  if (one(q, 'limit') !== undefined && all.length === limit && limit > 0) {
    const last = all[all.length - 1]!;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (k !== 'marker') for (const x of [v].flat()) if (x !== undefined) qs.append(k, x);
    qs.set('marker', last.uuid);
    // The servers' own self links' base (views.ts links()).
    const base = `${baseUrl(req)}/servers`;
    out.links = [{ rel: 'next', href: `${base}${detail ? '/detail' : ''}?${qs.toString()}` }];
  }
  return out;
}

/** Minimal records of the servers mapped to cells that did not answer (2.69). */
async function downCellServers(req: FastifyRequest, compute: ComputeApiFacade, cells: Cell[], projectId: string | null, detail: boolean): Promise<Record<string, unknown>[]> {
  let qm = compute.api.db.selectFrom('instance_mappings').select(['instance_uuid', 'project_id', 'created_at'])
    .where('cell_id', 'in', cells.map((c) => c.id)).where((eb) => eb.or([eb('queued_for_delete', '=', 0), eb('queued_for_delete', 'is', null)]));
  if (projectId) qm = qm.where('project_id', '=', projectId);
  const rows = await qm.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return rows.map((m) => serverFromDownCell(req, { uuid: m['instance_uuid'], project_id: m['project_id'], created_at: m['created_at'] }, detail));
}

/** GET /servers/{id} of a server whose cell does not answer (2.69), or null when its cell answers. */
async function showFromDownCell(req: FastifyRequest, compute: ComputeApiFacade, uuid: string): Promise<Record<string, unknown> | null> {
  const m = await compute.api.db.selectFrom('instance_mappings').selectAll().where('instance_uuid', '=', uuid).executeTakeFirst();
  if (!m || m['cell_id'] === null || m['queued_for_delete']) return null;
  if (!req.ctx.isAdmin && m['project_id'] !== req.ctx.projectId) return null;
  const cell = await compute.cells.byId(m['cell_id']);
  try {
    await cellApi.instanceRowByUuid(cell.db, uuid);
    return null;
  } catch {
    // The cell's database does not answer: build what the API database knows.
  }
  const row = await compute.api.db.selectFrom('request_specs').select('spec').where('instance_uuid', '=', uuid).executeTakeFirst();
  // Without a request spec (archived) there is nothing to show: the server is not found.
  if (!row) return null;
  let spec: DownCellServer['spec'];
  {
    const rs = fromPrimitive(JSON.parse(row['spec'])) as RequestSpec;
    spec = { flavor: rs.flavor ?? null, image_ref: rs.image?.id ?? '', availability_zone: rs.availability_zone ?? null, user_id: rs.user_id ?? null };
  }
  return serverFromDownCell(req, { uuid, project_id: m['project_id'], created_at: m['created_at'], ...(spec ? { spec } : {}), ...(await serverGroupsOption(req, compute, uuid)) }, true);
}

/** sort_key / sort_dir: ignored keys dropped (before 2.75), host and node for admins only. */
function sortParams(req: FastifyRequest, q: Q): { key: string; dir: 'asc' | 'desc' }[] {
  const keys = [q['sort_key']].flat().filter(Boolean) as string[];
  const dirs = [q['sort_dir']].flat().filter(Boolean) as string[];
  const ignored = mv(req, '2.73') ? schema.IGNORED_SORT_KEYS_V273 : schema.IGNORED_SORT_KEYS;
  for (const k of [...keys]) {
    const i = keys.indexOf(k);
    if (ignored.includes(k)) {
      if (dirs.length > i) dirs.splice(i, 1);
      keys.splice(i, 1);
    } else if ((k === 'host' || k === 'node') && !req.ctx.isAdmin) {
      throw new ApiError(403, `Only administrators can sort servers by ${k}`);
    } else if (!cellApi.isSortable(k)) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
  }
  return (keys.length ? keys : ['created_at']).map((key, i) => ({ key, dir: (dirs[i] ?? dirs[0] ?? 'desc') === 'asc' ? 'asc' as const : 'desc' as const }));
}

/** strutils.bool_from_string(v, default=False): anything unrecognised is false. */
function boolFromString(v: string): boolean {
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.toLowerCase());
}

function boolParamAllTenants(v: string): boolean {
  // nova treats a bare ?all_tenants as true.
  if (v === '') return true;
  try { return boolParam(v) ?? true; } catch { return true; }
}

function safeRe(s: string): RegExp {
  try { return new RegExp(s); } catch { return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')); }
}

function compareBy(a: ListedInstance, b: ListedInstance, sort: { key: string; dir: 'asc' | 'desc' }[]): number {
  for (const s of sort) {
    const va = a[s.key] as string | number | null, vb = b[s.key] as string | number | null;
    if (va === vb) continue;
    if (va === null || va === undefined) return s.dir === 'asc' ? -1 : 1;
    if (vb === null || vb === undefined) return s.dir === 'asc' ? 1 : -1;
    const c = va < vb ? -1 : 1;
    return s.dir === 'asc' ? c : -c;
  }
  return a.uuid < b.uuid ? 1 : -1;
}

