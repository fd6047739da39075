/**
 * GET /servers/{id}/diagnostics (nova/api/openstack/compute/server_diagnostics.py): admin only.
 * Below 2.48 the hypervisor's free-form statistics (`get_diagnostics`), from 2.48 the
 * standardized fields of nova.objects.diagnostics (`get_instance_diagnostics`), both read from
 * the instance's compute host by an RPC call. 409 when the instance has no host yet or its
 * guest is not running.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, conflict } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { mapErrors, mv, requireAdmin } from './common.js';

/** The view's field order and fields (nova/api/openstack/compute/views/server_diagnostics.py). */
const PRIMITIVE = ['state', 'driver', 'hypervisor', 'hypervisor_os', 'uptime', 'config_drive', 'num_cpus', 'num_nics', 'num_disks'] as const;
const LISTS: Record<string, string[]> = {
  disk_details: ['read_bytes', 'read_requests', 'write_bytes', 'write_requests', 'errors_count'],
  cpu_details: ['id', 'time', 'utilisation'],
  nic_details: ['mac_address', 'rx_octets', 'rx_errors', 'rx_drop', 'rx_packets', 'rx_rate', 'tx_octets', 'tx_errors', 'tx_drop', 'tx_packets', 'tx_rate'],
};

/** ViewBuilder.instance_diagnostics: every field present, unset ones null. */
export function instanceDiagnosticsView(d: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of PRIMITIVE) out[f] = d[f] ?? null;
  for (const [list, fields] of Object.entries(LISTS)) {
    out[list] = ((d[list] ?? []) as Record<string, unknown>[]).map((o) => Object.fromEntries(fields.map((f) => [f, o[f] ?? null])));
  }
  const mem = (d['memory_details'] ?? {}) as Record<string, unknown>;
  out['memory_details'] = { maximum: mem['maximum'] ?? null, used: mem['used'] ?? null };
  return out;
}

export function registerDiagnostics(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.get('/servers/:id/diagnostics', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const id = req.params.id;
    const loc = await mapErrors('get_diagnostics', id, () => compute.get(req.ctx, id));
    requireAdmin(req, 'os_compute_api:os-server-diagnostics');
    // check_instance_host: a server still being scheduled has nobody to ask.
    if (!loc.cell || loc.cell.isCell0 || !loc.instance.host) throw conflict(`Instance ${id} is not ready`, { type: 'InstanceNotReady' });
    const rpc = await compute.computeRpcFor(loc.cell);
    return mapErrors('get_diagnostics', id, async () => {
      try {
        if (mv(req, '2.48')) return instanceDiagnosticsView(await rpc.getInstanceDiagnostics(req.ctx, loc.instance));
        return await rpc.getDiagnostics(req.ctx, loc.instance);
      } catch (e) {
        // the driver cannot (common.raise_feature_not_supported)
        if ((e as { excType?: string }).excType === 'NotImplementedError') {
          throw new ApiError(501, 'The requested functionality is not supported.');
        }
        throw e;
      }
    });
  });
}
