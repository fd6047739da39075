/**
 * Quotas (nova/quota.py, counting since Pike): usage is counted from the cells
 * (instances, cores, ram of live instances) and compared with the project's limits from the
 * API DB, falling back to the `default` quota class and then the config defaults.
 * @module
 */
import type { Database } from '../common/db/connection.js';
import { runPrepared } from '../common/db/prepared.js';
import { ApiError } from '../common/errors.js';
import type { CellRegistry } from './cells.js';
import * as apiDb from './db/api-api.js';

/** `[quota]` defaults. */
export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10, cores: 20, ram: 51200, metadata_items: 128, injected_files: 5, injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255, key_pairs: 100, server_groups: 10, server_group_members: 10,
  // Proxied to Neutron by the API before 2.36; kept so the quota document has them.
  floating_ips: -1, fixed_ips: -1, security_groups: -1, security_group_rules: -1,
};

export async function projectLimits(api: Database, projectId: string): Promise<Record<string, number>> {
  const [cls, proj] = await Promise.all([apiDb.quotaGetClass(api), apiDb.quotaGetProject(api, projectId)]);
  return { ...QUOTA_DEFAULTS, ...cls, ...proj };
}

export interface Usage {
  instances: number;
  cores: number;
  ram: number;
}

/** Scatter-gather over the cells: what the project's live instances use. */
export async function countUsage(cells: CellRegistry, projectId: string): Promise<Usage> {
  const res = await cells.scatterGather(async (cell) => {
    const db = cell.db.db;
    const r = (await runPrepared(db, db, 'quotaCountInstances', [projectId], ([p]) => db.selectFrom('instances')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('vcpus').as('cores'), eb.fn.sum('memory_mb').as('ram')])
      .where('project_id', '=', p!).where('deleted', '=', 0).where((eb) => eb.or([eb('vm_state', '!=', 'soft-delete'), eb('vm_state', 'is', null)])))).rows[0];
    return { instances: Number(r?.['n'] ?? 0), cores: Number(r?.['cores'] ?? 0), ram: Number(r?.['ram'] ?? 0) };
  });
  const u: Usage = { instances: 0, cores: 0, ram: 0 };
  for (const v of res.values()) if (v) { u.instances += v.instances; u.cores += v.cores; u.ram += v.ram; }
  // Build requests not yet in a cell count too.
  for (const json of await apiDb.buildRequestInstances(cells.api, projectId)) {
    const inst = JSON.parse(json ?? '{}');
    u.instances += 1;
    u.cores += Number(inst.vcpus ?? 0);
    u.ram += Number(inst.memory_mb ?? 0);
  }
  return u;
}

/** Raises Nova's 403 when `want` more of each resource would go over a limit. */
export function checkDeltas(limits: Record<string, number>, usage: Usage, want: Usage): void {
  const overs = (Object.keys(want) as (keyof Usage)[]).filter((k) => limits[k]! >= 0 && usage[k] + want[k] > limits[k]!);
  if (overs.length === 0) return;
  const k = overs[0]!;
  throw new ApiError(403, `Quota exceeded for ${overs.join(', ')}: Requested ${want[k]}, but already used ${usage[k]} of ${limits[k]} ${overs.join(', ')}`, { type: 'OverQuota' });
}
