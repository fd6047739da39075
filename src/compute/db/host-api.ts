/**
 * Cell-DB queries for services and compute nodes (heartbeats, resource tracker, discovery).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../common/db/connection.js';
import { nowIso } from './schema-helpers.js';

type Row = Record<string, any>;

/** SERVICE_VERSION of Stein's nova-compute (nova/objects/service.py). */
export const SERVICE_VERSION = 40;

export async function serviceReport(cell: Database, binary: string, host: string, topic: string | null): Promise<Row> {
  const now = nowIso();
  return cell.transaction(async (trx) => {
    const cur = await trx.selectFrom('services').selectAll().where('host', '=', host).where('binary', '=', binary).where('deleted', '=', 0).executeTakeFirst();
    if (cur) {
      await trx.updateTable('services').set({ report_count: Number(cur['report_count']) + 1, last_seen_up: now, updated_at: now }).where('id', '=', cur['id']).execute();
      return { ...cur, report_count: Number(cur['report_count']) + 1, last_seen_up: now, updated_at: now };
    }
    const row = { uuid: randomUUID(), host, binary, topic, report_count: 0, disabled: 0, disabled_reason: null, last_seen_up: now, forced_down: 0, version: SERVICE_VERSION, created_at: now, deleted: 0 };
    await trx.insertInto('services').values(row).execute();
    return trx.selectFrom('services').selectAll().where('uuid', '=', row.uuid).executeTakeFirstOrThrow();
  });
}

export async function serviceList(cell: Database, filters: { binary?: string; host?: string } = {}): Promise<Row[]> {
  let q = cell.db.selectFrom('services').selectAll().where('deleted', '=', 0);
  if (filters.binary) q = q.where('binary', '=', filters.binary);
  if (filters.host) q = q.where('host', '=', filters.host);
  return q.orderBy('id').execute();
}

export async function serviceGetByHostBinary(cell: Database, host: string, binary: string): Promise<Row | undefined> {
  return cell.db.selectFrom('services').selectAll().where('host', '=', host).where('binary', '=', binary).where('deleted', '=', 0).executeTakeFirst();
}

export async function computeNodeGet(cell: Database, host: string, nodename: string): Promise<Row | undefined> {
  return cell.db.selectFrom('compute_nodes').selectAll().where('host', '=', host).where('hypervisor_hostname', '=', nodename).where('deleted', '=', 0).executeTakeFirst();
}

const NODE_COLS = ['uuid', 'service_id', 'host', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used',
  'local_gb_used', 'hypervisor_type', 'hypervisor_version', 'cpu_info', 'disk_available_least', 'free_ram_mb', 'free_disk_gb',
  'current_workload', 'running_vms', 'host_ip', 'cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio'];

export async function computeNodeUpsert(cell: Database, v: Row): Promise<Row> {
  const now = nowIso();
  const vals: Row = {};
  for (const k of NODE_COLS) if (v[k] !== undefined) vals[k] = v[k];
  return cell.transaction(async (trx) => {
    const cur = await trx.selectFrom('compute_nodes').selectAll().where('host', '=', v['host']).where('hypervisor_hostname', '=', v['hypervisor_hostname']).where('deleted', '=', 0).executeTakeFirst();
    if (cur) {
      delete vals['uuid'];
      await trx.updateTable('compute_nodes').set({ ...vals, updated_at: now }).where('id', '=', cur['id']).execute();
      return trx.selectFrom('compute_nodes').selectAll().where('id', '=', cur['id']).executeTakeFirstOrThrow();
    }
    if (!vals['service_id']) {
      const svc = await trx.selectFrom('services').select('id').where('host', '=', v['host']).where('binary', '=', 'nova-compute').where('deleted', '=', 0).executeTakeFirst();
      vals['service_id'] = svc?.['id'] ?? null;
    }
    await trx.insertInto('compute_nodes').values({ uuid: randomUUID(), ...vals, mapped: 0, created_at: now, deleted: 0 }).execute();
    return trx.selectFrom('compute_nodes').selectAll().where('host', '=', v['host']).where('hypervisor_hostname', '=', v['hypervisor_hostname']).where('deleted', '=', 0).executeTakeFirstOrThrow();
  });
}

export async function computeNodeList(cell: Database, filters: { unmapped?: boolean; host?: string } = {}): Promise<Row[]> {
  let q = cell.db.selectFrom('compute_nodes').selectAll().where('deleted', '=', 0);
  if (filters.unmapped) q = q.where('mapped', '=', 0);
  if (filters.host) q = q.where('host', '=', filters.host);
  return q.orderBy('id').execute();
}

export async function computeNodeMarkMapped(cell: Database, id: number): Promise<void> {
  await cell.db.updateTable('compute_nodes').set({ mapped: 1 }).where('id', '=', id).execute();
}

/** A live service by uuid or (legacy) integer id, in this cell. */
export async function serviceGetByIdOrUuid(cell: Database, id: string): Promise<Row | undefined> {
  const q = cell.db.selectFrom('services').selectAll().where('deleted', '=', 0);
  return /^\d+$/.test(id) ? q.where('id', '=', Number(id)).executeTakeFirst() : q.where('uuid', '=', id).executeTakeFirst();
}

/** Updates the admin-settable fields (disabled, disabled_reason, forced_down) of one service. */
export async function serviceUpdate(cell: Database, id: number, v: { disabled?: boolean; disabled_reason?: string | null; forced_down?: boolean }): Promise<void> {
  const set: Row = { updated_at: nowIso() };
  if (v.disabled !== undefined) set['disabled'] = v.disabled ? 1 : 0;
  if (v.disabled_reason !== undefined) set['disabled_reason'] = v.disabled_reason;
  if (v.forced_down !== undefined) set['forced_down'] = v.forced_down ? 1 : 0;
  await cell.db.updateTable('services').set(set).where('id', '=', id).execute();
}

/** Soft-deletes a service and, for nova-compute, its compute nodes (db.service_destroy). */
export async function serviceDestroy(cell: Database, id: number): Promise<void> {
  const now = nowIso();
  await cell.transaction(async (trx) => {
    const svc = await trx.selectFrom('services').select(['binary', 'host']).where('id', '=', id).executeTakeFirst();
    await trx.updateTable('services').set({ deleted: id, deleted_at: now }).where('id', '=', id).execute();
    if (svc?.['binary'] === 'nova-compute') {
      const nodes = await trx.selectFrom('compute_nodes').select('id').where('host', '=', svc['host']).where('deleted', '=', 0).execute();
      for (const n of nodes) await trx.updateTable('compute_nodes').set({ deleted: n['id'], deleted_at: now }).where('id', '=', n['id']).execute();
    }
  });
}
