/**
 * The proxy APIs removed at 2.36: /os-security-groups (to Neutron) and /images (to Glance).
 * From 2.36 on they answer 404 like a missing extension.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { bookmarkUrl, baseUrl, mv } from './common.js';

function gone(req: FastifyRequest): void {
  if (mv(req, '2.36')) throw new ApiError(404, 'The resource could not be found.');
}

export type ProxyAction = (req: FastifyRequest<{ Params: { id: string } }>, body: any) => Promise<void>;

/** Registers the proxy routes; returns the server actions they add (dispatched by actions.ts). */
export function registerProxies(app: FastifyInstance, compute: ComputeApiFacade): Map<string, ProxyAction> {
  const proxyActions = new Map<string, ProxyAction>();
  const neutron = () => {
    if (!compute.neutron) throw new ApiError(404, 'The resource could not be found.');
    return compute.neutron.session;
  };
  const uopts = (req: FastifyRequest) => ({ ctx: req.ctx, ...(req.ctx.authToken ? { userToken: req.ctx.authToken } : {}) });
  const sgView = (g: Record<string, any>, names: Map<string, string> = new Map()) => ({
    id: g['id'], name: g['name'], description: g['description'] ?? '', tenant_id: g['tenant_id'] ?? g['project_id'],
    rules: (g['security_group_rules'] ?? []).filter((r: any) => r.direction === 'ingress').map((r: any) => ({
      id: r.id, parent_group_id: g['id'], ip_protocol: r.protocol ?? null, from_port: r.port_range_min ?? null, to_port: r.port_range_max ?? null,
      ip_range: r.remote_ip_prefix ? { cidr: r.remote_ip_prefix } : {},
      group: r.remote_group_id ? { name: names.get(r.remote_group_id) ?? g['name'], tenant_id: g['tenant_id'] ?? g['project_id'] } : {},
    })),
  });
  const sgBody = (req: FastifyRequest) => {
    const b = req.body as { security_group?: { name?: unknown; description?: unknown } } | null;
    const g = b?.security_group;
    if (!g || typeof g !== 'object') throw badRequest('The request body is invalid: security_group is required');
    for (const k of ['name', 'description'] as const) {
      const v = g[k];
      if (v === undefined || v === null) throw badRequest(`Security group ${k} is not a string or unicode`);
      if (typeof v !== 'string') throw badRequest(`Security group ${k} is not a string or unicode`);
      if (v.trim() === '' && k === 'name') throw badRequest(`Security group ${k} cannot be empty.`);
      if (v.length > 255) throw badRequest(`Security group ${k} should not be greater than 255 characters.`);
    }
    return { name: g.name as string, description: g.description as string };
  };
  const getSg = async (req: FastifyRequest, id: string) => {
    const r = await neutron().get<any>('network', `/v2.0/security-groups/${encodeURIComponent(id)}`, { ...uopts(req), okStatuses: [404] });
    if (r.status === 404) throw notFound(`Security group ${id} not found.`, { type: 'SecurityGroupNotFound' });
    return r.body.security_group;
  };
  app.get('/os-security-groups', async (req) => {
    gone(req);
    const all = req.ctx.isAdmin && (req.query as Record<string, string>)['all_tenants'];
    const r = await neutron().get<any>('network', '/v2.0/security-groups', { ...uopts(req), query: all ? {} : { tenant_id: req.ctx.projectId } });
    const names = new Map<string, string>(r.body.security_groups.map((g: any) => [g.id, g.name]));
    return { security_groups: r.body.security_groups.map((g: any) => sgView(g, names)) };
  });
  app.get<{ Params: { id: string } }>('/os-security-groups/:id', async (req) => {
    gone(req);
    return { security_group: sgView(await getSg(req, req.params.id)) };
  });
  app.post('/os-security-groups', async (req) => {
    gone(req);
    const g = sgBody(req);
    const r = await neutron().post<any>('network', '/v2.0/security-groups', { ...uopts(req), body: { security_group: g } });
    return { security_group: sgView(r.body.security_group) };
  });
  app.put<{ Params: { id: string } }>('/os-security-groups/:id', async (req) => {
    gone(req);
    const g = sgBody(req);
    await getSg(req, req.params.id);
    const r = await neutron().put<any>('network', `/v2.0/security-groups/${req.params.id}`, { ...uopts(req), body: { security_group: g } });
    return { security_group: sgView(r.body.security_group) };
  });
  app.delete<{ Params: { id: string } }>('/os-security-groups/:id', async (req, reply) => {
    gone(req);
    await getSg(req, req.params.id);
    try {
      await neutron().delete('network', `/v2.0/security-groups/${req.params.id}`, uopts(req));
    } catch (e) {
      // Neutron's 409 (default group, group in use) is nova's 400 Invalid.
      if ((e as ApiError).status === 409) throw badRequest((e as Error).message);
      throw e;
    }
    reply.code(202);
    return null;
  });
  // DELETE /os-security-groups/ (no id) is a missing resource in nova, not a bad method.
  app.delete('/os-security-groups', async (req) => {
    gone(req);
    throw new ApiError(404, 'The resource could not be found.');
  });
  app.get<{ Params: { id: string } }>('/servers/:id/os-security-groups', async (req) => {
    gone(req);
    await compute.get(req.ctx, req.params.id);
    const ports = (await neutron().get<any>('network', '/v2.0/ports', { ctx: req.ctx, query: { device_id: req.params.id } })).body.ports as any[];
    const ids = [...new Set(ports.flatMap((p) => p.security_groups ?? []))];
    if (!ids.length) return { security_groups: [] };
    const groups = (await neutron().get<any>('network', '/v2.0/security-groups', { ctx: req.ctx, query: { id: ids } })).body.security_groups as any[];
    return { security_groups: groups.map((g) => sgView(g)) };
  });
  /** addSecurityGroup / removeSecurityGroup: change the groups of every port of the server. */
  proxyActions.set('addSecurityGroup', (req, body) => changeServerGroups(req, body, true));
  proxyActions.set('removeSecurityGroup', (req, body) => changeServerGroups(req, body, false));
  const changeServerGroups = async (req: FastifyRequest<{ Params: { id: string } }>, body: any, add: boolean) => {
    gone(req);
    const name = body?.name;
    if (typeof name !== 'string' || !name.trim()) throw badRequest('Security group name cannot be empty');
    const loc = await compute.get(req.ctx, req.params.id);
    const ids = await compute.neutron!.securityGroupIds(req.ctx, loc.instance.project_id, [name]).catch((e) => {
      if ((e as ApiError).status === 400) throw notFound(`Security group ${name} not found for project ${loc.instance.project_id}.`);
      throw e;
    });
    const ports = (await neutron().get<any>('network', '/v2.0/ports', { ctx: req.ctx, query: { device_id: req.params.id } })).body.ports as any[];
    if (!ports.length) throw badRequest(`Server ${req.params.id} has no ports`);
    for (const p of ports) {
      const cur: string[] = p.security_groups ?? [];
      if (!add && !cur.includes(ids[0]!)) throw badRequest(`Security group ${name} not associated with the instance ${req.params.id}`);
      const next = add ? [...new Set([...cur, ids[0]!])] : cur.filter((x) => x !== ids[0]);
      await neutron().put('network', `/v2.0/ports/${p.id}`, { ctx: req.ctx, body: { port: { security_groups: next } } });
    }
  };

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
  return proxyActions;
}
