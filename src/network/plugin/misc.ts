/**
 * The small service pieces: quotas (quotasv2 + quota-details), tags (standard-attr-tag),
 * RBAC policies for networks, availability zones, and the agents table as operators see it.
 * @module
 */
import type { Transaction } from 'kysely';
import type { RequestContext } from '../../common/context.js';
import * as X from '../common/exceptions.js';
import { isSet, type Body, type Dict, type ListResult, type NeutronPlugin, applyFilters } from './core.js';
import { b, emptyList, fromJson, i, isDuplicateKey, now, paginate, RetryRequest, uuid, type ListOptions } from './dbutil.js';
import { isUuid } from '../api/validators.js';
import { Q } from '../db/queries.js';
import { arg, prepared, type PreparedQuery } from '../db/prepared.js';

/** Table (and project column) counted for each quota resource. */
const QUOTA_TABLES: Record<string, string> = {
  network: 'networks', subnet: 'subnets', subnetpool: 'subnetpools', port: 'ports', router: 'routers',
  floatingip: 'floatingips', security_group: 'securitygroups', security_group_rule: 'securitygrouprules', rbac_policy: 'rbac_policies',
};

/** Resources whose usage is kept in quotausages rather than counted per create (see README). */
const TRACKED = new Set(['port']);

const usageQueries = new Map<string, PreparedQuery<{ n: number | string }>>();
function usageQuery(table: string): PreparedQuery<{ n: number | string }> {
  let q = usageQueries.get(table);
  if (!q) {
    usageQueries.set(table, (q = prepared((db) => db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', arg(0)))));
  }
  return q;
}

export class Quotas {
  constructor(private readonly p: NeutronPlugin) {
    p.checkQuota = (trx, projectId, resource, delta = 1) => this.check(trx, projectId, resource, delta);
  }

  async limits(projectId: string, trx?: Transaction<any>): Promise<Record<string, number>> {
    const out = { ...this.p.cfg.quotas };
    for (const r of await Q.quotaLimits.rows(trx ?? this.p.db, projectId)) out[r.resource] = Number(r.limit);
    return out;
  }

  async usage(projectId: string, resource: string, trx?: Transaction<any>): Promise<number> {
    const table = QUOTA_TABLES[resource];
    if (!table) return 0;
    const r = await usageQuery(table).first(trx ?? this.p.db, projectId);
    return Number(r?.n ?? 0);
  }

  async check(trx: Transaction<any>, projectId: string, resource: string, delta: number): Promise<void> {
    if (!projectId) return;
    const limit = (await this.limits(projectId, trx))[resource];
    const enforced = limit !== undefined && limit >= 0;
    if (TRACKED.has(resource)) {
      // an unenforced quota keeps no counter: whoever enforces one later counts first
      if (!enforced) await Q.usageMarkDirty.execute(trx, projectId, resource);
      else if (await this.trackedUsage(trx, projectId, resource, delta) > limit) throw X.OverQuota(resource);
      return;
    }
    if (!enforced) return;
    const used = await this.usage(projectId, resource, trx);
    if (used + delta > limit) throw X.OverQuota(resource);
  }

  /**
   * Usage after adding `delta`, from the quotausages counter (Neutron's tracked resources), so a
   * create costs the same with 10 or 10,000 ports in the project. A missing or dirty counter is
   * counted again. The caller's transaction undoes the addition when it fails (OverQuota too).
   */
  private async trackedUsage(trx: Transaction<any>, projectId: string, resource: string, delta: number): Promise<number> {
    const res = await Q.usageAdd.execute(trx, delta, projectId, resource);
    if (Number(res.numAffectedRows ?? 0) === 1) return Number((await Q.usageRow.first(trx, projectId, resource))!.in_use);
    const used = (await this.usage(projectId, resource, trx)) + delta;
    await Q.usageDelete.execute(trx, projectId, resource);
    try {
      await Q.usageInsert.execute(trx, projectId, resource, used);
    } catch (e) {
      // another transaction counted first: start over and add to its counter
      if (isDuplicateKey(e)) throw new RetryRequest('quota usage race');
      throw e;
    }
    return used;
  }

  private authorize(ctx: RequestContext, projectId: string): void {
    if (!ctx.isAdmin && ctx.projectId !== projectId) throw X.AdminRequired('Only admin can view or configure quota');
  }

  async show(ctx: RequestContext, projectId: string): Promise<Dict> {
    this.authorize(ctx, projectId);
    return this.limits(projectId);
  }

  async details(ctx: RequestContext, projectId: string): Promise<Dict> {
    this.authorize(ctx, projectId);
    const limits = await this.limits(projectId);
    const out: Dict = {};
    for (const [res, limit] of Object.entries(limits)) out[res] = { limit, used: await this.usage(projectId, res), reserved: 0 };
    return out;
  }

  defaults(): Dict {
    return { ...this.p.cfg.quotas };
  }

  async listAll(ctx: RequestContext): Promise<Dict[]> {
    if (!ctx.isAdmin) throw X.AdminRequired('Only admin can view or configure quota');
    const rows = await this.p.db.selectFrom('quotas').select('project_id').distinct().execute();
    const out: Dict[] = [];
    for (const r of rows) out.push({ ...(await this.limits(r.project_id)), project_id: r.project_id, tenant_id: r.project_id });
    return out;
  }

  async update(ctx: RequestContext, projectId: string, body: Dict): Promise<Dict> {
    if (!ctx.isAdmin) throw X.AdminRequired('Only admin can view or configure quota');
    for (const [res, val] of Object.entries(body)) {
      if (!(res in this.p.cfg.quotas)) throw X.InvalidInput(`Unrecognized attribute(s) '${res}'`);
      const n = typeof val === 'number' ? val : typeof val === 'string' && /^-?\d+$/.test(val) ? Number(val) : NaN;
      if (!Number.isInteger(n) || n < -1) throw X.InvalidInput(`'${String(val)}' should be an integer greater than or equal to -1`);
      await this.p.db.deleteFrom('quotas').where('project_id', '=', projectId).where('resource', '=', res).execute();
      await this.p.db.insertInto('quotas').values({ project_id: projectId, resource: res, limit: n }).execute();
    }
    return this.limits(projectId);
  }

  async reset(ctx: RequestContext, projectId: string): Promise<void> {
    if (!ctx.isAdmin) throw X.AdminRequired('Only admin can view or configure quota');
    await this.p.db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
  }
}

/** Collections that carry tags, and how to check the caller may see one. */
export class Tags {
  constructor(private readonly p: NeutronPlugin, private readonly getters: Record<string, (ctx: RequestContext, id: string) => Promise<Dict>>) {}

  private async check(ctx: RequestContext, collection: string, id: string): Promise<void> {
    const get = this.getters[collection];
    if (!get) throw X.HTTPNotFound();
    const res = await get(ctx, id);
    if (!ctx.isAdmin && res['project_id'] && res['project_id'] !== ctx.projectId) throw X.PolicyNotAuthorized(`update_${collection}_tags`);
  }

  private validate(tag: unknown): string {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 60 || tag.includes(',')) {
      throw X.HTTPBadRequest(`Invalid input for tags. Reason: '${String(tag)}' is not a valid tag.`);
    }
    return tag;
  }

  async get(ctx: RequestContext, collection: string, id: string): Promise<string[]> {
    const get = this.getters[collection];
    if (!get) throw X.HTTPNotFound();
    await get(ctx, id);
    return (await this.p.loadTags(collection, [id])).get(id) ?? [];
  }

  async has(ctx: RequestContext, collection: string, id: string, tag: string): Promise<void> {
    const tags = await this.get(ctx, collection, id);
    if (!tags.includes(tag)) throw X.TagNotFound(collection, id, tag);
  }

  async replace(ctx: RequestContext, collection: string, id: string, tags: unknown): Promise<string[]> {
    await this.check(ctx, collection, id);
    if (!Array.isArray(tags)) throw X.HTTPBadRequest(`Invalid input for tags. Reason: '${JSON.stringify(tags)}' is not a list.`);
    const list = [...new Set(tags.map((t) => this.validate(t)))];
    await this.p.tx(async (trx) => {
      await trx.deleteFrom('tags').where('resource_type', '=', collection).where('resource_id', '=', id).execute();
      for (const t of list) await trx.insertInto('tags').values({ resource_type: collection, resource_id: id, tag: t }).execute();
    });
    return list;
  }

  async add(ctx: RequestContext, collection: string, id: string, tag: string): Promise<void> {
    await this.check(ctx, collection, id);
    this.validate(tag);
    const exists = await this.p.db.selectFrom('tags').select('tag').where('resource_type', '=', collection).where('resource_id', '=', id).where('tag', '=', tag).executeTakeFirst();
    if (!exists) await this.p.db.insertInto('tags').values({ resource_type: collection, resource_id: id, tag }).execute();
  }

  async remove(ctx: RequestContext, collection: string, id: string, tag?: string): Promise<void> {
    await this.check(ctx, collection, id);
    if (tag !== undefined) {
      const exists = await this.p.db.selectFrom('tags').select('tag').where('resource_type', '=', collection).where('resource_id', '=', id).where('tag', '=', tag).executeTakeFirst();
      if (!exists) throw X.TagNotFound(collection, id, tag);
    }
    let q = this.p.db.deleteFrom('tags').where('resource_type', '=', collection).where('resource_id', '=', id);
    if (tag !== undefined) q = q.where('tag', '=', tag);
    await q.execute();
  }
}

const RBAC_COLS: Record<string, string> = {
  id: 'id', object_type: 'object_type', object_id: 'object_id', target_tenant: 'target_project', target_project: 'target_project',
  action: 'action', project_id: 'project_id', tenant_id: 'project_id',
};

export class Rbac {
  constructor(private readonly p: NeutronPlugin) {}

  private dict(r: Dict): Dict {
    return {
      id: r.id, object_type: r.object_type, object_id: r.object_id, action: r.action, target_tenant: r.target_project,
      target_project: r.target_project, project_id: r.project_id ?? '', tenant_id: r.project_id ?? '',
    };
  }

  private visible(q: any, ctx: RequestContext): any {
    return ctx.isAdmin ? q : q.where((eb: any) => eb.or([eb('project_id', '=', ctx.projectId ?? ''), eb('target_project', '=', ctx.projectId ?? '')]));
  }

  async get(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.visible(this.p.db.selectFrom('rbac_policies').selectAll().where('id', '=', id), ctx).executeTakeFirst();
    if (!row) throw X.RbacPolicyNotFound(id, 'network');
    return this.dict(row);
  }

  async list(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.visible(this.p.db.selectFrom('rbac_policies').selectAll('rbac_policies'), ctx);
    q = applyFilters(q, 'rbac_policies', opts.filters, RBAC_COLS);
    const { rows, more } = await paginate(this.p.db, 'rbac_policies', q, opts, (k) => RBAC_COLS[k] ?? null);
    return { items: rows.map((r) => this.dict(r)), more };
  }

  async create(ctx: RequestContext, body: Body): Promise<Dict> {
    if (body['object_type'] !== 'network') throw X.InvalidInput(`Object type ${body['object_type']} is not supported`);
    const net = await this.p.getNetworkRow(ctx, body['object_id']);
    this.p.checkOwner(ctx, net, 'create_rbac_policy');
    const target = isSet(body['target_project']) ? body['target_project'] : body['target_tenant'];
    if (target === '*' && !ctx.isAdmin) throw X.PolicyNotAuthorized('create_rbac_policy:target_tenant');
    const projectId = this.p.projectOf(ctx, body);
    let id = '';
    await this.p.tx(async (trx) => {
      await this.p.checkQuota(trx, projectId, 'rbac_policy');
      const dup = await trx.selectFrom('rbac_policies').select('id').where('object_type', '=', 'network').where('object_id', '=', net.id)
        .where('target_project', '=', target).where('action', '=', body['action']).executeTakeFirst();
      if (dup) throw new (await import('../../common/errors.js')).ApiError(409, `Failed to create a duplicate RBAC policy.`, { type: 'DuplicateRbacPolicy', detail: '' });
      id = await this.p.addRbac(trx, projectId, 'network', net.id, target, body['action']);
      if (target === '*') {
        const col = body['action'] === 'access_as_shared' ? 'shared' : 'router_external';
        await trx.updateTable('networks').set({ [col]: 1, updated_at: now() }).where('id', '=', net.id).execute();
      }
    });
    return this.get(ctx.elevated(), id);
  }

  async update(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const r = await this.get(ctx, id);
    this.p.checkOwner(ctx, r, 'update_rbac_policy');
    const target = isSet(body['target_project']) ? body['target_project'] : body['target_tenant'];
    if (isSet(target)) await this.p.db.updateTable('rbac_policies').set({ target_project: target }).where('id', '=', id).execute();
    return this.get(ctx, id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const r = await this.get(ctx, id);
    this.p.checkOwner(ctx, r, 'delete_rbac_policy');
    if (r['action'] === 'access_as_shared') {
      const net = await this.p.db.selectFrom('networks').select('project_id').where('id', '=', r['object_id']).executeTakeFirst();
      let q = this.p.db.selectFrom('ports').select('id').where('network_id', '=', r['object_id']).where('project_id', '!=', net?.project_id ?? '')
        .where('device_owner', 'not like', 'network:%');
      if (r['target_project'] !== '*') q = q.where('project_id', '=', r['target_project']);
      if (await q.executeTakeFirst()) {
        throw new (await import('../../common/errors.js')).ApiError(409, `RBAC policy on object ${r['object_id']} cannot be removed because other objects depend on it.\nDetails: `, { type: 'RbacPolicyInUse', detail: '' });
      }
    }
    await this.p.db.deleteFrom('rbac_policies').where('id', '=', id).execute();
    if (r['target_project'] === '*') {
      const col = r['action'] === 'access_as_shared' ? 'shared' : 'router_external';
      await this.p.db.updateTable('networks').set({ [col]: 0 }).where('id', '=', r['object_id']).execute();
    }
  }
}

const AGENT_COLS: Record<string, string> = {
  id: 'id', agent_type: 'agent_type', binary: 'binary', topic: 'topic', host: 'host', admin_state_up: 'admin_state_up',
  availability_zone: 'availability_zone', description: 'description', created_at: 'created_at', started_at: 'started_at',
  heartbeat_timestamp: 'heartbeat_timestamp',
};

/** The agents table: report_state writes it, `openstack network agent list` reads it. */
export class Agents {
  constructor(private readonly p: NeutronPlugin) {}

  dict(r: Dict): Dict {
    const fmt = (s: string) => s.replace('T', ' ').replace('Z', '');
    return {
      id: r.id, agent_type: r.agent_type, binary: r.binary, topic: r.topic, host: r.host, admin_state_up: b(r.admin_state_up),
      created_at: fmt(r.created_at), started_at: fmt(r.started_at), heartbeat_timestamp: fmt(r.heartbeat_timestamp),
      alive: this.p.agentAlive(r.heartbeat_timestamp), configurations: fromJson(r.configurations, {}), description: r.description ?? null,
      availability_zone: r.availability_zone ?? null, resources_synced: null, resource_versions: fromJson(r.resource_versions, {}),
    };
  }

  async get(ctx: RequestContext, id: string): Promise<Dict> {
    if (!ctx.isAdmin) throw X.PolicyNotAuthorized('get_agent');
    const row = isUuid(id) ? await this.p.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    if (!row) throw X.AgentNotFound(id);
    return this.dict(row);
  }

  async list(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    if (!ctx.isAdmin) throw X.PolicyNotAuthorized('get_agent');
    let q: any = this.p.db.selectFrom('agents').selectAll('agents');
    q = applyFilters(q, 'agents', opts.filters, AGENT_COLS);
    const { rows, more } = await paginate(this.p.db, 'agents', q, opts, (k) => AGENT_COLS[k] ?? null);
    let items = rows.map((r) => this.dict(r));
    const alive = opts.filters['alive'];
    if (alive) items = items.filter((a) => alive.includes(a['alive']));
    return { items, more };
  }

  async update(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    await this.get(ctx, id);
    const upd: Dict = {};
    if (isSet(body['admin_state_up'])) upd['admin_state_up'] = i(body['admin_state_up']);
    if (isSet(body['description'])) upd['description'] = body['description'];
    if (Object.keys(upd).length) await this.p.db.updateTable('agents').set(upd).where('id', '=', id).execute();
    return this.get(ctx, id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    await this.get(ctx, id);
    await this.p.db.deleteFrom('networkdhcpagentbindings').where('dhcp_agent_id', '=', id).execute();
    await this.p.db.deleteFrom('routerl3agentbindings').where('l3_agent_id', '=', id).execute();
    await this.p.db.deleteFrom('agents').where('id', '=', id).execute();
  }

  /** report_state: insert or refresh the agent's row (agents_db.create_or_update_agent). */
  async reportState(state: Dict): Promise<Dict> {
    const ts = now();
    const cur = await this.p.db.selectFrom('agents').selectAll().where('agent_type', '=', state['agent_type']).where('host', '=', state['host']).executeTakeFirst();
    const cfg = JSON.stringify(state['configurations'] ?? {});
    if (cur) {
      const upd: Dict = { heartbeat_timestamp: ts, configurations: cfg, topic: state['topic'] ?? cur.topic, binary: state['binary'] ?? cur.binary };
      if (state['start_flag']) upd['started_at'] = ts;
      if (state['availability_zone'] !== undefined) upd['availability_zone'] = state['availability_zone'];
      if (state['resource_versions']) upd['resource_versions'] = JSON.stringify(state['resource_versions']);
      await this.p.db.updateTable('agents').set(upd).where('id', '=', cur.id).execute();
      return { ...cur, ...upd };
    }
    const row = {
      id: uuid(), agent_type: state['agent_type'], binary: state['binary'], topic: state['topic'] ?? '', host: state['host'],
      availability_zone: state['availability_zone'] ?? null, admin_state_up: 1, created_at: ts, started_at: ts, heartbeat_timestamp: ts,
      description: null, configurations: cfg, resource_versions: state['resource_versions'] ? JSON.stringify(state['resource_versions']) : null, load: 0,
    };
    try {
      await this.p.db.insertInto('agents').values(row).execute();
    } catch {
      // a concurrent first report from the same agent won the insert; the next beat updates it
    }
    return row;
  }

  /** GET /v2.0/availability_zones: one zone per resource kind that has a live agent. */
  async availabilityZones(): Promise<Dict[]> {
    const rows = await this.p.db.selectFrom('agents').select(['agent_type', 'availability_zone', 'heartbeat_timestamp', 'admin_state_up']).execute();
    const out = new Map<string, Dict>();
    for (const r of rows) {
      if (!r.availability_zone) continue;
      const resource = r.agent_type === 'DHCP agent' ? 'network' : r.agent_type === 'L3 agent' ? 'router' : null;
      if (!resource) continue;
      const key = `${resource}|${r.availability_zone}`;
      const state = this.p.agentAlive(r.heartbeat_timestamp) && b(r.admin_state_up) ? 'available' : 'unavailable';
      if (!out.has(key) || state === 'available') out.set(key, { name: r.availability_zone, resource, state });
    }
    return [...out.values()];
  }
}
