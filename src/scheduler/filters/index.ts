/**
 * Scheduler filters (nova/scheduler/filters/*). A filter looks at one host and the request
 * and says whether the host may take it; a host failing any enabled filter is out.
 * @module
 */
import type { RequestSpec } from '../../compute/objects/request-spec.js';
import { hostAvailabilityZone, type HostState } from '../host-state.js';

export interface HostFilter {
  readonly name: string;
  hostPasses(host: HostState, spec: RequestSpec): boolean;
}

/** Hosts in the requested availability zone (aggregate metadata `availability_zone`). */
export const AvailabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  hostPasses(h, spec) {
    const az = spec.availability_zone;
    if (!az) return true;
    return hostAvailabilityZone(h) === az;
  },
};

/** Hosts whose nova-compute is up and enabled. */
export const ComputeFilter: HostFilter = {
  name: 'ComputeFilter',
  hostPasses(h) {
    return h.serviceUp && !h.serviceDisabled;
  },
};

/** Image properties the host must satisfy (`hypervisor_type`, `img_hv_type`). */
export const ImagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  hostPasses(h, spec) {
    const props = spec.image?.properties ?? {};
    const hv = (props['img_hv_type'] ?? props['hypervisor_type']) as string | undefined;
    if (!hv) return true;
    const want = hv === 'kvm' ? 'qemu' : hv;
    return want === h.hypervisorType || (want === 'qemu' && h.hypervisorType === 'kvm');
  },
};

function groupPolicy(spec: RequestSpec): string | null {
  return spec.instance_group?.policy ?? null;
}

/** Server group `affinity`: once the group has a host, only that host. */
export const ServerGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  hostPasses(h, spec) {
    if (groupPolicy(spec) !== 'affinity') return true;
    const hosts = spec.instance_group?.hosts ?? [];
    return hosts.length === 0 || hosts.includes(h.host);
  },
};

/** Server group `anti-affinity`: never a host that already has a member (up to max_server_per_host). */
export const ServerGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  hostPasses(h, spec) {
    if (groupPolicy(spec) !== 'anti-affinity') return true;
    const hosts = spec.instance_group?.hosts ?? [];
    const max = Number((spec.instance_group?.rules as Record<string, unknown> | undefined)?.['max_server_per_host'] ?? 1);
    return hosts.filter((x) => x === h.host).length < max;
  },
};

/** Hint `same_host`: a host running one of the given instances. */
export const SameHostFilter: HostFilter = {
  name: 'SameHostFilter',
  hostPasses(h, spec) {
    const uuids = spec.hint('same_host');
    if (!uuids?.length) return true;
    return uuids.some((u) => h.instances.has(u));
  },
};

/** Hint `different_host`: a host running none of the given instances. */
export const DifferentHostFilter: HostFilter = {
  name: 'DifferentHostFilter',
  hostPasses(h, spec) {
    const uuids = spec.hint('different_host');
    if (!uuids?.length) return true;
    return !uuids.some((u) => h.instances.has(u));
  },
};

/** Flavor extra specs scoped `aggregate_instance_extra_specs:` must match the host's aggregate metadata. */
export const AggregateInstanceExtraSpecsFilter: HostFilter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  hostPasses(h, spec) {
    const specs = spec.flavor?.extra_specs ?? {};
    const scope = 'aggregate_instance_extra_specs:';
    const wanted = Object.entries(specs).filter(([k]) => k.startsWith(scope) || !k.includes(':'));
    if (wanted.length === 0) return true;
    for (const [k, v] of wanted) {
      const key = k.startsWith(scope) ? k.slice(scope.length) : k;
      const values = new Set(h.aggregates.flatMap((a) => (a.metadata[key] !== undefined ? a.metadata[key]!.split(',').map((s) => s.trim()) : [])));
      if (values.size === 0) {
        if (k.startsWith(scope)) return false;
        continue;
      }
      if (!values.has(String(v).replace(/^s== |^= /, '').trim())) return false;
    }
    return true;
  },
};

/** Hosts in aggregates with `filter_tenant_id` only take those tenants. */
export const AggregateMultiTenancyIsolation: HostFilter = {
  name: 'AggregateMultiTenancyIsolation',
  hostPasses(h, spec) {
    const tenants = h.aggregates.flatMap((a) => Object.entries(a.metadata).filter(([k]) => k.startsWith('filter_tenant_id')).flatMap(([, v]) => v.split(',')));
    return tenants.length === 0 || tenants.includes(spec.project_id);
  },
};

export const ALL_FILTERS: Record<string, HostFilter> = Object.fromEntries(
  [AvailabilityZoneFilter, ComputeFilter, ImagePropertiesFilter, ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter,
    SameHostFilter, DifferentHostFilter, AggregateInstanceExtraSpecsFilter, AggregateMultiTenancyIsolation].map((f) => [f.name, f]),
);

/** `[filter_scheduler]enabled_filters` default (Stein) plus the hint filters devstack turns on. */
export const DEFAULT_ENABLED_FILTERS = [
  'AvailabilityZoneFilter', 'ComputeFilter', 'ImagePropertiesFilter', 'ServerGroupAntiAffinityFilter',
  'ServerGroupAffinityFilter', 'SameHostFilter', 'DifferentHostFilter', 'AggregateInstanceExtraSpecsFilter',
];
