/**
 * /flavors (+ extra specs, os-flavor-access): reads for everyone, writes for admins.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { Database } from '../../common/db/connection.js';
import * as apiDb from '../db/api-api.js';
import { boolParam, mv, requireAdmin } from './common.js';
import { flavorView } from './views.js';

const createSchema = {
  type: 'object', required: ['flavor'], additionalProperties: false,
  properties: {
    flavor: {
      type: 'object', required: ['name', 'ram', 'vcpus', 'disk'], additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' },
        id: { oneOf: [{ type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }, { type: 'null' }] },
        ram: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 }, vcpus: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        disk: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 }, 'OS-FLV-EXT-DATA:ephemeral': { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
        swap: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0 }, rxtx_factor: { type: ['number', 'string'] },
        'os-flavor-access:is_public': { type: ['boolean', 'string'] }, description: { type: ['string', 'null'], maxLength: 65535 },
      },
    },
  },
};

export function registerFlavors(app: FastifyInstance, api: Database): void {
  const get = async (id: string) => {
    const f = await apiDb.flavorGetByFlavorId(api, id);
    if (!f) throw notFound(`Flavor ${id} could not be found.`, { type: 'FlavorNotFound' });
    return f;
  };
  const listing = (detail: boolean) => async (req: any) => {
    const q = req.query as Record<string, string>;
    let isPublic: boolean | null = true;
    if (req.ctx.isAdmin) {
      const ip = q['is_public'];
      isPublic = ip === undefined ? true : ip.toLowerCase() === 'none' ? null : (boolParam(ip) ?? true);
    }
    let rows = await apiDb.flavorList(api, {
      projectId: req.ctx.isAdmin ? null : req.ctx.projectId, isPublic: req.ctx.isAdmin ? isPublic : null,
      ...(q['minRam'] ? { minRam: Number(q['minRam']) } : {}), ...(q['minDisk'] ? { minDisk: Number(q['minDisk']) } : {}),
    });
    if (!req.ctx.isAdmin) rows = rows.filter((r) => r['is_public'] || true);
    const sortKey = q['sort_key'] ?? 'flavorid';
    const dir = q['sort_dir'] === 'desc' ? -1 : 1;
    const keyMap: Record<string, string> = { id: 'flavorid', flavorid: 'flavorid', name: 'name', memory_mb: 'memory_mb', vcpus: 'vcpus', root_gb: 'root_gb', ephemeral_gb: 'ephemeral_gb', swap: 'swap', rxtx_factor: 'rxtx_factor', is_public: 'is_public', created_at: 'flavorid', description: 'description' };
    if (!keyMap[sortKey]) throw badRequest(`Invalid input for query parameters sort_key. Value: ${sortKey}.`);
    const k = keyMap[sortKey]!;
    rows.sort((a, b) => (a[k] < b[k] ? -dir : a[k] > b[k] ? dir : 0));
    if (q['marker']) {
      const i = rows.findIndex((r) => r['flavorid'] === q['marker']);
      if (i < 0) throw badRequest(`marker [${q['marker']}] not found`);
      rows = rows.slice(i + 1);
    }
    if (q['limit']) rows = rows.slice(0, Number(q['limit']));
    return { flavors: rows.map((r) => flavorView(req, r, detail)) };
  };
  app.get('/flavors', listing(false));
  app.get('/flavors/detail', listing(true));
  app.get<{ Params: { id: string } }>('/flavors/:id', async (req) => ({ flavor: flavorView(req, await get(req.params.id), true) }));

  app.post('/flavors', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-manage:create');
    const body = validateBody<{ flavor: Record<string, any> }>(req, createSchema);
    const f = body.flavor;
    if (await apiDb.flavorGetByName(api, f['name'])) throw conflict(`Flavor with name ${f['name']} already exists.`, { type: 'FlavorExists' });
    if (f['id'] && (await apiDb.flavorGetByFlavorId(api, String(f['id'])))) throw conflict(`Flavor with ID ${f['id']} already exists.`, { type: 'FlavorIdExists' });
    const row = await apiDb.flavorCreate(api, {
      name: f['name'], ...(f['id'] ? { flavorid: String(f['id']) } : {}), memory_mb: Number(f['ram']), vcpus: Number(f['vcpus']), root_gb: Number(f['disk']),
      ephemeral_gb: Number(f['OS-FLV-EXT-DATA:ephemeral'] ?? 0), swap: Number(f['swap'] || 0), rxtx_factor: Number(f['rxtx_factor'] ?? 1),
      is_public: f['os-flavor-access:is_public'] === undefined ? true : Boolean(boolParam(f['os-flavor-access:is_public'])),
      description: mv(req, '2.55') ? (f['description'] ?? null) : null,
    });
    return { flavor: flavorView(req, row, true) };
  });
  app.delete<{ Params: { id: string } }>('/flavors/:id', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-flavor-manage:delete');
    if (!(await apiDb.flavorDestroy(api, req.params.id))) throw notFound(`Flavor ${req.params.id} could not be found.`, { type: 'FlavorNotFound' });
    reply.code(202);
    return null;
  });

  // extra specs
  app.get<{ Params: { id: string } }>('/flavors/:id/os-extra_specs', async (req) => ({ extra_specs: (await get(req.params.id))['extra_specs'] }));
  app.post<{ Params: { id: string } }>('/flavors/:id/os-extra_specs', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:create');
    const body = validateBody<{ extra_specs: Record<string, string> }>(req, {
      type: 'object', required: ['extra_specs'], additionalProperties: false,
      properties: { extra_specs: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'number', 'boolean'], maxLength: 255 } }, additionalProperties: false } },
    });
    const f = await get(req.params.id);
    await apiDb.flavorSetExtraSpecs(api, f['id'], Object.fromEntries(Object.entries(body.extra_specs).map(([k, v]) => [k, String(v)])));
    return { extra_specs: body.extra_specs };
  });
  app.get<{ Params: { id: string; key: string } }>('/flavors/:id/os-extra_specs/:key', async (req) => {
    const f = await get(req.params.id);
    if (!(req.params.key in f['extra_specs'])) throw notFound(`Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`, { type: 'FlavorExtraSpecsNotFound' });
    return { [req.params.key]: f['extra_specs'][req.params.key] };
  });
  app.put<{ Params: { id: string; key: string } }>('/flavors/:id/os-extra_specs/:key', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:update');
    const body = req.body as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Object.keys(body).length !== 1) throw badRequest('Request body contains too many items');
    if (!(req.params.key in body)) throw badRequest('Request body and URI mismatch');
    const f = await get(req.params.id);
    await apiDb.flavorSetExtraSpecs(api, f['id'], { [req.params.key]: String(body[req.params.key]) });
    return body;
  });
  app.delete<{ Params: { id: string; key: string } }>('/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:delete');
    const f = await get(req.params.id);
    if (!(await apiDb.flavorDeleteExtraSpec(api, f['id'], req.params.key))) throw notFound(`Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`, { type: 'FlavorExtraSpecsNotFound' });
    reply.code(200);
    return null;
  });

  // access lists
  app.get<{ Params: { id: string } }>('/flavors/:id/os-flavor-access', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-access');
    const f = await get(req.params.id);
    if (f['is_public']) throw notFound('Access list not available for public flavors.', { type: 'FlavorAccessNotFound' });
    return { flavor_access: (await apiDb.flavorProjects(api, f['id'])).map((p) => ({ flavor_id: f['flavorid'], tenant_id: p })) };
  });
  app.post<{ Params: { id: string } }>('/flavors/:id/action', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-access:add_tenant_access');
    const body = req.body as Record<string, any>;
    const f = await get(req.params.id);
    if (body?.['addTenantAccess']) {
      if (f['is_public']) throw conflict('Can not add access to a public flavor.');
      if (!(await apiDb.flavorAddProject(api, f['id'], body['addTenantAccess']['tenant']))) throw conflict(`Flavor access already exists for flavor ${f['flavorid']} and project ${body['addTenantAccess']['tenant']} combination.`);
    } else if (body?.['removeTenantAccess']) {
      if (!(await apiDb.flavorRemoveProject(api, f['id'], body['removeTenantAccess']['tenant']))) throw notFound(`Flavor access not found for ${f['flavorid']} / ${body['removeTenantAccess']['tenant']} combination.`);
    } else if (body?.['update'] !== undefined) {
      if (!mv(req, '2.55')) throw new ApiError(404, 'The resource could not be found.');
      await apiDb.flavorUpdateDescription(api, f['id'], body['update']?.['description'] ?? null);
      return { flavor: flavorView(req, await get(req.params.id), true) };
    } else throw badRequest(`There is no such action: ${Object.keys(body ?? {})[0] ?? ''}`);
    return { flavor_access: (await apiDb.flavorProjects(api, f['id'])).map((p) => ({ flavor_id: f['flavorid'], tenant_id: p })) };
  });
}
