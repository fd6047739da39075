/**
 * The placement service: its REST app over its own database.
 *
 * `createPlacementApp` syncs the standard resource classes and traits (as placement does at
 * startup) and returns the Fastify app; the caller listens and closes it. Placement's migrations
 * are registered with `registerDbSchema('placement', ...)` by db/migrations.ts.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { createApp } from '../common/http/app.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { migrate, type Database } from '../common/db/index.js';
import { placementMigrations } from './db/migrations.js';
import { SnapshotCache } from './candidates/snapshot.js';
import { syncStandardResourceClasses } from './db/resource-classes.js';
import { syncStandardTraits } from './db/traits.js';
import type { PlacementDatabase } from './db/sql.js';
import type { PlacementDeps } from './api/deps.js';
import { registerRoot } from './api/root.js';
import { registerResourceProviders } from './api/resource-providers.js';
import { registerProviderSubresources } from './api/provider-subresources.js';
import { registerTraitsAndClasses } from './api/traits-and-classes.js';
import { registerAllocations } from './api/allocations.js';
import { registerAllocationCandidates } from './api/allocation-candidates.js';
import { PLACEMENT_MAX_VERSION, PLACEMENT_MIN_VERSION } from './api/versions.js';

export { placementMigrations } from './db/migrations.js';
export { PLACEMENT_MAX_VERSION, PLACEMENT_MIN_VERSION } from './api/versions.js';

export interface PlacementAppOptions {
  database: Database;
  validator?: TokenValidator;
  authUrl?: string;
  host?: string;
}

/** Placement's standard data: resource classes and traits (idempotent, safe to run from many processes). */
export async function syncPlacementStandards(database: Database): Promise<void> {
  await syncStandardResourceClasses(database as PlacementDatabase);
  await syncStandardTraits(database as PlacementDatabase);
}

export async function createPlacementApp(opts: PlacementAppOptions): Promise<FastifyInstance> {
  const database = opts.database as PlacementDatabase;
  await migrate(database, 'placement', placementMigrations);
  await syncPlacementStandards(database);
  const app = createApp({
    service: 'placement',
    ...(opts.host ? { host: opts.host } : {}),
    faults: 'placement',
    microversion: { service: 'placement', min: PLACEMENT_MIN_VERSION, max: PLACEMENT_MAX_VERSION },
    ...(opts.validator ? { validator: opts.validator } : {}),
    ...(opts.authUrl ? { authUrl: opts.authUrl } : {}),
  });
  const deps: PlacementDeps = {
    database,
    snapshots: new SnapshotCache(database),
    policy: { enforce: opts.validator !== undefined },
  };
  registerRoot(app);
  registerResourceProviders(app, deps);
  registerProviderSubresources(app, deps);
  registerTraitsAndClasses(app, deps);
  registerAllocations(app, deps);
  registerAllocationCandidates(app, deps);
  return app;
}
