/**
 * InstanceAction / InstanceActionEvent / InstanceFault (nova/objects/instance_action.py,
 * instance_fault.py): the audit trail `GET /servers/{id}/os-instance-actions` shows.
 * Class-level remotables, so nova-compute records its events through the conductor.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import * as cellApi from '../db/cell-api.js';
import type { ObjectBackend } from './base.js';
import { cellOf, registerRemotable } from './backend.js';

export const InstanceAction = {
  async actionStart(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string, action: string): Promise<void> {
    const args = { instance_uuid: instanceUuid, action, request_id: ctx.requestId, user_id: ctx.userId, project_id: ctx.projectId };
    if (backend.remote) {
      await backend.objectClassAction(ctx, 'InstanceAction', 'action_start', args);
      return;
    }
    await cellApi.actionStart(cellOf(backend), args);
  },
};

export const InstanceActionEvent = {
  async eventStart(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string, event: string, host: string | null): Promise<void> {
    const args = { instance_uuid: instanceUuid, event_name: event, request_id: ctx.requestId, host };
    if (backend.remote) {
      await backend.objectClassAction(ctx, 'InstanceActionEvent', 'event_start', args);
      return;
    }
    await cellApi.actionEventStart(cellOf(backend), { instance_uuid: instanceUuid, request_id: ctx.requestId, event, host });
  },
  async eventFinish(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string, event: string, error?: unknown): Promise<void> {
    const args = {
      instance_uuid: instanceUuid, event_name: event, request_id: ctx.requestId,
      exc_val: error ? errorText(error) : null, exc_tb: error instanceof Error ? (error.stack ?? null) : null,
    };
    if (backend.remote) {
      await backend.objectClassAction(ctx, 'InstanceActionEvent', 'event_finish_with_failure', args);
      return;
    }
    await cellApi.actionEventFinish(cellOf(backend), {
      instance_uuid: instanceUuid, request_id: ctx.requestId, event, result: error ? 'Error' : 'Success',
      traceback: args.exc_tb, details: args.exc_val,
    });
  },
};

export const InstanceFault = {
  /** Records the fault an ERROR server shows (code 500 unless the error carries its own). */
  async create(backend: ObjectBackend, ctx: RequestContext, instanceUuid: string, error: unknown, host: string | null): Promise<void> {
    const code = typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : 500;
    const args = {
      instance_uuid: instanceUuid, code, message: errorText(error),
      details: error instanceof Error ? (error.stack ?? '') : '', host,
    };
    if (backend.remote) {
      await backend.objectClassAction(ctx, 'InstanceFault', 'create', args);
      return;
    }
    await cellApi.faultCreate(cellOf(backend), args);
  },
};

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

registerRemotable('InstanceAction', {
  classMethods: {
    action_start: async (b, ctx, a) => { await cellApi.actionStart(cellOf(b), { instance_uuid: a['instance_uuid'], action: a['action'], request_id: a['request_id'], user_id: a['user_id'], project_id: a['project_id'] }); return null; },
  },
});
registerRemotable('InstanceActionEvent', {
  classMethods: {
    event_start: async (b, ctx, a) => {
      await cellApi.actionEventStart(cellOf(b), { instance_uuid: a['instance_uuid'], request_id: a['request_id'] ?? ctx.requestId, event: a['event_name'], host: a['host'] });
      return null;
    },
    event_finish_with_failure: async (b, ctx, a) => {
      await cellApi.actionEventFinish(cellOf(b), {
        instance_uuid: a['instance_uuid'], request_id: a['request_id'] ?? ctx.requestId, event: a['event_name'],
        result: a['exc_val'] ? 'Error' : 'Success', traceback: a['exc_tb'] ?? null, details: a['exc_val'] ?? null,
      });
      return null;
    },
  },
});
registerRemotable('InstanceFault', {
  classMethods: {
    create: async (b, _ctx, a) => { await cellApi.faultCreate(cellOf(b), { instance_uuid: a['instance_uuid'], code: a['code'], message: a['message'], details: a['details'], host: a['host'] }); return null; },
  },
});
