/**
 * Shelve, shelve-offload and unshelve on the compute hosts (nova/compute/manager.py
 * `shelve_instance`, `shelve_offload_instance`, `unshelve_instance`):
 *
 *   shelve: power off -> snapshot to Glance (`<name>-shelved`) -> SHELVED; with
 *   `shelved_offload_time` 0 (Nova's default) straight on to offload.
 *   offload: the guest goes, ports are unbound, host/node cleared, the allocation in Placement is
 *   deleted -> SHELVED_OFFLOADED.
 *   unshelve (after the conductor scheduled it again): claim, bind ports, spawn from the shelved
 *   image, delete that image -> ACTIVE.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import type { ComputeManager } from '../manager.js';
import { Instance } from '../objects/instance.js';
import { InstanceFault } from '../objects/instance-action.js';
import type { ImageMeta, RequestSpec } from '../objects/request-spec.js';
import { PowerState, TaskState, VmState } from '../states.js';

const SHELVE_KEYS = ['shelved_at', 'shelved_image_id', 'shelved_host'];

export class ComputeShelveManager {
  readonly target = { version: '5.1' };
  /** `[DEFAULT]shelved_offload_time`: 0 offloads at once, -1 never, N: `_poll_shelved_instances` offloads after N s. */
  constructor(private readonly m: ComputeManager, private readonly shelvedOffloadTimeSec = 0) {}

  /** _poll_shelved_instances: SHELVED servers of this host older than `shelved_offload_time` are offloaded. */
  async pollShelvedInstances(ctx: RequestContext): Promise<void> {
    if (this.shelvedOffloadTimeSec <= 0) return;
    const instances = await Instance.listByHost(this.m.backend, ctx, this.m.host);
    const now = Date.now();
    for (const inst of instances) {
      if (inst.vm_state !== VmState.SHELVED || inst.task_state !== null) continue;
      const at = Date.parse(inst.system_metadata?.['shelved_at'] ?? '');
      if (Number.isNaN(at) || now - at < this.shelvedOffloadTimeSec * 1000) continue;
      await this.m.withInstanceLock(inst.uuid, async () => {
        inst.task_state = TaskState.SHELVING_OFFLOADING;
        try {
          await inst.save(ctx, { expected_task_state: null });
        } catch {
          return; // someone else acted on it meanwhile
        }
        await this.offload(ctx, inst);
      });
    }
  }

  async shelve_instance(ctx: RequestContext, a: { instance: Instance; image_id: string; clean_shutdown?: boolean }): Promise<void> {
    const instance = a.instance;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_shelve_instance', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'shelve', 'start');
      try {
        if (this.m.driver.instanceExists(instance) && this.m.driver.getInfo(instance).state !== PowerState.SHUTDOWN) await this.m.driver.powerOff(instance);
        instance.task_state = TaskState.SHELVING_IMAGE_PENDING_UPLOAD;
        await instance.save(ctx, { expected_task_state: TaskState.SHELVING });
        instance.task_state = TaskState.SHELVING_IMAGE_UPLOADING;
        await instance.save(ctx, { expected_task_state: TaskState.SHELVING_IMAGE_PENDING_UPLOAD });
        await withSpan({ kind: 'internal', name: 'driver.snapshot', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, () =>
          this.m.driver.snapshot(instance, a.image_id, async (data) => { if (this.m.glance) await this.m.glance.upload(ctx, a.image_id, data); }));
      } catch (e) {
        if (this.m.glance) await this.m.glance.delete(ctx, a.image_id).catch(() => undefined);
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
        throw e;
      }
      instance.system_metadata = { ...instance.system_metadata, shelved_at: new Date().toISOString(), shelved_image_id: a.image_id, shelved_host: this.m.host };
      instance.power_state = this.m.driver.instanceExists(instance) ? this.m.driver.getInfo(instance).state : PowerState.SHUTDOWN;
      const offload = this.shelvedOffloadTimeSec === 0;
      instance.vm_state = VmState.SHELVED;
      instance.task_state = offload ? TaskState.SHELVING_OFFLOADING : null;
      await instance.save(ctx, { expected_task_state: TaskState.SHELVING_IMAGE_UPLOADING });
      await this.m.notifier.instanceAction(ctx, instance, 'shelve', 'end');
      if (offload) await this.offload(ctx, instance);
    }));
  }

  async shelve_offload_instance(ctx: RequestContext, a: { instance: Instance; clean_shutdown?: boolean }): Promise<void> {
    const instance = a.instance;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_shelve_offload_instance', () => this.offload(ctx, instance)));
  }

  /** _shelve_offload_instance: nothing of the server stays on this host. */
  private async offload(ctx: RequestContext, instance: Instance): Promise<void> {
    await this.m.notifier.instanceAction(ctx, instance, 'shelve_offload', 'start');
    if (this.m.driver.instanceExists(instance)) await this.m.driver.destroy(instance, instance.networkInfo);
    await this.m.volumes?.forgetConnections(ctx, instance);
    await this.bindPorts(ctx, instance, null);
    this.m.rt.abortInstanceClaim(instance);
    instance.power_state = PowerState.NOSTATE;
    instance.host = null;
    instance.node = null;
    instance.vm_state = VmState.SHELVED_OFFLOADED;
    instance.task_state = null;
    await instance.save(ctx, { expected_task_state: [TaskState.SHELVING, TaskState.SHELVING_OFFLOADING] });
    await this.m.placement?.deleteAllocationForInstance(ctx, instance.uuid);
    await this.m.notifier.instanceAction(ctx, instance, 'shelve_offload', 'end');
  }

  async unshelve_instance(ctx: RequestContext, a: { instance: Instance; host?: string; image: ImageMeta | null; filter_properties?: Record<string, unknown>; node: string; request_spec?: RequestSpec }): Promise<void> {
    const instance = a.instance;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_unshelve_instance', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'unshelve', 'start');
      try {
        instance.task_state = TaskState.SPAWNING;
        await instance.save(ctx, { expected_task_state: TaskState.UNSHELVING });
        await this.m.rt.instanceClaim(ctx, instance, a.node);
        await this.bindPorts(ctx, instance, this.m.host);
        const image = a.image ?? { id: instance.image_ref, properties: {} };
        // Volumes (attached before or while offloaded) get device names and reservations here...
        const bdms = await this.m.volumes?.prepBlockDevices(ctx, instance);
        await withSpan({ kind: 'internal', name: 'driver.spawn', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, () =>
          this.m.driver.spawn({
            instance, image, networkInfo: instance.networkInfo.map((v) => ({ ...v, active: true })), allocations: {}, adminPassword: null,
            waitForEvents: async (_e, run) => run(),
          }));
        // ...and are connected to the new guest on this host.
        await this.m.volumes?.attachBlockDevices(ctx, instance, bdms);
      } catch (e) {
        // reverts_task_state + the claim dropped: still offloaded, ready to try again.
        this.m.log.error({ err: e, instance: instance.uuid }, 'Unshelve failed');
        await this.m.driver.destroy(instance, instance.networkInfo).catch(() => undefined);
        this.m.rt.abortInstanceClaim(instance);
        await InstanceFault.create(this.m.backend, ctx, instance.uuid, e, this.m.host).catch(() => undefined);
        await this.m.placement?.deleteAllocationForInstance(ctx, instance.uuid).catch(() => undefined);
        instance.host = null;
        instance.node = null;
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
        await this.m.notifier.instanceAction(ctx, instance, 'unshelve', 'error', e);
        throw e;
      }
      const shelvedImage = instance.system_metadata?.['shelved_image_id'];
      if (shelvedImage && this.m.glance) await this.m.glance.delete(ctx, shelvedImage).catch((e) => this.m.log.warn({ err: e }, 'could not delete the shelved image'));
      const sys = { ...instance.system_metadata };
      for (const k of SHELVE_KEYS) delete sys[k];
      instance.system_metadata = sys;
      instance.power_state = this.m.driver.getInfo(instance).state;
      instance.vm_state = VmState.ACTIVE;
      instance.task_state = null;
      instance.launched_at = new Date().toISOString();
      await instance.save(ctx, { expected_task_state: TaskState.SPAWNING });
      await this.m.notifier.instanceAction(ctx, instance, 'unshelve', 'end');
    }));
  }

  /** Ports follow the guest: bound to `host`, or unbound (null) while it is offloaded. */
  private async bindPorts(ctx: RequestContext, instance: Instance, host: string | null): Promise<void> {
    const neutron = this.m.neutron;
    if (!neutron) return;
    for (const vif of instance.networkInfo) {
      await neutron.session.put('network', `/v2.0/ports/${vif.id}`, { ctx, okStatuses: [404], body: { port: { 'binding:host_id': host } } })
        .catch((e) => this.m.log.warn({ err: e, port: vif.id }, 'could not update port binding'));
    }
  }
}
