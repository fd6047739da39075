/** What every placement route module gets: the database, the candidates snapshot cache, policy. */
import type { PlacementDatabase } from '../db/sql.js';
import type { SnapshotCache } from '../candidates/snapshot.js';
import type { PolicyOptions } from './util.js';

export interface PlacementDeps {
  database: PlacementDatabase;
  snapshots: SnapshotCache;
  policy: PolicyOptions;
}
