/**
 * `GET /os-migrations` (nova/api/openstack/compute/migrations.py, admin) across every cell,
 * and `GET /servers/{id}/migrations[/{migration_id}]` (server_migrations.py, 2.23+: live
 * migrations in progress). Fields per microversion: 2.23 `migration_type` and links,
 * 2.59 `uuid` (+ paging), 2.80 `user_id` / `project_id`.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import { InstanceAction } from '../objects/instance-action.js';
import { Migration, migrationList, type MigrationFilters } from '../objects/migration.js';
import { validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import { baseUrl, bookmarkUrl, mapErrors, mv, requireAdmin } from './common.js';

type Row = Record<string, any>;

/** [api]max_limit: the most items one page of a paged list holds. */
const MAX_LIMIT = 1000;

// nova/api/openstack/compute/schemas/migrations.py: query parameters per microversion.
const multi = { type: 'array', items: { type: 'string' } };
const single = (items: Record<string, unknown>) => ({ type: 'array', items, maxItems: 1 });
const q20 = { hidden: multi, host: multi, instance_uuid: multi, source_compute: multi, status: multi, migration_type: multi };
const q259 = {
  ...q20, limit: single({ type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 }), marker: single({ type: 'string' }),
  'changes-since': single({ type: 'string', format: 'date-time' }),
};
const q266 = { ...q259, 'changes-before': single({ type: 'string', format: 'date-time' }) };
const q280 = { ...q266, user_id: single({ type: 'string' }), project_id: single({ type: 'string' }) };
const INDEX_QUERY: VersionedSchema[] = [
  { min: '2.1', max: '2.58', schema: { type: 'object', properties: q20, additionalProperties: true } },
  { min: '2.59', max: '2.65', schema: { type: 'object', properties: q259, additionalProperties: false } },
  { min: '2.66', max: '2.79', schema: { type: 'object', properties: q266, additionalProperties: false } },
  { min: '2.80', schema: { type: 'object', properties: q280, additionalProperties: false } },
];

/** `2019-01-01T00:00:00.000000`, as Nova's migration views print datetimes. */
function stamp(s: string | null | undefined): string | null {
  if (!s) return null;
  return new Date(s).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}

const IN_PROGRESS = new Set(['queued', 'preparing', 'running', 'post-migrating']);

export function migrationView(req: FastifyRequest, m: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: stamp(m['created_at']), dest_compute: m['dest_compute'] ?? null, dest_host: m['dest_host'] ?? null,
    dest_node: m['dest_node'] ?? null, id: m['id'], instance_uuid: m['instance_uuid'], new_instance_type_id: m['new_instance_type_id'] ?? null,
    old_instance_type_id: m['old_instance_type_id'] ?? null, source_compute: m['source_compute'] ?? null, source_node: m['source_node'] ?? null,
    status: m['status'], updated_at: stamp(m['updated_at']),
  };
  if (mv(req, '2.23')) {
    out['migration_type'] = m['migration_type'];
    if (m['migration_type'] === 'live-migration' && IN_PROGRESS.has(m['status'])) {
      out['links'] = [
        { rel: 'self', href: `${baseUrl(req)}/servers/${m['instance_uuid']}/migrations/${m['id']}` },
        { rel: 'bookmark', href: `${bookmarkUrl(req)}/servers/${m['instance_uuid']}/migrations/${m['id']}` },
      ];
    }
  }
  if (mv(req, '2.59')) out['uuid'] = m['uuid'];
  if (mv(req, '2.80')) {
    out['user_id'] = m['user_id'] ?? null;
    out['project_id'] = m['project_id'] ?? null;
  }
  return out;
}

/** The in-progress live migration view of server_migrations.py. */
function serverMigrationView(req: FastifyRequest, m: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: stamp(m['created_at']), dest_compute: m['dest_compute'] ?? null, dest_host: m['dest_host'] ?? null,
    dest_node: m['dest_node'] ?? null, disk_processed_bytes: m['disk_processed'] ?? null, disk_remaining_bytes: m['disk_remaining'] ?? null,
    disk_total_bytes: m['disk_total'] ?? null, id: m['id'], memory_processed_bytes: m['memory_processed'] ?? null,
    memory_remaining_bytes: m['memory_remaining'] ?? null, memory_total_bytes: m['memory_total'] ?? null, server_uuid: m['instance_uuid'],
    source_compute: m['source_compute'] ?? null, source_node: m['source_node'] ?? null, status: m['status'], updated_at: stamp(m['updated_at']),
  };
  if (mv(req, '2.59')) out['uuid'] = m['uuid'];
  if (mv(req, '2.80')) {
    out['user_id'] = m['user_id'] ?? null;
    out['project_id'] = m['project_id'] ?? null;
  }
  return out;
}

export function registerMigrations(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.get('/os-migrations', async (req) => {
    requireAdmin(req, 'os_compute_api:os-migrations:index');
    const q = validateQuery(req, INDEX_QUERY);
    const last = (k: string) => q[k]?.at(-1);
    const f: MigrationFilters = {};
    for (const k of ['instance_uuid', 'status', 'migration_type'] as const) {
      const v = last(k);
      if (v !== undefined) f[k] = v;
    }
    // Nova's DB filter: `host` (source or destination) wins over `source_compute`.
    const host = last('host');
    if (host !== undefined) f.host = host;
    else if (last('source_compute') !== undefined) f.source_compute = last('source_compute');
    if (mv(req, '2.59') && last('changes-since') !== undefined) f.changes_since = new Date(last('changes-since')!).toISOString();
    if (mv(req, '2.66') && last('changes-before') !== undefined) {
      f.changes_before = new Date(last('changes-before')!).toISOString();
      if (f.changes_since && f.changes_before < f.changes_since) {
        throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      }
    }
    if (mv(req, '2.80')) {
      if (last('user_id') !== undefined) f.user_id = last('user_id');
      if (last('project_id') !== undefined) f.project_id = last('project_id');
    }
    const cells = (await compute.cells.all()).filter((c) => !c.isCell0);
    const res = await compute.cells.scatterGather((cell) => migrationList(cell.db, f), cells);
    let rows: Row[] = [];
    for (const list of res.values()) if (list) rows.push(...list);
    rows.sort((a, b) => String(b['created_at']).localeCompare(String(a['created_at'])) || Number(b['id']) - Number(a['id']));
    if (!mv(req, '2.59')) return { migrations: rows.filter((r) => !r['hidden']).map((r) => migrationView(req, r)) };

    // 2.59: paging by uuid marker, sorted created_at desc, id desc across cells; a marker that
    // is no migration is a 400 (MarkerNotFound); limit is capped by [api]max_limit.
    const marker = last('marker');
    if (marker !== undefined) {
      const i = rows.findIndex((r) => r['uuid'] === marker);
      if (i < 0) throw badRequest(`Marker ${marker} could not be found.`, { type: 'MarkerNotFound' });
      rows = rows.slice(i + 1);
    }
    const limit = Math.min(MAX_LIMIT, last('limit') !== undefined ? Number(last('limit')) : MAX_LIMIT);
    rows = rows.slice(0, limit);
    const migrations = rows.filter((r) => !r['hidden']).map((r) => migrationView(req, r));
    const body: Record<string, unknown> = { migrations };
    // common.ViewBuilder._get_collection_links: a next link when the page is full.
    if (limit && migrations.length === limit) {
      const params = new URLSearchParams();
      const qs: Record<string, string[]> = { ...q, marker: [String(migrations[migrations.length - 1]!['uuid'])] };
      for (const k of Object.keys(qs).sort()) for (const v of qs[k]!) params.append(k, v);
      body['migrations_links'] = [{ rel: 'next', href: `${baseUrl(req)}/os-migrations?${params.toString()}` }];
    }
    return body;
  });

  // server_migrations.py: only live migrations in progress; 2.23+.
  app.get<{ Params: { id: string } }>('/servers/:id/migrations', async (req) => {
    if (!mv(req, '2.23')) throw new ApiError(404, 'The resource could not be found.');
    requireAdmin(req, 'os_compute_api:servers:migrations:index');
    const loc = await mapErrors('migrations', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!loc.cell) return { migrations: [] };
    const rows = await migrationList(loc.cell.db, { instance_uuid: req.params.id, migration_type: 'live-migration', in_progress: true });
    return { migrations: rows.map((r) => serverMigrationView(req, r)) };
  });

  app.get<{ Params: { id: string; mid: string } }>('/servers/:id/migrations/:mid', async (req) => {
    if (!mv(req, '2.23')) throw new ApiError(404, 'The resource could not be found.');
    requireAdmin(req, 'os_compute_api:servers:migrations:show');
    const loc = await mapErrors('migrations', req.params.id, () => compute.get(req.ctx, req.params.id));
    const rows = loc.cell ? await migrationList(loc.cell.db, { instance_uuid: req.params.id }) : [];
    const m = rows.find((r) => String(r['id']) === req.params.mid);
    if (!m) throw notFound(`Instance ${req.params.id} has not been migrated with migration ${req.params.mid}.`, { type: 'MigrationNotFoundForInstance' });
    if (m['migration_type'] !== 'live-migration' || !IN_PROGRESS.has(m['status'])) {
      throw notFound(`In-progress live migration ${req.params.mid} is not found for server ${req.params.id}.`, { type: 'MigrationNotFoundForInstance' });
    }
    return { migration: serverMigrationView(req, m) };
  });
}

/** The migration `mid` of server `id` in its cell (404s as Nova words them). */
async function serverMigration(compute: ComputeApiFacade, req: FastifyRequest<{ Params: { id: string; mid: string } }>): Promise<{ m: Row; loc: Awaited<ReturnType<ComputeApiFacade['get']>> }> {
  const loc = await mapErrors('migrations', req.params.id, () => compute.get(req.ctx, req.params.id));
  const rows = loc.cell ? await migrationList(loc.cell.db, { instance_uuid: req.params.id }) : [];
  const m = rows.find((r) => String(r['id']) === req.params.mid);
  if (!m) throw notFound(`Instance ${req.params.id} has not been migrated with migration ${req.params.mid}.`, { type: 'MigrationNotFoundForInstance' });
  return { m, loc };
}

/** force_complete (2.22) and abort (2.24) of a live migration in progress: cast to the source. */
export function registerLiveMigrationControls(app: FastifyInstance, compute: ComputeApiFacade): void {
  app.post<{ Params: { id: string; mid: string } }>('/servers/:id/migrations/:mid/action', async (req, reply) => {
    if (!mv(req, '2.22')) throw new ApiError(404, 'The resource could not be found.');
    requireAdmin(req, 'os_compute_api:servers:migrations:force_complete');
    const body = req.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || !('force_complete' in body) || Object.keys(body).length !== 1) {
      throw badRequest(body && typeof body === 'object' ? `Invalid input for field/attribute. Additional properties are not allowed (${Object.keys(body).map((k) => `'${k}'`).join(', ')} was unexpected)` : 'Malformed request body');
    }
    const { m, loc } = await serverMigration(compute, req);
    const inst = loc.instance;
    if (inst.task_state !== 'migrating') {
      throw new ApiError(409, `Cannot 'force_complete' instance ${inst.uuid} while it is in task_state ${inst.task_state ?? 'None'}`, { type: 'InstanceInvalidState' });
    }
    if (m['migration_type'] !== 'live-migration' || m['status'] !== 'running') {
      throw badRequest(`Migration ${m['id']} state of instance ${inst.uuid} is ${m['status']}. Cannot force_complete while the migration is in this state.`, { type: 'InvalidMigrationState' });
    }
    await InstanceAction.actionStart(loc.cell!.backend, req.ctx, inst.uuid, 'live_migration_force_complete');
    const rpc = await compute.computeRpcFor(loc.cell!);
    await rpc.liveMigrationForceComplete(req.ctx, m['source_compute'], { instance: inst, migration: Migration.fromRow(m, loc.cell!.backend) });
    reply.code(202);
    return reply.send();
  });

  app.delete<{ Params: { id: string; mid: string } }>('/servers/:id/migrations/:mid', async (req, reply) => {
    if (!mv(req, '2.24')) throw new ApiError(404, 'The resource could not be found.');
    requireAdmin(req, 'os_compute_api:servers:migrations:delete');
    // compute API live_migrate_abort: @check_instance_lock, @check_instance_state(task_state=[MIGRATING]).
    const loc0 = await mapErrors('abort live migration', req.params.id, () => compute.get(req.ctx, req.params.id));
    compute.checkLocked(req.ctx, loc0.instance);
    if (loc0.instance.task_state !== 'migrating') {
      throw new ApiError(409, `Cannot 'abort live migration' instance ${req.params.id} while it is in task_state ${loc0.instance.task_state ?? 'None'}`, { type: 'InstanceInvalidState' });
    }
    const { m, loc } = await serverMigration(compute, req);
    const inst = loc.instance;
    if (m['migration_type'] !== 'live-migration') {
      throw badRequest(`Migration ${m['id']} for instance ${inst.uuid} is not a live migration.`, { type: 'InvalidMigrationState' });
    }
    // 2.65: a migration still queued or preparing can be aborted too.
    const abortable = mv(req, '2.65') ? ['running', 'queued', 'preparing'] : ['running'];
    if (!abortable.includes(m['status'])) {
      throw badRequest(`Migration ${m['id']} state of instance ${inst.uuid} is ${m['status']}. Cannot abort live migration while the migration is in this state.`, { type: 'InvalidMigrationState' });
    }
    await InstanceAction.actionStart(loc.cell!.backend, req.ctx, inst.uuid, 'live_migration_cancel');
    const rpc = await compute.computeRpcFor(loc.cell!);
    await rpc.liveMigrationAbort(req.ctx, m['source_compute'], { instance: inst, migration_id: Number(m['id']) });
    reply.code(202);
    return reply.send();
  });
}
