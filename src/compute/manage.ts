/**
 * `nova-manage cell_v2 ...` as functions (the CLI owner wires them to `stratus manage nova`):
 * map_cell0, create_cell, discover_hosts, list_cells, list_hosts; plus the devstack flavors.
 * @module
 */
import type { Database } from '../common/db/connection.js';
import { openDatabase } from '../common/db/index.js';
import * as apiDb from './db/api-api.js';
import * as hostApi from './db/host-api.js';

export { CELL0_UUID } from './db/api-api.js';

/** map_cell0: the cell0 mapping (no transport; `none:///`). Idempotent. */
export async function mapCell0(api: Database, databaseConnection: string): Promise<Record<string, any>> {
  const cur = await apiDb.cellMappingGetByUuid(api, apiDb.CELL0_UUID);
  if (cur) return cur;
  return apiDb.cellMappingCreate(api, { uuid: apiDb.CELL0_UUID, name: 'cell0', transport_url: 'none:///', database_connection: databaseConnection });
}

/** create_cell: a cell mapping; refuses a duplicate (transport_url, database_connection) pair like nova-manage (exit 2). */
export async function createCell(api: Database, o: { name: string | null; transportUrl: string; databaseConnection: string; uuid?: string; disabled?: boolean }): Promise<Record<string, any>> {
  const cells = await apiDb.cellMappingList(api);
  const dup = cells.find((c) => c['transport_url'] === o.transportUrl && c['database_connection'] === o.databaseConnection);
  if (dup) return dup;
  return apiDb.cellMappingCreate(api, { ...(o.uuid ? { uuid: o.uuid } : {}), name: o.name, transport_url: o.transportUrl, database_connection: o.databaseConnection, disabled: o.disabled ?? false });
}

export async function listCells(api: Database): Promise<{ name: string | null; uuid: string; transport_url: string; database_connection: string; disabled: boolean }[]> {
  return (await apiDb.cellMappingList(api)).map((c) => ({ name: c['name'], uuid: c['uuid'], transport_url: c['transport_url'], database_connection: c['database_connection'], disabled: Boolean(c['disabled']) }));
}

export async function listHosts(api: Database, cellUuid?: string): Promise<{ cell_name: string | null; cell_uuid: string; hostname: string }[]> {
  const cells = await apiDb.cellMappingList(api);
  return (await apiDb.hostMappingList(api))
    .map((h) => ({ h, c: cells.find((c) => c['id'] === h['cell_id']) }))
    .filter(({ c }) => !cellUuid || c?.['uuid'] === cellUuid)
    .map(({ h, c }) => ({ cell_name: c?.['name'] ?? null, cell_uuid: c?.['uuid'] ?? '', hostname: h['host'] }));
}

/**
 * discover_hosts: for every non-cell0 cell, map each unmapped compute node's host to the cell
 * and mark the node mapped. `openCell` opens a cell DB by URL (defaults to openDatabase).
 */
export async function discoverHosts(api: Database, o: { cellUuid?: string; byService?: boolean; openCell?: (url: string) => Promise<Database> } = {}): Promise<{ cell: string; host: string }[]> {
  const found: { cell: string; host: string }[] = [];
  for (const c of await apiDb.cellMappingList(api)) {
    if (c['uuid'] === apiDb.CELL0_UUID || (o.cellUuid && c['uuid'] !== o.cellUuid)) continue;
    const owned = !o.openCell;
    const cell = o.openCell ? await o.openCell(c['database_connection']) : await openDatabase(c['database_connection'], { service: 'nova' });
    try {
      const hosts = o.byService
        ? (await hostApi.serviceList(cell, { binary: 'nova-compute' })).map((s) => ({ host: s['host'] as string, nodeId: null as number | null }))
        : (await hostApi.computeNodeList(cell, { unmapped: true })).map((n) => ({ host: n['host'] as string, nodeId: n['id'] as number }));
      for (const h of hosts) {
        if (!(await apiDb.hostMappingGet(api, h.host))) {
          await apiDb.hostMappingCreate(api, h.host, c['id']);
          found.push({ cell: c['uuid'], host: h.host });
        }
        if (h.nodeId !== null) await hostApi.computeNodeMarkMapped(cell, h.nodeId);
      }
    } finally {
      if (owned) await cell.close();
    }
  }
  return found;
}

/** devstack's flavors (stein-eol `create_flavors` in lib/nova): m1.* with ids 1-5 and 42/84/c1/d1... trimmed to the m1 set. */
export const DEVSTACK_FLAVORS = [
  { flavorid: '42', name: 'm1.nano', memory_mb: 64, vcpus: 1, root_gb: 1 },
  { flavorid: '84', name: 'm1.micro', memory_mb: 128, vcpus: 1, root_gb: 1 },
  { flavorid: '1', name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1 },
  { flavorid: '2', name: 'm1.small', memory_mb: 2048, vcpus: 1, root_gb: 20 },
  { flavorid: '3', name: 'm1.medium', memory_mb: 4096, vcpus: 2, root_gb: 40 },
  { flavorid: '4', name: 'm1.large', memory_mb: 8192, vcpus: 4, root_gb: 80 },
  { flavorid: '5', name: 'm1.xlarge', memory_mb: 16384, vcpus: 8, root_gb: 160 },
];

export async function createDefaultFlavors(api: Database): Promise<void> {
  for (const f of DEVSTACK_FLAVORS) {
    if (await apiDb.flavorGetByFlavorId(api, f.flavorid)) continue;
    if (await apiDb.flavorGetByName(api, f.name)) continue;
    await apiDb.flavorCreate(api, { ...f, ephemeral_gb: 0, swap: 0, is_public: true });
  }
}
