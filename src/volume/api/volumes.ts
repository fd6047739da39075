/**
 * /v3/{project_id}/volumes: CRUD, list/detail with filters, sorting and pagination, metadata,
 * and the volume actions (`POST /volumes/{id}/action`).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateBody } from '../../common/http/validation.js';
import type { CinderAPI } from '../api.js';
import type { VolumeRow } from '../db/api.js';
import {
  badRequest, collectionLinks, invalidInput, isTrue, pagingOf, paginate, parseDictParam, policyForbidden, queryOf, strictBool, volumeNotFound,
} from './common.js';
import { ApiError } from '../../common/errors.js';
import { atLeast, volumeSummary, volumeView } from './views.js';

const P = '/v3/:project_id';
const VOLUME_FILTERS = new Set(['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at']);
const SORT_KEYS = new Set(['id', 'status', 'size', 'availability_zone', 'created_at', 'updated_at', 'display_name', 'display_description',
  'bootable', 'volume_type_id', 'project_id', 'user_id', 'host', 'attach_status', 'launched_at', 'snapshot_id', 'source_volid']);

const uuidOrNull = { type: ['string', 'null'], format: 'uuid' };
const metadataSchema = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
const createSchema = {
  type: 'object',
  properties: {
    volume: {
      type: ['object'],
      properties: {
        name: { type: ['string', 'null'], maxLength: 255 },
        display_name: { type: ['string', 'null'], maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        display_description: { type: ['string', 'null'], maxLength: 255 },
        size: { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 },
        availability_zone: { type: ['string', 'null'], maxLength: 255 },
        source_volid: uuidOrNull,
        snapshot_id: uuidOrNull,
        backup_id: uuidOrNull,
        consistencygroup_id: uuidOrNull,
        group_id: uuidOrNull,
        volume_type: { type: ['string', 'null'], maxLength: 255 },
        imageRef: { type: ['string', 'null'] },
        image_id: { type: ['string', 'null'] },
        metadata: { ...metadataSchema, type: ['object', 'null'] },
        multiattach: { type: ['boolean', 'string'] },
      },
      additionalProperties: true,
    },
  },
  required: ['volume'],
  additionalProperties: true,
};
const updateSchema = {
  type: 'object',
  properties: {
    volume: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], maxLength: 255 },
        display_name: { type: ['string', 'null'], maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        display_description: { type: ['string', 'null'], maxLength: 255 },
        metadata: metadataSchema,
      },
      additionalProperties: false,
    },
  },
  required: ['volume'],
  additionalProperties: false,
};
const metaBodySchema = (key: 'metadata' | 'meta') => ({
  type: 'object', properties: { [key]: metadataSchema }, required: [key], additionalProperties: false,
});
// Built once: Ajv compiles a schema once per schema object, so a fresh object per request recompiles.
const META_BODIES = { metadata: metaBodySchema('metadata'), meta: metaBodySchema('meta') };
const metaBody = (key: 'metadata' | 'meta') => META_BODIES[key];

export async function renderVolumes(req: FastifyRequest, api: CinderAPI, rows: VolumeRow[], extended: boolean): Promise<Record<string, unknown>[]> {
  const extras = await api.extras(rows);
  return rows.map((r) => volumeView(req, r, extras.get(r.id)!, extended));
}

async function renderOne(req: FastifyRequest, api: CinderAPI, row: VolumeRow, extended: boolean): Promise<Record<string, unknown>> {
  return (await renderVolumes(req, api, [row], extended))[0]!;
}

type Params = { project_id: string; id: string; key: string };

export function registerVolumeRoutes(app: FastifyInstance, api: CinderAPI): void {
  const list = (detail: boolean) => async (req: FastifyRequest<{ Params: Params }>) => {
    const ctx = req.ctx;
    const q = queryOf(req);
    const allTenants = ctx.isAdmin && isTrue(q['all_tenants'] ?? 'false');
    const projectFilter = allTenants ? (q['project_id'] ?? null) : ctx.projectId ?? '';
    delete q['all_tenants'];
    delete q['project_id'];
    const paging = pagingOf(q, SORT_KEYS, { name: 'display_name', description: 'display_description' });
    delete q['with_count'];
    if (q['display_name'] !== undefined) {
      q['name'] = q['display_name'];
      delete q['display_name'];
    }
    // 3.34: `name~=x` style filters match substrings (SQL LIKE '%x%').
    const like = new Map<string, string>();
    for (const k of Object.keys(q)) {
      if (k.endsWith('~') && atLeast(req, '3.34')) {
        like.set(k.slice(0, -1), q[k]!);
        delete q[k];
      }
    }
    if (!ctx.isAdmin) {
      const bad = [...Object.keys(q), ...like.keys()].filter((k) => !VOLUME_FILTERS.has(k));
      if (bad.length) throw invalidInput(`Invalid filters ${bad.join(',')} are found in query options.`);
    }
    let rows = await api.db.listVolumes(projectFilter);
    for (const [k, v] of Object.entries(q)) {
      if (k === 'metadata') {
        const want = parseDictParam(v);
        const metas = await api.db.getMetaMany('volume_metadata', rows.map((r) => r.id));
        rows = rows.filter((r) => Object.entries(want).every(([mk, mv]) => metas.get(r.id)?.[mk] === mv));
      } else if (k === 'name') rows = rows.filter((r) => r.display_name === v);
      else if (k === 'bootable') rows = rows.filter((r) => !!r.bootable === (strictBool(v) ?? false));
      else if (k === 'size') rows = rows.filter((r) => String(r.size) === v);
      else if (k === 'group_id') rows = rows.filter(() => false);
      else if (k in (rows[0] ?? { status: 1 })) rows = rows.filter((r) => String((r as any)[k] ?? '') === v);
    }
    for (const [k, v] of like) {
      const col = k === 'name' ? 'display_name' : k;
      rows = rows.filter((r) => String((r as any)[col] ?? '').toLowerCase().includes(v.toLowerCase()));
    }
    const { page, limit } = paginate(rows, paging, (m) => new ApiError(404, `Marker ${m} could not be found.`, { type: 'MarkerNotFound' }));
    const body: Record<string, unknown> = {
      volumes: detail ? await renderVolumes(req, api, page, true) : page.map((r) => volumeSummary(req, r)),
    };
    const next = collectionLinks(req, req.params.project_id, detail ? 'volumes/detail' : 'volumes', page, limit);
    if (next) body['volumes_links'] = next;
    return body;
  };
  app.get(`${P}/volumes`, list(false));
  app.get(`${P}/volumes/detail`, list(true));

  // 3.12: counts and sizes of the volumes the caller can see (3.36 adds their distinct metadata).
  app.get(`${P}/volumes/summary`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!atLeast(req, '3.12')) throw volumeNotFound('summary');
    const q = queryOf(req);
    const allTenants = req.ctx.isAdmin && isTrue(q['all_tenants'] ?? 'false');
    const rows = await api.db.listVolumes(allTenants ? null : req.ctx.projectId ?? '');
    const summary: Record<string, unknown> = { total_size: rows.reduce((n, r) => n + r.size, 0), total_count: rows.length };
    if (atLeast(req, '3.36')) {
      const metas = await api.db.getMetaMany('volume_metadata', rows.map((r) => r.id));
      const all: Record<string, string[]> = {};
      for (const m of metas.values()) for (const [k, v] of Object.entries(m)) if (!(all[k] ??= []).includes(v)) all[k]!.push(v);
      summary['metadata'] = all;
    }
    return { 'volume-summary': summary };
  });

  app.post(`${P}/volumes`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const body = validateBody<{ volume: Record<string, any> }>(req, createSchema);
    const v = body.volume;
    if (v['backup_id']) throw new ApiError(404, `Backup ${v['backup_id']} could not be found.`, { type: 'BackupNotFound' });
    const multiattach = v['multiattach'] === undefined ? false : strictBool(v['multiattach']);
    if (multiattach === undefined) throw invalidInput(`Invalid value '${v['multiattach']}' for multiattach.`);
    if (multiattach) {
      throw badRequest('multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. '
        + 'Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.');
    }
    const { row, extras } = await api.createVolume(req.ctx, {
      size: v['size'] === undefined || v['size'] === null ? null : Number(v['size']),
      name: v['name'] ?? v['display_name'] ?? null,
      description: v['description'] ?? v['display_description'] ?? null,
      volume_type: v['volume_type'] ?? null,
      availability_zone: v['availability_zone'] ?? null,
      snapshot_id: v['snapshot_id'] ?? null,
      source_volid: v['source_volid'] ?? null,
      image_id: v['imageRef'] ?? v['image_id'] ?? null,
      metadata: v['metadata'] ?? {},
    });
    reply.code(202);
    return { volume: volumeView(req, row, extras, false) };
  });

  app.get(`${P}/volumes/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const row = await api.getVolume(req.ctx, req.params.id);
    return { volume: await renderOne(req, api, row, true) };
  });

  app.put(`${P}/volumes/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    await api.getVolume(req.ctx, req.params.id);
    const v = validateBody<{ volume: Record<string, any> }>(req, updateSchema).volume;
    const changes: { name?: string | null; description?: string | null; metadata?: Record<string, string> } = {};
    if ('name' in v || 'display_name' in v) changes.name = v['name'] ?? v['display_name'] ?? null;
    if ('description' in v || 'display_description' in v) changes.description = v['description'] ?? v['display_description'] ?? null;
    if (v['metadata']) changes.metadata = v['metadata'];
    const row = await api.updateVolume(req.ctx, req.params.id, changes);
    return { volume: await renderOne(req, api, row, false) };
  });

  app.delete(`${P}/volumes/:id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const q = queryOf(req);
    const force = isTrue(q['force'] ?? 'false');
    if (force && !req.ctx.isAdmin) throw policyForbidden('volume:force_delete');
    await api.deleteVolume(req.ctx, req.params.id, { cascade: isTrue(q['cascade'] ?? 'false'), force });
    reply.code(202);
    return reply.send();
  });

  // ---- metadata
  app.get(`${P}/volumes/:id/metadata`, async (req: FastifyRequest<{ Params: Params }>) => {
    const v = await api.getVolume(req.ctx, req.params.id);
    return { metadata: await api.db.getMeta('volume_metadata', v.id) };
  });
  const setMeta = (replace: boolean) => async (req: FastifyRequest<{ Params: Params }>) => {
    const v = await api.getVolume(req.ctx, req.params.id);
    const body = validateBody<{ metadata: Record<string, string> }>(req, metaBody('metadata'));
    await api.db.setMeta('volume_metadata', v.id, body.metadata, replace);
    return { metadata: replace ? body.metadata : await api.db.getMeta('volume_metadata', v.id) };
  };
  app.post(`${P}/volumes/:id/metadata`, setMeta(false));
  app.put(`${P}/volumes/:id/metadata`, setMeta(true));
  app.get(`${P}/volumes/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    const v = await api.getVolume(req.ctx, req.params.id);
    const meta = await api.db.getMeta('volume_metadata', v.id);
    if (!(req.params.key in meta)) throw new ApiError(404, `Metadata item was not found`, { type: 'MetadataItemNotFound' });
    return { meta: { [req.params.key]: meta[req.params.key] } };
  });
  app.put(`${P}/volumes/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    const v = await api.getVolume(req.ctx, req.params.id);
    const body = validateBody<{ meta: Record<string, string> }>(req, metaBody('meta'));
    const keys = Object.keys(body.meta);
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    await api.db.setMeta('volume_metadata', v.id, body.meta, false);
    return { meta: body.meta };
  });
  app.delete(`${P}/volumes/:id/metadata/:key`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const v = await api.getVolume(req.ctx, req.params.id);
    if (!(await api.db.deleteMetaKey('volume_metadata', v.id, req.params.key))) {
      throw new ApiError(404, `Metadata item was not found`, { type: 'MetadataItemNotFound' });
    }
    return reply.code(200).send();
  });

  app.post(`${P}/volumes/:id/action`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const body = req.body as Record<string, any> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) {
      throw badRequest('Malformed request body');
    }
    const [action, arg] = Object.entries(body)[0]!;
    const ctx = req.ctx;
    const id = req.params.id;
    const adminOnly = (name: string) => {
      if (!ctx.isAdmin) throw policyForbidden(name);
    };
    const accepted = () => reply.code(202).send();
    switch (action) {
      case 'os-extend': {
        const size = arg?.new_size;
        if (size === undefined || size === null || !/^\d+$/.test(String(size)) || Number(size) < 1) {
          throw badRequest(`Invalid input for field/attribute new_size. Value: ${size === undefined ? 'None' : size}. ${size === null || size === undefined ? "None is not of type 'integer', 'string'" : `'${size}' does not match '^[0-9]+$'`}`);
        }
        await api.extendVolume(ctx, id, Number(size), atLeast(req, '3.42'));
        return accepted();
      }
      case 'os-update_readonly_flag': {
        const ro = strictBool(arg?.readonly);
        if (ro === undefined) throw badRequest(`Invalid input for field/attribute readonly. Value: ${arg?.readonly}.`);
        await api.setReadonly(ctx, id, ro);
        return accepted();
      }
      case 'os-set_bootable': {
        const b = strictBool(arg?.bootable);
        if (b === undefined) throw invalidInput(`Invalid value for 'bootable'`);
        await api.setBootable(ctx, id, b);
        return reply.code(200).send();
      }
      case 'os-volume_upload_image': {
        const a = (arg ?? {}) as Record<string, any>;
        if (typeof a['image_name'] !== 'string' || !a['image_name']) throw badRequest('No image_name was specified in request.');
        const force = a['force'] === undefined ? false : strictBool(a['force']);
        if (force === undefined) throw invalidInput(`Invalid value for 'force'`);
        const upload = await api.uploadToImage(ctx, id, {
          image_name: a['image_name'], disk_format: a['disk_format'] ?? 'raw', container_format: a['container_format'] ?? 'bare', force,
          ...(atLeast(req, '3.1') && a['visibility'] ? { visibility: String(a['visibility']) } : {}),
          ...(atLeast(req, '3.1') && a['protected'] !== undefined ? { protected: strictBool(a['protected']) ?? false } : {}),
        });
        return reply.code(202).send({ 'os-volume_upload_image': upload });
      }
      case 'revert': {
        if (!atLeast(req, '3.40')) throw new ApiError(400, `There is no such action: ${action}`, { type: 'HTTPBadRequest' });
        if (!arg?.snapshot_id || typeof arg.snapshot_id !== 'string') throw badRequest("Invalid input for field/attribute snapshot_id. Value: None. None is not of type 'string'");
        await api.revertToSnapshot(ctx, id, arg.snapshot_id);
        return accepted();
      }
      case 'os-retype': {
        const nt = arg?.new_type;
        if (typeof nt !== 'string' || !nt) throw badRequest("Invalid input for field/attribute new_type. Value: None. None is not of type 'string'");
        const policy = arg?.migration_policy ?? 'never';
        if (!['never', 'on-demand'].includes(policy)) throw badRequest(`Invalid input for field/attribute migration_policy. Value: ${policy}.`);
        await api.retype(ctx, id, nt, policy);
        return accepted();
      }
      case 'os-reserve':
        await api.reserve(ctx, id);
        return accepted();
      case 'os-unreserve':
        await api.unreserve(ctx, id);
        return accepted();
      case 'os-begin_detaching':
        await api.beginDetaching(ctx, id);
        return accepted();
      case 'os-roll_detaching':
        await api.rollDetaching(ctx, id);
        return accepted();
      case 'os-initialize_connection': {
        if (!arg?.connector || typeof arg.connector !== 'object') throw badRequest('Must specify \'connector\'');
        const info = await api.initializeConnection(ctx, id, arg.connector);
        return reply.code(200).send({ connection_info: info });
      }
      case 'os-terminate_connection':
        if (!arg || !('connector' in arg)) throw badRequest('Must specify \'connector\'');
        await api.terminateConnection(ctx, id, arg.connector ?? null);
        return accepted();
      case 'os-attach': {
        const a = (arg ?? {}) as Record<string, any>;
        if (!a['instance_uuid'] && !a['host_name']) throw invalidVolume2('Invalid request to attach volume to an invalid target');
        if (!a['mountpoint']) throw badRequest('Must specify \'mountpoint\'');
        const mode = a['mode'] ?? 'rw';
        if (mode !== 'rw' && mode !== 'ro') throw badRequest('Invalid request to attach volume with an invalid mode. Attaching mode should be \'rw\' or \'ro\'');
        await api.getVolume(ctx, id);
        const admin = await api.db.getMeta('volume_admin_metadata', id);
        if (admin['readonly'] === 'True' && mode === 'rw') {
          throw new ApiError(400, `Invalid volume: Volume ${id} is read-only, can't attach it in read-write mode.`, { type: 'InvalidVolumeAttachMode' });
        }
        await api.attach(ctx, id, { instance_uuid: a['instance_uuid'] ?? null, host_name: a['host_name'] ?? null, mountpoint: a['mountpoint'], mode });
        return accepted();
      }
      case 'os-detach':
        await api.detach(ctx, id, arg?.attachment_id ?? null);
        return accepted();
      case 'os-force_detach':
        adminOnly('volume_extension:volume_admin_actions:force_detach');
        await api.detach(ctx, id, arg?.attachment_id ?? null);
        return accepted();
      case 'os-reset_status': {
        adminOnly('volume_extension:volume_admin_actions:reset_status');
        const a = (arg ?? {}) as Record<string, any>;
        const statuses = ['available', 'in-use', 'error', 'creating', 'deleting', 'error_deleting', 'attaching', 'detaching', 'reserved',
          'downloading', 'uploading', 'maintenance', 'extending', 'error_extending', 'backing-up', 'restoring-backup', 'error_restoring', 'retyping', 'awaiting-transfer'];
        if (a['status'] !== undefined && !statuses.includes(a['status'])) throw invalidInput(`Must specify a valid status`);
        if (a['attach_status'] !== undefined && !['attached', 'detached'].includes(a['attach_status'])) throw invalidInput('Must specify a valid attach status');
        if (a['status'] === undefined && a['attach_status'] === undefined && a['migration_status'] === undefined) {
          throw badRequest('Must specify \'status\', \'attach_status\' or \'migration_status\' for update.');
        }
        await api.resetStatus(ctx, id, a);
        return accepted();
      }
      case 'os-force_delete':
        adminOnly('volume_extension:volume_admin_actions:force_delete');
        await api.deleteVolume(ctx, id, { force: true });
        return accepted();
      case 'os-set_image_metadata': {
        const v = await api.getVolume(ctx, id);
        const meta = arg?.metadata;
        if (!meta || typeof meta !== 'object') throw badRequest('Malformed request body');
        await api.db.setMeta('volume_glance_metadata', v.id, meta, false);
        return { metadata: await api.db.getMeta('volume_glance_metadata', v.id) };
      }
      case 'os-unset_image_metadata': {
        const v = await api.getVolume(ctx, id);
        if (!(await api.db.deleteMetaKey('volume_glance_metadata', v.id, String(arg?.key)))) {
          throw new ApiError(404, `Glance metadata for volume ${v.id} could not be found.`, { type: 'GlanceMetadataNotFound' });
        }
        return reply.code(200).send();
      }
      case 'os-show_image_metadata': {
        const v = await api.getVolume(ctx, id);
        return { metadata: await api.db.getMeta('volume_glance_metadata', v.id) };
      }
      default:
        // Unknown actions are unknown routes: webob answers 404 for a missing action handler.
        await api.getVolume(ctx, id).catch(() => {
          throw volumeNotFound(id);
        });
        throw new ApiError(400, `There is no such action: ${action}`, { type: 'HTTPBadRequest' });
    }
  });
}

function invalidVolume2(reason: string): ApiError {
  return new ApiError(400, reason, { type: 'InvalidVolumeAttachMode' });
}
