/**
 * ComputeManager (nova/compute/manager.py): the RPC endpoint (5.1) of nova-compute on topic
 * `compute`, server `<host>`, on its cell's bus. It never touches a database: every object
 * change goes through the cell conductor (the objects' backend here is ConductorAPI).
 * Method names are the wire names.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { getLogger, type Logger } from '../common/log.js';
import type { ComputeTaskAPI } from '../conductor/rpcapi.js';
import type { SchedulerReportClient } from '../scheduler/client/report.js';
import { NotImplementedError, type ComputeDriver, type InstanceDiagnostics } from '../virt/driver.js';
import { InstanceInvalidState, InstanceNotFound, UnexpectedDeletingTaskStateError, UnexpectedTaskStateError } from './exception.js';
import type { GlanceAPI } from './image/glance.js';
import { hostUptimeLine } from './host-uptime.js';
import { InstanceEvents } from './instance-events.js';
import { doBuildAndRunInstance, preservedPorts, type BuildArgs } from './manager/build.js';
import type { NeutronAPI } from './network/neutron.js';
import type { NovaNotifier } from './notifications.js';
import type { ObjectBackend } from './objects/base.js';
import { Instance } from './objects/instance.js';
import { InstanceActionEvent } from './objects/instance-action.js';
import type { ExternalEvent } from './rpcapi.js';
import type { ResourceTracker } from './resource-tracker.js';
import type { ComputeVolumeHooks } from './manager/volume.js';
import { PowerState, powerStateName, TaskState, VmState } from './states.js';

export interface ComputeManagerOptions {
  /** `[DEFAULT]vif_plugging_timeout` (300 s). */
  vifPluggingTimeoutMs: number;
  /** `[DEFAULT]vif_plugging_is_fatal` (true). */
  vifPluggingIsFatal: boolean;
  /** `[DEFAULT]max_concurrent_builds` (10). */
  maxConcurrentBuilds: number;
}

export class ComputeManager {
  readonly target = { version: '5.1' };
  readonly log: Logger;
  readonly events = new InstanceEvents();
  private buildSlots: number;
  private buildQueue: (() => void)[] = [];
  private readonly builds = new Set<Promise<void>>();
  private stopping = false;
  private instanceLocks = new Map<string, Promise<void>>();
  /** Volume work of the build and delete flows (manager/volume.ts); null without Cinder. */
  volumes: ComputeVolumeHooks | null = null;

  constructor(
    readonly host: string,
    readonly driver: ComputeDriver,
    /** The cell conductor, as the objects' backend. */
    readonly backend: ObjectBackend,
    readonly conductorTasks: ComputeTaskAPI,
    readonly rt: ResourceTracker,
    readonly neutron: NeutronAPI | null,
    readonly glance: GlanceAPI | null,
    readonly placement: SchedulerReportClient | null,
    readonly notifier: NovaNotifier,
    readonly opts: ComputeManagerOptions,
  ) {
    this.log = getLogger('nova-compute', host);
    this.buildSlots = opts.maxConcurrentBuilds;
  }

  /** Per-instance lock (nova's `@utils.synchronized(instance.uuid)`): actions on one instance run in order. */
  async withInstanceLock<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.instanceLocks.get(uuid) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.instanceLocks.set(uuid, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.instanceLocks.get(uuid) === chained) this.instanceLocks.delete(uuid);
    }
  }

  private async withBuildSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.buildSlots <= 0) await new Promise<void>((r) => this.buildQueue.push(r));
    else this.buildSlots--;
    try {
      return await fn();
    } finally {
      const next = this.buildQueue.shift();
      if (next) next();
      else this.buildSlots++;
    }
  }

  // ---------------- RPC methods ----------------

  /**
   * A cast that returns at once, the build going on by itself (Nova's `utils.spawn_n`): builds
   * waiting for one of `max_concurrent_builds` slots must not hold the RPC executor, or with
   * more queued than it has workers the `external_instance_event` casts the running builds wait
   * for (network-vif-plugged) would queue behind them until `vif_plugging_timeout`.
   */
  async build_and_run_instance(ctx: RequestContext, a: BuildArgs): Promise<void> {
    const build = this.buildAndRunInstance(ctx, a).catch((e: unknown) => {
      this.log.error({ err: e, instance: a.instance.uuid }, 'Build of instance failed outside its own error handling');
    });
    this.builds.add(build);
    void build.finally(() => this.builds.delete(build));
  }

  /** The build itself: waits for a build slot, then runs under the instance's lock. */
  buildAndRunInstance(ctx: RequestContext, a: BuildArgs): Promise<void> {
    return this.withBuildSlot(async () => {
      // stopping: a queued build does not start (init_host finds it BUILDING on the next start)
      if (this.stopping) return;
      await this.withInstanceLock(a.instance.uuid, () => doBuildAndRunInstance(this, ctx, a));
    });
  }

  /** Graceful stop (cleanup_host): event waits fail at once, queued builds do not start, running ones end. */
  async stopBuilds(): Promise<void> {
    this.stopping = true;
    this.events.cancelAll();
    await this.buildsSettled();
  }

  /** Resolves when every build started so far has ended (graceful stop, tests). */
  async buildsSettled(): Promise<void> {
    while (this.builds.size) await Promise.all([...this.builds]);
  }

  async terminate_instance(ctx: RequestContext, a: { instance: Instance; bdms?: unknown[] }): Promise<void> {
    const instance = a.instance;
    await this.withInstanceLock(instance.uuid, async () => {
      await this.actionEvent(ctx, instance, 'compute_terminate_instance', async () => {
        await this.notifier.instanceAction(ctx, instance, 'delete', 'start');
        await this.shutdownInstance(ctx, instance);
        await this.volumes?.cleanupVolumes(ctx, instance);
        instance.vm_state = VmState.DELETED;
        instance.task_state = null;
        instance.power_state = PowerState.NOSTATE;
        instance.terminated_at = new Date().toISOString();
        await instance.save(ctx);
        await instance.destroy(ctx);
        this.rt.abortInstanceClaim(instance);
        await this.placement?.deleteAllocationForInstance(ctx, instance.uuid);
        await this.notifier.instanceAction(ctx, instance, 'delete', 'end');
      }, true);
    });
  }

  async stop_instance(ctx: RequestContext, a: { instance: Instance; clean_shutdown?: boolean }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_stop_instance', 'power_off', TaskState.POWERING_OFF, async (i) => {
      await this.driver.powerOff(i);
      return VmState.STOPPED;
    });
  }

  async start_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_start_instance', 'power_on', TaskState.POWERING_ON, async (i) => {
      await this.driver.powerOn(i, i.networkInfo);
      return VmState.ACTIVE;
    });
  }

  async reboot_instance(ctx: RequestContext, a: { instance: Instance; reboot_type: 'SOFT' | 'HARD' }): Promise<void> {
    const instance = a.instance;
    const hard = a.reboot_type === 'HARD';
    await this.withInstanceLock(instance.uuid, () => this.actionEvent(ctx, instance, 'compute_reboot_instance', async () => {
      await this.notifier.instanceAction(ctx, instance, 'reboot', 'start');
      const [expected, pending, started] = hard
        ? [[TaskState.REBOOTING_HARD, TaskState.REBOOT_PENDING_HARD, TaskState.REBOOT_STARTED_HARD], TaskState.REBOOT_PENDING_HARD, TaskState.REBOOT_STARTED_HARD]
        : [[TaskState.REBOOTING, TaskState.REBOOT_PENDING, TaskState.REBOOT_STARTED], TaskState.REBOOT_PENDING, TaskState.REBOOT_STARTED];
      instance.task_state = pending;
      await instance.save(ctx, { expected_task_state: expected });
      instance.task_state = started;
      await instance.save(ctx, { expected_task_state: pending });
      await this.driver.reboot(instance, instance.networkInfo, a.reboot_type);
      instance.power_state = this.driver.getInfo(instance).state;
      instance.vm_state = VmState.ACTIVE;
      instance.task_state = null;
      await instance.save(ctx, { expected_task_state: started });
      await this.notifier.instanceAction(ctx, instance, 'reboot', 'end');
    }));
  }

  async pause_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_pause_instance', 'pause', TaskState.PAUSING, async (i) => { await this.driver.pause(i); return VmState.PAUSED; });
  }
  async unpause_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_unpause_instance', 'unpause', TaskState.UNPAUSING, async (i) => { await this.driver.unpause(i); return VmState.ACTIVE; });
  }
  async suspend_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_suspend_instance', 'suspend', TaskState.SUSPENDING, async (i) => { await this.driver.suspend(i); return VmState.SUSPENDED; });
  }
  async resume_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_resume_instance', 'resume', TaskState.RESUMING, async (i) => { await this.driver.resume(i, i.networkInfo); return VmState.ACTIVE; });
  }
  async rescue_instance(ctx: RequestContext, a: { instance: Instance; rescue_image_ref?: string | null }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_rescue_instance', 'rescue', TaskState.RESCUING, async (i) => {
      await this.driver.rescue(i, { id: a.rescue_image_ref ?? i.image_ref, properties: {} });
      return VmState.RESCUED;
    });
  }
  async unrescue_instance(ctx: RequestContext, a: { instance: Instance }): Promise<void> {
    await this.powerAction(ctx, a.instance, 'compute_unrescue_instance', 'unrescue', TaskState.UNRESCUING, async (i) => { await this.driver.unrescue(i); return VmState.ACTIVE; });
  }

  async rebuild_instance(ctx: RequestContext, a: { instance: Instance; image_ref: string; new_pass: string | null }): Promise<void> {
    const instance = a.instance;
    await this.withInstanceLock(instance.uuid, () => this.actionEvent(ctx, instance, 'compute_rebuild_instance', async () => {
      await this.notifier.instanceAction(ctx, instance, 'rebuild', 'start');
      const image = this.glance ? await this.glance.show(ctx, a.image_ref) : null;
      const wasStopped = instance.vm_state === VmState.STOPPED;
      await this.driver.destroy(instance, instance.networkInfo);
      instance.task_state = TaskState.REBUILD_BLOCK_DEVICE_MAPPING;
      await instance.save(ctx, { expected_task_state: [TaskState.REBUILDING] });
      instance.task_state = TaskState.REBUILD_SPAWNING;
      await instance.save(ctx, { expected_task_state: [TaskState.REBUILD_BLOCK_DEVICE_MAPPING] });
      await this.driver.spawn({
        instance, image: { id: a.image_ref, properties: image ?? {} }, networkInfo: instance.networkInfo, allocations: {},
        adminPassword: a.new_pass, waitForEvents: async (_e, run) => run(),
      });
      if (wasStopped) await this.driver.powerOff(instance);
      instance.power_state = this.driver.getInfo(instance).state;
      instance.vm_state = wasStopped ? VmState.STOPPED : VmState.ACTIVE;
      instance.task_state = null;
      instance.launched_at = new Date().toISOString();
      await instance.save(ctx, { expected_task_state: [TaskState.REBUILD_SPAWNING] });
      await this.notifier.instanceAction(ctx, instance, 'rebuild', 'end');
    }));
  }

  async snapshot_instance(ctx: RequestContext, a: { instance: Instance; image_id: string }): Promise<void> {
    const instance = a.instance;
    await this.withInstanceLock(instance.uuid, () => this.actionEvent(ctx, instance, 'compute_snapshot_instance', async () => {
      await this.notifier.instanceAction(ctx, instance, 'snapshot', 'start');
      try {
        instance.task_state = TaskState.IMAGE_PENDING_UPLOAD;
        await instance.save(ctx, { expected_task_state: [TaskState.IMAGE_SNAPSHOT] });
        instance.task_state = TaskState.IMAGE_UPLOADING;
        await instance.save(ctx, { expected_task_state: [TaskState.IMAGE_PENDING_UPLOAD] });
        await this.driver.snapshot(instance, a.image_id, async (data) => {
          if (this.glance) await this.glance.upload(ctx, a.image_id, data);
        });
      } catch (e) {
        // A failed snapshot leaves no half-made image behind.
        if (this.glance) await this.glance.delete(ctx, a.image_id).catch(() => undefined);
        throw e;
      } finally {
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
      }
      await this.notifier.instanceAction(ctx, instance, 'snapshot', 'end');
    }));
  }

  /** attach_interface (call): create/bind the port, add it to the info cache, plug it. */
  async attach_interface(ctx: RequestContext, a: { instance: Instance; network_id: string | null; port_id: string | null; requested_ip: string | null; tag: string | null }): Promise<Record<string, unknown>> {
    const instance = a.instance;
    if (!this.neutron) throw new Error('Network service is not available');
    return this.withInstanceLock(instance.uuid, async () => {
      let result: Record<string, unknown> = {};
      await this.actionEvent(ctx, instance, 'compute_attach_interface', async () => {
        const vifs = await this.neutron!.allocateForInstance(ctx, {
          instanceUuid: instance.uuid, projectId: instance.project_id, availabilityZone: instance.availability_zone ?? 'nova',
          host: this.driver.networkBindingHostId(instance), hostname: instance.hostname,
          requested: [{ network_id: a.network_id, port_id: a.port_id, fixed_ip: a.requested_ip, tag: a.tag }], securityGroups: a.port_id ? [] : ['default'],
        });
        instance.info_cache = { network_info: [...instance.networkInfo, ...vifs] };
        await instance.save(ctx);
        result = vifs[0] as unknown as Record<string, unknown>;
      });
      return result;
    });
  }

  /** detach_interface (cast): unplug, then delete the port Nova made or unbind the user's. */
  async detach_interface(ctx: RequestContext, a: { instance: Instance; port_id: string }): Promise<void> {
    const instance = a.instance;
    await this.withInstanceLock(instance.uuid, () => this.actionEvent(ctx, instance, 'compute_detach_interface', async () => {
      const vif = instance.networkInfo.find((v) => v.id === a.port_id);
      if (this.neutron) {
        if (vif?.preserve_on_delete) {
          await this.neutron.session.put('network', `/v2.0/ports/${a.port_id}`, { ctx, okStatuses: [404], body: { port: { device_id: '', device_owner: '', 'binding:host_id': null } } });
        } else {
          await this.neutron.session.delete('network', `/v2.0/ports/${a.port_id}`, { ctx, okStatuses: [404] });
        }
      }
      instance.info_cache = { network_info: instance.networkInfo.filter((v) => v.id !== a.port_id) };
      await instance.save(ctx);
    }));
  }

  /** Events nova-api forwards from Neutron (network-vif-plugged, network-changed, ...). */
  async external_instance_event(ctx: RequestContext, a: { instances: Instance[]; events: ExternalEvent[] }): Promise<void> {
    for (const ev of a.events) {
      const instance = a.instances.find((i) => i.uuid === ev.instance_uuid);
      if (!instance) continue;
      if (ev.name === 'network-changed') {
        if (this.neutron) {
          const nw = await this.neutron.getInstanceNwInfo(ctx, instance.uuid, preservedPorts(instance)).catch(() => null);
          if (nw) {
            instance.info_cache = { network_info: nw };
            await instance.save(ctx).catch(() => undefined);
          }
        }
      } else if (ev.name === 'volume-extended') {
        if (ev.tag) await this.volumes?.extendVolume(ctx, instance, ev.tag).catch(() => undefined);
      } else if (ev.name === 'power-update') {
        if (ev.tag) await this.powerUpdate(ctx, instance, ev.tag).catch(() => undefined);
      } else if (ev.name === 'network-vif-deleted') {
        instance.info_cache = { network_info: instance.networkInfo.filter((v) => v.id !== ev.tag) };
        await instance.save(ctx).catch(() => undefined);
      } else {
        const had = this.events.pop(instance.uuid, ev.name, ev.tag, ev.status);
        this.log.debug({ instance: instance.uuid, event: `${ev.name}-${ev.tag}`, waited: had }, 'Received event');
      }
    }
  }

  /**
   * power_update (`power-update` event, 2.76): the guest was powered on or off outside Nova.
   * Only an ACTIVE+RUNNING (POWER_OFF) or STOPPED+SHUTDOWN (POWER_ON) instance without a task
   * moves; anything else, or losing a race with another task, is a no-op.
   */
  private async powerUpdate(ctx: RequestContext, instance: Instance, target: string): Promise<void> {
    await this.actionEvent(ctx, instance, 'compute_power_update', () => this.withInstanceLock(instance.uuid, async () => {
      const on = target === 'POWER_ON';
      const valid = instance.task_state === null && (on
        ? instance.vm_state === VmState.STOPPED && instance.power_state === PowerState.SHUTDOWN
        : instance.vm_state === VmState.ACTIVE && instance.power_state === PowerState.RUNNING);
      if (!valid) {
        this.log.info({ instance: instance.uuid, vm_state: instance.vm_state, task_state: instance.task_state, power_state: powerStateName(instance.power_state) }, `The power-update ${target} event is a no-op`);
        return;
      }
      const task = on ? TaskState.POWERING_ON : TaskState.POWERING_OFF;
      instance.task_state = task;
      if (!on) instance.progress = 0;
      try {
        await instance.save(ctx, { expected_task_state: [null] });
      } catch (e) {
        if (e instanceof UnexpectedTaskStateError) return;
        throw e;
      }
      const notif = on ? 'power_on' : 'power_off';
      await this.notifier.instanceAction(ctx, instance, notif, 'start').catch(() => undefined);
      await this.driver.powerUpdateEvent?.(instance, target);
      instance.power_state = on ? PowerState.RUNNING : PowerState.SHUTDOWN;
      instance.vm_state = on ? VmState.ACTIVE : VmState.STOPPED;
      instance.task_state = null;
      await instance.save(ctx, { expected_task_state: task });
      await this.notifier.instanceAction(ctx, instance, notif, 'end').catch(() => undefined);
    }));
  }

  /** get_diagnostics (call): the driver's free-form statistics, only of a running guest. */
  async get_diagnostics(_ctx: RequestContext, a: { instance: Instance }): Promise<Record<string, number>> {
    this.checkRunningForDiagnostics(a.instance);
    if (!this.driver.getDiagnostics) throw new NotImplementedError(`${this.driver.constructor.name} has no get_diagnostics`);
    return this.driver.getDiagnostics(a.instance);
  }

  /** get_instance_diagnostics (call): the standardized diagnostics (2.48), only of a running guest. */
  async get_instance_diagnostics(_ctx: RequestContext, a: { instance: Instance }): Promise<InstanceDiagnostics> {
    this.checkRunningForDiagnostics(a.instance);
    if (!this.driver.getInstanceDiagnostics) throw new NotImplementedError(`${this.driver.constructor.name} has no get_instance_diagnostics`);
    return this.driver.getInstanceDiagnostics(a.instance);
  }

  /**
   * cache_images (call, 2.81 via the conductor): asks the driver to pre-cache each image.
   * Per image: 'cached' (fetched now), 'existing', 'unsupported' (driver cannot) or 'error'.
   */
  async cache_images(_ctx: RequestContext, a: { image_ids: string[] }): Promise<Record<string, string>> {
    const results: Record<string, string> = {};
    this.log.info(`Caching ${a.image_ids.length} image(s) by request`);
    for (const id of a.image_ids) {
      if (!this.driver.cacheImage) {
        results[id] = 'unsupported';
        continue;
      }
      try {
        results[id] = (await this.driver.cacheImage(id)) ? 'cached' : 'existing';
      } catch (e) {
        this.log.error({ err: e, image: id }, 'Failed to cache image');
        results[id] = 'error';
      }
    }
    return results;
  }

  /** get_host_uptime (call): the host's uptime(1) line (os-hypervisors uptime). */
  async get_host_uptime(_ctx: RequestContext): Promise<string> {
    return hostUptimeLine();
  }

  /** The hypervisor's power state decides; the refusal names the state Nova has recorded. */
  private checkRunningForDiagnostics(instance: Instance): void {
    let current: number = PowerState.NOSTATE;
    try { current = this.driver.getInfo(instance).state; } catch { /* no domain */ }
    if (current !== PowerState.RUNNING) {
      const state = powerStateName(instance.power_state);
      throw new InstanceInvalidState(`Instance ${instance.uuid} in power state ${state}. Cannot get_diagnostics while the instance is in this state.`,
        { attr: 'power state', state, instance_uuid: instance.uuid, method: 'get_diagnostics' });
    }
  }

  // ---------------- helpers ----------------

  /**
   * Stop/start/pause/...: the API set `taskState`; do the driver work, read the power state back,
   * move vm_state, clear the task with a compare-and-swap.
   */
  private async powerAction(ctx: RequestContext, instance: Instance, event: string, notif: string, taskState: string, work: (i: Instance) => Promise<string>): Promise<void> {
    await this.withInstanceLock(instance.uuid, () => this.actionEvent(ctx, instance, event, async () => {
      await this.notifier.instanceAction(ctx, instance, notif, 'start');
      try {
        const vm = await work(instance);
        instance.power_state = this.driver.getInfo(instance).state;
        instance.vm_state = vm;
        instance.task_state = null;
        await instance.save(ctx, { expected_task_state: taskState });
      } catch (e) {
        if (e instanceof UnexpectedTaskStateError) throw e;
        // Driver failure: clear the task so the user can retry (nova's reverts_task_state).
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
        throw e;
      }
      await this.notifier.instanceAction(ctx, instance, notif, 'end');
    }));
  }

  /** wrap_instance_event: the action's event starts and finishes around the work. */
  async actionEvent(ctx: RequestContext, instance: Instance, event: string, fn: () => Promise<void>, quietNotFound = false): Promise<void> {
    await InstanceActionEvent.eventStart(this.backend, ctx, instance.uuid, event, this.host).catch(() => undefined);
    try {
      await fn();
      await InstanceActionEvent.eventFinish(this.backend, ctx, instance.uuid, event).catch(() => undefined);
    } catch (e) {
      await InstanceActionEvent.eventFinish(this.backend, ctx, instance.uuid, event, e).catch(() => undefined);
      if (quietNotFound && (e instanceof InstanceNotFound || e instanceof UnexpectedDeletingTaskStateError)) return;
      this.log.error({ err: e, instance: instance.uuid }, `${event} failed`);
      throw e;
    }
  }

  /** _shutdown_instance: the domain goes, then the network (ports deleted or unbound). */
  private async shutdownInstance(ctx: RequestContext, instance: Instance): Promise<void> {
    if (this.driver.instanceExists(instance)) await this.driver.destroy(instance, instance.networkInfo);
    this.events.clear(instance.uuid);
    if (this.neutron) await this.neutron.deallocateForInstance(ctx, instance.uuid, preservedPorts(instance));
  }

  // ---------------- periodic tasks ----------------

  /** _sync_power_states: the hypervisor is authoritative for power_state. */
  async syncPowerStates(ctx: RequestContext): Promise<void> {
    const instances = await Instance.listByHost(this.backend, ctx, this.host);
    for (const inst of instances) {
      if (inst.task_state !== null) continue;
      let state: number;
      try {
        state = this.driver.getInfo(inst).state;
      } catch {
        state = PowerState.NOSTATE;
      }
      if (state === inst.power_state) continue;
      await this.withInstanceLock(inst.uuid, async () => {
        inst.power_state = state;
        // A guest that shut itself down is stopped (nova calls compute_api.stop here).
        if (inst.vm_state === VmState.ACTIVE && (state === PowerState.SHUTDOWN || state === PowerState.CRASHED || state === PowerState.NOSTATE)) {
          inst.vm_state = VmState.STOPPED;
        }
        await inst.save(ctx, { expected_task_state: null }).catch((e) => this.log.debug({ err: e }, 'power sync raced an action'));
      });
    }
  }

  /**
   * init_host's _init_instance: a compute that restarts finds instances left mid-task (a cast
   * was lost or the process died). Builds go to ERROR, deletes are finished, other tasks are
   * cleared and the power state is read back from the hypervisor.
   */
  async initInstances(ctx: RequestContext): Promise<void> {
    const instances = await Instance.listByHost(this.backend, ctx, this.host);
    for (const inst of instances) {
      try {
        if (inst.task_state === TaskState.DELETING) {
          await this.terminate_instance(ctx, { instance: inst });
          continue;
        }
        if (inst.vm_state === VmState.BUILDING) {
          inst.vm_state = VmState.ERROR;
          inst.task_state = null;
          await inst.save(ctx);
          continue;
        }
        if (inst.task_state !== null) {
          let state: number = PowerState.NOSTATE;
          try { state = this.driver.getInfo(inst).state; } catch { /* domain gone */ }
          inst.power_state = state;
          inst.task_state = null;
          if (inst.vm_state === VmState.ACTIVE && state === PowerState.SHUTDOWN) inst.vm_state = VmState.STOPPED;
          if (inst.vm_state === VmState.STOPPED && state === PowerState.RUNNING) inst.vm_state = VmState.ACTIVE;
          await inst.save(ctx);
        }
      } catch (e) {
        this.log.warn({ err: e, instance: inst.uuid }, 'Failed to recover instance at startup');
      }
    }
  }

  /** Builds stuck in BUILD on this host past `instance_build_timeout` go to ERROR. */
  async checkInstanceBuildTime(ctx: RequestContext, timeoutSec: number): Promise<void> {
    if (timeoutSec <= 0) return;
    const instances = await Instance.listByHost(this.backend, ctx, this.host);
    const now = Date.now();
    for (const inst of instances) {
      if (inst.vm_state !== VmState.BUILDING) continue;
      if (now - Date.parse(inst.created_at) < timeoutSec * 1000) continue;
      inst.vm_state = VmState.ERROR;
      inst.task_state = null;
      await inst.save(ctx).catch(() => undefined);
    }
  }
}
