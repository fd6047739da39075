/**
 * Evacuation on the destination compute (nova/compute/manager.py `rebuild_instance` with
 * `recreate=True`): the server's host is down, so it is rebuilt here from its image: host and
 * node move here, ports are bound here, the guest is spawned, the `evacuation` migration is
 * `done`. Until the old host comes back its resources stay held in Placement by the migration;
 * then `_destroy_evacuated_instances` removes its stale guest, drops that allocation and marks
 * the migration `completed`.
 *
 * This endpoint sits before ComputeManager in the dispatch order and takes only `recreate`
 * rebuilds; ordinary rebuilds go on to ComputeManager.rebuild_instance.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import type { ComputeManager } from '../manager.js';
import { instancePayloadData, versionedPayload } from '../notifications.js';
import { Instance } from '../objects/instance.js';
import { InstanceFault } from '../objects/instance-action.js';
import { Migration, MigrationStatus } from '../objects/migration.js';
import { MoveVolumes } from './move-volumes.js';
import { notifyUsageExists } from './resize.js';
import { TaskState, VmState } from '../states.js';

export interface RebuildArgs {
  instance: Instance;
  image_ref: string;
  orig_image_ref: string;
  new_pass: string | null;
  recreate?: boolean;
  on_shared_storage?: boolean | null;
  preserve_ephemeral?: boolean;
  migration?: Migration | null;
  scheduled_node?: string | null;
  [k: string]: unknown;
}

export class ComputeEvacuateManager {
  readonly target = { version: '5.1' };
  private readonly volumes: MoveVolumes;
  constructor(private readonly m: ComputeManager) {
    this.volumes = new MoveVolumes(m);
  }

  async rebuild_instance(ctx: RequestContext, a: RebuildArgs): Promise<void> {
    if (!a.recreate) {
      await this.m.rebuild_instance(ctx, a as Parameters<ComputeManager['rebuild_instance']>[1]);
      return;
    }
    const instance = a.instance;
    const migration = a.migration ?? null;
    await this.m.withInstanceLock(instance.uuid, () => this.m.actionEvent(ctx, instance, 'compute_rebuild_instance', async () => {
      // _do_rebuild_instance: the usage event (instance.exists) before rebuild.start.
      await notifyUsageExists(this.m, ctx, instance);
      await this.m.notifier.instanceAction(ctx, instance, 'rebuild', 'start');
      try {
        if (migration) {
          migration.status = MigrationStatus.PRE_MIGRATING;
          await migration.save(ctx);
        }
        const wasStopped = instance.vm_state === VmState.STOPPED;
        const node = a.scheduled_node ?? this.m.driver.getAvailableNodes()[0] ?? this.m.host;
        instance.host = this.m.host;
        instance.node = node;
        instance.launched_on = this.m.host;
        instance.task_state = TaskState.REBUILD_BLOCK_DEVICE_MAPPING;
        await instance.save(ctx, { expected_task_state: [TaskState.REBUILDING] });
        const neutron = this.m.neutron;
        if (neutron) {
          for (const vif of instance.networkInfo) {
            await neutron.session.put('network', `/v2.0/ports/${vif.id}`, { ctx, okStatuses: [404], body: { port: { 'binding:host_id': this.m.host } } })
              .catch((e) => this.m.log.warn({ err: e, port: vif.id }, 'could not rebind port'));
          }
        }
        // The dead host's volume attachments are replaced by fresh ones for this host.
        await this.volumes.terminateConnections(ctx, instance, { disconnect: false });
        instance.task_state = TaskState.REBUILD_SPAWNING;
        await instance.save(ctx, { expected_task_state: [TaskState.REBUILD_BLOCK_DEVICE_MAPPING] });
        await withSpan({ kind: 'internal', name: 'driver.spawn', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid, evacuate: true } }, async () => {
          await this.m.driver.spawn({
            instance, image: { id: a.image_ref || instance.image_ref, properties: {} }, networkInfo: instance.networkInfo.map((v) => ({ ...v, active: true })),
            allocations: {}, adminPassword: a.new_pass, waitForEvents: async (_e, run) => run(),
          });
          if (wasStopped) await this.m.driver.powerOff(instance);
        });
        await this.volumes.connectHere(ctx, instance);
        instance.power_state = this.m.driver.getInfo(instance).state;
        instance.vm_state = wasStopped ? VmState.STOPPED : VmState.ACTIVE;
        instance.task_state = null;
        instance.launched_at = new Date().toISOString();
        await instance.save(ctx, { expected_task_state: [TaskState.REBUILD_SPAWNING] });
        if (migration) {
          migration.status = MigrationStatus.DONE;
          await migration.save(ctx);
        }
        // `instance.evacuate` has no phase (NotificationAction.EVACUATE).
        await this.m.notifier.notify(ctx, { event: 'instance.evacuate', payload: versionedPayload('InstanceActionPayload', '1.10', instancePayloadData(instance)) });
        await this.m.notifier.instanceAction(ctx, instance, 'rebuild', 'end');
      } catch (e) {
        this.m.log.error({ err: e, instance: instance.uuid }, 'Evacuation failed');
        if (migration) {
          migration.status = MigrationStatus.FAILED;
          await migration.save(ctx).catch(() => undefined);
        }
        await InstanceFault.create(this.m.backend, ctx, instance.uuid, e, this.m.host).catch(() => undefined);
        instance.vm_state = VmState.ERROR;
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
        await this.m.notifier.instanceAction(ctx, instance, 'rebuild', 'error', e);
        throw e;
      }
    }));
  }

  /**
   * _destroy_evacuated_instances (at start-up): guests still here whose server was evacuated
   * elsewhere are destroyed, and their migrations become `completed`.
   */
  async destroyEvacuatedInstances(ctx: RequestContext): Promise<void> {
    for (const uuid of this.m.driver.listInstanceUuids()) {
      let inst: Instance;
      try {
        inst = await Instance.getByUuid(this.m.backend, ctx, uuid);
      } catch {
        continue;
      }
      if (inst.host === this.m.host) continue;
      try {
        const mig = await Migration.getByInstanceAndStatus(this.m.backend, ctx, uuid, [MigrationStatus.DONE]);
        if (mig.migration_type !== 'evacuation' || mig.source_compute !== this.m.host) continue;
        this.m.log.info({ instance: uuid }, 'Deleting instance as it has been evacuated from this host');
        await this.m.driver.destroy(inst, inst.networkInfo);
        // What this host still held for the evacuated server is released now.
        await this.m.placement?.deleteAllocationForInstance(ctx, mig.uuid);
        mig.status = MigrationStatus.COMPLETED;
        await mig.save(ctx);
      } catch {
        // No evacuation record: not ours to clean.
      }
    }
  }
}

