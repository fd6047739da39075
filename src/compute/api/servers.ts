/**
 * /servers: create, list and detail (build requests first, then every cell, merged in sort
 * order), show, update, delete (nova/api/openstack/compute/servers.py).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../common/errors.js';
import { isUuidLike, validateBody } from '../../common/http/validation.js';
import type { ComputeApiFacade, CreateServerRequest } from '../api.js';
import type { Cell } from '../cells.js';
import * as cellApi from '../db/cell-api.js';
import { Instance } from '../objects/instance.js';
import { statesFromStatus } from '../states.js';
import { compactIpv6 } from './access-ip.js';
import { boolParam, mapErrors, mv, requireAdmin, requireProject } from './common.js';
import * as schema from './schemas/servers.js';
import { serverBasic, serverDetail, serverReduced } from './views.js';

type Q = Record<string, string | string[] | undefined>;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/** Nova stores access IPv6 addresses in netaddr's compact form (access-ip.ts). */
export function normalizeIpv6(v: string | null | undefined): string | null | undefined {
  return v ? compactIpv6(v) : v;
}

export function registerServers(app: FastifyInstance, compute: ComputeApiFacade): void {
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

  app.get('/servers', async (req) => ({ ...(await list(req, compute, false)) }));
  app.get('/servers/detail', async (req) => ({ ...(await list(req, compute, true)) }));

  app.get<{ Params: { id: string } }>('/servers/:id', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
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
  const rows = await compute.api.db.selectFrom('request_specs').select(['instance_uuid', 'spec']).where('instance_uuid', 'in', uuids).execute();
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

async function list(req: FastifyRequest, compute: ComputeApiFacade, detail: boolean): Promise<Record<string, unknown>> {
  const q = (req.query ?? {}) as Q;
  const ctx = req.ctx;
  const admin = ctx.isAdmin;
  const f: cellApi.InstanceFilters = {};
  const allTenants = admin && (one(q, 'all_tenants') !== undefined ? boolParamAllTenants(one(q, 'all_tenants')!) : false);
  const projectFilter = admin ? (one(q, 'project_id') ?? one(q, 'tenant_id')) : undefined;
  if (!allTenants) f.project_id = projectFilter ?? ctx.projectId ?? '\u0000';
  else if (projectFilter) f.project_id = projectFilter;
  if (admin && one(q, 'host')) f.host = one(q, 'host');
  if (admin && one(q, 'node')) f.node = one(q, 'node');
  if (one(q, 'name')) f.name = one(q, 'name');
  if (one(q, 'image')) f.image_ref = one(q, 'image')!.split('/').pop();
  if (one(q, 'reservation_id')) f.reservation_id = one(q, 'reservation_id');
  if (admin && one(q, 'availability_zone')) f.availability_zone = one(q, 'availability_zone');
  const cs = one(q, 'changes-since');
  if (cs !== undefined) {
    if (!ISO_8601.test(cs) || Number.isNaN(Date.parse(cs))) throw badRequest(`Invalid input for query parameters changes-since. Value: ${cs}. '${cs}' is not a 'date-time'`);
    f.changes_since = new Date(cs).toISOString();
  }
  const cb = one(q, 'changes-before');
  if (cb !== undefined && mv(req, '2.66')) {
    if (!ISO_8601.test(cb) || Number.isNaN(Date.parse(cb))) throw badRequest(`Invalid input for query parameters changes-before. Value: ${cb}. '${cb}' is not a 'date-time'`);
  }
  if (cb !== undefined && mv(req, '2.66')) f.changes_before = new Date(cb).toISOString();
  if (admin && one(q, 'deleted') !== undefined) f.deleted = boolParam(one(q, 'deleted'));
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
  const sortKeys = [q['sort_key']].flat().filter(Boolean) as string[];
  const sortDirs = [q['sort_dir']].flat().filter(Boolean) as string[];
  for (const k of sortKeys) if (!cellApi.isSortable(k)) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
  const sort = (sortKeys.length ? sortKeys : ['created_at']).map((key, i) => ({ key, dir: (sortDirs[i] ?? sortDirs[0] ?? 'desc') === 'asc' ? 'asc' as const : 'desc' as const }));

  // Build requests come first, then cells (nova's InstanceLister).
  let brs: Instance[] = [];
  if (includeBuildRequests && !f.host && !f.node && f.deleted !== true && !ip && !ip6 && !f.tags?.length && !f.tags_any?.length) {
    brs = (await compute.buildRequestInstances(f.project_id ?? null)).filter((i) => {
      if (f.name) { try { if (!new RegExp(f.name).test(i.display_name)) return false; } catch { return false; } }
      if (f.image_ref && i.image_ref !== f.image_ref) return false;
      if (f.reservation_id && i.reservation_id !== f.reservation_id) return false;
      if (f.instance_type_ids && !f.instance_type_ids.includes(i.instance_type_id)) return false;
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
  const perCell = await compute.cells.scatterGather((cell: Cell) =>
    cellApi.instanceList(cell.db, f, { limit: limit! + 0, sort, markerRow }).then((l) => l.map((x) => Instance.fromFull(x, cell.backend, false))), cells);
  let merged: Instance[] = [];
  for (const l of perCell.values()) if (l) merged.push(...l);
  merged.sort((a, b) => compareBy(a, b, sort));
  if (ip || ip6) {
    const re = safeRe(ip ?? ip6!);
    merged = merged.filter((i) => i.networkInfo.some((v) => v.network.subnets.some((s) => s.ips.some((x) => (ip ? x.version === 4 : x.version === 6) && re.test(x.address)))));
  }
  const all = [...brs, ...merged].slice(0, limit);
  const sgs = detail ? await securityGroupsFor(compute, all.map((i) => i.uuid)) : new Map();
  const servers = all.map((i) => (detail ? serverDetail(req, i, { securityGroups: sgs.get(i.uuid) ?? [{ name: 'default' }] }) : serverBasic(req, i)));
  const out: Record<string, unknown> = { servers };
  if (one(q, 'limit') !== undefined && all.length === limit && limit > 0) {
    const last = all[all.length - 1]!;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (k !== 'marker') for (const x of [v].flat()) if (x !== undefined) qs.append(k, x);
    qs.set('marker', last.uuid);
    const base = (servers[0] as { links: { href: string }[] }).links[0]!.href.replace(/\/servers\/.*$/, '/servers');
    out['servers_links'] = [{ rel: 'next', href: `${base}${detail ? '/detail' : ''}?${qs.toString()}` }];
  }
  return out;
}

function boolParamAllTenants(v: string): boolean {
  // nova treats a bare ?all_tenants as true.
  if (v === '') return true;
  try { return boolParam(v) ?? true; } catch { return true; }
}

function safeRe(s: string): RegExp {
  try { return new RegExp(s); } catch { return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')); }
}

function compareBy(a: Instance, b: Instance, sort: { key: string; dir: 'asc' | 'desc' }[]): number {
  for (const s of sort) {
    const va = a.get(s.key) as string | number | null, vb = b.get(s.key) as string | number | null;
    if (va === vb) continue;
    if (va === null || va === undefined) return s.dir === 'asc' ? -1 : 1;
    if (vb === null || vb === undefined) return s.dir === 'asc' ? 1 : -1;
    const c = va < vb ? -1 : 1;
    return s.dir === 'asc' ? c : -c;
  }
  return a.uuid < b.uuid ? 1 : -1;
}

