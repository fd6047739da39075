/**
 * Nova's two notification formats (nova/notifications, nova/compute/utils.py): legacy
 * (`compute.instance.create.start` on topic `notifications`, publisher `compute.<host>`) and
 * versioned (`instance.create.start` on `versioned_notifications`, publisher
 * `nova-compute:<host>`, payload a `nova_object.*` notification object). `both` by default.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { Notifier, type MessageBus } from '../common/rpc/index.js';
import type { Instance } from './objects/instance.js';
import { statusFromState } from './states.js';

export type NotificationFormat = 'unversioned' | 'versioned' | 'both';

export class NovaNotifier {
  private readonly legacy: Notifier;
  private readonly versioned: Notifier;

  /** `service` is the binary's short name: 'compute', 'scheduler', 'conductor', 'api'. */
  constructor(bus: MessageBus, private readonly service: string, private readonly host: string, private readonly format: NotificationFormat = 'both') {
    this.legacy = new Notifier(bus, { publisherId: `${service}.${host}`, exchange: 'nova', topics: ['notifications'], service: `nova-${service}`, host });
    this.versioned = new Notifier(bus, { publisherId: `nova-${service}:${host}`, exchange: 'nova', topics: ['versioned_notifications'], service: `nova-${service}`, host });
  }

  /** Emits `<legacyPrefix>.<event>` and the versioned `<event>` with their payloads; never throws. */
  async notify(ctx: RequestContext, o: { legacyEvent?: string; event: string; priority?: 'INFO' | 'ERROR'; legacyPayload?: unknown; payload: unknown }): Promise<void> {
    const prio = o.priority === 'ERROR' ? 'error' : 'info';
    const jobs: Promise<void>[] = [];
    if (this.format !== 'versioned' && o.legacyEvent) jobs.push(this.legacy[prio](ctx, o.legacyEvent, o.legacyPayload ?? o.payload));
    if (this.format !== 'unversioned') jobs.push(this.versioned[prio](ctx, o.event, o.payload));
    await Promise.allSettled(jobs);
  }

  /** instance.<action>.<phase> with InstanceActionPayload, and compute.instance.<action>.<phase>. */
  async instanceAction(ctx: RequestContext, instance: Instance, action: string, phase: 'start' | 'end' | 'error', fault?: unknown, legacyAction?: string | null): Promise<void> {
    const payloadName = action === 'create' ? 'InstanceCreatePayload' : 'InstanceActionPayload';
    // `legacyAction`: the unversioned name when it differs (resize.prep, finish_resize, ...); null: versioned only.
    const legacy = legacyAction === undefined ? action : legacyAction;
    await this.notify(ctx, {
      ...(legacy !== null ? { legacyEvent: `compute.instance.${legacy}.${phase}` } : {}),
      event: `instance.${action}.${phase}`,
      priority: phase === 'error' ? 'ERROR' : 'INFO',
      legacyPayload: legacyInstancePayload(instance, fault),
      payload: versionedPayload(payloadName, '1.10', instancePayloadData(instance, fault)),
    });
  }
}

export function versionedPayload(name: string, version: string, data: Record<string, unknown>): Record<string, unknown> {
  return { 'nova_object.name': name, 'nova_object.namespace': 'nova', 'nova_object.version': version, 'nova_object.data': data };
}

export function instancePayloadData(i: Instance, fault?: unknown): Record<string, unknown> {
  return {
    uuid: i.uuid, user_id: i.user_id, tenant_id: i.project_id, reservation_id: i.reservation_id, display_name: i.display_name,
    display_description: i.display_description ?? null, host_name: i.hostname, host: i.host ?? null, node: i.node ?? null,
    os_type: null, architecture: null, availability_zone: i.availability_zone ?? null,
    flavor: i.flavor ? versionedPayload('FlavorPayload', '1.4', { flavorid: i.flavor.flavorid, name: i.flavor.name, memory_mb: i.flavor.memory_mb, vcpus: i.flavor.vcpus, root_gb: i.flavor.root_gb, ephemeral_gb: i.flavor.ephemeral_gb, swap: i.flavor.swap }) : null,
    image_uuid: i.image_ref, key_name: i.key_name ?? null, kernel_id: '', ramdisk_id: '', created_at: i.created_at ?? null,
    launched_at: i.launched_at ?? null, terminated_at: i.terminated_at ?? null, deleted_at: i.deleted_at ?? null, updated_at: i.updated_at ?? null,
    state: i.vm_state, power_state: String(i.power_state ?? 0), task_state: i.task_state ?? null, progress: i.progress ?? 0,
    ip_addresses: (i.networkInfo ?? []).flatMap((v) => v.network.subnets.flatMap((s) => s.ips.map((ip) => versionedPayload('IpPayload', '1.0', {
      label: v.network.label, mac: v.address, meta: {}, port_uuid: v.id, version: ip.version, address: ip.address, device_name: v.devname,
    })))),
    locked: Boolean(i.locked), auto_disk_config: 'MANUAL', metadata: i.metadata ?? {}, tags: i.tags ?? [],
    fault: fault ? versionedPayload('ExceptionPayload', '1.1', { module_name: 'nova.exception', function_name: 'build', exception: (fault as Error).name ?? 'Exception', exception_message: (fault as Error).message ?? String(fault), traceback: '' }) : null,
    request_id: null, action_initiator_user: i.user_id, action_initiator_project: i.project_id,
  };
}

function legacyInstancePayload(i: Instance, fault?: unknown): Record<string, unknown> {
  return {
    tenant_id: i.project_id, user_id: i.user_id, instance_id: i.uuid, display_name: i.display_name, reservation_id: i.reservation_id,
    hostname: i.hostname, host: i.host ?? null, node: i.node ?? null, instance_type: i.flavor?.name ?? null,
    instance_type_id: i.instance_type_id, instance_flavor_id: i.flavor?.flavorid ?? null, memory_mb: i.memory_mb, vcpus: i.vcpus,
    root_gb: i.root_gb, ephemeral_gb: i.ephemeral_gb, disk_gb: (i.root_gb ?? 0) + (i.ephemeral_gb ?? 0),
    state: i.vm_state, state_description: i.task_state ?? '', progress: '', created_at: i.created_at ?? '',
    launched_at: i.launched_at ?? '', terminated_at: i.terminated_at ?? '', deleted_at: i.deleted_at ?? '',
    image_ref_url: i.image_ref, architecture: null, os_type: null, availability_zone: i.availability_zone ?? null,
    metadata: i.metadata ?? {}, status: statusFromState(i.vm_state, i.task_state ?? null).toLowerCase(),
    ...(fault ? { message: (fault as Error).message ?? String(fault) } : {}),
  };
}
