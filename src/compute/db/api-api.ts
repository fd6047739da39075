/**
 * Queries on the API database (nova/db/api/api.py and the API-DB object methods): cell, host and
 * instance mappings, request specs, build requests, flavors, key pairs, quotas.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../common/db/connection.js';
import { runPrepared } from '../../common/db/prepared.js';
import { nowIso } from './schema-helpers.js';

type Row = Record<string, any>;

export const CELL0_UUID = '00000000-0000-0000-0000-000000000000';

// ---- cell mappings ----
export async function cellMappingList(api: Database): Promise<Row[]> {
  return api.db.selectFrom('cell_mappings').selectAll().orderBy('id').execute();
}
export async function cellMappingGetById(api: Database, id: number): Promise<Row | undefined> {
  return api.db.selectFrom('cell_mappings').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function cellMappingGetByUuid(api: Database, uuid: string): Promise<Row | undefined> {
  return api.db.selectFrom('cell_mappings').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}
export async function cellMappingCreate(api: Database, v: { uuid?: string; name: string | null; transport_url: string; database_connection: string; disabled?: boolean }): Promise<Row> {
  const uuid = v.uuid ?? randomUUID();
  await api.db.insertInto('cell_mappings').values({ uuid, name: v.name, transport_url: v.transport_url, database_connection: v.database_connection, disabled: v.disabled ? 1 : 0, created_at: nowIso() }).execute();
  return (await cellMappingGetByUuid(api, uuid))!;
}

// ---- host mappings ----
export async function hostMappingGet(api: Database, host: string): Promise<Row | undefined> {
  return (await runPrepared(api.db, api.db, 'hostMappingGet', [host], ([h]) => api.db.selectFrom('host_mappings').selectAll().where('host', '=', h!))).rows[0];
}
export async function hostMappingCreate(api: Database, host: string, cellId: number): Promise<void> {
  await api.db.insertInto('host_mappings').values({ host, cell_id: cellId, created_at: nowIso() }).execute();
}
export async function hostMappingList(api: Database): Promise<Row[]> {
  return api.db.selectFrom('host_mappings').selectAll().orderBy('id').execute();
}

// ---- instance mappings ----
export async function instanceMappingGet(api: Database, uuid: string): Promise<Row | undefined> {
  return (await runPrepared(api.db, api.db, 'instanceMappingGet', [uuid], ([u]) => api.db.selectFrom('instance_mappings').selectAll().where('instance_uuid', '=', u!))).rows[0];
}
export async function instanceMappingSetCell(api: Database, uuid: string, cellId: number): Promise<void> {
  await runPrepared(api.db, api.db, 'instanceMappingSetCell', [cellId, nowIso(), uuid], ([c, at, u]) =>
    api.db.updateTable('instance_mappings').set({ cell_id: c!, updated_at: at! }).where('instance_uuid', '=', u!));
}
export async function instanceMappingQueueForDelete(api: Database, uuid: string): Promise<void> {
  await api.db.updateTable('instance_mappings').set({ queued_for_delete: 1, updated_at: nowIso() }).where('instance_uuid', '=', uuid).execute();
}
export async function instanceMappingDelete(api: Database, uuid: string): Promise<void> {
  await api.db.deleteFrom('instance_mappings').where('instance_uuid', '=', uuid).execute();
}
export async function instanceMappingCountByProject(api: Database, projectId: string, userId?: string): Promise<number> {
  let q = api.db.selectFrom('instance_mappings').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId).where('queued_for_delete', '=', 0);
  if (userId) q = q.where('user_id', '=', userId);
  const r = await q.executeTakeFirst();
  return Number(r?.['n'] ?? 0);
}

// ---- request specs and build requests ----
export interface BuildRecords {
  instance_uuid: string;
  project_id: string;
  user_id: string;
  spec: Record<string, unknown>;
  instance: Record<string, unknown>;
  block_device_mappings: unknown[];
  tags: string[];
}

/** Step 3 of the boot: RequestSpec + BuildRequest + InstanceMapping(cell NULL) in one transaction. */
export async function buildRecordsCreate(api: Database, recs: BuildRecords[]): Promise<void> {
  const now = nowIso();
  await api.transaction(async (trx) => {
    for (const r of recs) {
      await trx.insertInto('request_specs').values({ instance_uuid: r.instance_uuid, spec: JSON.stringify(r.spec), created_at: now }).execute();
      await trx.insertInto('build_requests').values({
        instance_uuid: r.instance_uuid, project_id: r.project_id, instance: JSON.stringify(r.instance),
        block_device_mappings: JSON.stringify(r.block_device_mappings), tags: JSON.stringify(r.tags), created_at: now,
      }).execute();
      await trx.insertInto('instance_mappings').values({ instance_uuid: r.instance_uuid, cell_id: null, project_id: r.project_id, user_id: r.user_id, queued_for_delete: 0, created_at: now }).execute();
    }
  });
}

export async function buildRequestGet(api: Database, uuid: string): Promise<Row | undefined> {
  return (await runPrepared(api.db, api.db, 'buildRequestGet', [uuid], ([u]) => api.db.selectFrom('build_requests').selectAll().where('instance_uuid', '=', u!))).rows[0];
}
export async function buildRequestList(api: Database, projectId?: string): Promise<Row[]> {
  let q = api.db.selectFrom('build_requests').selectAll();
  if (projectId) q = q.where('project_id', '=', projectId);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}
/** The instance (JSON) of each of a project's build requests, for quota usage: nothing else is read. */
export async function buildRequestInstances(api: Database, projectId: string): Promise<string[]> {
  const r = await runPrepared(api.db, api.db, 'buildRequestInstances', [projectId], ([p]) => api.db.selectFrom('build_requests').select('instance').where('project_id', '=', p!));
  return r.rows.map((row) => row['instance'] as string);
}
/** Returns false when it was already gone (the user deleted the server while it was scheduling). */
export async function buildRequestDestroy(api: Database, uuid: string): Promise<boolean> {
  const r = await runPrepared(api.db, api.db, 'buildRequestDestroy', [uuid], ([u]) => api.db.deleteFrom('build_requests').where('instance_uuid', '=', u!));
  return Number(r.numAffectedRows ?? 0n) > 0;
}
export async function requestSpecGet(api: Database, uuid: string): Promise<Record<string, unknown> | undefined> {
  const r = await api.db.selectFrom('request_specs').select('spec').where('instance_uuid', '=', uuid).executeTakeFirst();
  return r ? JSON.parse(r['spec']) : undefined;
}
export async function requestSpecSave(api: Database, uuid: string, spec: Record<string, unknown>): Promise<void> {
  await api.db.updateTable('request_specs').set({ spec: JSON.stringify(spec), updated_at: nowIso() }).where('instance_uuid', '=', uuid).execute();
}
export async function requestSpecDestroy(api: Database, uuid: string): Promise<void> {
  await api.db.deleteFrom('request_specs').where('instance_uuid', '=', uuid).execute();
}

// ---- flavors ----
export function flavorFromRow(r: Row, extraSpecs: Record<string, string> = {}): Row {
  return {
    id: r['id'], flavorid: r['flavorid'], name: r['name'], memory_mb: r['memory_mb'], vcpus: r['vcpus'], root_gb: r['root_gb'] ?? 0,
    ephemeral_gb: r['ephemeral_gb'] ?? 0, swap: r['swap'] ?? 0, rxtx_factor: r['rxtx_factor'] ?? 1.0, vcpu_weight: r['vcpu_weight'] ?? null,
    disabled: Boolean(r['disabled']), is_public: Boolean(r['is_public']), description: r['description'] ?? null, extra_specs: extraSpecs,
  };
}
export async function flavorExtraSpecs(api: Database, flavorDbId: number): Promise<Record<string, string>> {
  const rows = await api.db.selectFrom('flavor_extra_specs').select(['key', 'value']).where('flavor_id', '=', flavorDbId).execute();
  return Object.fromEntries(rows.map((r) => [r['key'], r['value']]));
}
export async function flavorGetByFlavorId(api: Database, flavorid: string): Promise<Row | undefined> {
  const r = await api.db.selectFrom('flavors').selectAll().where('flavorid', '=', flavorid).executeTakeFirst();
  return r ? flavorFromRow(r, await flavorExtraSpecs(api, r['id'])) : undefined;
}
export async function flavorGetByName(api: Database, name: string): Promise<Row | undefined> {
  const r = await api.db.selectFrom('flavors').selectAll().where('name', '=', name).executeTakeFirst();
  return r ? flavorFromRow(r, await flavorExtraSpecs(api, r['id'])) : undefined;
}
export async function flavorGetById(api: Database, id: number): Promise<Row | undefined> {
  const r = await api.db.selectFrom('flavors').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? flavorFromRow(r, await flavorExtraSpecs(api, r['id'])) : undefined;
}
export async function flavorList(api: Database, o: { projectId?: string | null; isPublic?: boolean | null; minRam?: number; minDisk?: number } = {}): Promise<Row[]> {
  let q = api.db.selectFrom('flavors').selectAll();
  if (o.isPublic === true) q = q.where('is_public', '=', 1);
  else if (o.isPublic === false) q = q.where('is_public', '=', 0);
  if (o.projectId && o.isPublic !== false) {
    // Public flavors plus private ones shared with the project.
    q = q.where((eb) => eb.or([eb('is_public', '=', 1), eb('id', 'in', api.db.selectFrom('flavor_projects').select('flavor_id').where('project_id', '=', o.projectId!))]));
  }
  if (o.minRam !== undefined) q = q.where('memory_mb', '>=', o.minRam);
  if (o.minDisk !== undefined) q = q.where('root_gb', '>=', o.minDisk);
  const rows = await q.orderBy('flavorid').execute();
  const specs = rows.length ? await api.db.selectFrom('flavor_extra_specs').selectAll().where('flavor_id', 'in', rows.map((r) => r['id'])).execute() : [];
  return rows.map((r) => flavorFromRow(r, Object.fromEntries(specs.filter((s) => s['flavor_id'] === r['id']).map((s) => [s['key'], s['value']]))));
}
export async function flavorCreate(api: Database, v: { name: string; flavorid?: string; memory_mb: number; vcpus: number; root_gb: number; ephemeral_gb?: number; swap?: number; rxtx_factor?: number; is_public?: boolean; description?: string | null }): Promise<Row> {
  const flavorid = v.flavorid ?? randomUUID();
  await api.db.insertInto('flavors').values({
    name: v.name, flavorid, memory_mb: v.memory_mb, vcpus: v.vcpus, root_gb: v.root_gb, ephemeral_gb: v.ephemeral_gb ?? 0, swap: v.swap ?? 0,
    rxtx_factor: v.rxtx_factor ?? 1.0, vcpu_weight: null, disabled: 0, is_public: v.is_public === false ? 0 : 1, description: v.description ?? null, created_at: nowIso(),
  }).execute();
  return (await flavorGetByFlavorId(api, flavorid))!;
}
export async function flavorDestroy(api: Database, flavorid: string): Promise<boolean> {
  return api.transaction(async (trx) => {
    const r = await trx.selectFrom('flavors').select('id').where('flavorid', '=', flavorid).executeTakeFirst();
    if (!r) return false;
    await trx.deleteFrom('flavor_extra_specs').where('flavor_id', '=', r['id']).execute();
    await trx.deleteFrom('flavor_projects').where('flavor_id', '=', r['id']).execute();
    await trx.deleteFrom('flavors').where('id', '=', r['id']).execute();
    return true;
  });
}
export async function flavorSetExtraSpecs(api: Database, flavorDbId: number, specs: Record<string, string>): Promise<void> {
  await api.transaction(async (trx) => {
    for (const [key, value] of Object.entries(specs)) {
      await trx.deleteFrom('flavor_extra_specs').where('flavor_id', '=', flavorDbId).where('key', '=', key).execute();
      await trx.insertInto('flavor_extra_specs').values({ flavor_id: flavorDbId, key, value: String(value), created_at: nowIso() }).execute();
    }
  });
}
export async function flavorDeleteExtraSpec(api: Database, flavorDbId: number, key: string): Promise<boolean> {
  const r = await api.db.deleteFrom('flavor_extra_specs').where('flavor_id', '=', flavorDbId).where('key', '=', key).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
export async function flavorUpdateDescription(api: Database, flavorDbId: number, description: string | null): Promise<void> {
  await api.db.updateTable('flavors').set({ description, updated_at: nowIso() }).where('id', '=', flavorDbId).execute();
}
export async function flavorProjects(api: Database, flavorDbId: number): Promise<string[]> {
  return (await api.db.selectFrom('flavor_projects').select('project_id').where('flavor_id', '=', flavorDbId).execute()).map((r) => r['project_id']);
}
export async function flavorAddProject(api: Database, flavorDbId: number, projectId: string): Promise<boolean> {
  const cur = await api.db.selectFrom('flavor_projects').select('id').where('flavor_id', '=', flavorDbId).where('project_id', '=', projectId).executeTakeFirst();
  if (cur) return false;
  await api.db.insertInto('flavor_projects').values({ flavor_id: flavorDbId, project_id: projectId, created_at: nowIso() }).execute();
  return true;
}
export async function flavorRemoveProject(api: Database, flavorDbId: number, projectId: string): Promise<boolean> {
  const r = await api.db.deleteFrom('flavor_projects').where('flavor_id', '=', flavorDbId).where('project_id', '=', projectId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- key pairs ----
export async function keypairGet(api: Database, userId: string, name: string): Promise<Row | undefined> {
  return api.db.selectFrom('key_pairs').selectAll().where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
}
export async function keypairList(api: Database, userId: string): Promise<Row[]> {
  return api.db.selectFrom('key_pairs').selectAll().where('user_id', '=', userId).orderBy('name').execute();
}
export async function keypairCreate(api: Database, v: { name: string; user_id: string; fingerprint: string; public_key: string; type: string }): Promise<Row> {
  await api.db.insertInto('key_pairs').values({ ...v, created_at: nowIso() }).execute();
  return (await keypairGet(api, v.user_id, v.name))!;
}
export async function keypairDestroy(api: Database, userId: string, name: string): Promise<boolean> {
  const r = await api.db.deleteFrom('key_pairs').where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- quotas ----
export async function quotaGetProject(api: Database, projectId: string): Promise<Record<string, number>> {
  const { rows } = await runPrepared(api.db, api.db, 'quotaGetProject', [projectId], ([p]) => api.db.selectFrom('quotas').select(['resource', 'hard_limit']).where('project_id', '=', p!));
  return Object.fromEntries(rows.map((r) => [r['resource'], Number(r['hard_limit'])]));
}
export async function quotaGetClass(api: Database, className = 'default'): Promise<Record<string, number>> {
  const { rows } = await runPrepared(api.db, api.db, 'quotaGetClass', [className], ([c]) => api.db.selectFrom('quota_classes').select(['resource', 'hard_limit']).where('class_name', '=', c!));
  return Object.fromEntries(rows.map((r) => [r['resource'], Number(r['hard_limit'])]));
}
export async function quotaSetProject(api: Database, projectId: string, limits: Record<string, number>): Promise<void> {
  await api.transaction(async (trx) => {
    for (const [resource, hard] of Object.entries(limits)) {
      await trx.deleteFrom('quotas').where('project_id', '=', projectId).where('resource', '=', resource).execute();
      await trx.insertInto('quotas').values({ project_id: projectId, resource, hard_limit: hard, created_at: nowIso() }).execute();
    }
  });
}
export async function quotaDestroyProject(api: Database, projectId: string): Promise<void> {
  await api.db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
  await api.db.deleteFrom('project_user_quotas').where('project_id', '=', projectId).execute();
}

/** Creates or updates one class's limits (objects.Quotas.create_class / update_class). */
export async function quotaSetClass(api: Database, className: string, limits: Record<string, number>): Promise<void> {
  await api.transaction(async (trx) => {
    for (const [resource, hard] of Object.entries(limits)) {
      await trx.deleteFrom('quota_classes').where('class_name', '=', className).where('resource', '=', resource).execute();
      await trx.insertInto('quota_classes').values({ class_name: className, resource, hard_limit: hard, created_at: nowIso() }).execute();
    }
  });
}
