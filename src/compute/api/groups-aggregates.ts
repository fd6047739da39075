/**
 * /os-server-groups (affinity, anti-affinity, soft variants) and /os-aggregates (admin; with
 * availability zones; every change is fanned out to the schedulers as `update_aggregates`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { SchedulerAPI } from '../../scheduler/rpcapi.js';
import type { ComputeApiFacade } from '../api.js';
import { nowIso } from '../db/schema-helpers.js';
import { projectLimits } from '../quota.js';
import { mv, requireAdmin, requireProject } from './common.js';

const POLICIES = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'];

function usec(s: string | null | undefined): string | null {
  return s ? s.replace('Z', '').replace(/\.(\d{3})$/, '.$1000') : null;
}

export function registerGroupsAndAggregates(app: FastifyInstance, compute: ComputeApiFacade, scheduler: SchedulerAPI | null): void {
  const db = compute.api.db;

  // ---------------- server groups ----------------
  const groupView = async (req: FastifyRequest, g: Record<string, any>) => {
    const pol = await db.selectFrom('instance_group_policy').selectAll().where('group_id', '=', g['id']).executeTakeFirst();
    const members = (await db.selectFrom('instance_group_member').select('instance_uuid').where('group_id', '=', g['id']).execute()).map((m) => m['instance_uuid']);
    const v: Record<string, unknown> = { id: g['uuid'], name: g['name'], members, metadata: {}, policies: pol ? [pol['policy']] : [] };
    if (mv(req, '2.13')) Object.assign(v, { project_id: g['project_id'], user_id: g['user_id'] });
    return v;
  };
  const getGroup = async (req: FastifyRequest, id: string) => {
    const g = await db.selectFrom('instance_groups').selectAll().where('uuid', '=', id).executeTakeFirst();
    if (!g || (!req.ctx.isAdmin && g['project_id'] !== req.ctx.projectId)) throw notFound(`Instance group ${id} could not be found.`, { type: 'InstanceGroupNotFound' });
    return g;
  };
  app.get('/os-server-groups', async (req) => {
    const all = req.ctx.isAdmin && (req.query as Record<string, string>)['all_projects'] !== undefined;
    let q = db.selectFrom('instance_groups').selectAll();
    if (!all) q = q.where('project_id', '=', req.ctx.projectId ?? '');
    const rows = await q.orderBy('id').execute();
    return { server_groups: await Promise.all(rows.map((g) => groupView(req, g))) };
  });
  app.get<{ Params: { id: string } }>('/os-server-groups/:id', async (req) => ({ server_group: await groupView(req, await getGroup(req, req.params.id)) }));
  app.post('/os-server-groups', async (req) => {
    const project = requireProject(req);
    const body = validateBody<{ server_group: { name: string; policies: string[] } }>(req, {
      type: 'object', required: ['server_group'], additionalProperties: false,
      properties: { server_group: { type: 'object', required: ['name', 'policies'], additionalProperties: false, properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' },
        policies: { type: 'array', minItems: 1, maxItems: 1, uniqueItems: true, items: { type: 'string', enum: mv(req, '2.15') ? POLICIES : POLICIES.slice(0, 2) } },
      } } },
    });
    const limits = await projectLimits(compute.api, project);
    const used = (await db.selectFrom('instance_groups').select('id').where('project_id', '=', project).execute()).length;
    if (limits['server_groups']! >= 0 && used + 1 > limits['server_groups']!) {
      throw new ApiError(403, `Quota exceeded, too many server groups.`, { type: 'OverQuota' });
    }
    const uuid = randomUUID();
    const now = nowIso();
    await compute.api.transaction(async (trx) => {
      await trx.insertInto('instance_groups').values({ uuid, name: body.server_group.name, user_id: req.ctx.userId, project_id: project, created_at: now }).execute();
      const g = await trx.selectFrom('instance_groups').select('id').where('uuid', '=', uuid).executeTakeFirstOrThrow();
      await trx.insertInto('instance_group_policy').values({ policy: body.server_group.policies[0], rules: '{}', group_id: g['id'], created_at: now }).execute();
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
