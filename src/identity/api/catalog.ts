/** /v3/regions, /v3/services, /v3/endpoints. @module */
import type { FastifyInstance } from 'fastify';
import type { Region, Service, Endpoint } from '../core/catalog.js';
import { INTERFACES } from '../core/catalog.js';
import { authorize, checkBody, DESCRIPTION, ENABLED, listBody, query, selfLink, type ApiDeps } from './common.js';

const renderRegion = (d: ApiDeps, r: Region) => ({ ...r, links: selfLink(d, `regions/${r.id}`) });
const renderService = (d: ApiDeps, s: Service) => ({ ...s, links: selfLink(d, `services/${s.id}`) });
const renderEndpoint = (d: ApiDeps, e: Endpoint) => ({ ...e, links: selfLink(d, `endpoints/${e.id}`) });

const regionBody = {
  type: 'object',
  properties: { region: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 255 }, description: { type: ['string', 'null'] }, parent_region_id: { type: ['string', 'null'] } } } },
  required: ['region'],
};
const serviceBody = (required: string[]) => ({
  type: 'object',
  properties: {
    service: {
      type: 'object',
      properties: { type: { type: 'string', minLength: 1, maxLength: 255 }, name: { type: 'string', maxLength: 255 }, description: DESCRIPTION, enabled: ENABLED },
      required,
      minProperties: 1,
    },
  },
  required: ['service'],
});
const endpointBody = (required: string[]) => ({
  type: 'object',
  properties: {
    endpoint: {
      type: 'object',
      properties: {
        interface: { type: 'string', enum: INTERFACES },
        service_id: { type: 'string', minLength: 1 },
        url: { type: 'string', minLength: 1, maxLength: 225, pattern: '^[a-zA-Z0-9+.-]+:.+' },
        region_id: { type: ['string', 'null'] },
        region: { type: ['string', 'null'] },
        enabled: ENABLED,
      },
      required,
      minProperties: 1,
    },
  },
  required: ['endpoint'],
});

type P = { Params: { id: string } };

export function registerCatalog(app: FastifyInstance, d: ApiDeps): void {
  // the legacy `region` attribute creates its region when missing, as Keystone does; `region_id` must exist
  const regionFor = async (b: Record<string, any>): Promise<string | null> => {
    if (b['region_id']) return b['region_id'];
    if (!b['region']) return null;
    const exists = await d.catalog.getRegion(b['region']).catch(() => undefined);
    if (!exists) await d.catalog.createRegion({ id: b['region'], description: '' });
    return b['region'];
  };
  // regions
  app.get('/v3/regions', async (req) => {
    await authorize(d, req, 'identity:list_regions');
    return listBody(d, req, 'regions', (await d.catalog.listRegions({ parent_region_id: query(req)['parent_region_id'] })).map((r) => renderRegion(d, r)));
  });
  app.get<P>('/v3/regions/:id', async (req) => {
    await authorize(d, req, 'identity:get_region');
    return { region: renderRegion(d, await d.catalog.getRegion(req.params.id)) };
  });
  app.post('/v3/regions', async (req, reply) => {
    await authorize(d, req, 'identity:create_region');
    const b = checkBody<{ region: Record<string, any> }>(regionBody, req.body).region;
    reply.code(201);
    return { region: renderRegion(d, await d.catalog.createRegion({ id: b['id'], description: b['description'] ?? '', parent_region_id: b['parent_region_id'] })) };
  });
  app.put<P>('/v3/regions/:id', async (req, reply) => {
    await authorize(d, req, 'identity:create_region');
    const b = checkBody<{ region: Record<string, any> }>(regionBody, req.body).region;
    reply.code(201);
    return { region: renderRegion(d, await d.catalog.createRegion({ id: req.params.id, description: b['description'] ?? '', parent_region_id: b['parent_region_id'] })) };
  });
  app.patch<P>('/v3/regions/:id', async (req) => {
    await authorize(d, req, 'identity:update_region');
    const b = checkBody<{ region: Record<string, any> }>(regionBody, req.body).region;
    return { region: renderRegion(d, await d.catalog.updateRegion(req.params.id, b)) };
  });
  app.delete<P>('/v3/regions/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_region');
    await d.catalog.deleteRegion(req.params.id);
    reply.code(204);
    return '';
  });

  // services
  app.get('/v3/services', async (req) => {
    await authorize(d, req, 'identity:list_services');
    const q = query(req);
    return listBody(d, req, 'services', (await d.catalog.listServices({ type: q['type'], name: q['name'] })).map((s) => renderService(d, s)));
  });
  app.get<P>('/v3/services/:id', async (req) => {
    await authorize(d, req, 'identity:get_service');
    return { service: renderService(d, await d.catalog.getService(req.params.id)) };
  });
  app.post('/v3/services', async (req, reply) => {
    await authorize(d, req, 'identity:create_service');
    const b = checkBody<{ service: Record<string, any> }>(serviceBody(['type']), req.body).service;
    reply.code(201);
    return { service: renderService(d, await d.catalog.createService({ type: b['type'], name: b['name'], description: b['description'] ?? undefined, enabled: b['enabled'] })) };
  });
  app.patch<P>('/v3/services/:id', async (req) => {
    await authorize(d, req, 'identity:update_service');
    const b = checkBody<{ service: Record<string, any> }>(serviceBody([]), req.body).service;
    return { service: renderService(d, await d.catalog.updateService(req.params.id, b)) };
  });
  app.delete<P>('/v3/services/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_service');
    await d.catalog.deleteService(req.params.id);
    reply.code(204);
    return '';
  });

  // endpoints
  app.get('/v3/endpoints', async (req) => {
    await authorize(d, req, 'identity:list_endpoints');
    const q = query(req);
    const list = await d.catalog.listEndpoints({ interface: q['interface'], service_id: q['service_id'], region_id: q['region_id'] });
    return listBody(d, req, 'endpoints', list.map((e) => renderEndpoint(d, e)));
  });
  app.get<P>('/v3/endpoints/:id', async (req) => {
    await authorize(d, req, 'identity:get_endpoint');
    return { endpoint: renderEndpoint(d, await d.catalog.getEndpoint(req.params.id)) };
  });
  app.post('/v3/endpoints', async (req, reply) => {
    await authorize(d, req, 'identity:create_endpoint');
    const b = checkBody<{ endpoint: Record<string, any> }>(endpointBody(['interface', 'service_id', 'url']), req.body).endpoint;
    reply.code(201);
    const e = await d.catalog.createEndpoint({ interface: b['interface'], service_id: b['service_id'], url: b['url'], enabled: b['enabled'], region_id: await regionFor(b) });
    return { endpoint: renderEndpoint(d, e) };
  });
  app.patch<P>('/v3/endpoints/:id', async (req) => {
    await authorize(d, req, 'identity:update_endpoint');
    const b = checkBody<{ endpoint: Record<string, any> }>(endpointBody([]), req.body).endpoint;
    const region = b['region_id'] !== undefined || b['region'] !== undefined ? await regionFor(b) : undefined;
    return { endpoint: renderEndpoint(d, await d.catalog.updateEndpoint(req.params.id, { ...b, region_id: region })) };
  });
  app.delete<P>('/v3/endpoints/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_endpoint');
    await d.catalog.deleteEndpoint(req.params.id);
    reply.code(204);
    return '';
  });
}
