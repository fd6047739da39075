/**
 * /servers/{id}/ips and /servers/{id}/ips/{network_label} (nova/api/openstack/compute/ips.py):
 * the server's addresses by network label, in the basic view (`version`, `addr`).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { mapErrors } from './common.js';
import { addresses } from './views.js';

function basic(all: Record<string, unknown[]>): Record<string, { version: number; addr: string }[]> {
  return Object.fromEntries(Object.entries(all).map(([label, l]) => [label, (l as { version: number; addr: string }[]).map((a) => ({ version: a.version, addr: a.addr }))]));
}

export function registerIps(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.get('/servers/:server_id/ips', async (req: FastifyRequest<{ Params: { server_id: string } }>) => {
    const loc = await mapErrors('index', req.params.server_id, () => compute.get(req.ctx, req.params.server_id));
    return { addresses: basic(addresses(loc.instance)) };
  });
  app.get('/servers/:server_id/ips/:id', async (req: FastifyRequest<{ Params: { server_id: string; id: string } }>) => {
    const loc = await mapErrors('show', req.params.server_id, () => compute.get(req.ctx, req.params.server_id));
    const all = basic(addresses(loc.instance));
    if (!(req.params.id in all)) throw notFound('Instance is not a member of specified network');
    return { [req.params.id]: all[req.params.id] };
  });
}
