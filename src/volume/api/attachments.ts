/**
 * /v3/{project_id}/attachments (microversion 3.27, `os-complete` at 3.44): the attach flow Nova
 * drives — create (reserve) -> update with a connector (export, `attaching`) -> complete (`in-use`)
 * -> delete (`available`).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { CinderAPI } from '../api.js';
import { isTrue, queryOf } from './common.js';
import { atLeast, attachmentView } from './views.js';

const P = '/v3/:project_id/attachments';
type Params = { project_id: string; id: string };

const createSchema = {
  type: 'object',
  properties: {
    attachment: {
      type: 'object',
      properties: {
        instance_uuid: { type: ['string', 'null'], format: 'uuid' },
        connector: { type: ['object', 'null'] },
        volume_uuid: { type: 'string', format: 'uuid' },
        mode: { type: 'string', enum: ['rw', 'ro'] },
      },
      required: ['volume_uuid'],
      additionalProperties: false,
    },
  },
  required: ['attachment'],
  additionalProperties: false,
};
const updateSchema = {
  type: 'object',
  properties: {
    attachment: {
      type: 'object',
      properties: { connector: { type: 'object' } },
      required: ['connector'],
      additionalProperties: false,
    },
  },
  required: ['attachment'],
  additionalProperties: false,
};

/** Below 3.27 the resource does not exist, as with Cinder's versioned router. */
function requireVersion(req: FastifyRequest, v = '3.27'): void {
  if (!atLeast(req, v)) throw new ApiError(404, 'The resource could not be found.');
}

export function registerAttachmentRoutes(app: FastifyInstance, api: CinderAPI): void {
  const list = (detail: boolean) => async (req: FastifyRequest<{ Params: Params }>) => {
    requireVersion(req);
    const q = queryOf(req);
    let rows = await api.listAttachments(req.ctx, isTrue(q['all_tenants'] ?? 'false'));
    if (q['volume_id']) rows = rows.filter((a) => a.volume_id === q['volume_id']);
    if (q['instance_id']) rows = rows.filter((a) => a.instance_uuid === q['instance_id']);
    if (q['status']) rows = rows.filter((a) => a.attach_status === q['status']);
    return { attachments: rows.map((a) => attachmentView(a, detail)) };
  };
  app.get(P, list(false));
  app.get(`${P}/detail`, list(true));

  app.get(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    requireVersion(req);
    const { att } = await api.getAttachment(req.ctx, req.params.id);
    return { attachment: attachmentView(att, true) };
  });

  app.post(P, async (req: FastifyRequest<{ Params: Params }>) => {
    requireVersion(req);
    const a = validateBody<{ attachment: Record<string, any> }>(req, createSchema).attachment;
    const mode = atLeast(req, '3.54') ? (a['mode'] ?? 'rw') : 'rw';
    const att = await api.attachmentCreate(req.ctx, a['volume_uuid'], a['instance_uuid'] ?? null, a['connector'] ?? null, mode);
    return { attachment: attachmentView(att, true) };
  });

  app.put(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    requireVersion(req);
    const a = validateBody<{ attachment: { connector: Record<string, unknown> } }>(req, updateSchema).attachment;
    const att = await api.attachmentUpdate(req.ctx, req.params.id, a.connector);
    return { attachment: attachmentView(att, true) };
  });

  app.delete(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    requireVersion(req);
    const left = await api.attachmentDelete(req.ctx, req.params.id);
    return { attachments: left.map((a) => attachmentView(a, false)) };
  });

  app.post(`${P}/:id/action`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    requireVersion(req, '3.44');
    const body = req.body as Record<string, unknown> | null;
    if (!body || !('os-complete' in body)) throw new ApiError(400, `There is no such action: ${Object.keys(body ?? {})[0] ?? ''}`);
    await api.attachmentComplete(req.ctx, req.params.id);
    return reply.code(204).send();
  });
}
