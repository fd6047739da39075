/**
 * The super-conductor's `migrate_server` (nova/conductor/manager.py `migrate_server`,
 * `_cold_migrate`; nova/conductor/tasks/migrate.py MigrationTask), openstack-flows §2.2:
 *
 * 1. a `migrations` row (`pre-migrating`, type `resize` or `migration`) in the instance's cell;
 * 2. the allocation swap: the instance's allocation on the source moves to the migration's uuid;
 * 3. select_destinations (the source is ignored unless `allow_resize_to_same_host`), which
 *    claims the new flavor on the destination for the instance;
 * 4. cast `prep_resize` to the destination on the cell's bus.
 * Before the cast a failure rolls back: migration `error`, allocations back to the instance,
 * task cleared, and the error (NoValidHost) goes back to nova-api, which answers 400.
 * @module
 */
import { hostAvailabilityZone } from '../availability-zones.js';
import type { RequestContext } from '../../common/context.js';
import type { Database } from '../../common/db/connection.js';
import { getLogger, type Logger } from '../../common/log.js';
import * as apiDb from '../../compute/db/api-api.js';
import type { Cell, CellRegistry } from '../../compute/cells.js';
import { MaxRetriesExceeded, NoValidHost } from '../../compute/exception.js';
import type { NovaNotifier } from '../../compute/notifications.js';
import { versionedPayload } from '../../compute/notifications.js';
import type { Flavor } from '../../compute/objects/flavor.js';
import type { Instance } from '../../compute/objects/instance.js';
import { InstanceActionEvent, InstanceFault, errorText } from '../../compute/objects/instance-action.js';
import { Migration, MigrationStatus } from '../../compute/objects/migration.js';
import type { RequestSpec, Selection } from '../../compute/objects/request-spec.js';
import type { ComputeAPI } from '../../compute/rpcapi.js';
import { MigrationPreCheckError, UnableToMigrateToSelf } from '../../compute/manager/resize.js';
import type { AllocationRequest, SchedulerReportClient } from '../../scheduler/client/report.js';
import type { SchedulerAPI } from '../../scheduler/rpcapi.js';

export interface MigrateTaskDeps {
  host: string;
  /** API DB, cells and scheduler: the super-conductor. A cell conductor only reschedules. */
  api?: Database;
  cells?: CellRegistry;
  scheduler?: SchedulerAPI;
  placement: SchedulerReportClient;
  computeRpcFor(cell: Cell | null): Promise<ComputeAPI>;
  notifier: NovaNotifier;
  /** `[DEFAULT]allow_resize_to_same_host` (False). */
  allowResizeToSameHost?: boolean;
}

export interface MigrateServerArgs {
  instance: Instance;
  scheduler_hint: { filter_properties?: Record<string, unknown> } & Record<string, unknown>;
  live: boolean;
  rebuild: boolean;
  flavor: Flavor | null;
  block_migration: boolean | string | null;
  disk_over_commit: boolean | null;
  clean_shutdown?: boolean;
  request_spec: RequestSpec;
  host_list?: unknown;
}

/** ComputeTaskManager's move endpoint (namespace `compute_task`, 1.20). */
export class MigrateServerEndpoint {
  readonly target = { namespace: 'compute_task', version: '1.20' };
  private readonly log: Logger;
  constructor(private readonly d: MigrateTaskDeps) {
    this.log = getLogger('nova-conductor', d.host);
  }

  async migrate_server(ctx: RequestContext, a: MigrateServerArgs): Promise<void> {
    const instance = a.instance;
    // A compute handing back a failed prep_resize with alternates left (MigrationTask._reschedule).
    if (!a.live && Array.isArray(a.host_list) && a.host_list.length > 0) return this.reschedule(ctx, a);
    const cell = await this.d.cells!.cellForInstance(instance.uuid);
    if (!cell) throw new NoValidHost(`No valid host was found. Instance ${instance.uuid} is not in a cell.`);
    instance.backend = cell.backend;
    const event = 'conductor_migrate_server';
    await InstanceActionEvent.eventStart(cell.backend, ctx, instance.uuid, event, this.d.host).catch(() => undefined);
    try {
      if (a.live) await this.liveMigrate(ctx, cell, a);
      else await this.coldMigrate(ctx, cell, a);
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event).catch(() => undefined);
    } catch (e) {
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event, e).catch(() => undefined);
      throw e;
    }
  }

  /**
   * unshelve_instance: a SHELVED server just starts again on its host; a SHELVED_OFFLOADED one is
   * scheduled like a new boot (the scheduler claims in Placement) and `unshelve_instance` is cast
   * to the chosen host with the shelved image.
   */
  async unshelve_instance(ctx: RequestContext, a: { instance: Instance; request_spec: RequestSpec | null }): Promise<void> {
    const instance = a.instance;
    const cell = await this.d.cells!.cellForInstance(instance.uuid);
    if (!cell) return;
    instance.backend = cell.backend;
    const rpc = await this.d.computeRpcFor(cell);
    if (instance.vm_state === 'shelved') {
      instance.task_state = 'powering-on';
      await instance.save(ctx, { expected_task_state: 'unshelving' });
      await rpc.startInstance(ctx, instance);
      return;
    }
    const event = 'conductor_unshelve_instance';
    await InstanceActionEvent.eventStart(cell.backend, ctx, instance.uuid, event, this.d.host).catch(() => undefined);
    try {
      const imageId = instance.system_metadata?.['shelved_image_id'];
      const spec = specForOneInstance(a.request_spec, instance, null);
      await InstanceActionEvent.eventStart(cell.backend, ctx, instance.uuid, 'schedule_instances', this.d.host).catch(() => undefined);
      let chosen;
      try {
        const hostLists = await this.d.scheduler!.selectDestinations(ctx, spec, [instance.uuid], true, false);
        chosen = hostLists[0]?.[0];
        if (!chosen) throw new NoValidHost('No valid host was found. There are not enough hosts available.');
        await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, 'schedule_instances').catch(() => undefined);
      } catch (e) {
        await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, 'schedule_instances', e).catch(() => undefined);
        throw e;
      }
      // The server now lives in its new host's zone (conductor unshelve_instance, as Nova since 2.77).
      if (this.d.api) {
        instance.availability_zone = await hostAvailabilityZone(this.d.api, chosen.service_host);
        await instance.save(ctx);
      }
      const image = imageId ? { id: imageId, properties: {} } : spec.image;
      await rpc.unshelveInstance(ctx, chosen.service_host, {
        instance, image, node: chosen.nodename, request_spec: spec,
        filter_properties: { retry: { num_attempts: 1, hosts: [[chosen.service_host, chosen.nodename]] }, limits: chosen.limits ?? {} },
      });
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event).catch(() => undefined);
    } catch (e) {
      // Nothing can host it: it stays offloaded, the task is cleared (nova logs and returns).
      this.log.warn({ instance: instance.uuid, err: errorText(e) }, `Unshelve attempted but an error has occurred: ${errorText(e)}`);
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event, e).catch(() => undefined);
      await InstanceFault.create(cell.backend, ctx, instance.uuid, e, null).catch(() => undefined);
      instance.task_state = null;
      await instance.save(ctx).catch(() => undefined);
    }
  }

  /**
   * rebuild_instance with `recreate` (evacuate): the scheduler picks a host other than the dead
   * one (or checks the requested one) and claims there; `rebuild_instance` goes to that host.
   */
  async rebuild_instance(ctx: RequestContext, a: {
    instance: Instance; orig_image_ref: string; image_ref: string; new_pass: string | null; recreate: boolean;
    on_shared_storage: boolean | null; preserve_ephemeral: boolean; host: string | null; request_spec: RequestSpec | null;
  }): Promise<void> {
    const instance = a.instance;
    const cell = await this.d.cells!.cellForInstance(instance.uuid);
    if (!cell) return;
    instance.backend = cell.backend;
    const event = 'conductor_rebuild_server';
    await InstanceActionEvent.eventStart(cell.backend, ctx, instance.uuid, event, this.d.host).catch(() => undefined);
    let migration: Migration | null = null;
    let swapped = false;
    try {
      migration = await Migration.getByInstanceAndStatus(cell.backend, ctx, instance.uuid, [MigrationStatus.ACCEPTED]).catch(() => null);
      // The dead host's resources stay held, by the migration, until that host comes back and
      // cleans up (nova keeps a doubled allocation for the same reason).
      if (migration) swapped = await this.d.placement.moveAllocations(ctx, instance.uuid, migration.uuid);
      const spec = specForOneInstance(a.request_spec, instance, instance.host ? [instance.host] : []);
      spec.requested_destination = a.host ? { host: a.host } : null;
      const hostLists = await this.d.scheduler!.selectDestinations(ctx, spec, [instance.uuid], true, false);
      const chosen = hostLists[0]?.[0];
      if (!chosen) throw new NoValidHost('No valid host was found. There are not enough hosts available.');
      if (migration) {
        migration.dest_compute = chosen.service_host;
        migration.dest_node = chosen.nodename;
        migration.dest_host = '127.0.0.1';
        await migration.save(ctx);
      }
      const rpc = await this.d.computeRpcFor(cell);
      await rpc.rebuildInstanceOnHost(ctx, chosen.service_host, {
        instance, new_pass: a.new_pass, injected_files: [], image_ref: a.image_ref, orig_image_ref: a.orig_image_ref, orig_sys_metadata: {},
        bdms: [], recreate: true, on_shared_storage: a.on_shared_storage, preserve_ephemeral: false, migration, scheduled_node: chosen.nodename,
        limits: chosen.limits ?? {}, request_spec: spec,
      });
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event).catch(() => undefined);
    } catch (e) {
      this.log.warn({ instance: instance.uuid, err: errorText(e) }, `Evacuation failed: ${errorText(e)}`);
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, event, e).catch(() => undefined);
      if (migration) {
        migration.status = MigrationStatus.ERROR;
        await migration.save(ctx).catch(() => undefined);
        if (swapped) await this.d.placement.moveAllocations(ctx, migration.uuid, instance.uuid).catch(() => undefined);
      }
      await InstanceFault.create(cell.backend, ctx, instance.uuid, e, null).catch(() => undefined);
      instance.task_state = null;
      await instance.save(ctx).catch(() => undefined);
    }
  }

  private async coldMigrate(ctx: RequestContext, cell: Cell, a: MigrateServerArgs): Promise<void> {
    const instance = a.instance;
    const flavor = a.flavor ?? instance.flavor;
    await InstanceActionEvent.eventStart(cell.backend, ctx, instance.uuid, 'cold_migrate', this.d.host).catch(() => undefined);
    const migration = new Migration();
    migration.backend = cell.backend;
    migration.update({
      status: MigrationStatus.PRE_MIGRATING, migration_type: flavor.id !== instance.flavor.id ? 'resize' : 'migration',
      instance_uuid: instance.uuid, source_compute: instance.host, source_node: instance.node, dest_compute: null, dest_node: null, dest_host: null,
      old_instance_type_id: instance.flavor.id, new_instance_type_id: flavor.id, hidden: false, cross_cell_move: false,
      user_id: ctx.userId ?? instance.user_id, project_id: ctx.projectId ?? instance.project_id,
    });
    let swapped = false;
    try {
      await migration.create(ctx);
      swapped = await this.d.placement.moveAllocations(ctx, instance.uuid, migration.uuid);
      const spec = a.request_spec;
      spec.flavor = flavor;
      spec.instance_uuid = instance.uuid;
      spec.num_instances = 1;
      spec.retry = null;
      spec.force_hosts = null;
      spec.force_nodes = null;
      const ignore = new Set(spec.ignore_hosts ?? []);
      if (!this.d.allowResizeToSameHost && instance.host) ignore.add(instance.host);
      spec.ignore_hosts = [...ignore];
      const hostLists = await this.d.scheduler!.selectDestinations(ctx, spec, [instance.uuid], true, true);
      const hostList = [...(hostLists[0] ?? [])];
      const chosen = hostList.shift();
      if (!chosen) throw new NoValidHost('No valid host was found. There are not enough hosts available.');
      // The request spec remembers the new flavor (nova saves it after scheduling).
      await this.saveSpec(spec);
      const rpc = await this.d.computeRpcFor(cell);
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, 'cold_migrate').catch(() => undefined);
      await rpc.prepResize(ctx, chosen.service_host, {
        instance, image: spec.image ?? null, instance_type: flavor, migration, request_spec: spec,
        filter_properties: { retry: { num_attempts: 1, hosts: [[chosen.service_host, chosen.nodename]] }, limits: chosen.limits ?? {} },
        node: chosen.nodename, clean_shutdown: a.clean_shutdown ?? true, host_list: hostList,
      });
    } catch (e) {
      this.log.warn({ instance: instance.uuid, err: errorText(e) }, `Failed to ${a.flavor ? 'resize' : 'migrate'} instance: ${errorText(e)}`);
      await InstanceActionEvent.eventFinish(cell.backend, ctx, instance.uuid, 'cold_migrate', e).catch(() => undefined);
      await this.rollback(ctx, instance, migration, swapped, e);
      throw e;
    }
  }

  /**
   * _live_migrate + LiveMigrationTask: migration `accepted`, allocation swap, a destination
   * (the requested host, or the scheduler's choice without the source), the hosts' pre-checks,
   * then `live_migration` cast to the source.
   */
  private async liveMigrate(ctx: RequestContext, cell: Cell, a: MigrateServerArgs): Promise<void> {
    const instance = a.instance;
    const requested = (a.scheduler_hint?.['host'] as string | null | undefined) ?? null;
    const migration = new Migration();
    migration.backend = cell.backend;
    migration.update({
      status: MigrationStatus.ACCEPTED, migration_type: 'live-migration', instance_uuid: instance.uuid,
      source_compute: instance.host, source_node: instance.node, dest_compute: requested, dest_node: null, dest_host: null,
      old_instance_type_id: instance.flavor.id, new_instance_type_id: instance.flavor.id, hidden: false, cross_cell_move: false,
      user_id: ctx.userId ?? instance.user_id, project_id: ctx.projectId ?? instance.project_id,
    });
    let swapped = false;
    try {
      await migration.create(ctx);
      if (requested && requested === instance.host) throw new UnableToMigrateToSelf(`Unable to migrate instance (${instance.uuid}) to current host (${instance.host}).`);
      swapped = await this.d.placement.moveAllocations(ctx, instance.uuid, migration.uuid);
      const spec = specForOneInstance(a.request_spec, instance, instance.host ? [instance.host] : []);
      spec.requested_destination = requested ? { host: requested } : null;
      const hostLists = await this.d.scheduler!.selectDestinations(ctx, spec, [instance.uuid], true, false);
      const chosen = hostLists[0]?.[0];
      if (!chosen) throw new NoValidHost('No valid host was found. There are not enough hosts available.');
      migration.dest_compute = chosen.service_host;
      migration.dest_node = chosen.nodename;
      migration.dest_host = '127.0.0.1';
      await migration.save(ctx);
      const rpc = await this.d.computeRpcFor(cell);
      let migrateData: Record<string, unknown>;
      try {
        migrateData = await rpc.checkCanLiveMigrateDestination(ctx, chosen.service_host, { instance, block_migration: a.block_migration, disk_over_commit: a.disk_over_commit, migration });
      } catch (e) {
        throw new MigrationPreCheckError(`Migration pre-check error: ${errorText(e)}`);
      }
      await rpc.liveMigration(ctx, instance, { dest: chosen.service_host, block_migration: Boolean(migrateData['block_migration']), migration, migrate_data: migrateData });
    } catch (e) {
      this.log.warn({ instance: instance.uuid, err: errorText(e) }, `Failed to live migrate instance: ${errorText(e)}`);
      await this.rollback(ctx, instance, migration, swapped, e);
      throw e;
    }
  }

  /**
   * The next alternate of the original scheduling, claimed in Placement for the instance, gets
   * prep_resize; the migration record is reused. None left: MaxRetriesExceeded, rolled back.
   */
  private async reschedule(ctx: RequestContext, a: MigrateServerArgs): Promise<void> {
    const instance = a.instance;
    const backend = instance.backend!;
    const migration = await Migration.getByInstanceAndStatus(backend, ctx, instance.uuid, [MigrationStatus.PRE_MIGRATING]);
    const flavor = a.flavor ?? instance.flavor;
    const hostList = [...(a.host_list as Selection[])];
    let chosen: Selection | null = null;
    while (hostList.length) {
      const sel = hostList.shift()!;
      if (!sel.allocation_request) { chosen = sel; break; }
      const alloc = JSON.parse(sel.allocation_request) as AllocationRequest;
      if (await this.d.placement.claimResources(ctx, instance.uuid, alloc, instance.project_id, instance.user_id)) { chosen = sel; break; }
    }
    if (!chosen) {
      const err = new MaxRetriesExceeded(`Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${instance.uuid}.`);
      this.log.error({ instance: instance.uuid }, err.message);
      await this.rollback(ctx, instance, migration, true, err);
      throw err;
    }
    const rpc = await this.d.computeRpcFor(null);
    await rpc.prepResize(ctx, chosen.service_host, {
      instance, image: a.request_spec.image ?? null, instance_type: flavor, migration, request_spec: a.request_spec,
      filter_properties: { retry: { num_attempts: 2, hosts: [[chosen.service_host, chosen.nodename]] }, limits: chosen.limits ?? {} },
      node: chosen.nodename, clean_shutdown: a.clean_shutdown ?? true, host_list: hostList,
    });
  }

  /** MigrationTask.rollback + _set_vm_state_and_notify: nothing moved, the server is as it was. */
  private async rollback(ctx: RequestContext, instance: Instance, migration: Migration, swapped: boolean, e: unknown): Promise<void> {
    if (migration.id) {
      migration.status = MigrationStatus.ERROR;
      await migration.save(ctx).catch(() => undefined);
    }
    if (swapped) await this.d.placement.moveAllocations(ctx, migration.uuid, instance.uuid).catch((err) => this.log.error({ err }, 'could not move allocations back'));
    instance.task_state = null;
    await instance.save(ctx).catch(() => undefined);
    await InstanceFault.create(instance.backend!, ctx, instance.uuid, e, null).catch(() => undefined);
    await this.d.notifier.notify(ctx, {
      legacyEvent: 'compute_task.migrate_server', event: 'compute_task.migrate_server.error', priority: 'ERROR',
      legacyPayload: { instance_id: instance.uuid, state: instance.vm_state, method: 'migrate_server', reason: errorText(e) },
      payload: versionedPayload('ComputeTaskPayload', '1.0', { instance_uuid: instance.uuid, state: instance.vm_state, reason: versionedPayload('ExceptionPayload', '1.1', { exception: (e as Error)?.name ?? 'NoValidHost', exception_message: errorText(e), module_name: 'nova.conductor.manager', function_name: 'migrate_server', traceback: '' }) }),
    });
  }

  private async saveSpec(spec: RequestSpec): Promise<void> {
    const copy = spec.clone();
    // ignore_hosts and retry are per-request; nova resets them before saving.
    copy.ignore_hosts = null;
    copy.retry = null;
    copy.requested_destination = null;
    await apiDb.requestSpecSave(this.d.api!, spec.instance_uuid, copy.toPrimitive()).catch((err) => this.log.warn({ err }, 'could not save the request spec'));
  }
}

/** The request spec made ready to schedule this one server again (cold migrate, unshelve, evacuate). */
function specForOneInstance(spec: RequestSpec | null | undefined, instance: Instance, ignoreHosts: string[] | null): RequestSpec {
  if (!spec) throw new NoValidHost('No valid host was found. The server has no request spec.');
  spec.flavor = instance.flavor;
  spec.instance_uuid = instance.uuid;
  spec.num_instances = 1;
  spec.retry = null;
  spec.force_hosts = null;
  spec.force_nodes = null;
  spec.ignore_hosts = ignoreHosts;
  return spec;
}
