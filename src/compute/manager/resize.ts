/**
 * Resize and cold migration on the compute hosts (nova/compute/manager.py `prep_resize`,
 * `resize_instance`, `finish_resize`, `confirm_resize`, `revert_resize`,
 * `finish_revert_resize`); openstack-flows §2.3-§2.7.
 *
 *   conductor --prep_resize--> dest --resize_instance--> source --finish_resize--> dest  (VERIFY_RESIZE)
 *   API --confirm_resize--> source                                                     (ACTIVE/SHUTOFF on dest)
 *   API --revert_resize--> dest --finish_revert_resize--> source                       (back on source)
 *
 * An extra RPC endpoint of nova-compute (target 5.1, no namespace) next to ComputeManager; it
 * uses the manager's driver, conductor-backed objects, Placement and Neutron clients.
 * While a move is open the instance keeps `old_vm_state` and the flavors it moves between
 * in its system_metadata (Nova keeps the flavors in instance_extra; Stratus's cell DB layer
 * stores only the current one).
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import { registerRemoteException } from '../../common/rpc/index.js';
import { NovaException } from '../exception.js';
import type { ComputeManager } from '../manager.js';
import { Flavor } from '../objects/flavor.js';
import { Instance } from '../objects/instance.js';
import { InstanceAction, InstanceFault } from '../objects/instance-action.js';
import { Migration, MigrationStatus } from '../objects/migration.js';
import type { RequestSpec, Selection } from '../objects/request-spec.js';
import type { ComputeAPI } from '../rpcapi.js';
import { PowerState, TaskState, VmState } from '../states.js';
import { instancePayloadData, versionedPayload } from '../notifications.js';
import { MoveVolumes } from './move-volumes.js';

/** system_metadata keys of an open move. */
export const OLD_VM_STATE = 'old_vm_state';
export const OLD_FLAVOR = 'old_flavor';
export const NEW_FLAVOR = 'new_flavor';

export class UnableToMigrateToSelf extends NovaException {
  constructor(message: string) {
    super(message, {});
    this.name = 'UnableToMigrateToSelf';
    this.code = 400;
  }
}
registerRemoteException('UnableToMigrateToSelf', UnableToMigrateToSelf);

export class ResizeError extends NovaException {
  constructor(message: string) {
    super(message, {});
    this.name = 'ResizeError';
  }
}

/** A live migration's pre-checks on the hosts refused it (400 in the API). */
export class MigrationPreCheckError extends NovaException {
  constructor(message: string) {
    super(message, {});
    this.name = 'MigrationPreCheckError';
    this.code = 400;
  }
}
registerRemoteException('MigrationPreCheckError', MigrationPreCheckError);

const prepResizeFailures = new Map<string, number>();
/** Test hook: the next `times` prep_resize calls on `host` fail (as a failed resize claim would). */
export function injectPrepResizeFailure(host: string, times = 1): void {
  prepResizeFailures.set(host, times);
}
function takeInjectedFailure(host: string): void {
  const n = prepResizeFailures.get(host) ?? 0;
  if (n <= 0) return;
  prepResizeFailures.set(host, n - 1);
  throw new NovaException(`Insufficient compute resources: injected prep_resize failure on ${host}.`, {});
}

export interface PrepResizeArgs {
  instance: Instance;
  image: unknown;
  instance_type: Flavor;
  migration: Migration;
  request_spec: RequestSpec;
  filter_properties: Record<string, unknown>;
  node: string;
  clean_shutdown?: boolean;
  host_list?: Selection[];
}

/** Unversioned event names where they differ from the versioned action. */
const LEGACY_NAMES: Record<string, string> = { resize_finish: 'finish_resize', resize_revert: 'resize.revert', resize_confirm: 'resize.confirm', resize_prep: 'resize.prep' };

export class ComputeResizeManager {
  readonly target = { version: '5.1' };
  private readonly volumes: MoveVolumes;
  constructor(private readonly m: ComputeManager, private readonly rpc: ComputeAPI) {
    this.volumes = new MoveVolumes(m);
  }

  private notifyUsageExists(ctx: RequestContext, instance: Instance): Promise<void> {
    return notifyUsageExists(this.m, ctx, instance);
  }

  // ---------------------------------------------------------------- destination: prep_resize

  async prep_resize(ctx: RequestContext, a: PrepResizeArgs): Promise<void> {
    const { instance, migration } = a;
    const flavor = a.instance_type;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_prep_resize', async () => {
      try {
        await this.notifyUsageExists(ctx, instance);
        await this.m.notifier.instanceAction(ctx, instance, 'resize_prep', 'start', undefined, 'resize.prep');
        takeInjectedFailure(this.m.host);
        if (migration.source_compute === this.m.host && flavor.id === instance.flavor?.id && !this.m.driver.capabilities['supports_migrate_to_same_host']) {
          throw new UnableToMigrateToSelf(`Unable to migrate instance (${instance.uuid}) to current host (${this.m.host}).`);
        }
        instance.system_metadata = { ...instance.system_metadata, [OLD_VM_STATE]: instance.vm_state, [NEW_FLAVOR]: JSON.stringify(flavor.toDict()) };
        await instance.save(ctx);
        // resize_claim: the destination's half of the migration record.
        migration.dest_compute = this.m.host;
        migration.dest_node = a.node;
        migration.dest_host = '127.0.0.1';
        await migration.save(ctx);
        await this.rpc.resizeInstance(ctx, instance, { migration, image: a.image, instance_type: flavor, clean_shutdown: a.clean_shutdown ?? true });
        await this.m.notifier.instanceAction(ctx, instance, 'resize_prep', 'end', undefined, 'resize.prep');
      } catch (e) {
        if ((a.host_list?.length ?? 0) > 0) await this.reschedule(ctx, a, e);
        else await this.failBeforeMove(ctx, instance, migration, e);
        throw e;
      }
    }));
  }

  /**
   * _reschedule_resize_or_reraise: this host's claim goes and the cell conductor tries the next
   * alternate of the original scheduling (compute_task `migrate_server` with the host list).
   */
  private async reschedule(ctx: RequestContext, a: PrepResizeArgs, e: unknown): Promise<void> {
    const { instance } = a;
    this.m.log.warn({ instance: instance.uuid, err: e }, 'prep_resize failed; rescheduling to an alternate host');
    await InstanceFault.create(this.m.backend, ctx, instance.uuid, e, this.m.host).catch(() => undefined);
    try {
      await this.m.placement?.deleteAllocationForInstance(ctx, instance.uuid);
      await this.m.conductorTasks.migrateServer(ctx, {
        instance, scheduler_hint: { filter_properties: a.filter_properties }, live: false, rebuild: false, flavor: a.instance_type,
        block_migration: null, disk_over_commit: null, clean_shutdown: a.clean_shutdown ?? true, request_spec: a.request_spec, host_list: a.host_list ?? [],
      });
    } catch (err) {
      // MaxRetriesExceeded: the conductor already rolled the move back.
      this.m.log.error({ instance: instance.uuid, err }, 'Reschedule of the resize failed');
    }
  }

  /**
   * prep_resize failed before anything moved: the migration errors out, the destination claim
   * goes, the source allocation returns to the instance and the task is cleared.
   */
  private async failBeforeMove(ctx: RequestContext, instance: Instance, migration: Migration, e: unknown, notif = 'resize_prep'): Promise<void> {
    migration.status = MigrationStatus.ERROR;
    await migration.save(ctx).catch(() => undefined);
    if (this.m.placement) {
      await this.m.placement.deleteAllocationForInstance(ctx, instance.uuid).catch(() => undefined);
      await this.m.placement.moveAllocations(ctx, migration.uuid, instance.uuid).catch(() => undefined);
    }
    await InstanceFault.create(this.m.backend, ctx, instance.uuid, e, this.m.host).catch(() => undefined);
    const sys = { ...instance.system_metadata };
    delete sys[NEW_FLAVOR];
    delete sys[OLD_VM_STATE];
    instance.system_metadata = sys;
    instance.task_state = null;
    await instance.save(ctx).catch(() => undefined);
    await this.m.notifier.instanceAction(ctx, instance, notif, 'error', e, LEGACY_NAMES[notif] ?? notif);
  }

  // ---------------------------------------------------------------- source: resize_instance

  async resize_instance(ctx: RequestContext, a: { instance: Instance; migration: Migration; image: unknown; instance_type: Flavor; clean_shutdown?: boolean }): Promise<void> {
    const { instance, migration } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_resize_instance', async () => {
      try {
        migration.status = MigrationStatus.MIGRATING;
        await migration.save(ctx);
        instance.task_state = TaskState.RESIZE_MIGRATING;
        await instance.save(ctx, { expected_task_state: TaskState.RESIZE_PREP });
        await this.m.notifier.instanceAction(ctx, instance, 'resize', 'start');
        if ((a.instance_type?.root_gb ?? instance.root_gb) < instance.root_gb) {
          // The driver cannot shrink a disk (InstanceFaultRollback: nothing moved, back as it was).
          const err = new ResizeError('Resize error: Unable to resize disk down.');
          await this.failBeforeMove(ctx, instance, migration, err, 'resize');
          throw err;
        }
        // migrate_disk_and_power_off: the guest stops here; its disk goes to the destination.
        await withSpan({ kind: 'internal', name: 'driver.migrate_disk_and_power_off', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, async () => {
          if (this.m.driver.instanceExists(instance) && this.m.driver.getInfo(instance).state !== PowerState.SHUTDOWN) await this.m.driver.powerOff(instance);
        });
        // The volumes let go of this host; the destination connects them in finish_resize.
        await this.volumes.terminateConnections(ctx, instance);
        migration.status = MigrationStatus.POST_MIGRATING;
        await migration.save(ctx);
        instance.host = migration.dest_compute;
        instance.node = migration.dest_node;
        instance.task_state = TaskState.RESIZE_MIGRATED;
        await instance.save(ctx, { expected_task_state: TaskState.RESIZE_MIGRATING });
        await this.rpc.finishResize(ctx, migration.dest_compute!, { instance, migration, image: a.image, disk_info: {} });
        await this.m.notifier.instanceAction(ctx, instance, 'resize', 'end');
      } catch (e) {
        if (!(e instanceof ResizeError)) await this.errorOut(ctx, instance, migration, e, 'resize');
        throw e;
      }
    }));
  }

  // ---------------------------------------------------------------- destination: finish_resize

  async finish_resize(ctx: RequestContext, a: { instance: Instance; migration: Migration; image: unknown; disk_info?: unknown }): Promise<void> {
    const { instance, migration } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_finish_resize', async () => {
      try {
        const sys = { ...instance.system_metadata };
        const newFlavor = sys[NEW_FLAVOR] ? new Flavor().update(JSON.parse(sys[NEW_FLAVOR]!)) : instance.flavor;
        sys[OLD_FLAVOR] = JSON.stringify(instance.flavor.toDict());
        instance.system_metadata = sys;
        setFlavor(instance, newFlavor);
        await this.bindPorts(ctx, instance, this.m.host);
        instance.task_state = TaskState.RESIZE_FINISH;
        await instance.save(ctx, { expected_task_state: TaskState.RESIZE_MIGRATED });
        await this.m.notifier.instanceAction(ctx, instance, 'resize_finish', 'start', undefined, 'finish_resize');
        const powerOn = sys[OLD_VM_STATE] !== VmState.STOPPED;
        await withSpan({ kind: 'internal', name: 'driver.finish_migration', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, async () => {
          await this.m.driver.spawn({
            instance, image: { id: instance.image_ref, properties: {} }, networkInfo: instance.networkInfo.map((v) => ({ ...v, active: true })),
            allocations: {}, adminPassword: null, waitForEvents: async (_e, run) => run(),
          });
          if (!powerOn) await this.m.driver.powerOff(instance);
        });
        await this.volumes.connectHere(ctx, instance);
        migration.status = MigrationStatus.FINISHED;
        await migration.save(ctx);
        instance.power_state = this.m.driver.getInfo(instance).state;
        instance.vm_state = VmState.RESIZED;
        instance.task_state = null;
        instance.launched_at = new Date().toISOString();
        await instance.save(ctx, { expected_task_state: TaskState.RESIZE_FINISH });
        await this.m.notifier.instanceAction(ctx, instance, 'resize_finish', 'end', undefined, 'finish_resize');
      } catch (e) {
        await this.errorOut(ctx, instance, migration, e, 'resize_finish');
        throw e;
      }
    }));
  }

  // ---------------------------------------------------------------- source: confirm_resize

  async confirm_resize(ctx: RequestContext, a: { instance: Instance; migration: Migration }): Promise<void> {
    const { instance, migration } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_confirm_resize', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'resize_confirm', 'start', undefined, 'resize.confirm');
      // confirm_migration: the source's copy of the guest goes (unless source and dest are one host).
      if (migration.source_compute !== migration.dest_compute && this.m.driver.instanceExists(instance)) {
        await this.m.driver.destroy(instance, instance.networkInfo);
      }
      // The source's resources, held by the migration since the conductor's swap, are freed
      // (before the server shows ACTIVE, so a client never sees both allocations after confirm).
      await this.m.placement?.deleteAllocationForInstance(ctx, migration.uuid);
      migration.status = MigrationStatus.CONFIRMED;
      await migration.save(ctx);
      instance.system_metadata = withoutMoveKeys(instance.system_metadata);
      instance.vm_state = instance.power_state === PowerState.SHUTDOWN ? VmState.STOPPED : VmState.ACTIVE;
      instance.task_state = null;
      await instance.save(ctx, { expected_task_state: [null, TaskState.DELETING, TaskState.SOFT_DELETING] });
      await this.m.notifier.instanceAction(ctx, instance, 'resize_confirm', 'end', undefined, 'resize.confirm');
    }));
  }

  // ---------------------------------------------------------------- destination: revert_resize

  async revert_resize(ctx: RequestContext, a: { instance: Instance; migration: Migration }): Promise<void> {
    const { instance, migration } = a;
    // A revert is a resize back to the old size: a usage event first, as Nova sends.
    await this.notifyUsageExists(ctx, instance);
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_revert_resize', async () => {
      try {
        await this.volumes.terminateConnections(ctx, instance);
        if (migration.source_compute !== migration.dest_compute && this.m.driver.instanceExists(instance)) {
          await this.m.driver.destroy(instance, instance.networkInfo);
        }
        migration.status = MigrationStatus.REVERTED;
        await migration.save(ctx);
        await this.rpc.finishRevertResize(ctx, migration.source_compute!, { instance, migration });
      } catch (e) {
        await this.errorOut(ctx, instance, migration, e, 'resize_revert');
        throw e;
      }
    }));
  }

  // ---------------------------------------------------------------- source: finish_revert_resize

  async finish_revert_resize(ctx: RequestContext, a: { instance: Instance; migration: Migration }): Promise<void> {
    const { instance, migration } = a;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_finish_revert_resize', async () => {
      try {
        await this.m.notifier.instanceAction(ctx, instance, 'resize_revert', 'start', undefined, 'resize.revert');
        const sys = { ...instance.system_metadata };
        const oldFlavor = sys[OLD_FLAVOR] ? new Flavor().update(JSON.parse(sys[OLD_FLAVOR]!)) : instance.flavor;
        const wasStopped = sys[OLD_VM_STATE] === VmState.STOPPED;
        setFlavor(instance, oldFlavor);
        instance.host = migration.source_compute;
        instance.node = migration.source_node;
        instance.system_metadata = withoutMoveKeys(sys);
        // The old flavor's allocation on the source goes back to the instance, replacing the destination's.
        await this.m.placement?.moveAllocations(ctx, migration.uuid, instance.uuid);
        await this.bindPorts(ctx, instance, this.m.host);
        await withSpan({ kind: 'internal', name: 'driver.finish_revert_migration', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid } }, async () => {
          if (!this.m.driver.instanceExists(instance)) {
            await this.m.driver.spawn({ instance, image: { id: instance.image_ref, properties: {} }, networkInfo: instance.networkInfo.map((v) => ({ ...v, active: true })), allocations: {}, adminPassword: null, waitForEvents: async (_e, run) => run() });
          }
          const running = this.m.driver.getInfo(instance).state === PowerState.RUNNING;
          if (!wasStopped && !running) await this.m.driver.powerOn(instance, instance.networkInfo);
          if (wasStopped && running) await this.m.driver.powerOff(instance);
        });
        await this.volumes.connectHere(ctx, instance);
        instance.power_state = this.m.driver.getInfo(instance).state;
        instance.vm_state = wasStopped ? VmState.STOPPED : VmState.ACTIVE;
        instance.task_state = null;
        await instance.save(ctx, { expected_task_state: TaskState.RESIZE_REVERTING });
        await this.m.notifier.instanceAction(ctx, instance, 'resize_revert', 'end', undefined, 'resize.revert');
      } catch (e) {
        await this.errorOut(ctx, instance, migration, e, 'resize_revert');
        throw e;
      }
    }));
  }

  // ---------------------------------------------------------------- periodic: auto-confirm

  /**
   * _poll_unconfirmed_resizes: resizes finished on this host longer than `resize_confirm_window`
   * ago are confirmed as if the user had asked (compute API confirm_resize).
   */
  async pollUnconfirmedResizes(ctx: RequestContext, windowSec: number): Promise<void> {
    if (windowSec <= 0) return;
    const migrations = await Migration.getUnconfirmedByDestCompute(this.m.backend, ctx, windowSec, this.m.host);
    for (const migration of migrations) {
      let instance: Instance;
      try {
        instance = await Instance.getByUuid(this.m.backend, ctx, migration.instance_uuid);
      } catch {
        migration.status = MigrationStatus.ERROR;
        await migration.save(ctx).catch(() => undefined);
        continue;
      }
      if (instance.vm_state !== VmState.RESIZED || instance.task_state !== null) {
        if (instance.vm_state !== VmState.RESIZED) {
          this.m.log.info({ instance: instance.uuid }, `In states ${instance.vm_state}/${instance.task_state} when expecting resized; setting migration to error`);
          migration.status = MigrationStatus.ERROR;
          await migration.save(ctx).catch(() => undefined);
        }
        continue;
      }
      this.m.log.info({ instance: instance.uuid, migration: migration.uuid }, 'Automatically confirming migration');
      migration.status = MigrationStatus.CONFIRMING;
      await migration.save(ctx);
      await InstanceAction.actionStart(this.m.backend, ctx, instance.uuid, 'confirmResize');
      await this.rpc.confirmResize(ctx, migration.source_compute!, { instance, migration });
    }
  }

  // ---------------------------------------------------------------- helpers

  /** migrate_instance_finish: every port of the instance is bound to `host`. */
  private async bindPorts(ctx: RequestContext, instance: Instance, host: string): Promise<void> {
    const neutron = this.m.neutron;
    if (!neutron) return;
    for (const vif of instance.networkInfo) {
      await neutron.session.put('network', `/v2.0/ports/${vif.id}`, { ctx, body: { port: { 'binding:host_id': host } }, okStatuses: [404] })
        .catch((e) => this.m.log.warn({ err: e, port: vif.id }, 'could not rebind port'));
    }
  }

  /** errors_out_migration + _error_out_instance_on_exception: migration `error`, instance ERROR. */
  private async errorOut(ctx: RequestContext, instance: Instance, migration: Migration, e: unknown, notif: string): Promise<void> {
    this.m.log.error({ err: e, instance: instance.uuid, migration: migration.uuid }, `${notif} failed`);
    migration.status = MigrationStatus.ERROR;
    await migration.save(ctx).catch(() => undefined);
    await InstanceFault.create(this.m.backend, ctx, instance.uuid, e, this.m.host).catch(() => undefined);
    instance.vm_state = VmState.ERROR;
    instance.task_state = null;
    await instance.save(ctx).catch(() => undefined);
    await this.m.notifier.instanceAction(ctx, instance, notif, 'error', e, LEGACY_NAMES[notif] ?? notif);
  }
}

/** The flavor and the columns copied from it. */
export function setFlavor(instance: Instance, flavor: Flavor): void {
  instance.flavor = flavor;
  instance.instance_type_id = flavor.id;
  instance.memory_mb = flavor.memory_mb;
  instance.vcpus = flavor.vcpus;
  instance.root_gb = flavor.root_gb;
  instance.ephemeral_gb = flavor.ephemeral_gb;
}

function withoutMoveKeys(sys: Record<string, string>): Record<string, string> {
  const out = { ...sys };
  delete out[OLD_VM_STATE];
  delete out[OLD_FLAVOR];
  delete out[NEW_FLAVOR];
  return out;
}

/**
 * compute_utils.notify_usage_exists(current_period=True): versioned `instance.exists` with the
 * audit period from the start of this month (instance_usage_audit_period=month) to now.
 * Nova sends it at prep_resize, revert_resize and rebuild (evacuation included).
 */
export async function notifyUsageExists(m: ComputeManager, ctx: RequestContext, instance: Instance): Promise<void> {
  const now = new Date();
  const begin = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  await m.notifier.notify(ctx, {
    event: 'instance.exists',
    payload: versionedPayload('InstanceExistsPayload', '2.1', {
      ...instancePayloadData(instance),
      audit_period: versionedPayload('AuditPeriodPayload', '1.0', { audit_period_beginning: stamp(begin), audit_period_ending: stamp(now) }),
    }),
  });
}
