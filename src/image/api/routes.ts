/**
 * Glance v2 REST routes (glance/api/v2/router.py): images, image data, tags, actions, members,
 * interoperable import, schemas and discovery, mounted at `/v2`, plus the versions document.
 * Handlers only translate HTTP to the ImageAPI facade and back.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ApiError } from '../../common/errors.js';
import type { ImageAPI } from '../api.js';
import { IMPORT_METHODS } from '../domain.js';
import { PATCH_CONTENT_TYPES, parseImagePatch } from './patch.js';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.js';
import { parseListQuery } from './list-query.js';
import { imageView, memberView } from './views.js';
import { versionsDocument } from './versions.js';

type Params = { id: string; tag: string; member: string };
type RG = { Params: Params; Querystring: Record<string, string | string[]> };
type Req = FastifyRequest<RG>;

const OCTET = 'application/octet-stream';

function mediaType(req: FastifyRequest): string | undefined {
  const ct = req.headers['content-type'];
  return ct?.split(';')[0]?.trim().toLowerCase();
}

/** Uploads must say octet-stream (glance's `get_content_type(('application/octet-stream',))`). */
async function requireOctetStream(req: FastifyRequest): Promise<void> {
  const ct = mediaType(req);
  if (ct !== OCTET) throw new ApiError(415, `Invalid content type ${ct ?? 'None'}`, { type: 'InvalidContentType' });
}

async function requirePatchType(req: FastifyRequest): Promise<void> {
  const ct = mediaType(req);
  if (ct === undefined || !(ct in PATCH_CONTENT_TYPES)) {
    const allowed = Object.keys(PATCH_CONTENT_TYPES).sort().join(', ');
    throw new ApiError(415, 'The request media type is not supported by this server.', {
      detail: `Image PATCH expects Content-Type one of: ${allowed}`,
      headers: { 'Accept-Patch': allowed },
    });
  }
}

/** The size a client announces: x-openstack-image-size, else Content-Length. */
function announcedSize(req: FastifyRequest): number | undefined {
  const raw = req.headers['x-openstack-image-size'] ?? req.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ApiError(400, 'Invalid or missing image size in request headers.');
  return n;
}

/** The upload stream; an empty body (which Fastify does not parse) is an empty image. */
function bodyStream(req: FastifyRequest): Readable {
  return (req.body as Readable | undefined) ?? Readable.from([]);
}

function hasTrailingSlash(req: FastifyRequest): boolean {
  const p = req.url.split('?')[0]!;
  return p.length > 1 && p.endsWith('/');
}

export interface RouteOptions {
  /** Base URL for version links when not derived from the request (`public_endpoint`). */
  publicUrl?: string;
}

export function registerImageRoutes(app: FastifyInstance, api: ImageAPI, opts: RouteOptions = {}): void {
  // Image data arrives as a raw stream; nothing buffers it.
  app.addContentTypeParser(OCTET, (_req, payload, done) => done(null, payload));
  app.addContentTypeParser(Object.keys(PATCH_CONTENT_TYPES), { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ApiError(400, 'Malformed JSON in request body.'), undefined);
    }
  });

  // ---- versions ---------------------------------------------------------------------------------
  const baseUrl = (req: FastifyRequest) => opts.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  app.get('/', { config: { public: true } }, async (req, reply) => reply.code(300).send(versionsDocument(baseUrl(req))));
  app.get('/versions', { config: { public: true } }, async (req) => versionsDocument(baseUrl(req)));

  // ---- schemas and discovery --------------------------------------------------------------------
  app.get('/v2/schemas/image', async () => imageSchema());
  app.get('/v2/schemas/images', async () => imagesSchema());
  app.get('/v2/schemas/member', async () => memberSchema());
  app.get('/v2/schemas/members', async () => membersSchema());
  app.get('/v2/info/import', async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: [...IMPORT_METHODS] },
  }));
  app.get('/v2/info/stores', async () => {
    throw new ApiError(404, 'Multi backend is not supported at this site.');
  });

  // ---- images -----------------------------------------------------------------------------------
  app.get('/v2/images', async (req: Req) => {
    if (hasTrailingSlash(req)) throw new ApiError(404, 'The resource could not be found.');
    const q = parseListQuery(req.query);
    const { images, nextMarker } = await api.list(req.ctx, q);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query)) {
      if (k === 'marker') continue;
      for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
    }
    const query = params.toString();
    const body: Record<string, unknown> = {
      images: images.map(imageView),
      first: query ? `/v2/images?${query}` : '/v2/images',
      schema: '/v2/schemas/images',
    };
    if (nextMarker) {
      params.set('marker', nextMarker);
      body['next'] = `/v2/images?${params.toString()}`;
    }
    return body;
  });

  app.post('/v2/images', async (req: Req, reply) => {
    const image = await api.create(req.ctx, req.body);
    reply
      .code(201)
      .header('Location', `/v2/images/${image.id}`)
      .header('OpenStack-image-import-methods', IMPORT_METHODS.join(','));
    return imageView(image);
  });

  // `/v2/images/` is an image with an empty id: 404, as glance (Tempest checks it).
  app.route({
    method: ['DELETE', 'PUT', 'PATCH'],
    url: '/v2/images',
    handler: async (req) => {
      if (hasTrailingSlash(req)) throw new ApiError(404, 'The resource could not be found.');
      throw new ApiError(405, 'The method specified is not allowed for this resource.', { headers: { Allow: 'GET, POST' } });
    },
  });

  app.get('/v2/images/:id', async (req: Req) => imageView(await api.show(req.ctx, req.params.id)));

  app.patch<RG>('/v2/images/:id', { preParsing: async (req) => requirePatchType(req) }, async (req: Req) => {
    if (req.body === undefined) throw new ApiError(400, 'Body expected in request.');
    const draft = PATCH_CONTENT_TYPES[mediaType(req)!]!;
    const changes = parseImagePatch(req.body, draft);
    return imageView(await api.update(req.ctx, req.params.id, changes));
  });

  app.delete('/v2/images/:id', async (req: Req, reply) => {
    await api.delete(req.ctx, req.params.id);
    return reply.code(204).send();
  });

  // ---- image data -------------------------------------------------------------------------------
  app.put<RG>('/v2/images/:id/file', { preParsing: async (req) => requireOctetStream(req) }, async (req: Req, reply) => {
    const size = announcedSize(req);
    await api.upload(req.ctx, req.params.id, bodyStream(req), size);
    return reply.code(204).send();
  });

  app.get('/v2/images/:id/file', async (req: Req, reply: FastifyReply) => {
    const range = req.headers['range'];
    const contentRange = req.headers['content-range'];
    const d = await api.download(req.ctx, req.params.id, range, contentRange);
    if (!d.stream) return reply.code(204).send();
    reply.header('Content-Type', OCTET).header('Content-Length', String(d.length));
    if (d.image.checksum) reply.header('Content-MD5', d.image.checksum);
    if (d.range) reply.code(206).header('Content-Range', `bytes ${d.range.start}-${d.range.end}/${d.image.size}`);
    return reply.send(d.stream);
  });

  app.put<RG>('/v2/images/:id/stage', { preParsing: async (req) => requireOctetStream(req) }, async (req: Req, reply) => {
    await api.stage(req.ctx, req.params.id, bodyStream(req));
    return reply.code(204).send();
  });

  app.post('/v2/images/:id/import', async (req: Req, reply) => {
    await api.importImage(req.ctx, req.params.id, req.body);
    return reply.code(202).send();
  });

  // ---- actions and tags -------------------------------------------------------------------------
  app.post('/v2/images/:id/actions/deactivate', async (req: Req, reply) => {
    await api.deactivate(req.ctx, req.params.id);
    return reply.code(204).send();
  });
  app.post('/v2/images/:id/actions/reactivate', async (req: Req, reply) => {
    await api.reactivate(req.ctx, req.params.id);
    return reply.code(204).send();
  });

  app.put('/v2/images/:id/tags/:tag', async (req: Req, reply) => {
    await api.addTag(req.ctx, req.params.id, req.params.tag);
    return reply.code(204).send();
  });
  app.delete('/v2/images/:id/tags/:tag', async (req: Req, reply) => {
    await api.deleteTag(req.ctx, req.params.id, req.params.tag);
    return reply.code(204).send();
  });

  // ---- members ----------------------------------------------------------------------------------
  app.get('/v2/images/:id/members', async (req: Req) => ({
    members: (await api.members.list(req.ctx, req.params.id)).map(memberView),
    schema: '/v2/schemas/members',
  }));
  app.post('/v2/images/:id/members', async (req: Req) => memberView(await api.members.add(req.ctx, req.params.id, req.body)));
  app.get('/v2/images/:id/members/:member', async (req: Req) =>
    memberView(await api.members.show(req.ctx, req.params.id, req.params.member)));
  app.put('/v2/images/:id/members/:member', async (req: Req) =>
    memberView(await api.members.update(req.ctx, req.params.id, req.params.member, req.body)));
  app.delete('/v2/images/:id/members/:member', async (req: Req, reply) => {
    await api.members.delete(req.ctx, req.params.id, req.params.member);
    return reply.code(204).send();
  });
}
