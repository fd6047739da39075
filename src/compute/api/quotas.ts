/**
 * Nova's quota resources: /limits, /os-quota-sets and /os-quota-class-sets
 * (nova/api/openstack/compute/{limits,quota_sets,quota_classes}.py), with the fields each
 * microversion drops: network quotas (2.36, quota classes 2.50), personality files (2.57).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../common/errors.js';
import { validateBody, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import * as apiDb from '../db/api-api.js';
import { countUsage, projectLimits, QUOTA_DEFAULTS } from '../quota.js';
import { mv, requireAdmin, requireProject } from './common.js';

/** QUOTAS.resources in Nova's order. */
const RESOURCES = ['instances', 'cores', 'ram', 'floating_ips', 'fixed_ips', 'metadata_items', 'injected_files', 'injected_file_content_bytes',
  'injected_file_path_bytes', 'security_groups', 'security_group_rules', 'key_pairs', 'server_groups', 'server_group_members'];
const NETWORK = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const SERVER_GROUPS = ['server_groups', 'server_group_members'];

const QUOTA_VALUE = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 0x7fffffff };
const BOOLEAN = { type: ['boolean', 'string'], enum: [true, false, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] };

function updateSchema(wrapper: string, keys: string[], extra: Record<string, unknown> = {}) {
  return {
    type: 'object', required: [wrapper], additionalProperties: false,
    properties: { [wrapper]: { type: 'object', additionalProperties: false, properties: { ...Object.fromEntries(keys.map((k) => [k, QUOTA_VALUE])), ...extra } } },
  };
}
const without = (drop: string[]) => RESOURCES.filter((r) => !drop.includes(r));
const QUOTA_SET_UPDATE: VersionedSchema[] = [
  { schema: updateSchema('quota_set', RESOURCES, { force: BOOLEAN }), max: '2.35' },
  { schema: updateSchema('quota_set', without(NETWORK), { force: BOOLEAN }), min: '2.36', max: '2.56' },
  { schema: updateSchema('quota_set', without([...NETWORK, ...INJECTED]), { force: BOOLEAN }), min: '2.57' },
];
const QUOTA_CLASS_UPDATE: VersionedSchema[] = [
  { schema: updateSchema('quota_class_set', RESOURCES), max: '2.49' },
  { schema: updateSchema('quota_class_set', without(NETWORK)), min: '2.50', max: '2.56' },
  { schema: updateSchema('quota_class_set', without([...NETWORK, ...INJECTED])), min: '2.57' },
];
/** Query strings: anything goes until 2.75, then only the documented parameters. */
const queryUntil275 = (properties: Record<string, unknown>): VersionedSchema[] => [
  { schema: { type: 'object', properties, additionalProperties: true }, max: '2.74' },
  { schema: { type: 'object', properties, additionalProperties: false }, min: '2.75' },
];
const USER_QUERY = queryUntil275({ user_id: { type: 'array', items: { type: 'string' } } });
const LIMITS_QUERY = queryUntil275({ tenant_id: { type: 'array', items: { type: 'string' }, maxItems: 1 } });

/** Resources a quota-set document leaves out at this version. */
function quotaSetFiltered(req: FastifyRequest): string[] {
  if (mv(req, '2.57')) return [...NETWORK, ...INJECTED];
  if (mv(req, '2.36')) return NETWORK;
  return [];
}
/** Quota classes: server groups only from 2.50 (bug 1693168), network ones gone at 2.50. */
function quotaClassFiltered(req: FastifyRequest): string[] {
  if (mv(req, '2.57')) return [...NETWORK, ...INJECTED];
  if (mv(req, '2.50')) return NETWORK;
  return SERVER_GROUPS;
}
function format<T>(values: Record<string, T>, filtered: string[], id?: string): Record<string, unknown> {
  const out: Record<string, unknown> = id !== undefined ? { id } : {};
  for (const r of RESOURCES) if (!filtered.includes(r) && r in values) out[r] = values[r];
  return out;
}

export function registerQuotas(app: FastifyInstance, compute: ComputeApiFacade): void {
  const api = compute.api;

  /** What the project uses of each resource (instances/cores/ram counted in the cells). */
  const inUse = async (project: string): Promise<Record<string, number>> => {
    const [u, groups] = await Promise.all([
      countUsage(compute.cells, project),
      api.db.selectFrom('instance_groups').select('id').where('project_id', '=', project).execute(),
    ]);
    return { instances: u.instances, cores: u.cores, ram: u.ram, server_groups: groups.length };
  };
  const withUsage = async (project: string, limits: Record<string, number>) => {
    const used = await inUse(project);
    return Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { limit: v, in_use: used[k] ?? 0, reserved: 0 }]));
  };

  // ---- limits ----
  app.get('/limits', async (req) => {
    const q = validateQuery(req, LIMITS_QUERY);
    let project = requireProject(req);
    if (q['tenant_id']?.[0] !== undefined) {
      requireAdmin(req, 'os_compute_api:limits:other_project');
      project = q['tenant_id'][0];
    }
    const [l, used] = await Promise.all([projectLimits(api, project), inUse(project)]);
    // Filtered quota names, as LimitsController picks them per version.
    const filtered = mv(req, '2.57') ? ['floating_ips', 'security_groups', 'security_group_rules', 'injected_files', 'injected_file_content_bytes']
      : mv(req, '2.36') ? ['floating_ips', 'security_groups', 'security_group_rules'] : [];
    const names: Record<string, string[]> = {
      ram: ['maxTotalRAMSize'], instances: ['maxTotalInstances'], cores: ['maxTotalCores'], key_pairs: ['maxTotalKeypairs'], floating_ips: ['maxTotalFloatingIps'],
      metadata_items: mv(req, '2.39') ? ['maxServerMeta'] : ['maxServerMeta', 'maxImageMeta'], injected_files: ['maxPersonality'],
      injected_file_content_bytes: ['maxPersonalitySize'], security_groups: ['maxSecurityGroups'], security_group_rules: ['maxSecurityGroupRules'],
      server_groups: ['maxServerGroups'], server_group_members: ['maxServerGroupMembers'],
    };
    const absolute: Record<string, number> = {};
    for (const [k, ns] of Object.entries(names)) if (!filtered.includes(k) && l[k] !== undefined) for (const n of ns) absolute[n] = l[k];
    const usedNames: Record<string, string> = {
      totalRAMUsed: 'ram', totalCoresUsed: 'cores', totalInstancesUsed: 'instances', totalFloatingIpsUsed: 'floating_ips',
      totalSecurityGroupsUsed: 'security_groups', totalServerGroupsUsed: 'server_groups',
    };
    for (const [n, k] of Object.entries(usedNames)) if (!filtered.includes(k)) absolute[n] = used[k] ?? 0;
    return { limits: { rate: [], absolute } };
  });

  // ---- quota sets ----
  const mayRead = (req: FastifyRequest, pid: string, rule: string) => {
    if (!req.ctx.isAdmin && req.ctx.projectId !== pid) throw new ApiError(403, `Policy doesn't allow os_compute_api:os-quota-sets:${rule} to be performed.`, { type: 'PolicyNotAuthorized' });
  };
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req) => {
    mayRead(req, req.params.pid, 'show');
    validateQuery(req, USER_QUERY);
    const l = await projectLimits(api, req.params.pid);
    const q = req.query as Record<string, string>;
    // The v2 `usage` flag, still honoured where extra parameters are tolerated.
    if (['True', 'true', '1'].includes(q['usage'] ?? '')) return { quota_set: format(await withUsage(req.params.pid, l), quotaSetFiltered(req), req.params.pid) };
    return { quota_set: format(l, quotaSetFiltered(req), req.params.pid) };
  });
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid/detail', async (req) => {
    mayRead(req, req.params.pid, 'detail');
    validateQuery(req, USER_QUERY);
    const l = await projectLimits(api, req.params.pid);
    return { quota_set: format(await withUsage(req.params.pid, l), quotaSetFiltered(req), req.params.pid) };
  });
  // QUOTAS.get_defaults: the config defaults overridden by the `default` quota class.
  app.get<{ Params: { pid: string } }>('/os-quota-sets/:pid/defaults', async (req) => ({
    quota_set: format({ ...QUOTA_DEFAULTS, ...(await apiDb.quotaGetClass(api, 'default')) }, quotaSetFiltered(req), req.params.pid),
  }));
  app.put<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req) => {
    requireAdmin(req, 'os_compute_api:os-quota-sets:update');
    validateQuery(req, USER_QUERY);
    const body = validateBody<{ quota_set: Record<string, unknown> }>(req, QUOTA_SET_UPDATE);
    const force = ['true', '1', 'on', 'yes', 'y', 't'].includes(String(body.quota_set['force'] ?? 'false').toLowerCase());
    const used = force ? {} : await inUse(req.params.pid);
    const limits: Record<string, number> = {};
    for (const [k, v] of Object.entries(body.quota_set)) {
      if (k === 'force' || v === '' || v === null) continue;
      const value = Number(v);
      // _validate_quota_limit: not below what is in use (unless forced).
      const min = used[k] ?? 0;
      if (!force && value !== -1 && value < min) throw badRequest(`Quota limit ${value} for ${k} must be greater than or equal to already used and reserved ${min}.`);
      limits[k] = value;
    }
    await apiDb.quotaSetProject(api, req.params.pid, limits);
    return { quota_set: format(await projectLimits(api, req.params.pid), quotaSetFiltered(req)) };
  });
  app.delete<{ Params: { pid: string } }>('/os-quota-sets/:pid', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-quota-sets:delete');
    validateQuery(req, USER_QUERY);
    await apiDb.quotaDestroyProject(api, req.params.pid);
    reply.code(202);
    return null;
  });

  // ---- quota classes (admin) ----
  // get_class_quotas: the class's own limits over the config defaults.
  const classLimits = async (name: string) => ({ ...QUOTA_DEFAULTS, ...(await apiDb.quotaGetClass(api, name)) });
  app.get<{ Params: { id: string } }>('/os-quota-class-sets/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-quota-class-sets:show');
    return { quota_class_set: format(await classLimits(req.params.id), quotaClassFiltered(req), req.params.id) };
  });
  app.put<{ Params: { id: string } }>('/os-quota-class-sets/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-quota-class-sets:update');
    const body = validateBody<{ quota_class_set: Record<string, unknown> }>(req, QUOTA_CLASS_UPDATE);
    if (req.params.id.length < 1 || req.params.id.length > 255) throw badRequest('quota_class_name has a length greater than 255 characters.');
    const limits = Object.fromEntries(Object.entries(body.quota_class_set).map(([k, v]) => [k, Number(v)]));
    await apiDb.quotaSetClass(api, req.params.id, limits);
    return { quota_class_set: format(await classLimits(req.params.id), quotaClassFiltered(req)) };
  });
}
