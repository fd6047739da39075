/**
 * /os-server-groups (affinity, anti-affinity, soft variants; 2.64 policy + rules) and /os-aggregates (admin; with
 * availability zones; every change is fanned out to the schedulers as `update_aggregates`;
 * 2.81 image pre-caching on an aggregate's hosts).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { SchedulerAPI } from '../../scheduler/rpcapi.js';
import type { ComputeApiFacade } from '../api.js';
import { nowIso } from '../db/schema-helpers.js';
import { projectLimits } from '../quota.js';
import { mv, requireAdmin, requireProject } from './common.js';

const POLICIES = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'];
const groupCreate = (props: Record<string, unknown>, required: string[]) => ({
  type: 'object', required: ['server_group'], additionalProperties: false,
  properties: { server_group: { type: 'object', required, additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' }, ...props } } },
});
const policiesOf = (allowed: string[]) => ({ type: 'array', minItems: 1, maxItems: 1, uniqueItems: true, items: { type: 'string', enum: allowed } });
/** Per microversion: `policies` (two, then four from 2.15); `policy` + `rules` from 2.64. */
const GROUP_CREATE: VersionedSchema[] = [
  { schema: groupCreate({ policies: policiesOf(POLICIES.slice(0, 2)) }, ['name', 'policies']), max: '2.14' },
  { schema: groupCreate({ policies: policiesOf(POLICIES) }, ['name', 'policies']), min: '2.15', max: '2.63' },
  {
    schema: groupCreate({
      policy: { type: 'string', enum: POLICIES },
      rules: { type: 'object', additionalProperties: false, properties: { max_server_per_host: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, maximum: 0x7fffffff } } },
    }, ['name', 'policy']),
    min: '2.64',
  },
];
const AGGREGATE_IMAGES = {
  type: 'object', required: ['cache'], additionalProperties: false,
  properties: { cache: { type: 'array', minItems: 1, items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', format: 'uuid' } } } } },
};
const nonNegative = { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } };
const groupIndexProps = { all_projects: { type: 'array', items: { type: 'string' } }, limit: nonNegative, offset: nonNegative };
const GROUP_INDEX_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', properties: groupIndexProps, additionalProperties: true }, max: '2.74' },
  { schema: { type: 'object', properties: groupIndexProps, additionalProperties: false }, min: '2.75' },
];

function usec(s: string | null | undefined): string | null {
  return s ? s.replace('Z', '').replace(/\.(\d{3})$/, '.$1000') : null;
}

export function registerGroupsAndAggregates(app: FastifyInstance, compute: ComputeApiFacade, scheduler: SchedulerAPI | null): void {
  const db = compute.api.db;

  // ---------------- server groups ----------------
  /** _get_not_deleted: members still alive (in a build request, or not deleted in their cell). */
  const liveMembers = async (uuids: string[]): Promise<Set<string>> => {
    const live = new Set<string>();
    if (uuids.length === 0) return live;
    const maps = await db.selectFrom('instance_mappings').select(['instance_uuid', 'cell_id']).where('instance_uuid', 'in', uuids).execute();
    const byCell = new Map<number, string[]>();
    for (const m of maps) {
      if (m['cell_id'] === null || m['cell_id'] === undefined) live.add(m['instance_uuid']);
      else byCell.set(m['cell_id'], [...(byCell.get(m['cell_id']) ?? []), m['instance_uuid']]);
    }
    for (const [cellId, ids] of byCell) {
      const cell = await compute.cells.byId(cellId).catch(() => null);
      if (!cell) continue;
      for (const r of await cell.db.db.selectFrom('instances').select('uuid').where('uuid', 'in', ids).where('deleted', '=', 0).execute()) live.add(r['uuid']);
    }
    return live;
  };
  const groupView = async (req: FastifyRequest, g: Record<string, any>, live?: Set<string>) => {
    const pol = await db.selectFrom('instance_group_policy').selectAll().where('group_id', '=', g['id']).executeTakeFirst();
    const all = (await db.selectFrom('instance_group_member').select('instance_uuid').where('group_id', '=', g['id']).orderBy('id').execute()).map((m) => m['instance_uuid'] as string);
    const alive = live ?? (await liveMembers(all));
    const v: Record<string, unknown> = { id: g['uuid'], name: g['name'] };
    if (mv(req, '2.64')) {
      // InstanceGroup.rules: only max_server_per_host, as an integer.
      const raw = pol?.['rules'] ? JSON.parse(pol['rules']) as Record<string, unknown> : {};
      Object.assign(v, { policy: pol?.['policy'] ?? null, rules: raw['max_server_per_host'] !== undefined ? { max_server_per_host: Number(raw['max_server_per_host']) } : {} });
    } else {
      Object.assign(v, { policies: pol ? [pol['policy']] : [], metadata: {} });
    }
    v['members'] = all.filter((u) => alive.has(u));
    if (mv(req, '2.13')) Object.assign(v, { project_id: g['project_id'], user_id: g['user_id'] });
    return v;
  };
  const getGroup = async (req: FastifyRequest, id: string) => {
    const g = await db.selectFrom('instance_groups').selectAll().where('uuid', '=', id).executeTakeFirst();
    if (!g || (!req.ctx.isAdmin && g['project_id'] !== req.ctx.projectId)) throw notFound(`Instance group ${id} could not be found.`, { type: 'InstanceGroupNotFound' });
    return g;
  };
  app.get('/os-server-groups', async (req) => {
    const q = validateQuery(req, GROUP_INDEX_QUERY);
    const all = req.ctx.isAdmin && q['all_projects'] !== undefined;
    let sel = db.selectFrom('instance_groups').selectAll();
    if (!all) sel = sel.where('project_id', '=', req.ctx.projectId ?? '');
    let rows = await sel.orderBy('id').execute();
    // common.limited: offset, then at most limit (capped by max_limit).
    const offset = Number(q['offset']?.[0] ?? 0);
    const limit = Math.min(1000, Number(q['limit']?.[0] ?? 1000));
    rows = rows.slice(offset, offset + limit);
    const members = (await db.selectFrom('instance_group_member').select('instance_uuid').execute()).map((m) => m['instance_uuid'] as string);
    const live = await liveMembers(members);
    return { server_groups: await Promise.all(rows.map((g) => groupView(req, g, live))) };
  });
  app.get<{ Params: { id: string } }>('/os-server-groups/:id', async (req) => ({ server_group: await groupView(req, await getGroup(req, req.params.id)) }));
  app.post('/os-server-groups', async (req) => {
    const body = validateBody<{ server_group: { name: string; policies?: string[]; policy?: string; rules?: Record<string, unknown> } }>(req, GROUP_CREATE);
    const project = requireProject(req);
    const limits = await projectLimits(compute.api, project);
    const used = (await db.selectFrom('instance_groups').select('id').where('project_id', '=', project).execute()).length;
    if (limits['server_groups']! >= 0 && used + 1 > limits['server_groups']!) {
      throw new ApiError(403, `Quota exceeded, too many server groups.`, { type: 'OverQuota' });
    }
    let policy: string;
    let rules: Record<string, unknown> = {};
    if (mv(req, '2.64')) {
      policy = body.server_group.policy!;
      rules = body.server_group.rules ?? {};
      if (policy !== 'anti-affinity' && Object.keys(rules).length) throw badRequest('Only anti-affinity policy supports rules.');
    } else policy = body.server_group.policies![0]!;
    const uuid = randomUUID();
    const now = nowIso();
    await compute.api.transaction(async (trx) => {
      await trx.insertInto('instance_groups').values({ uuid, name: body.server_group.name, user_id: req.ctx.userId, project_id: project, created_at: now }).execute();
      const g = await trx.selectFrom('instance_groups').select('id').where('uuid', '=', uuid).executeTakeFirstOrThrow();
      // Stored as InstanceGroup._rules (a dict of strings).
      const stored = Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, String(v)]));
      await trx.insertInto('instance_group_policy').values({ policy, rules: JSON.stringify(stored), group_id: g['id'], created_at: now }).execute();
    });
    return { server_group: await groupView(req, await getGroup(req, uuid)) };
  });
  app.delete<{ Params: { id: string } }>('/os-server-groups/:id', async (req, reply) => {
    const g = await getGroup(req, req.params.id);
    await compute.api.transaction(async (trx) => {
      await trx.deleteFrom('instance_group_member').where('group_id', '=', g['id']).execute();
      await trx.deleteFrom('instance_group_policy').where('group_id', '=', g['id']).execute();
      await trx.deleteFrom('instance_groups').where('id', '=', g['id']).execute();
    });
    reply.code(204);
    return reply.send();
  });

  // ---------------- aggregates ----------------
  const aggView = async (req: FastifyRequest, a: Record<string, any>) => {
    const hosts = (await db.selectFrom('aggregate_hosts').select('host').where('aggregate_id', '=', a['id']).orderBy('id').execute()).map((h) => h['host']);
    const metadata = Object.fromEntries((await db.selectFrom('aggregate_metadata').select(['key', 'value']).where('aggregate_id', '=', a['id']).execute()).map((m) => [m['key'], m['value']]));
    const v: Record<string, unknown> = {
      availability_zone: metadata['availability_zone'] ?? null, created_at: usec(a['created_at']), deleted: false, deleted_at: null,
      hosts, id: a['id'], metadata, name: a['name'], updated_at: usec(a['updated_at']),
    };
    if (mv(req, '2.41')) v['uuid'] = a['uuid'];
    return v;
  };
  const getAgg = async (id: string) => {
    const a = /^\d+$/.test(id) ? await db.selectFrom('aggregates').selectAll().where('id', '=', Number(id)).executeTakeFirst() : undefined;
    if (!a) throw notFound(`Aggregate ${id} could not be found.`, { type: 'AggregateNotFound' });
    return a;
  };
  const fanout = async (req: FastifyRequest, a: Record<string, any>) => {
    await scheduler?.updateAggregates(req.ctx, [await aggView(req, a)]).catch(() => undefined);
  };
  const setMeta = async (aggId: number, md: Record<string, string | null>) => {
    await compute.api.transaction(async (trx) => {
      for (const [key, value] of Object.entries(md)) {
        await trx.deleteFrom('aggregate_metadata').where('aggregate_id', '=', aggId).where('key', '=', key).execute();
        if (value !== null) await trx.insertInto('aggregate_metadata').values({ aggregate_id: aggId, key, value: String(value), created_at: nowIso() }).execute();
      }
      await trx.updateTable('aggregates').set({ updated_at: nowIso() }).where('id', '=', aggId).execute();
    });
  };
  app.get('/os-aggregates', async (req) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:index');
    const rows = await db.selectFrom('aggregates').selectAll().orderBy('id').execute();
    return { aggregates: await Promise.all(rows.map((a) => aggView(req, a))) };
  });
  app.post('/os-aggregates', async (req) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:create');
    const body = validateBody<{ aggregate: { name: string; availability_zone?: string | null } }>(req, {
      type: 'object', required: ['aggregate'], additionalProperties: false,
      properties: { aggregate: { type: 'object', required: ['name'], additionalProperties: false, properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' }, availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
      } } },
    });
    if (await db.selectFrom('aggregates').select('id').where('name', '=', body.aggregate.name).executeTakeFirst()) {
      throw conflict(`Aggregate ${body.aggregate.name} already exists.`, { type: 'AggregateNameExists' });
    }
    await db.insertInto('aggregates').values({ uuid: randomUUID(), name: body.aggregate.name, created_at: nowIso() }).execute();
    const a = (await db.selectFrom('aggregates').selectAll().where('name', '=', body.aggregate.name).executeTakeFirst())!;
    if (body.aggregate.availability_zone) await setMeta(a['id'], { availability_zone: body.aggregate.availability_zone });
    await fanout(req, a);
    const v = await aggView(req, a);
    delete v['hosts'];
    delete v['metadata'];
    return { aggregate: v };
  });
  app.get<{ Params: { id: string } }>('/os-aggregates/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:show');
    return { aggregate: await aggView(req, await getAgg(req.params.id)) };
  });
  app.put<{ Params: { id: string } }>('/os-aggregates/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:update');
    const body = validateBody<{ aggregate: { name?: string; availability_zone?: string | null } }>(req, {
      type: 'object', required: ['aggregate'], additionalProperties: false,
      properties: { aggregate: { type: 'object', minProperties: 1, additionalProperties: false, properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' }, availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
      } } },
    });
    const a = await getAgg(req.params.id);
    if (body.aggregate.name) await db.updateTable('aggregates').set({ name: body.aggregate.name, updated_at: nowIso() }).where('id', '=', a['id']).execute();
    if (body.aggregate.availability_zone !== undefined) await setMeta(a['id'], { availability_zone: body.aggregate.availability_zone });
    const fresh = await getAgg(req.params.id);
    await fanout(req, fresh);
    return { aggregate: await aggView(req, fresh) };
  });
  app.delete<{ Params: { id: string } }>('/os-aggregates/:id', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:delete');
    const a = await getAgg(req.params.id);
    const hosts = await db.selectFrom('aggregate_hosts').select('id').where('aggregate_id', '=', a['id']).execute();
    if (hosts.length) throw badRequest(`Cannot remove aggregate ${a['id']} with hosts.`, { type: 'InvalidAggregateActionDelete' });
    await compute.api.transaction(async (trx) => {
      await trx.deleteFrom('aggregate_metadata').where('aggregate_id', '=', a['id']).execute();
      await trx.deleteFrom('aggregates').where('id', '=', a['id']).execute();
    });
    await scheduler?.deleteAggregate(req.ctx, { id: a['id'] }).catch(() => undefined);
    reply.code(200);
    return reply.send();
  });
  // 2.81: pre-cache images on the aggregate's hosts (conductor cache_images -> each compute).
  app.post<{ Params: { id: string } }>('/os-aggregates/:id/images', async (req, reply) => {
    if (!mv(req, '2.81')) throw notFound('The resource could not be found.');
    const body = validateBody<{ cache: { id: string }[] }>(req, AGGREGATE_IMAGES);
    requireAdmin(req, 'compute:aggregates:images');
    if (!/^-?\d+$/.test(req.params.id)) throw badRequest(`Invalid input for id. Value: ${req.params.id}. Value must be an integer`);
    const ids = body.cache.map((c) => c.id);
    if (new Set(ids).size !== ids.length) throw badRequest('Duplicate images in request');
    const a = await getAgg(req.params.id);
    // conductor api.cache_images: every image must exist before any host is asked.
    for (const id of ids) {
      if (compute.glance && !(await compute.glance.show(req.ctx, id))) throw badRequest(`Image ${id} could not be found.`, { type: 'ImageNotFound' });
    }
    const hosts = (await db.selectFrom('aggregate_hosts').select('host').where('aggregate_id', '=', a['id']).orderBy('id').execute()).map((h) => h['host'] as string);
    await compute.computeTasks.cacheImages(req.ctx, { id: a['id'], name: a['name'], hosts }, ids);
    reply.code(202);
    return null;
  });
  app.post<{ Params: { id: string } }>('/os-aggregates/:id/action', async (req) => {
    requireAdmin(req, 'os_compute_api:os-aggregates:add_host');
    const body = req.body as Record<string, any>;
    const a = await getAgg(req.params.id);
    const name = Object.keys(body ?? {})[0];
    if (name === 'add_host' || name === 'remove_host') {
      const host = body[name]?.host;
      if (typeof host !== 'string' || !host) throw badRequest("Invalid input for field/attribute host. Value: None. None is not of type 'string'");
      const known = (await compute.cells.computeCells()).length
        ? (await Promise.all((await compute.cells.computeCells()).map((c) => c.db.db.selectFrom('services').select('host').where('host', '=', host).where('binary', '=', 'nova-compute').executeTakeFirst()))).some(Boolean)
        : false;
      if (!known) throw notFound(`Compute host ${host} could not be found.`, { type: 'ComputeHostNotFound' });
      const cur = await db.selectFrom('aggregate_hosts').select('id').where('aggregate_id', '=', a['id']).where('host', '=', host).executeTakeFirst();
      if (name === 'add_host') {
        if (cur) throw conflict(`Aggregate ${a['id']} already has host ${host}.`, { type: 'AggregateHostExists' });
        await db.insertInto('aggregate_hosts').values({ aggregate_id: a['id'], host, created_at: nowIso() }).execute();
      } else {
        if (!cur) throw notFound(`Cannot remove host ${host} in aggregate ${a['id']}`, { type: 'AggregateHostNotFound' });
        await db.deleteFrom('aggregate_hosts').where('id', '=', cur['id']).execute();
      }
    } else if (name === 'set_metadata') {
      const md = body[name]?.metadata;
      if (!md || typeof md !== 'object') throw badRequest('Invalid metadata');
      await setMeta(a['id'], md);
    } else throw badRequest(`There is no such action: ${name ?? ''}`);
    const fresh = await getAgg(req.params.id);
    await fanout(req, fresh);
    return { aggregate: await aggView(req, fresh) };
  });
}
