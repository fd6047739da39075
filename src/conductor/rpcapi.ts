/**
 * Client stubs of nova-conductor (nova/conductor/rpcapi.py), topic `conductor`:
 * - `ComputeTaskAPI`, namespace `compute_task` (1.x): the build / reschedule work.
 *   1.17 - schedule_and_build_instances.  1.19 - build_instances takes request_spec objects.
 * - `ConductorAPI`, no namespace (3.0): the object indirection API nova-compute uses for every
 *   database change (`object_action`, `object_class_action_versions`).
 * @module
 */
import '../compute/objects/index.js';
import type { RequestContext } from '../common/context.js';
import { RpcClient, type MessageBus } from '../common/rpc/index.js';
import { NovaObjectSerializer, type NovaObject, type ObjectBackend } from '../compute/objects/base.js';
import type { Instance } from '../compute/objects/instance.js';
import type { RequestSpec, Selection } from '../compute/objects/request-spec.js';

export const RPC_TOPIC = 'conductor';

export interface BuildRequestArgs {
  instance_uuid: string;
  /** The Instance the BuildRequest holds. */
  instance: unknown;
}

export class ComputeTaskAPI {
  private readonly client: RpcClient;
  constructor(bus: MessageBus, opts: { service?: string; host?: string } = {}) {
    this.client = new RpcClient(bus, { topic: RPC_TOPIC, exchange: 'nova', namespace: 'compute_task', version: '1.0' }, {
      serializer: new NovaObjectSerializer(), ...opts,
    });
  }

  /** nova-api -> super-conductor: build the instances whose BuildRequests were just written. */
  async scheduleAndBuildInstances(ctx: RequestContext, a: {
    build_requests: BuildRequestArgs[]; request_specs: RequestSpec[]; image: unknown; admin_password: string | null;
    injected_files: unknown[]; requested_networks: unknown; block_device_mapping: unknown[]; tags: string[];
  }): Promise<void> {
    await this.client.prepare({ version: '1.17' }).cast(ctx, 'schedule_and_build_instances', a);
  }

  /**
   * nova-api -> super-conductor: resize / cold or live migrate. A call with `long_rpc_timeout`,
   * so NoValidHost comes back to the API synchronously.
   */
  async migrateServer(ctx: RequestContext, a: {
    instance: Instance; scheduler_hint: Record<string, unknown>; live: boolean; rebuild: boolean; flavor: unknown;
    block_migration: boolean | string | null; disk_over_commit: boolean | null; clean_shutdown: boolean; request_spec: RequestSpec;
    /** The alternates left when a compute reschedules a failed prep_resize. */
    host_list?: Selection[] | null;
  }): Promise<void> {
    await this.client.prepare({ version: '1.20', timeoutMs: 1_800_000, callMonitorTimeoutMs: 60_000 })
      .call(ctx, 'migrate_server', { reservations: null, host_list: null, ...a });
  }

  /** nova-api -> super-conductor: unshelve (schedules again when the server was offloaded). */
  async unshelveInstance(ctx: RequestContext, a: { instance: Instance; request_spec: RequestSpec }): Promise<void> {
    await this.client.prepare({ version: '1.14' }).cast(ctx, 'unshelve_instance', a);
  }

  /** nova-api -> super-conductor: rebuild elsewhere (evacuate, `recreate`). */
  async rebuildInstance(ctx: RequestContext, a: {
    instance: Instance; orig_image_ref: string; image_ref: string; new_pass: string | null; recreate: boolean;
    on_shared_storage: boolean | null; preserve_ephemeral: boolean; host: string | null; request_spec: RequestSpec | null;
  }): Promise<void> {
    await this.client.prepare({ version: '1.14' }).cast(ctx, 'rebuild_instance', { injected_files: [], orig_sys_metadata: {}, bdms: [], ...a });
  }

  /** nova-api -> super-conductor (2.81): pre-cache images on the hosts of an aggregate. */
  async cacheImages(ctx: RequestContext, aggregate: { id: number; name?: string; hosts: string[] }, imageIds: string[]): Promise<void> {
    await this.client.prepare({ version: '1.21' }).cast(ctx, 'cache_images', { aggregate, image_ids: imageIds });
  }

  /** nova-compute -> cell conductor: reschedule to the next alternate (no scheduler call). */
  async buildInstances(ctx: RequestContext, a: {
    instances: Instance[]; image: unknown; filter_properties: Record<string, unknown>; admin_password: string | null;
    injected_files: unknown[]; requested_networks: unknown; security_groups: string[]; block_device_mapping: unknown[];
    legacy_bdm: boolean; request_spec: RequestSpec; host_lists: Selection[][];
  }): Promise<void> {
    await this.client.prepare({ version: '1.19' }).cast(ctx, 'build_instances', a);
  }
}

/**
 * The "indirection API": remotable object methods of nova-compute run in the cell conductor.
 * The conductor answers `[updates, result]`; updates are applied to the caller's object.
 */
export class ConductorAPI implements ObjectBackend {
  readonly remote = true;
  private readonly client: RpcClient;
  constructor(bus: MessageBus, opts: { service?: string; host?: string; timeoutMs?: number } = {}) {
    this.client = new RpcClient(bus, { topic: RPC_TOPIC, exchange: 'nova', version: '3.0' }, {
      serializer: new NovaObjectSerializer(this), service: opts.service, host: opts.host, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async objectAction(ctx: RequestContext, obj: NovaObject, method: string, args: Record<string, unknown>): Promise<unknown> {
    const [updates, result] = await this.client.call<[Record<string, unknown>, unknown]>(ctx, 'object_action', {
      objinst: obj, objmethod: method, args: [], kwargs: args,
    });
    for (const [k, v] of Object.entries(updates ?? {})) {
      if (k === 'obj_what_changed') continue;
      if (k in obj.cls.fields) obj.set(k, v);
    }
    obj.resetChanges();
    return result;
  }

  async objectClassAction(ctx: RequestContext, objName: string, method: string, args: Record<string, unknown>): Promise<unknown> {
    return this.client.call(ctx, 'object_class_action_versions', { objname: objName, objmethod: method, object_versions: {}, args: [], kwargs: args });
  }

  /** Ping until a conductor answers (nova/conductor/api.py wait_until_ready). */
  async waitUntilReady(ctx: RequestContext, attempts = 10): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.client.prepare({ namespace: 'baseapi', version: '1.0', timeoutMs: 5000 }).call(ctx, 'ping', { arg: 'foo' });
        return;
      } catch (e) {
        if (i >= attempts) throw e;
      }
    }
  }
}
