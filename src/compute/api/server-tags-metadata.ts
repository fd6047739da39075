/**
 * Nova's server tags (2.26) and server metadata.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import { projectLimits } from '../quota.js';
import { mapErrors, mv } from './common.js';

export function registerServerTagsAndMetadata(app: FastifyInstance, compute: ComputeApiFacade): void {
  const api = compute.api;

  // ---- server tags (2.26) ----
  const tagsGuard = (req: any) => { if (!mv(req, '2.26')) throw new ApiError(404, 'The resource could not be found.'); };
  const tagSchema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
  const withLoc = async (req: any, id: string, action: string) => {
    const loc = await mapErrors(action, id, () => compute.get(req.ctx, id));
    if (!loc.cell) throw new ApiError(409, `Instance ${id} is not ready yet: it is still being scheduled`);
    return loc;
  };
  app.get<{ Params: { id: string } }>('/servers/:id/tags', async (req) => { tagsGuard(req); return { tags: (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.tags ?? [] }; });
  app.get<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!(loc.instance.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`, { type: 'TagNotFound' });
    reply.code(204);
    return reply.send();
  });
  app.put<{ Params: { id: string } }>('/servers/:id/tags', async (req) => {
    tagsGuard(req);
    const body = validateBody<{ tags: string[] }>(req, { type: 'object', required: ['tags'], additionalProperties: false, properties: { tags: { type: 'array', items: tagSchema, maxItems: 50 } } });
    const loc = await withLoc(req, req.params.id, 'update tags');
    loc.instance.tags = [...new Set(body.tags)].sort();
    await compute.saveInstance(req.ctx, loc);
    return { tags: loc.instance.tags };
  });
  app.put<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const t = decodeURIComponent(req.params.tag);
    if (!t || t.length > 60 || /[,/]/.test(t)) throw badRequest(`Tag '${t}' is invalid. It must be a non-empty string of at most 60 characters without ',' or '/'.`);
    const loc = await withLoc(req, req.params.id, 'update tag');
    const had = (loc.instance.tags ?? []).includes(t);
    if (!had) {
      if ((loc.instance.tags ?? []).length >= 50) throw badRequest('The number of tags exceeded the per-server limit 50');
      loc.instance.tags = [...(loc.instance.tags ?? []), t].sort();
      await compute.saveInstance(req.ctx, loc);
    }
    reply.code(had ? 204 : 201);
    if (!had) reply.header('Location', `${req.protocol}://${req.headers.host}${req.url}`);
    return reply.send();
  });
  app.delete<{ Params: { id: string } }>('/servers/:id/tags', async (req, reply) => {
    tagsGuard(req);
    const loc = await withLoc(req, req.params.id, 'delete tags');
    loc.instance.tags = [];
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });
  app.delete<{ Params: { id: string; tag: string } }>('/servers/:id/tags/:tag', async (req, reply) => {
    tagsGuard(req);
    const loc = await withLoc(req, req.params.id, 'delete tag');
    if (!(loc.instance.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`, { type: 'TagNotFound' });
    loc.instance.tags = loc.instance.tags.filter((x) => x !== req.params.tag);
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });

  // ---- server metadata ----
  const metaBody = (req: any, key: 'metadata' | 'meta') => validateBody<Record<string, Record<string, string>>>(req, {
    type: 'object', required: [key], additionalProperties: false,
    properties: { [key]: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false, ...(key === 'meta' ? { minProperties: 1, maxProperties: 1 } : {}) } },
  })[key]!;
  const checkMetaQuota = async (project: string, md: Record<string, string>) => {
    const l = await projectLimits(api, project);
    if (Object.keys(md).length > l['metadata_items']!) throw new ApiError(403, `Quota exceeded for metadata_items: Requested ${Object.keys(md).length}, but already used 0 of ${l['metadata_items']} metadata_items`);
  };
  app.get<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.metadata ?? {} }));
  app.get<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req) => {
    const md = (await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id))).instance.metadata ?? {};
    if (!(req.params.key in md)) throw notFound('Metadata item was not found', { type: 'MetadataItemNotFound' });
    return { meta: { [req.params.key]: md[req.params.key] } };
  });
  const setMeta = async (req: any, id: string, md: Record<string, string>, replace: boolean) => {
    const loc = await withLoc(req, id, 'update metadata');
    compute.checkLocked(req.ctx, loc.instance);
    const next = replace ? { ...md } : { ...(loc.instance.metadata ?? {}), ...md };
    await checkMetaQuota(loc.instance.project_id, next);
    loc.instance.metadata = next;
    await compute.saveInstance(req.ctx, loc);
    return next;
  };
  app.put<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: await setMeta(req, req.params.id, metaBody(req, 'metadata'), true) }));
  app.post<{ Params: { id: string } }>('/servers/:id/metadata', async (req) => ({ metadata: await setMeta(req, req.params.id, metaBody(req, 'metadata'), false) }));
  app.put<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req) => {
    const meta = metaBody(req, 'meta');
    if (!(req.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await setMeta(req, req.params.id, meta, false);
    return { meta };
  });
  app.delete<{ Params: { id: string; key: string } }>('/servers/:id/metadata/:key', async (req, reply) => {
    const loc = await withLoc(req, req.params.id, 'delete metadata');
    compute.checkLocked(req.ctx, loc.instance);
    if (!(req.params.key in (loc.instance.metadata ?? {}))) throw notFound('Metadata item was not found', { type: 'MetadataItemNotFound' });
    const md = { ...loc.instance.metadata };
    delete md[req.params.key];
    loc.instance.metadata = md;
    await compute.saveInstance(req.ctx, loc);
    reply.code(204);
    return reply.send();
  });
}
