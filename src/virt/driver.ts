/**
 * The hypervisor interface (nova/virt/driver.py). Vocabulary: an "instance" is Nova's record;
 * a "domain" is what the hypervisor runs for it, known by the instance uuid. The compute
 * manager owns states and records; a driver only makes the hypervisor match them and reports
 * what it sees (`getInfo`), which is authoritative for power_state.
 * @module
 */
import type { Instance, NetworkInfoVif } from '../compute/objects/instance.js';
import type { ImageMeta } from '../compute/objects/request-spec.js';

export interface InstanceInfo {
  /** Nova power_state integer (0 pending, 1 running, 3 paused, 4 shutdown, 6 crashed, 7 suspended). */
  state: number;
  internalId: string;
}

export interface HostResources {
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  hypervisor_type: string;
  hypervisor_version: number;
  hypervisor_hostname: string;
  cpu_info: string;
  disk_available_least: number;
}

/** Inventory as Placement wants it, per resource class. */
export interface InventoryRecord {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

/**
 * nova.objects.diagnostics.Diagnostics: what `GET /servers/{id}/diagnostics` shows from 2.48.
 * `num_*` are the lengths of the detail lists, as in Nova.
 */
export interface InstanceDiagnostics {
  state: string;
  driver: string;
  hypervisor: string | null;
  hypervisor_os: string | null;
  uptime: number | null;
  config_drive: boolean;
  num_cpus: number;
  num_nics: number;
  num_disks: number;
  memory_details: { maximum: number | null; used: number | null };
  cpu_details: { id: number | null; time: number | null; utilisation: number | null }[];
  nic_details: {
    mac_address: string | null; rx_octets: number | null; rx_errors: number | null; rx_drop: number | null; rx_packets: number | null; rx_rate: number | null;
    tx_octets: number | null; tx_errors: number | null; tx_drop: number | null; tx_packets: number | null; tx_rate: number | null;
  }[];
  disk_details: { read_bytes: number | null; read_requests: number | null; write_bytes: number | null; write_requests: number | null; errors_count: number | null }[];
}

/** Waits until the named external events arrived (the `network-vif-plugged` gate of spawn). */
export type WaitForEvents = <T>(events: [string, string][], run: () => Promise<T>) => Promise<T>;

export interface SpawnArgs {
  instance: Instance;
  image: ImageMeta;
  networkInfo: NetworkInfoVif[];
  allocations: Record<string, unknown>;
  adminPassword: string | null;
  /** Given by the compute manager: the driver plugs VIFs inside it and it returns when they are reported plugged. */
  waitForEvents: WaitForEvents;
}

export interface ComputeDriver {
  readonly capabilities: Record<string, boolean>;
  /** Called once when nova-compute starts. */
  initHost(host: string): Promise<void>;
  /** Node names this driver exposes (one per hypervisor; libvirt has one). */
  getAvailableNodes(): string[];
  getAvailableResource(nodename: string): HostResources;
  getInventory(nodename: string): Record<string, InventoryRecord>;
  /** Host name Neutron must bind ports to (`binding:host_id`). */
  networkBindingHostId(instance: Instance): string;
  listInstanceUuids(): string[];
  instanceExists(instance: Instance): boolean;
  getInfo(instance: Instance): InstanceInfo;
  spawn(args: SpawnArgs): Promise<void>;
  destroy(instance: Instance, networkInfo: NetworkInfoVif[]): Promise<void>;
  powerOff(instance: Instance, timeoutSec?: number): Promise<void>;
  powerOn(instance: Instance, networkInfo: NetworkInfoVif[]): Promise<void>;
  reboot(instance: Instance, networkInfo: NetworkInfoVif[], type: 'SOFT' | 'HARD'): Promise<void>;
  pause(instance: Instance): Promise<void>;
  unpause(instance: Instance): Promise<void>;
  suspend(instance: Instance): Promise<void>;
  resume(instance: Instance, networkInfo: NetworkInfoVif[]): Promise<void>;
  /** Writes the instance's disk as an image; `upload` receives the bytes (Glance PUT /file). */
  snapshot(instance: Instance, imageId: string, upload: (data: Buffer) => Promise<void>): Promise<void>;
  rescue(instance: Instance, image: ImageMeta): Promise<void>;
  unrescue(instance: Instance): Promise<void>;
  /** os-brick's `get_connector_properties` for this host (what Cinder exports the volume to). */
  getVolumeConnector?(instance: Instance): Record<string, unknown>;
  /** Connects the volume and adds it to the guest as `mountpoint` (e.g. /dev/vdb). */
  attachVolume?(instance: Instance, connectionInfo: Record<string, unknown>, mountpoint: string): Promise<void>;
  /** Removes the disk from the guest and disconnects the volume. */
  detachVolume?(instance: Instance, connectionInfo: Record<string, unknown>, mountpoint: string): Promise<void>;
  /** The volume grew in Cinder (`volume-extended`): the guest sees the new size. */
  extendVolume?(instance: Instance, connectionInfo: Record<string, unknown>, mountpoint: string, newSizeGb: number): Promise<void>;
  /** The guest was powered on or off outside Nova (`power-update` event: POWER_ON / POWER_OFF). */
  powerUpdateEvent?(instance: Instance, target: string): Promise<void>;
  /** The hypervisor's own free-form statistics of a domain (diagnostics below 2.48). */
  getDiagnostics?(instance: Instance): Record<string, number>;
  /** The standardized diagnostics of a domain (2.48). */
  getInstanceDiagnostics?(instance: Instance): InstanceDiagnostics;
  /** Pre-caches a base image on this host (2.81 aggregate image cache): true when fetched now, false when already cached. */
  cacheImage?(imageId: string): Promise<boolean>;
}

/** Raised by a driver when the domain it was asked about does not exist. */
export class InstanceNotFoundInDriver extends Error {
  override name = 'InstanceNotFound';
}

/**
 * The driver does not do this (Python's NotImplementedError, raised by ComputeDriver's base
 * methods). It crosses RPC under that class name, which nova-api turns into 501.
 */
export class NotImplementedError extends Error {
  override name = 'NotImplementedError';
  readonly remoteModule = 'builtins';
}
