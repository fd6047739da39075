/**
 * nova-conductor's endpoints (nova/conductor/manager.py):
 * - ComputeTaskManager (namespace `compute_task`, 1.20): `schedule_and_build_instances` in the
 *   super-conductor, `build_instances` (reschedules) in a cell conductor;
 * - ConductorManager (3.0): the object indirection API computes use instead of a database;
 * - BaseRPCAPI (`baseapi` 1.1): ping.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import type { ObjectBackend } from '../compute/objects/base.js';
import type { NovaObject } from '../compute/objects/base.js';
import type { BuildTasks } from './tasks/build.js';

export class ComputeTaskManager {
  readonly target = { namespace: 'compute_task', version: '1.20' };
  constructor(private readonly tasks: BuildTasks) {}

  async schedule_and_build_instances(ctx: RequestContext, a: Parameters<BuildTasks['scheduleAndBuildInstances']>[1]): Promise<void> {
    await this.tasks.scheduleAndBuildInstances(ctx, a);
  }

  async build_instances(ctx: RequestContext, a: Parameters<BuildTasks['buildInstances']>[1]): Promise<void> {
    await this.tasks.buildInstances(ctx, a);
  }
}

/** The DB proxy of a cell: remotable object methods of nova-compute run here. */
export class ConductorManager {
  readonly target = { version: '3.0' };
  constructor(private readonly backend: ObjectBackend) {}

  async object_action(ctx: RequestContext, a: { objinst: NovaObject; objmethod: string; args?: unknown[]; kwargs?: Record<string, unknown> }): Promise<[Record<string, unknown>, unknown]> {
    const obj = a.objinst;
    // nova diffs against a deep copy (obj_clone); the values as decoded from the call are that copy.
    const before = obj.sentFields() ?? obj.captureFields();
    const result = await this.backend.objectAction(ctx, obj, a.objmethod, a.kwargs ?? {});
    // Send back every field that differs from what the caller sent (nova diffs the same way).
    const now = obj.captureFields();
    const updates: Record<string, unknown> = {};
    for (const k of obj.changedBetween(before, now)) updates[k] = obj.get(k);
    updates['obj_what_changed'] = obj.whatChanged(now);
    return [updates, result ?? null];
  }

  async object_class_action_versions(ctx: RequestContext, a: { objname: string; objmethod: string; object_versions?: Record<string, string>; args?: unknown[]; kwargs?: Record<string, unknown> }): Promise<unknown> {
    return (await this.backend.objectClassAction(ctx, a.objname, a.objmethod, a.kwargs ?? {})) ?? null;
  }
}

export class BaseRpcApi {
  readonly target = { namespace: 'baseapi', version: '1.1' };
  constructor(private readonly service: string) {}
  async ping(_ctx: RequestContext, a: { arg?: unknown }): Promise<unknown> {
    return { service: this.service, arg: a.arg ?? null };
  }
}
