/**
 * SchedulerManager (nova/scheduler/manager.py + filter_scheduler.py), RPC endpoint 4.5 on
 * topic `scheduler`. select_destinations: Placement allocation candidates -> host states ->
 * filters -> weighers -> claim in Placement (retrying generation conflicts, moving on when
 * the capacity is gone) -> Selections with same-cell alternates.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { withSpan } from '../common/journey/span.js';
import { getLogger } from '../common/log.js';
import { noValidHost } from '../compute/exception.js';
import type { NovaNotifier } from '../compute/notifications.js';
import { versionedPayload } from '../compute/notifications.js';
import type { RequestSpec} from '../compute/objects/request-spec.js';
import { Selection } from '../compute/objects/request-spec.js';
import type { AllocationRequest, SchedulerReportClient } from './client/report.js';
import { ALL_FILTERS, DEFAULT_ENABLED_FILTERS, type HostFilter } from './filters/index.js';
import type { HostManager } from './host-manager.js';
import type { HostState } from './host-state.js';
import { cpuWeigher, diskWeigher, ramWeigher, weighHosts, type HostWeigher } from './weights/index.js';

export interface SchedulerOptions {
  host: string;
  enabledFilters?: string[];
  weighers?: HostWeigher[];
  /** `[scheduler]max_attempts` (3): one chosen host plus max_attempts-1 alternates. */
  maxAttempts?: number;
  /** `[filter_scheduler]host_subset_size` (1). */
  hostSubsetSize?: number;
}

export class SchedulerManager {
  readonly target = { version: '4.5' };
  private readonly log;
  private readonly filters: HostFilter[];
  private readonly weighers: HostWeigher[];

  constructor(
    private readonly hostManager: HostManager,
    private readonly placement: SchedulerReportClient,
    private readonly notifier: NovaNotifier | null,
    private readonly opts: SchedulerOptions,
  ) {
    this.log = getLogger('nova-scheduler', opts.host);
    this.filters = (opts.enabledFilters ?? DEFAULT_ENABLED_FILTERS).map((n) => ALL_FILTERS[n]).filter((f): f is HostFilter => !!f);
    this.weighers = opts.weighers ?? [ramWeigher(), cpuWeigher(), diskWeigher()];
  }

  // ---- RPC methods (wire names) ----
  async select_destinations(ctx: RequestContext, a: { request_spec: RequestSpec; instance_uuids?: string[]; return_objects?: boolean; return_alternates?: boolean }): Promise<unknown> {
    const spec = a.request_spec;
    const uuids = a.instance_uuids ?? [spec.instance_uuid];
    await this.notifySelect(ctx, spec, 'start');
    const result = await this.selectDestinations(ctx, spec, uuids, a.return_alternates ?? false);
    await this.notifySelect(ctx, spec, 'end');
    if (a.return_objects === false) {
      // Pre-4.4 callers get one dict per instance.
      return result.map((l) => ({ host: l[0]!.service_host, nodename: l[0]!.nodename, limits: l[0]!.limits ?? {} }));
    }
    return result;
  }

  async update_aggregates(_ctx: RequestContext): Promise<void> {
    this.hostManager.invalidateAggregates();
  }
  async delete_aggregate(_ctx: RequestContext): Promise<void> {
    this.hostManager.invalidateAggregates();
  }
  async update_instance_info(_ctx: RequestContext, a: { host_name: string; instance_info: { uuid: string }[] | { uuid: string } }): Promise<void> {
    const list = Array.isArray(a.instance_info) ? a.instance_info : [a.instance_info];
    this.hostManager.updateInstanceInfo(a.host_name, list.map((i) => i.uuid));
  }
  async delete_instance_info(_ctx: RequestContext, a: { host_name: string; instance_uuid: string }): Promise<void> {
    this.hostManager.deleteInstanceInfo(a.host_name, a.instance_uuid);
  }
  async sync_instance_info(_ctx: RequestContext, a: { host_name: string; instance_uuids: string[] }): Promise<void> {
    this.hostManager.syncInstanceInfo(a.host_name, a.instance_uuids);
  }

  // ---- the filter scheduler ----
  async selectDestinations(ctx: RequestContext, spec: RequestSpec, instanceUuids: string[], returnAlternates: boolean): Promise<Selection[][]> {
    const resources = resourcesFromSpec(spec);
    const candidates = await this.placement.getAllocationCandidates(ctx, resources);
    if (!candidates.allocation_requests.length) {
      this.log.info('Got no allocation candidates from the Placement API. This could be due to insufficient resources or a temporary occurrence as compute nodes start up.');
      throw noValidHost();
    }
    const allocsByRp = new Map<string, AllocationRequest[]>();
    for (const ar of candidates.allocation_requests) {
      // The root provider is the compute node (no nested providers here).
      for (const rp of Object.keys(ar.allocations)) {
        if (!candidates.provider_summaries[rp]?.resources['VCPU'] && !candidates.provider_summaries[rp]?.resources['MEMORY_MB']) continue;
        if (!allocsByRp.has(rp)) allocsByRp.set(rp, []);
        allocsByRp.get(rp)!.push(ar);
      }
    }
    let hosts = await this.hostManager.hostStatesForProviders(candidates.provider_summaries);
    const chosen: { state: HostState; alloc: AllocationRequest }[] = [];
    const claimed: string[] = [];
    try {
      for (const uuid of instanceUuids) {
        const filtered = this.filterHosts(hosts, spec);
        const weighed = weighHosts(filtered, this.weighers);
        if (weighed.length === 0) throw noValidHost();
        let pick: { state: HostState; alloc: AllocationRequest } | null = null;
        const subset = Math.max(1, this.opts.hostSubsetSize ?? 1);
        for (const { host } of weighed.slice(0, Math.max(subset, weighed.length))) {
          const alloc = allocsByRp.get(host.uuid)?.[0];
          if (!alloc) continue;
          const ok = await withSpan({ kind: 'internal', name: 'placement claim', service: 'nova-scheduler', host: this.opts.host, attributes: { consumer: uuid, provider: host.uuid } },
            () => this.placement.claimResources(ctx, uuid, alloc, spec.project_id, spec.user_id));
          if (ok) {
            pick = { state: host, alloc };
            break;
          }
        }
        if (!pick) throw noValidHost();
        claimed.push(uuid);
        chosen.push(pick);
        this.consume(pick.state, spec, uuid);
        if (spec.instance_group) {
          spec.instance_group = { ...spec.instance_group, hosts: [...(spec.instance_group.hosts ?? []), pick.state.host], members: [...(spec.instance_group.members ?? []), uuid] };
        }
        hosts = hosts.map((h) => (h === pick!.state ? pick!.state : h));
      }
    } catch (e) {
      // Roll back the claims of instances already placed (filter_scheduler._cleanup_allocations).
      await Promise.allSettled(claimed.map((u) => this.placement.deleteAllocationForInstance(ctx, u)));
      throw e;
    }
    const maxAlternates = returnAlternates ? Math.max(0, (this.opts.maxAttempts ?? 3) - 1) : 0;
    return chosen.map(({ state, alloc }) => {
      const list = [toSelection(state, alloc)];
      if (maxAlternates > 0) {
        const alternates = weighHosts(this.filterHosts(hosts, spec), this.weighers)
          .map((w) => w.host)
          .filter((h) => h.cellUuid === state.cellUuid && h.uuid !== state.uuid && allocsByRp.has(h.uuid));
        for (const h of alternates.slice(0, maxAlternates)) list.push(toSelection(h, allocsByRp.get(h.uuid)![0]!));
      }
      return list;
    });
  }

  private filterHosts(hosts: HostState[], spec: RequestSpec): HostState[] {
    let out = hosts;
    const ignore = new Set(spec.ignore_hosts ?? []);
    if (ignore.size) out = out.filter((h) => !ignore.has(h.host));
    const force = spec.force_hosts ?? [];
    if (force.length) out = out.filter((h) => force.includes(h.host));
    const forceNodes = spec.force_nodes ?? [];
    if (forceNodes.length) out = out.filter((h) => forceNodes.includes(h.nodename));
    const dest = spec.requested_destination as { host?: string; node?: string } | null;
    if (dest?.host) out = out.filter((h) => h.host === dest.host && (!dest.node || h.nodename === dest.node));
    else if (dest?.node) out = out.filter((h) => h.nodename === dest.node); // 2.74: hypervisor_hostname alone
    for (const f of this.filters) {
      const before = out.length;
      out = out.filter((h) => f.hostPasses(h, spec));
      this.log.debug({ filter: f.name, before, after: out.length }, `Filter ${f.name} returned ${out.length} host(s)`);
      if (out.length === 0) {
        this.log.info(`Filtering removed all hosts for the request with instance ID '${spec.instance_uuid}'. Filter results: ${f.name} returned 0 hosts`);
        break;
      }
    }
    return out;
  }

  /** HostState.consume_from_request: later instances of the same request see the usage. */
  private consume(h: HostState, spec: RequestSpec, uuid: string): void {
    h.freeRamMb -= spec.flavor.memory_mb;
    h.freeDiskMb -= ((spec.flavor.root_gb ?? 0) + (spec.flavor.ephemeral_gb ?? 0)) * 1024 + (spec.flavor.swap ?? 0);
    h.vcpusUsed += spec.flavor.vcpus;
    h.numInstances++;
    h.instances.add(uuid);
    this.hostManager.addInstance(h.host, uuid);
  }

  private async notifySelect(ctx: RequestContext, spec: RequestSpec, phase: 'start' | 'end'): Promise<void> {
    await this.notifier?.notify(ctx, {
      legacyEvent: `scheduler.select_destinations.${phase}`,
      event: `scheduler.select_destinations.${phase}`,
      legacyPayload: { request_spec: spec.toDict() },
      payload: versionedPayload('RequestSpecPayload', '1.1', {
        instance_uuid: spec.instance_uuid, project_id: spec.project_id, user_id: spec.user_id, availability_zone: spec.availability_zone ?? null,
        num_instances: spec.num_instances ?? 1, ignore_hosts: spec.ignore_hosts ?? null, force_hosts: spec.force_hosts?.[0] ?? null,
        scheduler_hints: spec.scheduler_hints ?? {},
      }),
    });
  }
}

/** resources=VCPU,MEMORY_MB,DISK_GB from the flavor (nova.scheduler.utils.resources_from_request_spec). */
export function resourcesFromSpec(spec: RequestSpec): Record<string, number> {
  const f = spec.flavor;
  const disk = spec.is_bfv ? (f.ephemeral_gb ?? 0) + Math.ceil((f.swap ?? 0) / 1024) : (f.root_gb ?? 0) + (f.ephemeral_gb ?? 0) + Math.ceil((f.swap ?? 0) / 1024);
  const res: Record<string, number> = { VCPU: f.vcpus, MEMORY_MB: f.memory_mb, DISK_GB: disk };
  // Flavor extra specs `resources:<RC>=<n>` override (0 removes).
  for (const [k, v] of Object.entries(f.extra_specs ?? {})) {
    const m = /^resources\d*:([A-Z0-9_]+)$/.exec(k);
    if (m) res[m[1]!] = Number(v);
  }
  return res;
}

function toSelection(h: HostState, alloc: AllocationRequest): Selection {
  const s = new Selection();
  s.update({
    compute_node_uuid: h.uuid, service_host: h.host, nodename: h.nodename, cell_uuid: h.cellUuid, limits: null,
    allocation_request: JSON.stringify(alloc), allocation_request_version: '1.29', availability_zone: null,
  });
  return s;
}
