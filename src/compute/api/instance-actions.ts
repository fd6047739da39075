/**
 * Nova's instance actions: /servers/{id}/os-instance-actions.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import * as cellApi from '../db/cell-api.js';
import { mapErrors, mv } from './common.js';
import { usec } from './time-format.js';

export function registerInstanceActions(app: FastifyInstance, compute: ComputeApiFacade): void {
  // ---- instance actions ----
  app.get<{ Params: { id: string } }>('/servers/:id/os-instance-actions', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx.clone({ readDeleted: 'yes' }), req.params.id));
    if (!loc.cell) return { instanceActions: [] };
    const rows = await cellApi.actionsForInstance(loc.cell.db, req.params.id);
    return { instanceActions: rows.map((a) => actionView(req, a)) };
  });
  app.get<{ Params: { id: string; rid: string } }>('/servers/:id/os-instance-actions/:rid', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx.clone({ readDeleted: 'yes' }), req.params.id));
    const a = loc.cell ? await cellApi.actionGetByRequestId(loc.cell.db, req.params.id, req.params.rid) : undefined;
    if (!a) throw notFound(`Action for request_id ${req.params.rid} on instance ${req.params.id} not found`, { type: 'InstanceActionNotFound' });
    const events = await cellApi.actionEvents(loc.cell!.db, a['id']);
    const admin = req.ctx.isAdmin;
    return {
      instanceAction: {
        ...actionView(req, a),
        events: events.map((e) => ({
          event: e['event'], start_time: usec(e['start_time']), finish_time: usec(e['finish_time']), result: e['result'] ?? null,
          ...(admin ? { traceback: e['traceback'] ?? null } : {}),
          ...(mv(req, '2.62') ? { hostId: '' } : {}),
          ...(admin && mv(req, '2.62') ? { host: e['host'] ?? '' } : {}),
        })),
      },
    };
  });
}

function actionView(req: any, a: Record<string, any>): Record<string, unknown> {
  const v: Record<string, unknown> = {
    action: a['action'], instance_uuid: a['instance_uuid'], request_id: a['request_id'], user_id: a['user_id'], project_id: a['project_id'],
    start_time: usec(a['start_time']), message: a['message'] ?? null,
  };
  if (mv(req, '2.58')) v['updated_at'] = usec(a['updated_at'] ?? a['start_time']);
  return v;
}
