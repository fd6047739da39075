/**
 * /os-simple-tenant-usage: hours, vCPU-, RAM- and disk-hours of servers that ran in a window,
 * per project (nova/api/openstack/compute/simple_tenant_usage.py), read across every cell.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { requireAdmin } from './common.js';

function parseTime(v: string | undefined, dflt: Date): Date {
  if (v === undefined) return dflt;
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(d.getTime())) throw badRequest(`Invalid start time. The start time cannot occur after the end time.`);
  return d;
}
const fmt = (d: Date) => d.toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');

export function registerUsage(app: FastifyInstance, compute: ComputeApiFacade): void {
  const usage = async (req: FastifyRequest, projectId: string | null) => {
    const q = req.query as Record<string, string>;
    const end = parseTime(q['end'], new Date());
    const start = parseTime(q['start'], new Date(end.getTime() - 86_400_000));
    if (start > end) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    const detailed = projectId !== null || ['1', 'true', 'True'].includes(q['detailed'] ?? '');
    const byProject = new Map<string, { servers: Record<string, unknown>[]; hours: number; vcpu: number; mem: number; disk: number }>();
    for (const cell of await compute.cells.all()) {
      let qq = cell.db.db.selectFrom('instances').selectAll().where('launched_at', 'is not', null).where('launched_at', '<=', end.toISOString())
        .where((eb) => eb.or([eb('terminated_at', 'is', null), eb('terminated_at', '>=', start.toISOString())]));
      if (projectId) qq = qq.where('project_id', '=', projectId);
      for (const r of await qq.execute()) {
        const from = Math.max(start.getTime(), Date.parse(r['launched_at']));
        const to = Math.min(end.getTime(), r['terminated_at'] ? Date.parse(r['terminated_at']) : end.getTime());
        const hours = Math.max(0, to - from) / 3_600_000;
        const p = r['project_id'] as string;
        if (!byProject.has(p)) byProject.set(p, { servers: [], hours: 0, vcpu: 0, mem: 0, disk: 0 });
        const u = byProject.get(p)!;
        u.hours += hours;
        u.vcpu += hours * Number(r['vcpus'] ?? 0);
        u.mem += hours * Number(r['memory_mb'] ?? 0);
        u.disk += hours * (Number(r['root_gb'] ?? 0) + Number(r['ephemeral_gb'] ?? 0));
        const extra = await cell.db.db.selectFrom('instance_extra').select('flavor').where('instance_uuid', '=', r['uuid']).executeTakeFirst();
        const flavorName = extra?.['flavor'] ? (JSON.parse(extra['flavor']).cur?.name ?? '') : '';
        const terminated = r['terminated_at'] ? Date.parse(r['terminated_at']) : null;
        u.servers.push({
          instance_id: r['uuid'], name: r['display_name'], hours, memory_mb: r['memory_mb'], local_gb: Number(r['root_gb'] ?? 0) + Number(r['ephemeral_gb'] ?? 0),
          vcpus: r['vcpus'], tenant_id: p, flavor: flavorName, started_at: fmt(new Date(r['launched_at'])), ended_at: terminated ? fmt(new Date(terminated)) : null,
          state: r['deleted'] ? 'terminated' : r['vm_state'], uptime: Math.floor(((terminated ?? Date.now()) - Date.parse(r['launched_at'])) / 1000),
        });
      }
    }
    const view = (p: string, u: { servers: Record<string, unknown>[]; hours: number; vcpu: number; mem: number; disk: number }) => ({
      tenant_id: p, total_local_gb_usage: u.disk, total_vcpus_usage: u.vcpu, total_memory_mb_usage: u.mem, total_hours: u.hours,
      start: fmt(start), stop: fmt(end), ...(detailed ? { server_usages: u.servers } : {}),
    });
    return { byProject, view };
  };
  app.get('/os-simple-tenant-usage', async (req) => {
    requireAdmin(req, 'os_compute_api:os-simple-tenant-usage:list');
    const { byProject, view } = await usage(req, null);
    return { tenant_usages: [...byProject].map(([p, u]) => view(p, u)) };
  });
  app.get<{ Params: { pid: string } }>('/os-simple-tenant-usage/:pid', async (req) => {
    if (!req.ctx.isAdmin && req.ctx.projectId !== req.params.pid) throw new ApiError(403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
    const { byProject, view } = await usage(req, req.params.pid);
    const u = byProject.get(req.params.pid);
    return { tenant_usage: u ? view(req.params.pid, u) : {} };
  });
}
