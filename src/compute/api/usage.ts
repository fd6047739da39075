/**
 * /os-simple-tenant-usage: hours, vCPU-, RAM- and disk-hours of servers that ran in a window,
 * per project (nova/api/openstack/compute/simple_tenant_usage.py), read across every cell,
 * paged from 2.40 by server (limit, marker = an instance uuid, `*_links` when the page is full).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../common/errors.js';
import { validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import { baseUrl, mv, requireAdmin } from './common.js';

/** CONF.api.max_limit. */
const MAX_LIMIT = 1000;

const strings = { type: 'array', items: { type: 'string' } };
const PAGING = { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, marker: strings };
const query = (props: Record<string, unknown>): VersionedSchema[] => [
  { schema: { type: 'object', properties: props, additionalProperties: true }, max: '2.39' },
  { schema: { type: 'object', properties: { ...props, ...PAGING }, additionalProperties: true }, min: '2.40', max: '2.74' },
  { schema: { type: 'object', properties: { ...props, ...PAGING }, additionalProperties: false }, min: '2.75' },
];
const INDEX_QUERY = query({ start: strings, end: strings, detailed: strings });
const SHOW_QUERY = query({ start: strings, end: strings });

/** _parse_datetime: the three strptime formats Nova accepts, naive = UTC. */
function parseTime(v: string | undefined, dflt: Date): Date {
  if (v === undefined || v === '') return dflt;
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,6})?$/.test(v) || (v[10] === ' ' && !v.includes('.'))) {
    throw badRequest('Invalid datetime string: Datetime is in invalid format');
  }
  const d = new Date(`${v.replace(' ', 'T').replace(/(\.\d{3})\d+$/, '$1')}Z`);
  if (Number.isNaN(d.getTime())) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  return d;
}
const fmt = (d: Date) => d.toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');

export function registerUsage(app: FastifyInstance, compute: ComputeApiFacade): void {
  /** get_active_by_window_joined over the cells, ordered by (project_id, uuid), paged as upstream. */
  const instancesInWindow = async (start: Date, end: Date, projectId: string | null, limit: number, marker: string | null) => {
    const out: { cell: Awaited<ReturnType<typeof compute.cells.all>>[number]; row: Record<string, any> }[] = [];
    let left = limit;
    let pendingMarker = marker;
    for (const cell of await compute.cells.all()) {
      let q = cell.db.db.selectFrom('instances').selectAll().where('launched_at', 'is not', null).where('launched_at', '<', end.toISOString())
        .where((eb) => eb.or([eb('terminated_at', 'is', null), eb('terminated_at', '>', start.toISOString())]));
      if (projectId) q = q.where('project_id', '=', projectId);
      if (pendingMarker) {
        const m = await cell.db.db.selectFrom('instances').select(['project_id', 'uuid']).where('uuid', '=', pendingMarker).executeTakeFirst();
        // The marker lives in another cell: this one is skipped, as upstream does.
        if (!m) continue;
        q = q.where((eb) => eb.or([eb('project_id', '>', m['project_id']), eb.and([eb('project_id', '=', m['project_id']), eb('uuid', '>', m['uuid'])])]));
      }
      const rows = await q.orderBy('project_id').orderBy('uuid').limit(left).execute();
      for (const row of rows) out.push({ cell, row });
      pendingMarker = null;
      left -= rows.length;
      if (left <= 0) break;
    }
    if (pendingMarker !== null && out.length === 0) throw badRequest(`Marker ${pendingMarker} could not be found.`);
    return out;
  };

  const usage = async (req: FastifyRequest, projectId: string | null, detailed: boolean, q: Record<string, string[]>) => {
    let end = parseTime(q['end']?.[0], new Date());
    // Upstream defaults start to "now" (an empty window); the last day is more useful and harmless.
    const start = parseTime(q['start']?.[0], new Date(end.getTime() - 86_400_000));
    if (!(start < end)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    if (end > new Date()) end = new Date();
    const paged = mv(req, '2.40');
    const limit = paged && q['limit']?.[0] !== undefined ? Math.min(MAX_LIMIT, Number(q['limit'][0])) : MAX_LIMIT;
    const marker = paged ? (q['marker']?.[0] ?? null) : null;
    const rows = limit === 0 ? [] : await instancesInWindow(start, end, projectId, limit, marker);
    const byProject = new Map<string, Record<string, any>>();
    const all: Record<string, unknown>[] = [];
    for (const { cell, row: r } of rows) {
      const from = Math.max(start.getTime(), Date.parse(r['launched_at']));
      const to = Math.min(end.getTime(), r['terminated_at'] ? Date.parse(r['terminated_at']) : end.getTime());
      const hours = Math.max(0, to - from) / 3_600_000;
      const p = r['project_id'] as string;
      const extra = await cell.db.db.selectFrom('instance_extra').select('flavor').where('instance_uuid', '=', r['uuid']).executeTakeFirst();
      const flavor = extra?.['flavor'] ? JSON.parse(extra['flavor']).cur : null;
      const memory = Number(flavor?.memory_mb ?? r['memory_mb'] ?? 0);
      const localGb = Number(flavor?.root_gb ?? r['root_gb'] ?? 0) + Number(flavor?.ephemeral_gb ?? r['ephemeral_gb'] ?? 0);
      const vcpus = Number(flavor?.vcpus ?? r['vcpus'] ?? 0);
      const terminated = r['terminated_at'] ? Date.parse(r['terminated_at']) : null;
      const info = {
        hours, flavor: flavor?.name ?? '', instance_id: r['uuid'], name: r['display_name'] ?? '', tenant_id: p, memory_mb: memory, local_gb: localGb, vcpus,
        started_at: fmt(new Date(r['launched_at'])), ended_at: terminated ? fmt(new Date(terminated)) : null,
        state: terminated ? 'terminated' : r['vm_state'], uptime: Math.floor(((terminated ?? Date.now()) - Date.parse(r['launched_at'])) / 1000),
      };
      if (!byProject.has(p)) {
        byProject.set(p, {
          tenant_id: p, ...(detailed ? { server_usages: [] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_hours: 0,
          start: fmt(start), stop: fmt(end),
        });
      }
      const s = byProject.get(p)!;
      s['total_local_gb_usage'] += localGb * hours;
      s['total_vcpus_usage'] += vcpus * hours;
      s['total_memory_mb_usage'] += memory * hours;
      s['total_hours'] += hours;
      if (detailed) s['server_usages'].push(info);
      all.push(info);
    }
    // _get_collection_links: a next link when the page is full, marker = the last server.
    let links: { rel: string; href: string }[] | null = null;
    if (paged && limit && all.length === limit) {
      const params = new URLSearchParams();
      const qs: Record<string, string[]> = { ...q, marker: [String(all[all.length - 1]!['instance_id'])] };
      for (const k of Object.keys(qs).sort()) for (const v of qs[k]!) params.append(k, v);
      links = [{ rel: 'next', href: `${baseUrl(req)}/os-simple-tenant-usage${projectId ? `/${projectId}` : ''}?${params.toString()}` }];
    }
    return { usages: [...byProject.values()], links };
  };

  app.get('/os-simple-tenant-usage', async (req) => {
    requireAdmin(req, 'os_compute_api:os-simple-tenant-usage:list');
    const q = validateQuery(req, INDEX_QUERY);
    const { usages, links } = await usage(req, null, q['detailed']?.[0] === '1', q);
    return { tenant_usages: usages, ...(links ? { tenant_usages_links: links } : {}) };
  });
  app.get<{ Params: { pid: string } }>('/os-simple-tenant-usage/:pid', async (req) => {
    if (!req.ctx.isAdmin && req.ctx.projectId !== req.params.pid) throw new ApiError(403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.", { type: 'PolicyNotAuthorized' });
    const q = validateQuery(req, SHOW_QUERY);
    const { usages, links } = await usage(req, req.params.pid, true, q);
    return { tenant_usage: usages[0] ?? {}, ...(links ? { tenant_usage_links: links } : {}) };
  });
}
