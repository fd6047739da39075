/**
 * Nova's quota resources: /limits and /os-quota-sets.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import * as apiDb from '../db/api-api.js';
import { countUsage, projectLimits, QUOTA_DEFAULTS } from '../quota.js';
import { mv, requireAdmin, requireProject } from './common.js';

export function registerQuotas(app: FastifyInstance, compute: ComputeApiFacade): void {
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
}
