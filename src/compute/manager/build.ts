/**
 * build_and_run_instance on the compute host (nova/compute/manager.py
 * `_do_build_and_run_instance` / `_build_and_run_instance` / `_build_resources`):
 * claim -> networking (ports created and bound in Neutron) -> block_device_mapping ->
 * spawning (the driver waits for `network-vif-plugged`) -> active. Failures either reschedule
 * to the next alternate through the cell conductor or abort to ERROR.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import {
  BuildAbortException, ComputeResourcesUnavailable, InstanceNotFound, RescheduledException, UnexpectedDeletingTaskStateError,
  VirtualInterfaceCreateException,
} from '../exception.js';
import type { BlockDeviceMapping } from '../objects/block-device.js';
import type { Instance, NetworkInfoVif } from '../objects/instance.js';
import { InstanceActionEvent, InstanceFault, errorText } from '../objects/instance-action.js';
import type { ImageMeta, RequestSpec, Selection } from '../objects/request-spec.js';
import type { RequestedNetwork } from '../network/neutron.js';
import { PowerState, TaskState, VmState } from '../states.js';
import type { ComputeManager } from '../manager.js';

export interface BuildArgs {
  instance: Instance;
  image: ImageMeta;
  request_spec: RequestSpec;
  filter_properties: { retry?: { num_attempts: number; hosts: [string, string][] } | null; [k: string]: unknown };
  admin_password: string | null;
  injected_files: unknown[];
  requested_networks: RequestedNetwork[] | null;
  security_groups: string[];
  block_device_mapping: unknown[];
  node: string;
  limits: unknown;
  host_list: Selection[];
}

const EVENT = 'compute__do_build_and_run_instance';

export async function doBuildAndRunInstance(m: ComputeManager, ctx: RequestContext, a: BuildArgs): Promise<void> {
  const instance = a.instance;
  try {
    instance.vm_state = VmState.BUILDING;
    instance.task_state = null;
    await instance.save(ctx, { expected_task_state: [TaskState.SCHEDULING, null] });
  } catch (e) {
    if (e instanceof InstanceNotFound || e instanceof UnexpectedDeletingTaskStateError) {
      m.log.debug({ instance: instance.uuid }, 'Instance disappeared before build.');
      return;
    }
    throw e;
  }
  await InstanceActionEvent.eventStart(m.backend, ctx, instance.uuid, EVENT, m.host);
  try {
    await buildAndRunInstance(m, ctx, a);
    await InstanceActionEvent.eventFinish(m.backend, ctx, instance.uuid, EVENT);
  } catch (e) {
    await InstanceActionEvent.eventFinish(m.backend, ctx, instance.uuid, EVENT, e).catch(() => undefined);
    if (e instanceof InstanceNotFound || e instanceof UnexpectedDeletingTaskStateError) {
      m.log.info({ instance: instance.uuid }, 'Instance was deleted during the build.');
      await cleanupNetworks(m, ctx, instance);
      return;
    }
    if (e instanceof RescheduledException && a.filter_properties.retry && a.host_list.length > 0) {
      await reschedule(m, ctx, a, e);
      return;
    }
    await abortBuild(m, ctx, instance, e);
  } finally {
    m.events.clear(instance.uuid);
  }
}

async function buildAndRunInstance(m: ComputeManager, ctx: RequestContext, a: BuildArgs): Promise<void> {
  const instance = a.instance;
  await m.notifier.instanceAction(ctx, instance, 'create', 'start');
  try {
    await m.rt.instanceClaim(ctx, instance, a.node);
  } catch (e) {
    if (e instanceof ComputeResourcesUnavailable) throw new RescheduledException(`Build of instance ${instance.uuid} was re-scheduled: ${e.message}`, { instance_uuid: instance.uuid });
    throw e;
  }
  let nwInfo: NetworkInfoVif[];
  let bdms: BlockDeviceMapping[] | undefined;
  try {
    ({ nwInfo, bdms } = await buildResources(m, ctx, a));
  } catch (e) {
    if (e instanceof InstanceNotFound || e instanceof UnexpectedDeletingTaskStateError || e instanceof BuildAbortException) throw e;
    throw new BuildAbortException(`Build of instance ${instance.uuid} aborted: ${errorText(e)}`, { instance_uuid: instance.uuid });
  }
  try {
    instance.task_state = TaskState.SPAWNING;
    await instance.save(ctx, { expected_task_state: TaskState.BLOCK_DEVICE_MAPPING });
    const allocations = await m.placement?.getAllocationsForConsumer(ctx, instance.uuid).then((r) => r.allocations).catch(() => ({})) ?? {};
    await withSpan({ kind: 'internal', name: 'driver.spawn', service: 'nova-compute', host: m.host, attributes: { instance: instance.uuid } }, () =>
      m.driver.spawn({
        instance, image: a.image, networkInfo: nwInfo, allocations, adminPassword: a.admin_password,
        waitForEvents: (events, run) => m.events.waitFor(instance.uuid, events, run, { timeoutMs: m.opts.vifPluggingTimeoutMs, fatal: m.opts.vifPluggingIsFatal }),
      }));
    // Volumes reserved in _prep_block_device are connected to the guest and completed (`in-use`).
    await m.volumes?.attachBlockDevices(ctx, instance, bdms);
  } catch (e) {
    if (e instanceof InstanceNotFound || e instanceof UnexpectedDeletingTaskStateError) throw e;
    await m.driver.destroy(instance, nwInfo).catch(() => undefined);
    if (e instanceof VirtualInterfaceCreateException) {
      throw new BuildAbortException(`Build of instance ${instance.uuid} aborted: ${e.message}`, { instance_uuid: instance.uuid });
    }
    throw new RescheduledException(`Build of instance ${instance.uuid} was re-scheduled: ${errorText(e)}`, { instance_uuid: instance.uuid });
  }
  instance.power_state = m.driver.getInfo(instance).state;
  instance.vm_state = VmState.ACTIVE;
  instance.task_state = null;
  instance.launched_at = new Date().toISOString();
  // Ports are ACTIVE now; refresh so the cache says so.
  instance.info_cache = { network_info: nwInfo.map((v) => ({ ...v, active: true })) };
  await instance.save(ctx, { expected_task_state: TaskState.SPAWNING });
  await m.notifier.instanceAction(ctx, instance, 'create', 'end');
}

/** _build_resources: network allocation, block devices, in the order the task_states show. */
async function buildResources(m: ComputeManager, ctx: RequestContext, a: BuildArgs): Promise<{ nwInfo: NetworkInfoVif[]; bdms: BlockDeviceMapping[] | undefined }> {
  const instance = a.instance;
  instance.task_state = TaskState.NETWORKING;
  await instance.save(ctx, { expected_task_state: null });
  // nova allocates networks asynchronously while it prepares block devices.
  const requested = a.requested_networks ?? [];
  const nwPromise = requested.length === 0 || m.neutron === null
    ? Promise.resolve([] as NetworkInfoVif[])
    : m.neutron.allocateForInstance(ctx, {
      instanceUuid: instance.uuid, projectId: instance.project_id, availabilityZone: instance.availability_zone ?? 'nova',
      host: m.driver.networkBindingHostId(instance), hostname: instance.hostname, requested, securityGroups: a.security_groups ?? [],
    });
  nwPromise.catch(() => undefined);
  instance.task_state = TaskState.BLOCK_DEVICE_MAPPING;
  await instance.save(ctx, { expected_task_state: TaskState.NETWORKING });
  let nwInfo: NetworkInfoVif[];
  try {
    nwInfo = await nwPromise;
  } catch (e) {
    throw new BuildAbortException(`Build of instance ${instance.uuid} aborted: Failed to allocate the network(s), not rescheduling.`, { instance_uuid: instance.uuid, reason: errorText(e) });
  }
  instance.info_cache = { network_info: nwInfo };
  // _prep_block_device: volumes created in Cinder (image -> volume) and reserved for this instance.
  let bdms: BlockDeviceMapping[] | undefined;
  try {
    bdms = await m.volumes?.prepBlockDevices(ctx, instance);
  } catch (e) {
    throw new BuildAbortException(`Build of instance ${instance.uuid} aborted: Block Device Mapping is Invalid: ${errorText(e)}`, { instance_uuid: instance.uuid });
  }
  // The info cache rides along with the next save (spawning).
  return { nwInfo, bdms };
}

async function cleanupNetworks(m: ComputeManager, ctx: RequestContext, instance: Instance): Promise<void> {
  if (!m.neutron) return;
  try {
    await m.neutron.deallocateForInstance(ctx, instance.uuid, preservedPorts(instance));
  } catch (e) {
    m.log.warn({ err: e, instance: instance.uuid }, 'Failed to deallocate networks');
  }
}

export function preservedPorts(instance: Instance): Set<string> {
  return new Set((instance.networkInfo ?? []).filter((v) => v.preserve_on_delete).map((v) => v.id));
}

/** RescheduledException with alternates left: hand the build back to the cell conductor. */
async function reschedule(m: ComputeManager, ctx: RequestContext, a: BuildArgs, e: Error): Promise<void> {
  const instance = a.instance;
  m.log.info({ instance: instance.uuid, reason: e.message }, 'Rescheduling build');
  await m.driver.destroy(instance, instance.networkInfo).catch(() => undefined);
  await cleanupNetworks(m, ctx, instance);
  m.rt.abortInstanceClaim(instance);
  instance.host = null;
  instance.node = null;
  instance.task_state = TaskState.SCHEDULING;
  instance.info_cache = { network_info: [] };
  await instance.save(ctx);
  await m.placement?.deleteAllocationForInstance(ctx, instance.uuid).catch(() => undefined);
  await m.conductorTasks.buildInstances(ctx, {
    instances: [instance], image: a.image, filter_properties: a.filter_properties, admin_password: a.admin_password,
    injected_files: a.injected_files, requested_networks: a.requested_networks, security_groups: a.security_groups,
    block_device_mapping: a.block_device_mapping, legacy_bdm: false, request_spec: a.request_spec, host_lists: [a.host_list],
  });
}

/** BuildAbortException (or a reschedule with nothing left): ERROR with a fault, resources released. */
async function abortBuild(m: ComputeManager, ctx: RequestContext, instance: Instance, e: unknown): Promise<void> {
  m.log.error({ err: e, instance: instance.uuid }, `Build of instance ${instance.uuid} failed`);
  await m.driver.destroy(instance, instance.networkInfo).catch(() => undefined);
  await cleanupNetworks(m, ctx, instance);
  // _cleanup_volumes: attachments go, volumes made for this boot with delete_on_termination too.
  await m.volumes?.cleanupVolumes(ctx, instance).catch(() => undefined);
  m.rt.abortInstanceClaim(instance);
  await InstanceFault.create(m.backend, ctx, instance.uuid, e, m.host).catch(() => undefined);
  instance.host = null;
  instance.node = null;
  instance.vm_state = VmState.ERROR;
  instance.task_state = null;
  instance.power_state = PowerState.NOSTATE;
  await instance.save(ctx).catch((err) => m.log.warn({ err }, 'could not save ERROR state'));
  await m.placement?.deleteAllocationForInstance(ctx, instance.uuid).catch(() => undefined);
  await m.notifier.instanceAction(ctx, instance, 'create', 'error', e);
}
