/**
 * HostState (nova/scheduler/host_manager.py): what the scheduler believes about one compute
 * node while it picks, built from the compute node row, Placement's provider summary, the
 * host's aggregates and the instances it runs.
 * @module
 */
export interface AggregateInfo {
  id: number;
  name: string;
  hosts: string[];
  metadata: Record<string, string>;
}

export interface HostState {
  host: string;
  nodename: string;
  /** Compute node uuid = Placement resource provider uuid. */
  uuid: string;
  cellUuid: string;
  hypervisorType: string;
  vcpusTotal: number;
  vcpusUsed: number;
  totalUsableRamMb: number;
  freeRamMb: number;
  freeDiskMb: number;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  aggregates: AggregateInfo[];
  /** uuids of instances on this host (scheduler's instance-info cache). */
  instances: Set<string>;
  serviceUp: boolean;
  serviceDisabled: boolean;
  numInstances: number;
}

/** Default availability zone name (`[DEFAULT]default_availability_zone`). */
export const DEFAULT_AZ = 'nova';

export function hostAvailabilityZone(h: HostState): string {
  for (const a of h.aggregates) if (a.metadata['availability_zone']) return a.metadata['availability_zone'];
  return DEFAULT_AZ;
}
