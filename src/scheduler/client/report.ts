/**
 * SchedulerReportClient (nova/scheduler/client/report.py): everything Nova says to Placement
 * over REST. The scheduler asks for allocation candidates and claims; nova-compute's resource
 * tracker keeps its resource provider and inventory current and removes allocations.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { RemoteHttpError, type Session } from '../../common/http/client.js';
import { getLogger } from '../../common/log.js';
import type { InventoryRecord } from '../../virt/driver.js';

const log = getLogger('nova.scheduler.client.report');

/** Placement microversions Nova (Stein) uses per call. */
export const CANDIDATES_VERSION = '1.29';
export const CONSUMER_GENERATION_VERSION = '1.28';
export const BASE_VERSION = '1.14';

export interface AllocationRequest {
  allocations: Record<string, { resources: Record<string, number> }>;
  mappings?: Record<string, string[]>;
}
export interface ProviderSummary {
  resources: Record<string, { capacity: number; used: number }>;
  traits?: string[];
  parent_provider_uuid?: string | null;
  root_provider_uuid?: string;
}
export interface AllocationCandidates {
  allocation_requests: AllocationRequest[];
  provider_summaries: Record<string, ProviderSummary>;
}

export class SchedulerReportClient {
  constructor(private readonly session: Session) {}

  async getAllocationCandidates(ctx: RequestContext, resources: Record<string, number>, o: { limit?: number; required?: string[]; memberOf?: string[] } = {}): Promise<AllocationCandidates> {
    const res = Object.entries(resources).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)).map(([rc, n]) => `${rc}:${n}`).join(',');
    const query: Record<string, string> = { limit: String(o.limit ?? 1000), resources: res };
    if (o.required?.length) query['required'] = o.required.join(',');
    if (o.memberOf?.length) query['member_of'] = `in:${o.memberOf.join(',')}`;
    const r = await this.session.get<AllocationCandidates>('placement', '/allocation_candidates', { ctx, query, microversion: CANDIDATES_VERSION });
    return r.body;
  }

  /**
   * PUT /allocations/{consumer}: the scheduler's claim. A provider generation conflict is retried
   * (another claim landed first); any other refusal means the capacity is gone: returns false.
   */
  async claimResources(ctx: RequestContext, consumerUuid: string, allocReq: AllocationRequest, projectId: string, userId: string, consumerGeneration: number | null = null): Promise<boolean> {
    const body = { allocations: allocReq.allocations, project_id: projectId, user_id: userId, consumer_generation: consumerGeneration };
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await this.session.put('placement', `/allocations/${consumerUuid}`, { ctx, body, microversion: CONSUMER_GENERATION_VERSION });
        return true;
      } catch (e) {
        if (e instanceof RemoteHttpError && e.status === 409) {
          if (e.errorCode === 'placement.concurrent_update' && !String(e.message).includes('consumer generation')) {
            log.debug({ consumerUuid, attempt }, 'provider generation conflict while claiming; retrying');
            continue;
          }
          log.warn({ consumerUuid, err: e.message }, 'Unable to submit allocation for instance');
          return false;
        }
        throw e;
      }
    }
    return false;
  }

  async getAllocationsForConsumer(ctx: RequestContext, consumerUuid: string): Promise<{ allocations: Record<string, { resources: Record<string, number>; generation?: number }>; consumer_generation?: number | null }> {
    const r = await this.session.get<any>('placement', `/allocations/${consumerUuid}`, { ctx, microversion: CONSUMER_GENERATION_VERSION });
    return r.body;
  }

  async deleteAllocationForInstance(ctx: RequestContext, consumerUuid: string): Promise<void> {
    await this.session.delete('placement', `/allocations/${consumerUuid}`, { ctx, okStatuses: [404], microversion: BASE_VERSION });
  }

  /** delete_resource_provider (the compute service is being deleted); a provider already gone is fine. */
  async deleteResourceProvider(ctx: RequestContext, rpUuid: string): Promise<void> {
    await this.session.delete('placement', `/resource_providers/${rpUuid}`, { ctx, okStatuses: [404], microversion: BASE_VERSION });
  }

  /**
   * move_allocations: one POST /allocations (1.28) gives the source consumer's allocations to the
   * target consumer and empties the source (the resize / migrate swap between an instance and its
   * migration). Returns false when the source held nothing.
   */
  async moveAllocations(ctx: RequestContext, sourceConsumer: string, targetConsumer: string): Promise<boolean> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const src = await this.getAllocationsForConsumer(ctx, sourceConsumer) as { allocations: Record<string, { resources: Record<string, number> }>; consumer_generation?: number | null; project_id?: string; user_id?: string };
      if (!src.allocations || Object.keys(src.allocations).length === 0) return false;
      const dst = await this.getAllocationsForConsumer(ctx, targetConsumer) as { allocations: Record<string, unknown>; consumer_generation?: number | null };
      if (dst.allocations && Object.keys(dst.allocations).length) log.warn({ sourceConsumer, targetConsumer }, 'Overwriting current allocation of the target consumer');
      const allocations = Object.fromEntries(Object.entries(src.allocations).map(([rp, a]) => [rp, { resources: a.resources }]));
      const body = {
        [sourceConsumer]: { allocations: {}, project_id: src.project_id, user_id: src.user_id, consumer_generation: src.consumer_generation ?? null },
        [targetConsumer]: { allocations, project_id: src.project_id, user_id: src.user_id, consumer_generation: dst.consumer_generation ?? null },
      };
      try {
        await this.session.post('placement', '/allocations', { ctx, body, microversion: CONSUMER_GENERATION_VERSION });
        return true;
      } catch (e) {
        // A consumer generation moved under us: read again and retry (nova retries too).
        if (e instanceof RemoteHttpError && e.status === 409 && attempt < 3) continue;
        throw e;
      }
    }
    return false;
  }

  /** Makes sure the compute node's provider exists (uuid = compute node uuid, name = node name). */
  async ensureResourceProvider(ctx: RequestContext, uuid: string, name: string): Promise<void> {
    const r = await this.session.get('placement', `/resource_providers/${uuid}`, { ctx, okStatuses: [404], microversion: BASE_VERSION });
    if (r.status !== 404) return;
    try {
      await this.session.post('placement', '/resource_providers', { ctx, body: { uuid, name }, microversion: BASE_VERSION });
    } catch (e) {
      // Another worker created it meanwhile.
      if (!(e instanceof RemoteHttpError && e.status === 409)) throw e;
    }
  }

  /** The provider's traits (GET /resource_providers/{uuid}/traits, placement 1.6). */
  async getProviderTraits(ctx: RequestContext, rpUuid: string): Promise<string[]> {
    const r = await this.session.get<{ traits: string[] }>('placement', `/resource_providers/${rpUuid}/traits`, { ctx, okStatuses: [404], microversion: '1.6' });
    return r.status === 404 ? [] : r.body.traits;
  }

  /** Adds traits the provider lacks, keeping the ones it has (an operator's custom traits). */
  async addProviderTraits(ctx: RequestContext, rpUuid: string, traits: string[]): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.session.get<{ traits: string[]; resource_provider_generation: number }>('placement', `/resource_providers/${rpUuid}/traits`, { ctx, microversion: '1.6' });
      const missing = traits.filter((t) => !cur.body.traits.includes(t));
      if (!missing.length) return;
      try {
        await this.session.put('placement', `/resource_providers/${rpUuid}/traits`, {
          ctx, microversion: '1.6', body: { resource_provider_generation: cur.body.resource_provider_generation, traits: [...cur.body.traits, ...missing] },
        });
        return;
      } catch (e) {
        if (e instanceof RemoteHttpError && e.status === 409 && attempt < 4) continue;
        throw e;
      }
    }
  }

  /** Sets the provider's inventory, retrying when its generation moved (claims bump it too). */
  async setInventory(ctx: RequestContext, rpUuid: string, inventories: Record<string, InventoryRecord>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.session.get<{ resource_provider_generation: number; inventories: Record<string, InventoryRecord> }>(
        'placement', `/resource_providers/${rpUuid}/inventories`, { ctx, microversion: BASE_VERSION });
      if (sameInventory(cur.body.inventories, inventories)) return;
      try {
        await this.session.put('placement', `/resource_providers/${rpUuid}/inventories`, {
          ctx, microversion: BASE_VERSION, body: { resource_provider_generation: cur.body.resource_provider_generation, inventories },
        });
        return;
      } catch (e) {
        if (e instanceof RemoteHttpError && e.status === 409 && attempt < 4) continue;
        throw e;
      }
    }
  }
}

function sameInventory(a: Record<string, InventoryRecord>, b: Record<string, InventoryRecord>): boolean {
  const ka = Object.keys(a ?? {}).sort(), kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return false;
  return kb.every((k) => (Object.keys(b[k]!) as (keyof InventoryRecord)[]).every((f) => Number(a[k]![f]) === Number(b[k]![f])));
}
