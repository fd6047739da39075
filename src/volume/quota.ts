/**
 * Cinder's quotas (`cinder/quota.py`): defaults, per-project overrides, usage counted from the
 * volumes and snapshots a project holds, and the 413 errors Cinder raises when a create would
 * go over.
 * @module
 */
import { ApiError } from '../common/errors.js';

export const DEFAULT_QUOTAS: Record<string, number> = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
  per_volume_gigabytes: -1,
};

/** Quota set for a project: defaults, per-type keys (unlimited), overrides. */
export function quotaSet(overrides: Record<string, number>, typeNames: string[]): Record<string, number> {
  const q: Record<string, number> = { ...DEFAULT_QUOTAS };
  for (const t of typeNames) {
    q[`volumes_${t}`] = -1;
    q[`gigabytes_${t}`] = -1;
    q[`snapshots_${t}`] = -1;
  }
  return { ...q, ...overrides };
}

export interface Usage {
  volumes: number;
  gigabytes: number;
  snapshots: number;
}

/** Throws Cinder's over-quota error when adding `add` to `usage` exceeds `limits`. */
export function checkQuota(limits: Record<string, number>, usage: Usage, add: { volumes?: number; snapshots?: number; gigabytes: number; size?: number }): void {
  const per = limits['per_volume_gigabytes'] ?? -1;
  if (add.size !== undefined && per >= 0 && add.size > per) {
    throw new ApiError(413, `Requested volume size ${add.size}G is larger than maximum allowed limit ${per}G.`, { type: 'VolumeSizeExceedsLimit' });
  }
  const gb = limits['gigabytes'] ?? -1;
  if (gb >= 0 && usage.gigabytes + add.gigabytes > gb) {
    const what = add.snapshots ? 'SnapshotSizeExceedsAvailableQuota' : 'VolumeSizeExceedsAvailableQuota';
    throw new ApiError(413, `Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${add.gigabytes}G, quota is ${gb}G and ${usage.gigabytes}G has been consumed.`, { type: what });
  }
  const vols = limits['volumes'] ?? -1;
  if (add.volumes && vols >= 0 && usage.volumes + add.volumes > vols) {
    throw new ApiError(413, `Maximum number of volumes allowed (${vols}) exceeded for quota 'volumes'.`, { type: 'VolumeLimitExceeded' });
  }
  const snaps = limits['snapshots'] ?? -1;
  if (add.snapshots && snaps >= 0 && usage.snapshots + add.snapshots > snaps) {
    throw new ApiError(413, `Maximum number of snapshots allowed (${snaps}) exceeded`, { type: 'SnapshotLimitExceeded' });
  }
}
