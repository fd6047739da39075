/**
 * Smaller Nova resources: limits, quota sets, availability zones, hypervisors, services,
 * instance actions, external events, server tags and metadata.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import { isServiceUp } from '../../common/service.js';
import type { ComputeApiFacade } from '../api.js';
import * as apiDb from '../db/api-api.js';
import * as cellApi from '../db/cell-api.js';
import * as hostApi from '../db/host-api.js';
import { InstanceAction } from '../objects/instance-action.js';
import { countUsage, projectLimits, QUOTA_DEFAULTS } from '../quota.js';
import type { ExternalEvent } from '../rpcapi.js';
import { mapErrors, mv, requireAdmin, requireProject } from './common.js';

const EVENT_NAMES = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted', 'volume-extended', 'power-update', 'accelerator-request-bound'];

function usec(s: string | null | undefined): string | null {
  if (!s) return null;
  return s.replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}

export function registerMisc(app: FastifyInstance, compute: ComputeApiFacade): void {
  const api = compute.api;

  // ---- limits and quotas ----
  app.get('/limits', async (req) => {
    const project = requireProject(req);
    const [l, u] = await Promise.all([projectLimits(api, project), countUsage(compute.cells, project)]);
    const kp = (await apiDb.keypairList(api, req.ctx.userId ?? '')).length;
    const groups = (await api.db.selectFrom('instance_groups').select('id').where('project_id', '=', project).execute()).length;
    const absolute: Record<string, number> = {
      maxImageMeta: l['metadata_items']!, maxPersonality: l['injected_files']!, maxPersonalitySize: l['injected_file_content_bytes']!,
      maxSecurityGroupRules: l['security_group_rules']!, maxSecurityGroups: l['security_groups']!, maxServerGroupMembers: l['server_group_members']!,
      maxServerGroups: l['server_groups']!, maxServerMeta: l['metadata_items']!, maxTotalCores: l['cores']!, maxTotalFloatingIps: l['floating_ips']!,
      maxTotalInstances: l['instances']!, maxTotalKeypairs: l['key_pairs']!, maxTotalRAMSize: l['ram']!,
      totalCoresUsed: u.cores, totalFloatingIpsUsed: 0, totalInstancesUsed: u.instances, totalRAMUsed: u.ram, totalSecurityGroupsUsed: 0, totalServerGroupsUsed: groups,
    };
    if (mv(req, '2.36')) for (const k of ['maxSecurityGroupRules', 'maxSecurityGroups', 'maxTotalFloatingIps', 'totalFloatingIpsUsed', 'totalSecurityGroupsUsed']) delete absolute[k];
    void kp;
    return { limits: { rate: [], absolute } };
  });

  const quotaView = (req: any, l: Record<string, number>, id?: string) => {
    const out: Record<string, unknown> = { ...(id ? { id } : {}) };
    for (const k of ['cores', 'instances', 'ram', 'metadata_items', 'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes', 'key_pairs', 'server_groups', 'server_group_members']) out[k] = l[k];
    if (!mv(req, '2.36')) Object.assign(out, { fixed_ips: l['fixed_ips'], floating_ips: l['floating_ips'], security_groups: l['security_groups'], security_group_rules: l['security_group_rules'] });
    if (mv(req, '2.57')) { delete out['injected_files']; delete out['injected_file_content_bytes']; delete out['injected_file_path_bytes']; }
    return out;
  };
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req) => {
    if (!req.ctx.isAdmin && req.ctx.projectId !== req.params.pid) throw new ApiError(403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
    const l = await projectLimits(api, req.params.pid);
    const q = req.query as Record<string, string>;
    if (q['usage'] === 'True' || q['usage'] === 'true' || q['usage'] === '1') {
      const u = await countUsage(compute.cells, req.params.pid);
      const v = quotaView(req, l, req.params.pid) as Record<string, any>;
      for (const k of Object.keys(v)) if (k !== 'id') v[k] = { limit: v[k], in_use: (u as any)[k] ?? 0, reserved: 0 };
      return { quota_set: v };
    }
    return { quota_set: quotaView(req, l, req.params.pid) };
  });
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid/detail', async (req) => {
    const l = await projectLimits(api, req.params.pid);
    const u = await countUsage(compute.cells, req.params.pid);
    const v = quotaView(req, l, req.params.pid) as Record<string, any>;
    for (const k of Object.keys(v)) if (k !== 'id') v[k] = { limit: v[k], in_use: (u as any)[k] ?? 0, reserved: 0 };
    return { quota_set: v };
  });
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid/defaults', async (req) => ({ quota_set: quotaView(req, { ...QUOTA_DEFAULTS, ...(await apiDb.quotaGetClass(api)) }, req.params.pid) }));
  app.put<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req) => {
    requireAdmin(req, 'os_compute_api:os-quota-sets:update');
    const body = validateBody<{ quota_set: Record<string, unknown> }>(req, {
      type: 'object', required: ['quota_set'], additionalProperties: false,
      properties: { quota_set: { type: 'object', additionalProperties: false, properties: Object.fromEntries([...Object.keys(QUOTA_DEFAULTS).map((k) => [k, { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1 }]), ['force', { type: ['boolean', 'string'] }]]) } },
    });
    const limits: Record<string, number> = {};
    for (const [k, v] of Object.entries(body.quota_set)) if (k !== 'force') limits[k] = Number(v);
    await apiDb.quotaSetProject(api, req.params.pid, limits);
    const v = quotaView(req, await projectLimits(api, req.params.pid));
    return { quota_set: v };
  });
  app.delete<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-quota-sets:delete');
    await apiDb.quotaDestroyProject(api, req.params.pid);
    reply.code(202);
    return null;
  });

  // ---- availability zones ----
  const azs = async () => {
    const aggs = await api.db.selectFrom('aggregate_metadata').select(['aggregate_id', 'value']).where('key', '=', 'availability_zone').execute();
    const hosts = await api.db.selectFrom('aggregate_hosts').selectAll().execute();
    const hostAz = new Map<string, string>();
    for (const a of aggs) for (const h of hosts.filter((x) => x['aggregate_id'] === a['aggregate_id'])) hostAz.set(h['host'], a['value']);
    const services: { host: string; binary: string; up: boolean; disabled: boolean; updated: string }[] = [];
    for (const cell of await compute.cells.computeCells()) {
      for (const s of await hostApi.serviceList(cell.db)) services.push({ host: s['host'], binary: s['binary'], up: isServiceUp(s['last_seen_up'] ?? s['updated_at'] ?? s['created_at']), disabled: Boolean(s['disabled']), updated: s['last_seen_up'] ?? s['updated_at'] });
    }
    return { hostAz, services };
  };
  app.get('/os-availability-zone', async () => {
    const { hostAz, services } = await azs();
    const zones = new Map<string, boolean>();
    for (const s of services.filter((x) => x.binary === 'nova-compute')) {
      const z = hostAz.get(s.host) ?? 'nova';
      zones.set(z, (zones.get(z) ?? false) || (s.up && !s.disabled));
    }
    return { availabilityZoneInfo: [...zones].map(([zoneName, available]) => ({ zoneName, zoneState: { available }, hosts: null })) };
  });
  app.get('/os-availability-zone/detail', async (req) => {
    requireAdmin(req, 'os_compute_api:os-availability-zone:detail');
    const { hostAz, services } = await azs();
    const zones = new Map<string, { available: boolean; hosts: Record<string, Record<string, unknown>> }>();
    for (const s of services) {
      const z = s.binary === 'nova-compute' ? (hostAz.get(s.host) ?? 'nova') : 'internal';
      if (!zones.has(z)) zones.set(z, { available: false, hosts: {} });
      const zz = zones.get(z)!;
      zz.available ||= s.up && !s.disabled;
      zz.hosts[s.host] ??= {};
      zz.hosts[s.host]![s.binary] = { available: s.up, active: !s.disabled, updated_at: usec(s.updated) };
    }
    return { availabilityZoneInfo: [...zones].map(([zoneName, z]) => ({ zoneName, zoneState: { available: z.available }, hosts: z.hosts })) };
  });

  // ---- hypervisors and services (admin) ----
  const allNodes = async () => {
    const out: { cell: string; node: Record<string, any>; svc: Record<string, any> | undefined }[] = [];
    for (const cell of await compute.cells.computeCells()) {
      const svcs = await hostApi.serviceList(cell.db, { binary: 'nova-compute' });
      for (const n of await hostApi.computeNodeList(cell.db)) out.push({ cell: cell.uuid, node: n, svc: svcs.find((s) => s['host'] === n['host']) });
    }
    return out;
  };
  const hvView = (req: any, x: { node: Record<string, any>; svc: Record<string, any> | undefined }, detail: boolean) => {
    const n = x.node;
    const up = x.svc ? isServiceUp(x.svc['last_seen_up'] ?? x.svc['updated_at'] ?? x.svc['created_at']) : false;
    const v: Record<string, unknown> = {
      id: mv(req, '2.53') ? n['uuid'] : n['id'], hypervisor_hostname: n['hypervisor_hostname'],
      state: up ? 'up' : 'down', status: x.svc?.['disabled'] ? 'disabled' : 'enabled',
    };
    if (detail) Object.assign(v, {
      vcpus: n['vcpus'], memory_mb: n['memory_mb'], local_gb: n['local_gb'], vcpus_used: n['vcpus_used'], memory_mb_used: n['memory_mb_used'],
      local_gb_used: n['local_gb_used'], hypervisor_type: n['hypervisor_type'], hypervisor_version: n['hypervisor_version'],
      free_ram_mb: n['free_ram_mb'], free_disk_gb: n['free_disk_gb'], current_workload: n['current_workload'] ?? 0, running_vms: n['running_vms'] ?? 0,
      cpu_info: n['cpu_info'], disk_available_least: n['disk_available_least'], host_ip: n['host_ip'],
      service: { host: n['host'], id: mv(req, '2.53') ? x.svc?.['uuid'] : x.svc?.['id'], disabled_reason: x.svc?.['disabled_reason'] ?? null },
    });
    return v;
  };
  app.get('/os-hypervisors', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:list');
    return { hypervisors: (await allNodes()).map((x) => hvView(req, x, false)) };
  });
  app.get('/os-hypervisors/detail', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:list-detail');
    return { hypervisors: (await allNodes()).map((x) => hvView(req, x, true)) };
  });
  app.get('/os-hypervisors/statistics', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:statistics');
    const nodes = (await allNodes()).map((x) => x.node);
    const sum = (k: string) => nodes.reduce((s, n) => s + Number(n[k] ?? 0), 0);
    return { hypervisor_statistics: { count: nodes.length, vcpus: sum('vcpus'), memory_mb: sum('memory_mb'), local_gb: sum('local_gb'), vcpus_used: sum('vcpus_used'), memory_mb_used: sum('memory_mb_used'), local_gb_used: sum('local_gb_used'), free_ram_mb: sum('free_ram_mb'), free_disk_gb: sum('free_disk_gb'), current_workload: 0, running_vms: sum('running_vms'), disk_available_least: sum('disk_available_least') } };
  });
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:show');
    const x = (await allNodes()).find((y) => String(y.node['id']) === req.params.id || y.node['uuid'] === req.params.id);
    if (!x) throw notFound(`Hypervisor with ID ${req.params.id} could not be found.`);
    return { hypervisor: hvView(req, x, true) };
  });

  app.get('/os-services', async (req) => {
    requireAdmin(req, 'os_compute_api:os-services:list');
    const q = req.query as Record<string, string>;
    const out: Record<string, unknown>[] = [];
    for (const cell of await compute.cells.all()) {
      for (const s of await hostApi.serviceList(cell.db, { ...(q['binary'] ? { binary: q['binary'] } : {}), ...(q['host'] ? { host: q['host'] } : {}) })) {
        out.push({
          id: mv(req, '2.53') ? s['uuid'] : s['id'], binary: s['binary'], host: s['host'], zone: s['binary'] === 'nova-compute' ? 'nova' : 'internal',
          status: s['disabled'] ? 'disabled' : 'enabled', state: isServiceUp(s['last_seen_up'] ?? s['updated_at'] ?? s['created_at']) && !s['forced_down'] ? 'up' : 'down',
          updated_at: usec(s['last_seen_up'] ?? s['updated_at']), disabled_reason: s['disabled_reason'] ?? null,
          ...(mv(req, '2.11') ? { forced_down: Boolean(s['forced_down']) } : {}),
        });
      }
    }
    return { services: out };
  });

  // ---- instance actions ----
  app.get<{ Params: { id: string } }>('/servers/:id/os-instance-actions', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx.clone({ readDeleted: 'yes' }), req.params.id));
    if (!loc.cell) return { instanceActions: [] };
    const rows = await cellApi.actionsForInstance(loc.cell.db, req.params.id);
    return { instanceActions: rows.map((a) => actionView(req, a)) };
  });
  app.get<{ Params: { id: string; rid: string } }>('/servers/:id/os-instance-actions/:rid', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx.clone({ readDeleted: 'yes' }), req.params.id));
    const a = loc.cell ? await cellApi.actionGetByRequestId(loc.cell.db, req.params.id, req.params.rid) : undefined;
    if (!a) throw notFound(`Action for request_id ${req.params.rid} on instance ${req.params.id} not found`, { type: 'InstanceActionNotFound' });
    const events = await cellApi.actionEvents(loc.cell!.db, a['id']);
    const admin = req.ctx.isAdmin;
    return {
      instanceAction: {
        ...actionView(req, a),
        events: events.map((e) => ({
          event: e['event'], start_time: usec(e['start_time']), finish_time: usec(e['finish_time']), result: e['result'] ?? null,
          ...(admin ? { traceback: e['traceback'] ?? null } : {}),
          ...(mv(req, '2.62') ? { hostId: '' } : {}),
          ...(admin && mv(req, '2.62') ? { host: e['host'] ?? '' } : {}),
        })),
      },
    };
  });

  // ---- external events (Neutron, Cinder) ----
  app.post('/os-server-external-events', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-server-external-events:create');
    const body = validateBody<{ events: Record<string, string>[] }>(req, {
      type: 'object', required: ['events'], additionalProperties: false,
      properties: {
        events: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', required: ['name', 'server_uuid'], additionalProperties: false,
            properties: { name: { type: 'string', enum: EVENT_NAMES }, server_uuid: { type: 'string', format: 'uuid' }, tag: { type: 'string', maxLength: 255 }, status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] } },
          },
        },
      },
    });
    const events: ExternalEvent[] = body.events.map((e) => ({ name: e['name']!, tag: e['tag'] ?? null, status: (e['status'] ?? 'completed') as ExternalEvent['status'], instance_uuid: e['server_uuid']! }));
    const results = await compute.externalInstanceEvent(req.ctx, events);
    const out = results.map(({ event }, i) => {
      const v: Record<string, unknown> = { name: event.name, server_uuid: event.server_uuid, status: event.status, code: event.code };
      if (body.events[i]!['tag'] !== undefined) v['tag'] = event.tag;
      return v;
    });
    const accepted = out.filter((e) => e['code'] === 200);
    if (accepted.length === 0) throw notFound('No instances found for any event', { type: 'InstanceNotFound' });
    reply.code(accepted.length === out.length ? 200 : 207);
    return { events: out };
  });

  // ---- server tags (2.26) ----
  const tagsGuard = (req: any) => { if (!mv(req, '2.26')) throw new ApiError(404, 'The resource could not be found.'); };
  const tagSchema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
  const withLoc = async (req: any, id: string, action: string) => {
    const loc = await mapErrors(action, id, () => compute.get(req.ctx, id));
    if (!loc.cell) throw new ApiError(409, `Instance ${id} is not ready yet: it is still being scheduled`);
    return loc;
  };
  app.get<{ Params: { id: string } }>('/servers/:id/tags', async (req) => { tagsGuard(req); return { tags: (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.tags ?? [] }; });
  app.get<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!(loc.instance.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`, { type: 'TagNotFound' });
    reply.code(204);
    return reply.send();
  });
  app.put<{ Params: { id: string } }>('/servers/:id/tags', async (req) => {
    tagsGuard(req);
    const body = validateBody<{ tags: string[] }>(req, { type: 'object', required: ['tags'], additionalProperties: false, properties: { tags: { type: 'array', items: tagSchema, maxItems: 50 } } });
    const loc = await withLoc(req, req.params.id, 'update tags');
    loc.instance.tags = [...new Set(body.tags)].sort();
    await compute.saveInstance(req.ctx, loc);
    return { tags: loc.instance.tags };
  });
  app.put<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const t = decodeURIComponent(req.params.tag);
    if (!t || t.length > 60 || /[,/]/.test(t)) throw badRequest(`Tag '${t}' is invalid. It must be a non-empty string of at most 60 characters without ',' or '/'.`);
    const loc = await withLoc(req, req.params.id, 'update tag');
    const had = (loc.instance.tags ?? []).includes(t);
    if (!had) {
      if ((loc.instance.tags ?? []).length >= 50) throw badRequest('The number of tags exceeded the per-server limit 50');
      loc.instance.tags = [...(loc.instance.tags ?? []), t].sort();
      await compute.saveInstance(req.ctx, loc);
    }
    reply.code(had ? 204 : 201);
    if (!had) reply.header('Location', `${req.protocol}://${req.headers.host}${req.url}`);
    return reply.send();
  });
  app.delete<{ Params: { id: string } }>('/servers/:id/tags', async (req, reply) => {
    tagsGuard(req);
    const loc = await withLoc(req, req.params.id, 'delete tags');
    loc.instance.tags = [];
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });
  app.delete<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const loc = await withLoc(req, req.params.id, 'delete tag');
    if (!(loc.instance.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`, { type: 'TagNotFound' });
    loc.instance.tags = loc.instance.tags.filter((x) => x !== req.params.tag);
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });

  // ---- server metadata ----
  const metaBody = (req: any, key: 'metadata' | 'meta') => validateBody<Record<string, Record<string, string>>>(req, {
    type: 'object', required: [key], additionalProperties: false,
    properties: { [key]: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false, ...(key === 'meta' ? { minProperties: 1, maxProperties: 1 } : {}) } },
  })[key]!;
  const checkMetaQuota = async (project: string, md: Record<string, string>) => {
    const l = await projectLimits(api, project);
    if (Object.keys(md).length > l['metadata_items']!) throw new ApiError(403, `Quota exceeded for metadata_items: Requested ${Object.keys(md).length}, but already used 0 of ${l['metadata_items']} metadata_items`);
  };
  app.get<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.metadata ?? {} }));
  app.get<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req) => {
    const md = (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.metadata ?? {};
    if (!(req.params.key in md)) throw notFound('Metadata item was not found', { type: 'MetadataItemNotFound' });
    return { meta: { [req.params.key]: md[req.params.key] } };
  });
  const setMeta = async (req: any, id: string, md: Record<string, string>, replace: boolean) => {
    const loc = await withLoc(req, id, 'update metadata');
    compute.checkLocked(req.ctx, loc.instance);
    const next = replace ? { ...md } : { ...(loc.instance.metadata ?? {}), ...md };
    await checkMetaQuota(loc.instance.project_id, next);
    loc.instance.metadata = next;
    await compute.saveInstance(req.ctx, loc);
    return next;
  };
  app.put<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: await setMeta(req, req.params.id, metaBody(req, 'metadata'), true) }));
  app.post<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: await setMeta(req, req.params.id, metaBody(req, 'metadata'), false) }));
  app.put<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req) => {
    const meta = metaBody(req, 'meta');
    if (!(req.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await setMeta(req, req.params.id, meta, false);
    return { meta };
  });
  app.delete<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req, reply) => {
    const loc = await withLoc(req, req.params.id, 'delete metadata');
    compute.checkLocked(req.ctx, loc.instance);
    if (!(req.params.key in (loc.instance.metadata ?? {}))) throw notFound('Metadata item was not found', { type: 'MetadataItemNotFound' });
    const md = { ...loc.instance.metadata };
    delete md[req.params.key];
    loc.instance.metadata = md;
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });

  void InstanceAction;
}

function actionView(req: any, a: Record<string, any>): Record<string, unknown> {
  const v: Record<string, unknown> = {
    action: a['action'], instance_uuid: a['instance_uuid'], request_id: a['request_id'], user_id: a['user_id'], project_id: a['project_id'],
    start_time: usec(a['start_time']), message: a['message'] ?? null,
  };
  if (mv(req, '2.58')) v['updated_at'] = usec(a['updated_at'] ?? a['start_time']);
  return v;
}
