/**
 * ResourceTracker (nova/compute/resource_tracker.py): keeps this host's compute node record
 * (through the conductor) and its Placement resource provider and inventory current, and makes
 * the claim that puts an instance on the host.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { getLogger } from '../common/log.js';
import type { SchedulerReportClient } from '../scheduler/client/report.js';
import type { ComputeDriver } from '../virt/driver.js';
import { ComputeResourcesUnavailable } from './exception.js';
import type { ObjectBackend } from './objects/base.js';
import { ComputeNode } from './objects/compute-node.js';
import { Instance } from './objects/instance.js';

/** Driver capabilities reported as compute node provider traits. */
const CAPABILITY_TRAITS: Record<string, string> = { supports_bfv_rescue: 'COMPUTE_RESCUE_BFV' };

export class ResourceTracker {
  /** Providers whose capability traits were reported (once per process). */
  private readonly traitsReported = new Set<string>();
  private readonly log;
  /** nodename -> compute node as last saved. */
  readonly nodes = new Map<string, ComputeNode>();
  private lock: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: string,
    private readonly driver: ComputeDriver,
    private readonly backend: ObjectBackend,
    private readonly placement: SchedulerReportClient | null,
  ) {
    this.log = getLogger('nova-compute', host);
  }

  /** The `compute_resources` semaphore: one resource update at a time. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** update_available_resource periodic task (and at start): DB record, then Placement. */
  async updateAvailableResource(ctx: RequestContext): Promise<void> {
    const instances = await Instance.listByHost(this.backend, ctx, this.host);
    for (const nodename of this.driver.getAvailableNodes()) {
      await this.locked(async () => {
        const res = this.driver.getAvailableResource(nodename);
        let node = this.nodes.get(nodename) ?? (await ComputeNode.getByHostAndNode(this.backend, ctx, this.host, nodename));
        if (!node) {
          node = new ComputeNode();
          node.backend = this.backend;
        }
        const mine = instances.filter((i) => i.node === nodename && i.vm_state !== 'deleted');
        const memUsed = mine.reduce((s, i) => s + (i.memory_mb ?? 0), 0) + 512;
        const vcpusUsed = mine.reduce((s, i) => s + (i.vcpus ?? 0), 0);
        const diskUsed = mine.reduce((s, i) => s + (i.root_gb ?? 0) + (i.ephemeral_gb ?? 0), 0);
        const inv = this.driver.getInventory(nodename);
        node.update({
          host: this.host, hypervisor_hostname: nodename, vcpus: res.vcpus, memory_mb: res.memory_mb, local_gb: res.local_gb,
          vcpus_used: vcpusUsed, memory_mb_used: memUsed, local_gb_used: diskUsed, hypervisor_type: res.hypervisor_type,
          hypervisor_version: res.hypervisor_version, cpu_info: res.cpu_info, disk_available_least: res.disk_available_least,
          free_ram_mb: res.memory_mb - memUsed, free_disk_gb: res.local_gb - diskUsed, current_workload: 0, running_vms: mine.length,
          host_ip: '127.0.0.1', cpu_allocation_ratio: inv['VCPU']?.allocation_ratio ?? 16, ram_allocation_ratio: inv['MEMORY_MB']?.allocation_ratio ?? 1.5,
          disk_allocation_ratio: inv['DISK_GB']?.allocation_ratio ?? 1,
        });
        await node.save(ctx);
        this.nodes.set(nodename, node);
        if (this.placement) {
          await this.placement.ensureResourceProvider(ctx, node.uuid, nodename);
          await this.placement.setInventory(ctx, node.uuid, inv);
          // Driver capabilities that are traits (nova's CAPABILITY_TRAITS_MAP), e.g. COMPUTE_RESCUE_BFV.
          const traits = Object.entries(CAPABILITY_TRAITS).filter(([cap]) => this.driver.capabilities[cap]).map(([, t]) => t);
          if (traits.length && !this.traitsReported.has(node.uuid)) {
            await this.placement.addProviderTraits(ctx, node.uuid, traits);
            this.traitsReported.add(node.uuid);
          }
        }
      });
    }
  }

  /**
   * instance_claim: checks the node still has room (limits as the scheduler computed them),
   * sets host/node/launched_on and records the usage. Failure reschedules the build.
   */
  async instanceClaim(ctx: RequestContext, instance: Instance, nodename: string): Promise<void> {
    await this.locked(async () => {
      const node = this.nodes.get(nodename);
      if (!node) throw new ComputeResourcesUnavailable(`Insufficient compute resources: compute node ${nodename} is not known on ${this.host}.`);
      const freeRam = node.memory_mb * (node.ram_allocation_ratio ?? 1.5) - node.memory_mb_used;
      if (instance.memory_mb > freeRam) {
        throw new ComputeResourcesUnavailable(`Insufficient compute resources: Free memory ${freeRam} MB < requested ${instance.memory_mb} MB.`);
      }
      instance.host = this.host;
      instance.node = nodename;
      instance.launched_on = this.host;
      await instance.save(ctx);
      node.memory_mb_used += instance.memory_mb;
      node.vcpus_used += instance.vcpus;
      node.local_gb_used += instance.root_gb + (instance.ephemeral_gb ?? 0);
      node.running_vms += 1;
    });
  }

  /** Usage goes back when an instance leaves (delete, failed build). */
  abortInstanceClaim(instance: Instance): void {
    const node = instance.node ? this.nodes.get(instance.node) : undefined;
    if (!node) return;
    node.memory_mb_used = Math.max(512, node.memory_mb_used - instance.memory_mb);
    node.vcpus_used = Math.max(0, node.vcpus_used - instance.vcpus);
    node.local_gb_used = Math.max(0, node.local_gb_used - instance.root_gb - (instance.ephemeral_gb ?? 0));
    node.running_vms = Math.max(0, node.running_vms - 1);
  }

}
