/**
 * The super-conductor's `cache_images` (nova/conductor/manager.py, 2.81): for each host of the
 * aggregate, through its host mapping to its cell, a `cache_images` call to that nova-compute
 * (skipped when the service is down); the per-image results are counted and logged.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import type { Database } from '../../common/db/connection.js';
import { getLogger, type Logger } from '../../common/log.js';
import { isServiceUp } from '../../common/service.js';
import type { Cell, CellRegistry } from '../../compute/cells.js';
import * as apiDb from '../../compute/db/api-api.js';
import * as hostApi from '../../compute/db/host-api.js';
import type { ComputeAPI } from '../../compute/rpcapi.js';

export interface CacheImagesDeps {
  host: string;
  api: Database;
  cells: CellRegistry;
  computeRpcFor(cell: Cell): Promise<ComputeAPI>;
}

/** The aggregate as nova-api casts it: at least its id, name and hosts. */
export interface AggregateArg { id: number; name?: string; hosts: string[] }

/** ComputeTaskManager's cache_images (namespace `compute_task`, 1.21). */
export class CacheImagesEndpoint {
  readonly target = { namespace: 'compute_task', version: '1.21' };
  private readonly log: Logger;
  constructor(private readonly d: CacheImagesDeps) {
    this.log = getLogger('nova-conductor', d.host);
  }

  async cache_images(ctx: RequestContext, a: { aggregate: AggregateArg; image_ids: string[] }): Promise<Record<string, number>> {
    const t0 = Date.now();
    const totals = { cached: 0, existing: 0, error: 0, unsupported: 0, skipped: 0 };
    const count = (result: Record<string, string>) => {
      for (const status of Object.values(result)) if (status in totals) totals[status as keyof typeof totals] += 1;
    };
    await Promise.all(a.aggregate.hosts.map(async (host) => {
      const hm = await apiDb.hostMappingGet(this.d.api, host);
      if (!hm) {
        this.log.warn({ host }, 'No host mapping; skipping image pre-cache');
        return;
      }
      const cell = await this.d.cells.byId(hm['cell_id']);
      const svc = await hostApi.serviceGetByHostBinary(cell.db, host, 'nova-compute');
      if (!svc || svc['forced_down'] || !isServiceUp(svc['last_seen_up'] ?? svc['created_at'])) {
        this.log.info({ host }, 'Skipping image pre-cache request to compute because it is not up');
        count(Object.fromEntries(a.image_ids.map((id) => [id, 'skipped'])));
        return;
      }
      try {
        count(await (await this.d.computeRpcFor(cell)).cacheImages(ctx, host, a.image_ids));
      } catch (e) {
        this.log.error({ err: e, host }, 'Image pre-cache request failed');
        count(Object.fromEntries(a.image_ids.map((id) => [id, 'error'])));
      }
    }));
    this.log.info({ aggregate: a.aggregate.id, images: a.image_ids, ...totals, seconds: (Date.now() - t0) / 1000 }, 'Image pre-cache operation for image(s) completed');
    return totals;
  }
}
