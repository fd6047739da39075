/**
 * The build work of the conductors (nova/conductor/manager.py `schedule_and_build_instances`,
 * `build_instances`, `_bury_in_cell0`).
 *
 * Super-conductor: ask the scheduler (which claims in Placement), map the chosen host to its
 * cell, create the instance in that cell's DB, point the mapping at the cell, drop the build
 * request, cast `build_and_run_instance` to `compute.<host>` on the cell's bus. A scheduling
 * failure or an unmapped host buries the instance in cell0 as ERROR.
 * Cell conductor: a reschedule pops the next alternate, re-claims it, casts again.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import type { Database } from '../../common/db/connection.js';
import { withSpan } from '../../common/journey/span.js';
import { getLogger, type Logger } from '../../common/log.js';
import type { Cell, CellRegistry } from '../../compute/cells.js';
import * as apiDb from '../../compute/db/api-api.js';
import * as cellApi from '../../compute/db/cell-api.js';
import { MaxRetriesExceeded, NoValidHost } from '../../compute/exception.js';
import type { NovaNotifier } from '../../compute/notifications.js';
import { versionedPayload } from '../../compute/notifications.js';
import type { ObjectBackend } from '../../compute/objects/base.js';
import type { Instance } from '../../compute/objects/instance.js';
import { InstanceAction, InstanceActionEvent, InstanceFault, errorText } from '../../compute/objects/instance-action.js';
import type { ImageMeta, RequestSpec, Selection } from '../../compute/objects/request-spec.js';
import type { ComputeAPI } from '../../compute/rpcapi.js';
import { PowerState, VmState } from '../../compute/states.js';
import type { AllocationRequest, SchedulerReportClient } from '../../scheduler/client/report.js';
import type { SchedulerAPI } from '../../scheduler/rpcapi.js';

export interface BuildRequestArg {
  instance_uuid: string;
  instance: Instance;
}

export interface ScheduleAndBuildArgs {
  build_requests: BuildRequestArg[];
  request_specs: RequestSpec[];
  image: ImageMeta;
  admin_password: string | null;
  injected_files: unknown[];
  requested_networks: unknown;
  block_device_mapping: Record<string, unknown>[][] | Record<string, unknown>[];
  tags: string[];
}

export interface BuildInstancesArgs {
  instances: Instance[];
  image: ImageMeta;
  filter_properties: Record<string, any>;
  admin_password: string | null;
  injected_files: unknown[];
  requested_networks: unknown;
  security_groups: string[];
  block_device_mapping: unknown[];
  request_spec: RequestSpec;
  host_lists: Selection[][];
}

export interface BuildTasksDeps {
  host: string;
  /** API DB and cells: super-conductor only. */
  api?: Database;
  cells?: CellRegistry;
  scheduler?: SchedulerAPI;
  /** The compute RPC client on a cell's bus. */
  computeRpcFor(cell: Cell | null): Promise<ComputeAPI>;
  /** Cell conductor: the local cell's object backend and its Placement client. */
  cellBackend?: ObjectBackend;
  placement?: SchedulerReportClient;
  notifier: NovaNotifier;
  /** `[scheduler]max_attempts`. */
  maxAttempts?: number;
}

export class BuildTasks {
  private readonly log: Logger;
  constructor(private readonly d: BuildTasksDeps) {
    this.log = getLogger('nova-conductor', d.host);
  }

  async scheduleAndBuildInstances(ctx: RequestContext, a: ScheduleAndBuildArgs): Promise<void> {
    const { api, cells, scheduler } = this.d;
    if (!api || !cells || !scheduler) throw new Error('schedule_and_build_instances needs the super-conductor (API DB + scheduler)');
    const uuids = a.build_requests.map((b) => b.instance_uuid);
    const spec0 = a.request_specs[0]!;
    let hostLists: Selection[][];
    try {
      hostLists = await scheduler.selectDestinations(ctx, spec0, uuids, true, true);
    } catch (e) {
      this.log.warn({ err: errorText(e) }, `Failed to schedule instances: ${errorText(e)}`);
      for (let i = 0; i < a.build_requests.length; i++) await this.buryInCell0(ctx, a, i, e);
      return;
    }
    for (let i = 0; i < a.build_requests.length; i++) {
      const br = a.build_requests[i]!;
      const spec = a.request_specs[i] ?? spec0;
      const hostList = [...(hostLists[i] ?? [])];
      const chosen = hostList.shift()!;
      const hm = await apiDb.hostMappingGet(api, chosen.service_host);
      if (!hm) {
        const err = new NoValidHost(`No valid host was found. No host-to-cell mapping found for selected host ${chosen.service_host}. Setup is incomplete.`);
        await this.d.placement?.deleteAllocationForInstance(ctx, br.instance_uuid).catch(() => undefined);
        await this.buryInCell0(ctx, a, i, err);
        continue;
      }
      const cell = await cells.byId(hm['cell_id']);
      await withSpan({ kind: 'internal', name: 'create instance in cell', service: 'nova-super-conductor', host: this.d.host, attributes: { cell: cell.name, instance: br.instance_uuid } },
        () => this.createInCellAndCast(ctx, a, i, br, spec, cell, chosen, hostList));
    }
  }

  private async createInCellAndCast(ctx: RequestContext, a: ScheduleAndBuildArgs, i: number, br: BuildRequestArg, spec: RequestSpec, cell: Cell, chosen: Selection, alternates: Selection[]): Promise<void> {
    const api = this.d.api!;
    // The user may have deleted the server while it was being scheduled.
    if (!(await apiDb.buildRequestGet(api, br.instance_uuid))) {
      this.log.info({ instance: br.instance_uuid }, 'Build request was deleted before the instance was created; cleaning up its allocation.');
      await this.d.placement?.deleteAllocationForInstance(ctx, br.instance_uuid).catch(() => undefined);
      return;
    }
    const instance = br.instance;
    instance.backend = cell.backend;
    instance.availability_zone = spec.availability_zone ?? instance.availability_zone ?? 'nova';
    await instance.create(ctx);
    await InstanceAction.actionStart(cell.backend, ctx, instance.uuid, 'create');
    await cellApi.bdmCreate(cell.db, instance.uuid, bdmsFor(a, i));
    await apiDb.instanceMappingSetCell(api, instance.uuid, cell.id);
    if (!(await apiDb.buildRequestDestroy(api, instance.uuid))) {
      // Deleted meanwhile: undo the instance we just made.
      await instance.destroy(ctx).catch(() => undefined);
      await this.d.placement?.deleteAllocationForInstance(ctx, instance.uuid).catch(() => undefined);
      return;
    }
    await this.d.notifier.notify(ctx, {
      legacyEvent: 'compute.instance.update', event: 'instance.update',
      payload: versionedPayload('InstanceUpdatePayload', '1.8', { uuid: instance.uuid, state: instance.vm_state, task_state: instance.task_state, old_state: null }),
    });
    const rpc = await this.d.computeRpcFor(cell);
    await rpc.buildAndRunInstance(ctx, chosen.service_host, {
      instance, image: a.image, request_spec: spec,
      filter_properties: { retry: { num_attempts: 1, hosts: [[chosen.service_host, chosen.nodename]] }, limits: chosen.limits ?? {}, scheduler_hints: spec.scheduler_hints ?? {} },
      admin_password: a.admin_password, injected_files: a.injected_files, requested_networks: a.requested_networks,
      security_groups: spec.security_groups ?? [], block_device_mapping: bdmsFor(a, i), node: chosen.nodename, limits: chosen.limits ?? {},
      host_list: alternates,
    });
  }

  /** _bury_in_cell0: the instance exists only to show ERROR with its fault, and to be deleted. */
  private async buryInCell0(ctx: RequestContext, a: ScheduleAndBuildArgs, i: number, error: unknown): Promise<void> {
    const api = this.d.api!;
    const cell0 = await this.d.cells!.cell0();
    const br = a.build_requests[i]!;
    if (!(await apiDb.buildRequestGet(api, br.instance_uuid))) return;
    const instance = br.instance;
    instance.backend = cell0.backend;
    instance.vm_state = VmState.ERROR;
    instance.task_state = null;
    instance.power_state = PowerState.NOSTATE;
    await instance.create(ctx);
    await apiDb.instanceMappingSetCell(api, instance.uuid, cell0.id);
    await InstanceAction.actionStart(cell0.backend, ctx, instance.uuid, 'create');
    await InstanceActionEvent.eventStart(cell0.backend, ctx, instance.uuid, 'conductor_schedule_and_build_instances', this.d.host);
    await InstanceActionEvent.eventFinish(cell0.backend, ctx, instance.uuid, 'conductor_schedule_and_build_instances', error);
    await cellApi.bdmCreate(cell0.db, instance.uuid, bdmsFor(a, i));
    await InstanceFault.create(cell0.backend, ctx, instance.uuid, error, null);
    await apiDb.buildRequestDestroy(api, instance.uuid);
    await this.d.notifier.notify(ctx, {
      legacyEvent: 'compute_task.build_instances', event: 'compute_task.build_instances.error', priority: 'ERROR',
      legacyPayload: { instance_id: instance.uuid, state: 'error', method: 'build_instances', reason: errorText(error) },
      payload: versionedPayload('ComputeTaskPayload', '1.0', { instance_uuid: instance.uuid, state: 'error', reason: versionedPayload('ExceptionPayload', '1.1', { exception: (error as Error)?.name ?? 'NoValidHost', exception_message: errorText(error), module_name: 'nova.conductor.manager', function_name: 'schedule_and_build_instances', traceback: '' }) }),
    });
  }

  /**
   * build_instances with host_lists (a reschedule from a compute): try the alternates in order,
   * claiming each in Placement; none left -> MaxRetriesExceeded -> ERROR.
   */
  async buildInstances(ctx: RequestContext, a: BuildInstancesArgs): Promise<void> {
    for (let i = 0; i < a.instances.length; i++) {
      const instance = a.instances[i]!;
      const hostList = [...(a.host_lists[i] ?? [])];
      const retry = a.filter_properties['retry'] ?? { num_attempts: 0, hosts: [] };
      let chosen: Selection | null = null;
      while (hostList.length) {
        const sel = hostList.shift()!;
        if (!sel.allocation_request || !this.d.placement) {
          chosen = sel;
          break;
        }
        const alloc = JSON.parse(sel.allocation_request) as AllocationRequest;
        if (await this.d.placement.claimResources(ctx, instance.uuid, alloc, instance.project_id, instance.user_id)) {
          chosen = sel;
          break;
        }
      }
      const attempts = (retry.num_attempts ?? 0) + 1;
      if (!chosen || attempts > (this.d.maxAttempts ?? 3)) {
        const err = new MaxRetriesExceeded(`Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${instance.uuid}.`);
        this.log.error({ instance: instance.uuid }, err.message);
        const backend = this.d.cellBackend ?? instance.backend!;
        instance.backend = backend;
        await InstanceFault.create(backend, ctx, instance.uuid, err, null).catch(() => undefined);
        instance.vm_state = VmState.ERROR;
        instance.task_state = null;
        await instance.save(ctx).catch(() => undefined);
        continue;
      }
      const fp = { ...a.filter_properties, retry: { num_attempts: attempts, hosts: [...(retry.hosts ?? []), [chosen.service_host, chosen.nodename]] } };
      const rpc = await this.d.computeRpcFor(null);
      await rpc.buildAndRunInstance(ctx, chosen.service_host, {
        instance, image: a.image, request_spec: a.request_spec, filter_properties: fp, admin_password: a.admin_password,
        injected_files: a.injected_files, requested_networks: a.requested_networks, security_groups: a.security_groups,
        block_device_mapping: a.block_device_mapping, node: chosen.nodename, limits: chosen.limits ?? {}, host_list: hostList,
      });
    }
  }
}

function bdmsFor(a: ScheduleAndBuildArgs, i: number): Record<string, unknown>[] {
  const b = a.block_device_mapping ?? [];
  if (Array.isArray(b[0])) return (b as Record<string, unknown>[][])[i] ?? [];
  return b as Record<string, unknown>[];
}
