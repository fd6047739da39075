/**
 * /servers/{id}/os-instance-actions (nova/api/openstack/compute/instance_actions.py).
 * 2.51: owners see the events too (the traceback stays admin only); 2.58: limit / marker
 * (a request id) / changes-since paging with `links`, and `updated_at`; 2.62: `hostId` for
 * everyone, `host` for admins; 2.66: changes-before; 2.84: `details` (the failure's message,
 * admin only by default).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../common/errors.js';
import { validateQuery } from '../../common/http/validation.js';
import { hostId, type ComputeApiFacade } from '../api.js';
import type { Cell } from '../cells.js';
import * as cellApi from '../db/cell-api.js';
import { baseUrl, mapErrors, mv } from './common.js';
import { usec } from './time-format.js';

/** `[api]max_limit`. */
const MAX_LIMIT = 1000;

const single = (schema: Record<string, unknown>) => ({ type: 'array', items: schema, maxItems: 1 });
const nonNegativeInteger = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 };
const dateTime = { type: 'string', format: 'date-time' };
const INDEX_QUERY = [
  { schema: { type: 'object', properties: {}, additionalProperties: true }, max: '2.57' },
  { schema: { type: 'object', properties: { limit: single(nonNegativeInteger), marker: single({ type: 'string' }), 'changes-since': single(dateTime) }, additionalProperties: false }, min: '2.58', max: '2.65' },
  {
    schema: { type: 'object', properties: { limit: single(nonNegativeInteger), marker: single({ type: 'string' }), 'changes-since': single(dateTime), 'changes-before': single(dateTime) }, additionalProperties: false },
    min: '2.66',
  },
];
const SHOW_QUERY = [{ schema: { type: 'object', properties: {}, additionalProperties: true }, max: '2.101' }];

/** oslo's parse_isotime, as the stored form (UTC ISO with milliseconds); a naive time is UTC. */
function isoUtc(s: string): string {
  const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
  const t = Date.parse(zoned);
  if (Number.isNaN(t)) throw badRequest(`Invalid input for query parameters: '${s}' is not a 'date-time'`);
  return new Date(t).toISOString();
}

export interface ActionFilters {
  limit?: number;
  marker?: string;
  changesSince?: string;
  changesBefore?: string;
}

/** db.actions_get: newest first; after the marker's action; by updated_at window. */
export async function actionsGet(cell: Cell, instanceUuid: string, f: ActionFilters): Promise<Record<string, any>[]> {
  let q = cell.db.db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', instanceUuid);
  if (f.changesSince) q = q.where('updated_at', '>=', f.changesSince);
  if (f.changesBefore) q = q.where('updated_at', '<=', f.changesBefore);
  if (f.marker !== undefined) {
    const m = await cellApi.actionGetByRequestId(cell.db, instanceUuid, f.marker);
    if (!m) throw badRequest(`Marker ${f.marker} could not be found.`, { type: 'MarkerNotFound' });
    // Sorted by (created_at desc, id desc): what comes after the marker.
    q = q.where((eb) => eb.or([eb('created_at', '<', m['created_at']), eb.and([eb('created_at', '=', m['created_at']), eb('id', '<', m['id'])])]));
  }
  q = q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (f.limit !== undefined) q = q.limit(f.limit);
  return q.execute();
}

function actionView(req: FastifyRequest, a: Record<string, any>): Record<string, unknown> {
  const v: Record<string, unknown> = {
    action: a['action'], instance_uuid: a['instance_uuid'], request_id: a['request_id'], user_id: a['user_id'] ?? null, project_id: a['project_id'] ?? null,
    start_time: usec(a['start_time']), message: a['message'] ?? null,
  };
  if (mv(req, '2.58')) v['updated_at'] = usec(a['updated_at'] ?? a['start_time']);
  return v;
}

/** _get_collection_links: a `next` link when the page is full. */
function nextLinks(req: FastifyRequest, serverId: string, items: Record<string, unknown>[], limitParam: number | undefined): { rel: string; href: string }[] {
  const max = Math.min(limitParam ?? MAX_LIMIT, MAX_LIMIT);
  if (!max || items.length !== max) return [];
  const params = new URLSearchParams();
  const q = (req.query ?? {}) as Record<string, string | string[]>;
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) merged[k] = Array.isArray(v) ? String(v.at(-1)) : String(v);
  merged['marker'] = String(items.at(-1)!['request_id']);
  for (const k of Object.keys(merged).sort()) params.set(k, merged[k]!);
  return [{ rel: 'next', href: `${baseUrl(req)}/servers/${serverId}/os-instance-actions?${params.toString()}` }];
}

export function registerInstanceActions(app: FastifyInstance, compute: ComputeApiFacade): void {
  // From 2.21 the actions of a deleted server stay readable.
  const located = (req: FastifyRequest, id: string) =>
    mapErrors('show', id, () => compute.get(mv(req, '2.21') ? req.ctx.clone({ readDeleted: 'yes' }) : req.ctx, id));

  app.get<{ Params: { id: string } }>('/servers/:id/os-instance-actions', async (req) => {
    const q = validateQuery(req, INDEX_QUERY);
    const loc = await located(req, req.params.id);
    let filters: ActionFilters = {};
    let limitParam: number | undefined;
    if (mv(req, '2.58')) {
      const since = q['changes-since']?.[0];
      const before = q['changes-before']?.[0];
      filters = {
        ...(since ? { changesSince: isoUtc(since) } : {}),
        ...(before ? { changesBefore: isoUtc(before) } : {}),
        ...(q['marker'] ? { marker: q['marker'][0]! } : {}),
      };
      if (filters.changesSince && filters.changesBefore && filters.changesBefore < filters.changesSince) {
        throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      }
      limitParam = q['limit'] ? Number(q['limit'][0]) : undefined;
      filters.limit = Math.min(limitParam ?? MAX_LIMIT, MAX_LIMIT);
    }
    const rows = loc.cell ? await actionsGet(loc.cell, req.params.id, filters) : [];
    const actions = rows.map((a) => actionView(req, a));
    const out: Record<string, unknown> = { instanceActions: actions };
    if (mv(req, '2.58')) {
      const links = nextLinks(req, req.params.id, actions, limitParam);
      if (links.length) out['links'] = links;
    }
    return out;
  });

  app.get<{ Params: { id: string; rid: string } }>('/servers/:id/os-instance-actions/:rid', async (req) => {
    validateQuery(req, SHOW_QUERY);
    const loc = await located(req, req.params.id);
    const a = loc.cell ? await cellApi.actionGetByRequestId(loc.cell.db, req.params.id, req.params.rid) : undefined;
    if (!a) throw notFound(`Action ${req.params.rid} not found`);
    const action = actionView(req, a);
    // Policy `events` (admin): everything; owners see events without traceback from 2.51.
    const admin = req.ctx.isAdmin;
    const showEvents = admin || mv(req, '2.51');
    if (!showEvents) return { instanceAction: action };
    const showHost = admin && mv(req, '2.62');
    const showHostId = mv(req, '2.62');
    const showDetails = admin && mv(req, '2.84');
    const project = (action['project_id'] as string | null) || loc.instance.project_id;
    const events = await cellApi.actionEvents(loc.cell!.db, a['id']);
    action['events'] = events.map((e) => {
      const ev: Record<string, unknown> = { event: e['event'], start_time: usec(e['start_time']), finish_time: usec(e['finish_time']), result: e['result'] ?? null };
      if (admin) ev['traceback'] = e['traceback'] ?? null;
      if (showHost) ev['host'] = e['host'] ?? '';
      if (showHostId) ev['hostId'] = hostId(project, e['host'] ?? null);
      if (showDetails) ev['details'] = e['details'] ?? null;
      return ev;
    });
    return { instanceAction: action };
  });
}
