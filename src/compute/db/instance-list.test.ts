import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../../common/db/index.js';
import '../objects/index.js';
import { Instance } from '../objects/instance.js';
import * as cellApi from './cell-api.js';
import { migrateCellDb } from './cell-schema.js';
import { listInstancesForView, type ListNeeds } from './instance-list.js';
import { memoryDb } from './testing.js';

const ALL: ListNeeds = { detail: true, networkInfo: true, metadata: true, tags: true, lockedReason: true, trustedCerts: true, userData: true };
const FIELDS = ['id', 'uuid', 'display_name', 'vm_state', 'task_state', 'project_id', 'user_id', 'host', 'node', 'image_ref', 'created_at',
  'updated_at', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'key_name', 'launched_at',
  'terminated_at', 'power_state', 'progress', 'reservation_id', 'launch_index', 'hostname', 'root_device_name', 'user_data', 'locked',
  'display_description', 'metadata', 'tags', 'fault', 'trusted_certs', 'info_cache'];

async function seed(db: Database): Promise<void> {
  const flavor = { name: 'm1.nano', memory_mb: 64, vcpus: 1, root_gb: 1, ephemeral_gb: 0, flavorid: '42', swap: 0, extra_specs: { a: 'b' } };
  const base = { project_id: 'p1', user_id: 'u1', image_ref: 'img', power_state: 1, vm_state: 'active', task_state: null, host: 'h1', node: 'h1',
    reservation_id: 'r-1', launch_index: 0, config_drive: '', locked: false, auto_disk_config: true, progress: 0 };
  const nw = [{ id: 'vif', address: 'fa:16:3e:00:00:01', network: { id: 'n', label: 'private', subnets: [{ cidr: '10.0.0.0/24', ips: [{ address: '10.0.0.5', type: 'fixed', version: 4 }] }] } }];
  const at = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
  await cellApi.instanceCreate(db, { ...base, uuid: 'a0000000-0000-0000-0000-000000000001', display_name: 'one', hostname: 'one', created_at: at(1), user_data: 'dXNlcg==' },
    { flavor, network_info: nw, metadata: { k: 'v', z: '1' }, system_metadata: { image_min_ram: '0' }, tags: ['b', 'a'] });
  await cellApi.instanceCreate(db, { ...base, uuid: 'a0000000-0000-0000-0000-000000000002', display_name: 'two', hostname: 'two', created_at: at(2), locked: true },
    { flavor, network_info: [], metadata: {}, system_metadata: { locked_reason: 'why', image_min_ram: '0' }, trusted_certs: { ids: ['c1'] } });
  await cellApi.instanceCreate(db, { ...base, uuid: 'a0000000-0000-0000-0000-000000000003', display_name: 'three', hostname: 'three', created_at: at(2), vm_state: 'error' },
    { flavor, network_info: nw, metadata: { x: 'y' }, system_metadata: {} });
  await cellApi.faultCreate(db, { instance_uuid: 'a0000000-0000-0000-0000-000000000003', code: 500, message: 'old', details: 'd1', host: 'h1' });
  await cellApi.faultCreate(db, { instance_uuid: 'a0000000-0000-0000-0000-000000000003', code: 400, message: 'new', details: 'd2', host: 'h1' });
  await cellApi.instanceCreate(db, { ...base, uuid: 'a0000000-0000-0000-0000-000000000004', display_name: 'other', hostname: 'other', created_at: at(3), project_id: 'p2' },
    { flavor, network_info: [], metadata: {}, system_metadata: {} });
}

/** What the views read of an Instance built the old way (cell-api's instanceList + Instance.fromFull). */
function viewFields(x: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = x[f] ?? null;
  out['locked_reason'] = x['system_metadata']?.['locked_reason'] ?? null;
  const fl = x['flavor'];
  out['flavor'] = fl ? { name: fl.name, memory_mb: fl.memory_mb, vcpus: fl.vcpus, root_gb: fl.root_gb, ephemeral_gb: fl.ephemeral_gb, flavorid: fl.flavorid, swap: fl.swap, extra_specs: fl.extra_specs } : null;
  return out;
}

async function checkAgainstInstanceList(db: Database): Promise<void> {
  await seed(db);
  const sortOld = [{ key: 'created_at', dir: 'desc' as const }];
  const sortNew = [{ key: 'created_at', dir: 'desc' as const }];
  const old = (await cellApi.instanceList(db, { project_id: 'p1' }, { limit: 1000, sort: sortOld })).map((f) => Instance.fromFull(f, null, false));
  const listed = await listInstancesForView(db, { project_id: 'p1' }, { limit: 1000, sort: sortNew }, ALL);
  assert.deepEqual(listed.map((r) => r.uuid), old.map((i) => i.uuid), 'same servers in the same order (ties by id desc)');
  assert.deepEqual(listed.map(viewFields), old.map((i) => viewFields(i as unknown as Record<string, any>)));
  assert.deepEqual(sortNew, sortOld, 'the id tie-break is appended to the caller\'s sort list, as instanceList does');
  assert.equal(listed[0]!.fault?.message, 'new', 'the newest fault');
  assert.deepEqual(listed.find((r) => r.display_name === 'one')!.tags, ['a', 'b']);

  // Marker paging, the name filter, and what an index without extras reads.
  const markerRow = await cellApi.instanceRowByUuid(db, listed[0]!.uuid);
  const after = await listInstancesForView(db, { project_id: 'p1' }, { limit: 1, sort: [{ key: 'created_at', dir: 'desc' }], markerRow }, ALL);
  assert.deepEqual(after.map((r) => r.uuid), [listed[1]!.uuid]);
  const named = await listInstancesForView(db, { project_id: 'p1', name: '^t' }, { limit: 1000, sort: [{ key: 'display_name', dir: 'asc' }] },
    { ...ALL, detail: false, networkInfo: false, metadata: false, tags: false, lockedReason: false, trustedCerts: false, userData: false });
  assert.deepEqual(named.map((r) => [r.display_name, r.metadata]), [['three', {}], ['two', {}]]);
  const locked = await listInstancesForView(db, { locked: true }, { limit: 1000, sort: [{ key: 'locked', dir: 'asc' }] }, ALL);
  assert.deepEqual(locked.map((r) => [r.uuid, r.locked, r.system_metadata]), [['a0000000-0000-0000-0000-000000000002', true, { locked_reason: 'why' }]]);
}

test('listInstancesForView reads what instanceList + Instance.fromFull give the views (Kysely path)', async () => {
  const db = await memoryDb('cell');
  try {
    await checkAgainstInstanceList(db);
  } finally {
    await db.close();
  }
});

test('listInstancesForView reads what instanceList + Instance.fromFull give the views (SQLite direct path)', async () => {
  const db = await openDatabase('sqlite://', { service: 'nova' });
  try {
    await migrateCellDb(db.db, 'sqlite');
    await checkAgainstInstanceList(db);
  } finally {
    await db.close();
  }
});
