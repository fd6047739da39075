/**
 * /v3/{project_id}/snapshots: CRUD, list/detail with filters, sorting and pagination, metadata.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { CinderAPI } from '../api.js';
import type { SnapshotRow } from '../db/api.js';
import { badRequest, collectionLinks, invalidInput, isTrue, pagingOf, paginate, parseDictParam, policyForbidden, queryOf, strictBool } from './common.js';
import { snapshotView } from './views.js';

const P = '/v3/:project_id';
const SNAPSHOT_FILTERS = new Set(['name', 'status', 'volume_id', 'metadata', 'availability_zone']);
const SORT_KEYS = new Set(['id', 'status', 'created_at', 'updated_at', 'display_name', 'display_description', 'volume_id', 'volume_size', 'project_id', 'user_id', 'progress']);
const metadataSchema = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
const createSchema = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], maxLength: 255 },
        display_name: { type: ['string', 'null'], maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        display_description: { type: ['string', 'null'], maxLength: 255 },
        volume_id: { type: ['string', 'null'] },
        force: { type: ['boolean', 'string'] },
        metadata: { ...metadataSchema, type: ['object', 'null'] },
      },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};
const updateSchema = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], maxLength: 255 },
        display_name: { type: ['string', 'null'], maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        display_description: { type: ['string', 'null'], maxLength: 255 },
      },
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};
const metaBodySchema = (key: 'metadata' | 'meta') => ({ type: 'object', properties: { [key]: metadataSchema }, required: [key], additionalProperties: false });
// Built once: Ajv compiles a schema once per schema object, so a fresh object per request recompiles.
const META_BODIES = { metadata: metaBodySchema('metadata'), meta: metaBodySchema('meta') };
const metaBody = (key: 'metadata' | 'meta') => META_BODIES[key];

type Params = { project_id: string; id: string; key: string };

async function render(req: FastifyRequest, api: CinderAPI, rows: SnapshotRow[], extended: boolean): Promise<Record<string, unknown>[]> {
  const metas = await api.db.getMetaMany('snapshot_metadata', rows.map((r) => r.id));
  return rows.map((r) => snapshotView(req, r, metas.get(r.id) ?? {}, extended));
}

export function registerSnapshotRoutes(app: FastifyInstance, api: CinderAPI): void {
  const list = (detail: boolean) => async (req: FastifyRequest<{ Params: Params }>) => {
    const ctx = req.ctx;
    const q = queryOf(req);
    const allTenants = ctx.isAdmin && isTrue(q['all_tenants'] ?? 'false');
    delete q['all_tenants'];
    const projectFilter = allTenants ? (q['project_id'] ?? null) : ctx.projectId ?? '';
    delete q['project_id'];
    const paging = pagingOf(q, SORT_KEYS, { name: 'display_name', description: 'display_description', size: 'volume_size' });
    delete q['with_count'];
    if (q['display_name'] !== undefined) {
      q['name'] = q['display_name'];
      delete q['display_name'];
    }
    if (!ctx.isAdmin) {
      const bad = Object.keys(q).filter((k) => !SNAPSHOT_FILTERS.has(k));
      if (bad.length) throw invalidInput(`Invalid filters ${bad.join(',')} are found in query options.`);
    }
    let rows = await api.db.listSnapshots(projectFilter);
    for (const [k, v] of Object.entries(q)) {
      if (k === 'metadata') {
        const want = parseDictParam(v);
        const metas = await api.db.getMetaMany('snapshot_metadata', rows.map((r) => r.id));
        rows = rows.filter((r) => Object.entries(want).every(([mk, mv]) => metas.get(r.id)?.[mk] === mv));
      } else if (k === 'name') rows = rows.filter((r) => r.display_name === v);
      else if (k === 'status') rows = rows.filter((r) => r.status === v);
      else if (k === 'volume_id') rows = rows.filter((r) => r.volume_id === v);
      else if (k === 'availability_zone') {
        const vols = new Map((await api.db.listVolumes(null)).map((x) => [x.id, x.availability_zone]));
        rows = rows.filter((r) => vols.get(r.volume_id) === v);
      }
    }
    const { page, limit } = paginate(rows, paging, (m) => new ApiError(404, `Marker ${m} could not be found.`, { type: 'MarkerNotFound' }));
    const body: Record<string, unknown> = { snapshots: await render(req, api, page, detail) };
    const next = collectionLinks(req, req.params.project_id, detail ? 'snapshots/detail' : 'snapshots', page, limit);
    if (next) body['snapshots_links'] = next;
    return body;
  };
  app.get(`${P}/snapshots`, list(false));
  app.get(`${P}/snapshots/detail`, list(true));

  app.post(`${P}/snapshots`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const s = validateBody<{ snapshot: Record<string, any> }>(req, createSchema).snapshot;
    const force = s['force'] === undefined ? false : strictBool(s['force']);
    if (force === undefined) throw invalidInput(`Invalid value '${s['force']}' for force.`);
    const row = await api.createSnapshot(req.ctx, {
      volume_id: s['volume_id'] ?? 'None', name: s['name'] ?? s['display_name'] ?? null, description: s['description'] ?? s['display_description'] ?? null,
      force, metadata: s['metadata'] ?? {},
    });
    reply.code(202);
    return { snapshot: (await render(req, api, [row], false))[0] };
  });

  app.get(`${P}/snapshots/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const row = await api.getSnapshot(req.ctx, req.params.id);
    return { snapshot: (await render(req, api, [row], true))[0] };
  });

  app.put(`${P}/snapshots/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const row = await api.getSnapshot(req.ctx, req.params.id);
    const s = validateBody<{ snapshot: Record<string, any> }>(req, updateSchema).snapshot;
    const values: Partial<SnapshotRow> = {};
    if ('name' in s || 'display_name' in s) values.display_name = s['name'] ?? s['display_name'] ?? null;
    if ('description' in s || 'display_description' in s) values.display_description = s['description'] ?? s['display_description'] ?? null;
    await api.db.updateSnapshot(row.id, values);
    return { snapshot: (await render(req, api, [(await api.db.getSnapshot(row.id))!], false))[0] };
  });

  app.delete(`${P}/snapshots/:id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    await api.deleteSnapshot(req.ctx, req.params.id);
    return reply.code(202).send();
  });

  app.post(`${P}/snapshots/:id/action`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const body = req.body as Record<string, any> | null;
    if (!body || typeof body !== 'object' || Object.keys(body).length !== 1) throw badRequest('Malformed request body');
    const [action, arg] = Object.entries(body)[0]!;
    if (action === 'os-update_snapshot_status') {
      // The volume driver's progress report (owner allowed): creating -> available|error, deleting -> error_deleting.
      const snap = await api.getSnapshot(req.ctx, req.params.id);
      const status = arg?.status;
      const allowed: Record<string, string[]> = { creating: ['creating', 'available', 'error'], deleting: ['deleting', 'error_deleting'] };
      if (typeof status !== 'string' || !(allowed[snap.status] ?? []).includes(status)) {
        throw invalidInput(`Provided snapshot status ${status} not allowed for snapshot with status ${snap.status}.`);
      }
      const values: Partial<SnapshotRow> = { status };
      if (arg?.progress !== undefined) values.progress = String(arg.progress);
      await api.db.updateSnapshot(snap.id, values);
      return reply.code(202).send();
    }
    if (!req.ctx.isAdmin) throw policyForbidden(`volume_extension:snapshot_admin_actions:${action.replace('os-', '')}`);
    const snap = await api.getSnapshot(req.ctx, req.params.id);
    if (action === 'os-reset_status') {
      const status = arg?.status;
      if (!['available', 'creating', 'deleting', 'error', 'error_deleting'].includes(status)) throw invalidInput('Must specify a valid status');
      await api.db.updateSnapshot(snap.id, { status });
      return reply.code(202).send();
    }
    if (action === 'os-force_delete') {
      await api.deleteSnapshot(req.ctx, snap.id, true);
      return reply.code(202).send();
    }
    throw badRequest(`There is no such action: ${action}`);
  });

  app.get(`${P}/snapshots/:id/metadata`, async (req: FastifyRequest<{ Params: Params }>) => {
    const s = await api.getSnapshot(req.ctx, req.params.id);
    return { metadata: await api.db.getMeta('snapshot_metadata', s.id) };
  });
  const setMeta = (replace: boolean) => async (req: FastifyRequest<{ Params: Params }>) => {
    const s = await api.getSnapshot(req.ctx, req.params.id);
    const body = validateBody<{ metadata: Record<string, string> }>(req, metaBody('metadata'));
    await api.db.setMeta('snapshot_metadata', s.id, body.metadata, replace);
    return { metadata: replace ? body.metadata : await api.db.getMeta('snapshot_metadata', s.id) };
  };
  app.post(`${P}/snapshots/:id/metadata`, setMeta(false));
  app.put(`${P}/snapshots/:id/metadata`, setMeta(true));
  app.get(`${P}/snapshots/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    const s = await api.getSnapshot(req.ctx, req.params.id);
    const meta = await api.db.getMeta('snapshot_metadata', s.id);
    if (!(req.params.key in meta)) throw new ApiError(404, 'Metadata item was not found', { type: 'MetadataItemNotFound' });
    return { meta: { [req.params.key]: meta[req.params.key] } };
  });
  app.put(`${P}/snapshots/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    const s = await api.getSnapshot(req.ctx, req.params.id);
    const body = validateBody<{ meta: Record<string, string> }>(req, metaBody('meta'));
    const keys = Object.keys(body.meta);
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    await api.db.setMeta('snapshot_metadata', s.id, body.meta, false);
    return { meta: body.meta };
  });
  app.delete(`${P}/snapshots/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const s = await api.getSnapshot(req.ctx, req.params.id);
    if (!(await api.db.deleteMetaKey('snapshot_metadata', s.id, req.params.key))) {
      throw new ApiError(404, 'Metadata item was not found', { type: 'MetadataItemNotFound' });
    }
    return reply.code(200).send();
  });
}
