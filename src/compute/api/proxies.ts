/**
 * The proxy APIs removed at 2.36: /os-security-groups (to Neutron) and /images (to Glance).
 * From 2.36 on they answer 404 like a missing extension.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { bookmarkUrl, baseUrl, mv } from './common.js';

function gone(req: FastifyRequest): void {
  if (mv(req, '2.36')) throw new ApiError(404, 'The resource could not be found.');
}

export function registerProxies(app: FastifyInstance, compute: ComputeApiFacade): void {
  const sgView = (g: Record<string, any>) => ({
    id: g['id'], name: g['name'], description: g['description'] ?? '', tenant_id: g['tenant_id'] ?? g['project_id'],
    rules: (g['security_group_rules'] ?? []).filter((r: any) => r.direction === 'ingress').map((r: any) => ({
      id: r.id, parent_group_id: g['id'], ip_protocol: r.protocol ?? null, from_port: r.port_range_min ?? -1, to_port: r.port_range_max ?? -1,
      ip_range: r.remote_ip_prefix ? { cidr: r.remote_ip_prefix } : {}, group: r.remote_group_id ? { name: r.remote_group_id, tenant_id: g['tenant_id'] } : {},
    })),
  });
  app.get('/os-security-groups', async (req) => {
    gone(req);
    if (!compute.neutron) return { security_groups: [] };
    const r = await compute.neutron.session.get<any>('network', '/v2.0/security-groups', { ctx: req.ctx, userToken: req.ctx.authToken, query: req.ctx.isAdmin && (req.query as any)['all_tenants'] ? {} : { tenant_id: req.ctx.projectId } });
    return { security_groups: r.body.security_groups.map(sgView) };
  });
  app.get<{ Params: { id: string } }>('/os-security-groups/:id', async (req) => {
    gone(req);
    if (!compute.neutron) throw notFound(`Security group ${req.params.id} not found.`);
    const r = await compute.neutron.session.get<any>('network', `/v2.0/security-groups/${req.params.id}`, { ctx: req.ctx, userToken: req.ctx.authToken, okStatuses: [404] });
    if (r.status === 404) throw notFound(`Security group ${req.params.id} not found.`);
    return { security_group: sgView(r.body.security_group) };
  });

  const imgView = (req: FastifyRequest, i: Record<string, any>, detail: boolean) => {
    const links = [
      { rel: 'self', href: `${baseUrl(req)}/images/${i['id']}` },
      { rel: 'bookmark', href: `${bookmarkUrl(req)}/images/${i['id']}` },
    ];
    if (!detail) return { id: i['id'], name: i['name'], links };
    const status = ({ active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', deleted: 'DELETED', killed: 'ERROR', pending_delete: 'DELETED', deactivated: 'ERROR' } as Record<string, string>)[i['status']] ?? 'UNKNOWN';
    const metadata: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(i)) if (!['id', 'name', 'status', 'created_at', 'updated_at', 'min_disk', 'min_ram', 'size', 'checksum', 'visibility', 'protected', 'tags', 'file', 'schema', 'self', 'owner', 'disk_format', 'container_format', 'os_hash_algo', 'os_hash_value', 'virtual_size', 'os_hidden', 'locations', 'direct_url', 'stores'].includes(k)) metadata[k] = v;
    return {
      id: i['id'], name: i['name'], status, progress: status === 'ACTIVE' ? 100 : 25, minDisk: i['min_disk'] ?? 0, minRam: i['min_ram'] ?? 0,
      created: i['created_at'], updated: i['updated_at'], metadata, links, 'OS-EXT-IMG-SIZE:size': i['size'] ?? null,
      ...(i['instance_uuid'] ? { server: { id: i['instance_uuid'], links: [] } } : {}),
    };
  };
  app.get('/images', async (req) => { gone(req); return { images: (await compute.glance?.list(req.ctx) ?? []).map((i) => imgView(req, i, false)) }; });
  app.get('/images/detail', async (req) => { gone(req); return { images: (await compute.glance?.list(req.ctx) ?? []).map((i) => imgView(req, i, true)) }; });
  app.get<{ Params: { id: string } }>('/images/:id', async (req) => {
    gone(req);
    const i = await compute.glance?.show(req.ctx, req.params.id);
    if (!i) throw notFound('Image not found.');
    return { image: imgView(req, i, true) };
  });
  app.delete<{ Params: { id: string } }>('/images/:id', async (req, reply) => {
    gone(req);
    const i = await compute.glance?.show(req.ctx, req.params.id);
    if (!i) throw notFound('Image not found.');
    await compute.glance!.delete(req.ctx, req.params.id);
    reply.code(204);
    return reply.send();
  });
}
