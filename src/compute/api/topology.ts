/**
 * GET /servers/{id}/topology (2.78, nova/api/openstack/compute/server_topology.py): the
 * instance's NUMA cells from `instance_extra.numa_topology`. Owners and admins may read it;
 * the host side (host_node, cpu_pinning) is admin only. An instance without a NUMA topology
 * (every instance of the fake driver) answers `{"nodes": [], "pagesize_kb": null}`.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { mapErrors, mv, requireAdmin } from './common.js';

/** One cell of nova.objects.InstanceNUMATopology as stored (its primitive's data). */
interface NumaCell {
  id: number;
  cpuset?: number[];
  pcpuset?: number[];
  memory: number;
  pagesize?: number | null;
  cpu_pinning_raw?: Record<string, number> | null;
  cpu_topology?: { threads?: number } | null;
}

function cellsOf(stored: string | null | undefined): NumaCell[] | null {
  if (!stored) return null;
  try {
    const p = JSON.parse(stored) as Record<string, any>;
    const data = (p['nova_object.data'] ?? p) as Record<string, any>;
    const cells = (data['cells'] ?? []) as Record<string, any>[];
    return cells.map((c) => (c['nova_object.data'] ?? c) as NumaCell);
  } catch {
    return null;
  }
}

/** InstanceNUMACell.siblings: full groups of `threads` sorted vcpus (none for one thread per core). */
function siblings(cpus: number[], threads: number): number[][] {
  if (threads <= 1) return [];
  const out: number[][] = [];
  for (let i = 0; i + threads <= cpus.length; i += threads) out.push(cpus.slice(i, i + threads));
  return out;
}

/** ServerTopologyController._get_numa_topology over the stored `instance_extra.numa_topology`. */
export function topologyView(stored: string | null | undefined, showHost: boolean): { nodes: Record<string, unknown>[]; pagesize_kb: number | null } {
  const cells = cellsOf(stored);
  if (!cells) return { nodes: [], pagesize_kb: null };
  let pagesize: number | null = null;
  const nodes = cells.map((c) => {
    const cpus = [...(c.cpuset ?? []), ...(c.pcpuset ?? [])].sort((x, y) => x - y);
    const node: Record<string, unknown> = { vcpu_set: cpus, siblings: siblings(cpus, c.cpu_topology?.threads ?? 1), memory_mb: c.memory };
    if (showHost) {
      node['host_node'] = c.id;
      node['cpu_pinning'] = c.cpu_pinning_raw ?? {};
    }
    if (c.pagesize) pagesize = c.pagesize;
    return node;
  });
  return { nodes, pagesize_kb: pagesize };
}

export function registerTopology(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.get('/servers/:id/topology', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    if (!mv(req, '2.78')) throw new ApiError(404, 'The resource could not be found.');
    const id = req.params.id;
    const loc = await mapErrors('topology', id, () => compute.get(req.ctx, id));
    if (!req.ctx.isAdmin && req.ctx.projectId !== loc.instance.project_id) requireAdmin(req, 'compute:server:topology:index');
    const row = loc.cell
      ? await loc.cell.db.db.selectFrom('instance_extra').select(['numa_topology']).where('instance_uuid', '=', id).executeTakeFirst()
      : undefined;
    // compute:server:topology:host:index (admin) shows the host side.
    return topologyView(row?.['numa_topology'] as string | null | undefined, req.ctx.isAdmin);
  });
}
