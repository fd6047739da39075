/**
 * A fake (in-memory) hypervisor. It keeps its domains in memory, takes time like a real one
 * (per-operation delays, configurable) and can be told to fail per host or per instance.
 * Like nova/virt/fake.py it also documents the semantics a real driver must follow:
 * spawn plugs VIFs and waits for `network-vif-plugged` before the domain runs; power_state
 * comes from the domain, never from the DB.
 * @module
 */
import type { Instance } from '../compute/objects/instance.js';
import type { ImageMeta } from '../compute/objects/request-spec.js';
import { PowerState, powerStateName } from '../compute/states.js';
import {
  InstanceNotFoundInDriver,
  type ComputeDriver, type HostResources, type InstanceDiagnostics, type InstanceInfo, type InventoryRecord, type SpawnArgs,
} from './driver.js';

export type FakeOperation = 'spawn' | 'destroy' | 'powerOff' | 'powerOn' | 'reboot' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'snapshot' | 'rescue' | 'unrescue'
  | 'attachVolume' | 'detachVolume';

export interface FakeDriverOptions {
  host: string;
  vcpus?: number;
  memoryMb?: number;
  localGb?: number;
  /** Milliseconds each operation takes (default 0). */
  delays?: Partial<Record<FakeOperation, number>>;
}

interface Domain {
  uuid: string;
  state: number;
  memoryMb: number;
  vcpus: number;
  diskGb: number;
  vifs: string[];
  rescued: boolean;
  /** Attached volumes by mountpoint (device name). */
  volumes?: Map<string, FakeVolumeDisk>;
  /** When the guest last started running (ms epoch), null while not running. */
  runningSince: number | null;
  /** CPU time the guest used before `runningSince` (ns). */
  cpuNs: number;
}

/** A volume as the fake guest sees it. */
export interface FakeVolumeDisk {
  volumeId: string | null;
  mountpoint: string;
  connectionInfo: Record<string, unknown>;
  sizeGb: number | null;
}

/** A failure to inject: every matching operation throws `error` (the build is then rescheduled). */
export interface FakeFailure {
  op: FakeOperation;
  /** Only for this instance uuid (default: any). */
  instanceUuid?: string;
  /** How many times to fail (default: forever). */
  times?: number;
  message?: string;
}

/** Failures injected per host: a test tells host "cmp2" to fail spawns without holding its driver. */
const hostFailures = new Map<string, FakeFailure[]>();
export function injectFailure(host: string, f: FakeFailure): void {
  if (!hostFailures.has(host)) hostFailures.set(host, []);
  hostFailures.get(host)!.push({ ...f });
}
export function clearFailures(host?: string): void {
  if (host) hostFailures.delete(host);
  else hostFailures.clear();
}

/** Delays per host for drivers created elsewhere (e.g. by `stratus up`). */
const hostDelays = new Map<string, Partial<Record<FakeOperation, number>>>();
export function setFakeDelays(host: string, delays: Partial<Record<FakeOperation, number>>): void {
  hostDelays.set(host, { ...(hostDelays.get(host) ?? {}), ...delays });
}

/** The fake drivers of this process by host, so a test of a whole cloud can look at a guest. */
const driversByHost = new Map<string, FakeDriver>();
export function fakeDriverFor(host: string): FakeDriver | undefined {
  return driversByHost.get(host);
}

export class FakeDriver implements ComputeDriver {
  readonly capabilities = { has_imagecache: false, supports_evacuate: true, supports_attach_interface: true, supports_multiattach: true, supports_bfv_rescue: true };
  readonly host: string;
  private readonly domains = new Map<string, Domain>();
  private readonly vcpus: number;
  private readonly memoryMb: number;
  private readonly localGb: number;
  private readonly delays: Partial<Record<FakeOperation, number>>;
  /** Every call, in order, for tests that check what the manager asked. */
  readonly calls: { op: string; uuid: string }[] = [];
  /** Base images pre-cached on this host by request (cache_images), in order. */
  readonly cachedImages: string[] = [];

  constructor(opts: FakeDriverOptions) {
    this.host = opts.host;
    // nova's FakeDriver defaults: 1000 vcpus, 800 GiB RAM, 600 TiB disk would hide capacity bugs; keep it sized like a host.
    this.vcpus = opts.vcpus ?? 16;
    this.memoryMb = opts.memoryMb ?? 32768;
    this.localGb = opts.localGb ?? 1024;
    this.delays = opts.delays ?? {};
    driversByHost.set(this.host, this);
  }

  async initHost(_host: string): Promise<void> {}

  getAvailableNodes(): string[] {
    return [this.host];
  }

  getAvailableResource(nodename: string): HostResources {
    let vcpus = 0, mem = 0, disk = 0;
    for (const d of this.domains.values()) { vcpus += d.vcpus; mem += d.memoryMb; disk += d.diskGb; }
    return {
      vcpus: this.vcpus, memory_mb: this.memoryMb, local_gb: this.localGb, vcpus_used: vcpus, memory_mb_used: mem, local_gb_used: disk,
      hypervisor_type: 'fake', hypervisor_version: 1000, hypervisor_hostname: nodename,
      cpu_info: JSON.stringify({ arch: 'x86_64', model: 'fake', vendor: 'stratus', topology: { sockets: 1, cores: this.vcpus, threads: 1 }, features: [] }),
      disk_available_least: this.localGb - disk,
    };
  }

  getInventory(_nodename: string): Record<string, InventoryRecord> {
    const inv = (total: number, ratio: number, reserved = 0): InventoryRecord => ({ total, reserved, min_unit: 1, max_unit: total, step_size: 1, allocation_ratio: ratio });
    // nova's initial allocation ratios: 16.0 CPU, 1.5 RAM, 1.0 disk; 512 MB reserved host memory.
    return { VCPU: inv(this.vcpus, 16.0), MEMORY_MB: inv(this.memoryMb, 1.5, 512), DISK_GB: inv(this.localGb, 1.0) };
  }

  networkBindingHostId(_instance: Instance): string {
    return this.host;
  }

  listInstanceUuids(): string[] {
    return [...this.domains.keys()];
  }

  instanceExists(instance: Instance): boolean {
    return this.domains.has(instance.uuid);
  }

  getInfo(instance: Instance): InstanceInfo {
    const d = this.domains.get(instance.uuid);
    if (!d) throw new InstanceNotFoundInDriver(`Instance ${instance.uuid} could not be found.`);
    return { state: d.state, internalId: d.uuid };
  }

  /** Test hook: the hypervisor changed a domain behind Nova's back (guest shut itself down, crashed). */
  setDomainState(uuid: string, state: number): void {
    const d = this.domains.get(uuid);
    if (d) setState(d, state);
  }

  async spawn(a: SpawnArgs): Promise<void> {
    await this.step('spawn', a.instance.uuid);
    const inst = a.instance;
    const d: Domain = {
      uuid: inst.uuid, state: PowerState.PAUSED, memoryMb: inst.memory_mb, vcpus: inst.vcpus,
      diskGb: inst.root_gb + (inst.ephemeral_gb ?? 0), vifs: a.networkInfo.map((v) => v.id), rescued: false, runningSince: null, cpuNs: 0,
    };
    // As libvirt: plug VIFs and start the domain paused, then resume once Neutron says every
    // port that was not active yet is plugged.
    const events = a.networkInfo.filter((v) => !v.active).map((v) => ['network-vif-plugged', v.id] as [string, string]);
    await a.waitForEvents(events, async () => {
      this.domains.set(inst.uuid, d);
    });
    setState(d, PowerState.RUNNING);
  }

  async destroy(instance: Instance): Promise<void> {
    await this.step('destroy', instance.uuid);
    this.domains.delete(instance.uuid);
  }

  async powerOff(instance: Instance): Promise<void> {
    await this.step('powerOff', instance.uuid);
    setState(this.domain(instance), PowerState.SHUTDOWN);
  }

  async powerOn(instance: Instance): Promise<void> {
    await this.step('powerOn', instance.uuid);
    setState(this.domain(instance), PowerState.RUNNING);
  }

  async reboot(instance: Instance, _nw: unknown, _type: 'SOFT' | 'HARD'): Promise<void> {
    await this.step('reboot', instance.uuid);
    setState(this.domain(instance), PowerState.RUNNING);
  }

  async pause(instance: Instance): Promise<void> {
    await this.step('pause', instance.uuid);
    setState(this.domain(instance), PowerState.PAUSED);
  }

  async unpause(instance: Instance): Promise<void> {
    await this.step('unpause', instance.uuid);
    setState(this.domain(instance), PowerState.RUNNING);
  }

  async suspend(instance: Instance): Promise<void> {
    await this.step('suspend', instance.uuid);
    setState(this.domain(instance), PowerState.SUSPENDED);
  }

  async resume(instance: Instance): Promise<void> {
    await this.step('resume', instance.uuid);
    setState(this.domain(instance), PowerState.RUNNING);
  }

  async snapshot(instance: Instance, imageId: string, upload: (data: Buffer) => Promise<void>): Promise<void> {
    await this.step('snapshot', instance.uuid);
    this.domain(instance);
    // A small, recognisable qcow2-less "disk": the header names the source so a test can check it.
    await upload(Buffer.from(`stratus-fake-snapshot instance=${instance.uuid} image=${imageId}\n`));
  }

  async rescue(instance: Instance, _image: ImageMeta): Promise<void> {
    await this.step('rescue', instance.uuid);
    const d = this.domain(instance);
    d.rescued = true;
    setState(d, PowerState.RUNNING);
  }

  async unrescue(instance: Instance): Promise<void> {
    await this.step('unrescue', instance.uuid);
    const d = this.domain(instance);
    d.rescued = false;
    setState(d, PowerState.RUNNING);
  }

  getVolumeConnector(_instance: Instance): Record<string, unknown> {
    return { ip: '127.0.0.1', host: this.host, initiator: `iqn.1993-08.org.debian:01:${this.host}`, multipath: false, platform: 'x86_64', os_type: 'linux', do_local_attach: false };
  }

  async attachVolume(instance: Instance, connectionInfo: Record<string, unknown>, mountpoint: string): Promise<void> {
    await this.step('attachVolume', instance.uuid);
    const d = this.domain(instance);
    d.volumes ??= new Map();
    if (d.volumes.has(mountpoint)) throw new Error(`Fake driver: ${mountpoint} is already in use on instance ${instance.uuid}`);
    const data = (connectionInfo['data'] ?? {}) as Record<string, unknown>;
    d.volumes.set(mountpoint, { volumeId: (data['volume_id'] as string) ?? (connectionInfo['volume_id'] as string) ?? null, mountpoint, connectionInfo, sizeGb: null });
  }

  async detachVolume(instance: Instance, _connectionInfo: Record<string, unknown>, mountpoint: string): Promise<void> {
    await this.step('detachVolume', instance.uuid);
    const d = this.domains.get(instance.uuid);
    // A guest that is gone has nothing attached (nova tolerates DiskNotFound on detach).
    d?.volumes?.delete(mountpoint);
  }

  async extendVolume(instance: Instance, _connectionInfo: Record<string, unknown>, mountpoint: string, newSizeGb: number): Promise<void> {
    const disk = this.domain(instance).volumes?.get(mountpoint);
    if (disk) disk.sizeGb = newSizeGb;
  }

  /** The out-of-band power change the event reports is what the domain now is. */
  async powerUpdateEvent(instance: Instance, target: string): Promise<void> {
    const d = this.domains.get(instance.uuid);
    if (d) setState(d, target === 'POWER_ON' ? PowerState.RUNNING : PowerState.SHUTDOWN);
  }

  /**
   * libvirt's get_diagnostics: the hypervisor's own counters, named after the guest's devices
   * (cpuN_time, memory in KiB, vdX_read..., tap<port>_rx...).
   */
  getDiagnostics(instance: Instance): Record<string, number> {
    const d = this.domain(instance);
    const out: Record<string, number> = {};
    const cpu = Math.floor(cpuTimeNs(d) / Math.max(1, d.vcpus));
    for (let i = 0; i < d.vcpus; i++) out[`cpu${i}_time`] = cpu;
    out['memory'] = d.memoryMb * 1024;
    out['memory-actual'] = d.memoryMb * 1024;
    for (const dev of this.diskDevices(instance, d)) for (const k of ['read', 'read_req', 'write', 'write_req', 'errors']) out[`${dev}_${k}`] = 0;
    for (const v of instance.networkInfo) {
      const tap = `tap${v.id.slice(0, 11)}`;
      for (const k of ['rx', 'rx_packets', 'rx_errors', 'rx_drop', 'tx', 'tx_packets', 'tx_errors', 'tx_drop']) out[`${tap}_${k}`] = 0;
    }
    return out;
  }

  /** libvirt's get_instance_diagnostics, from what this fake hypervisor knows of the domain. */
  async cacheImage(imageId: string): Promise<boolean> {
    if (this.cachedImages.includes(imageId)) return false;
    this.cachedImages.push(imageId);
    return true;
  }

  getInstanceDiagnostics(instance: Instance): InstanceDiagnostics {
    const d = this.domain(instance);
    const cpu = Math.floor(cpuTimeNs(d) / Math.max(1, d.vcpus));
    const cpus = Array.from({ length: d.vcpus }, (_, id) => ({ id, time: cpu, utilisation: null }));
    const nics = instance.networkInfo.map((v) => ({
      mac_address: v.address ?? null, rx_octets: 0, rx_errors: 0, rx_drop: 0, rx_packets: 0, rx_rate: null,
      tx_octets: 0, tx_errors: 0, tx_drop: 0, tx_packets: 0, tx_rate: null,
    }));
    const disks = this.diskDevices(instance, d).map(() => ({ read_bytes: 0, read_requests: 0, write_bytes: 0, write_requests: 0, errors_count: 0 }));
    return {
      // Nova's API only knows the diagnostics formats of these drivers; the fake one speaks libvirt's.
      state: powerStateName(d.state), driver: 'libvirt', hypervisor: 'fake', hypervisor_os: 'linux',
      uptime: d.runningSince === null ? 0 : Math.floor((Date.now() - d.runningSince) / 1000),
      config_drive: ['True', 'true', '1'].includes(String(instance.config_drive ?? '')),
      num_cpus: cpus.length, num_nics: nics.length, num_disks: disks.length,
      memory_details: { maximum: d.memoryMb, used: d.state === PowerState.RUNNING ? d.memoryMb : 0 },
      cpu_details: cpus, nic_details: nics, disk_details: disks,
    };
  }

  /** Guest disks: the local root (unless the root is a volume), the ephemeral disk, the volumes. */
  private diskDevices(instance: Instance, d: Domain): string[] {
    const vols = [...(d.volumes?.keys() ?? [])].map((m) => m.replace(/^\/dev\//, ''));
    const local: string[] = [];
    if (!vols.includes('vda')) local.push('vda');
    if ((instance.ephemeral_gb ?? 0) > 0) local.push('disk.eph0');
    return [...local, ...vols.sort()];
  }

  /** The volumes the guest has, by mountpoint (tests; see fakeDriverFor). */
  volumesOf(uuid: string): FakeVolumeDisk[] {
    return [...(this.domains.get(uuid)?.volumes?.values() ?? [])];
  }

  private domain(instance: Instance): Domain {
    const d = this.domains.get(instance.uuid);
    if (!d) throw new InstanceNotFoundInDriver(`Instance ${instance.uuid} could not be found.`);
    return d;
  }

  private async step(op: FakeOperation, uuid: string): Promise<void> {
    this.calls.push({ op, uuid });
    const ms = this.delays[op] ?? hostDelays.get(this.host)?.[op] ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    const list = hostFailures.get(this.host) ?? [];
    const f = list.find((x) => x.op === op && (!x.instanceUuid || x.instanceUuid === uuid) && (x.times === undefined || x.times > 0));
    if (f) {
      if (f.times !== undefined) f.times--;
      throw new Error(f.message ?? `Fake driver: injected ${op} failure on ${this.host}`);
    }
  }
}

/** Moves a domain to `state`, accounting the CPU time of the run that ends. */
function setState(d: Domain, state: number): void {
  const running = state === PowerState.RUNNING;
  if (d.runningSince !== null && !running) {
    d.cpuNs = cpuTimeNs(d);
    d.runningSince = null;
  } else if (d.runningSince === null && running) {
    d.runningSince = Date.now();
  }
  d.state = state;
}

/** CPU time so far: a busy guest uses its vcpus the whole time it runs. */
function cpuTimeNs(d: Domain): number {
  return d.cpuNs + (d.runningSince === null ? 0 : (Date.now() - d.runningSince) * 1e6 * d.vcpus);
}
