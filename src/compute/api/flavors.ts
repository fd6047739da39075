/**
 * /flavors (+ os-extra_specs, os-flavor-access): reads for everyone, writes for admins
 * (nova/api/openstack/compute/flavors*.py, flavor_access.py). 2.55 description (create, and
 * PUT /flavors/{id} to change it); 2.61 extra_specs in the flavor document; 2.75 swap 0 rather
 * than '' and unknown list parameters refused; 2.86 extra specs validated (extra-specs.ts).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { Database } from '../../common/db/connection.js';
import * as apiDb from '../db/api-api.js';
import { baseUrl, boolParam, bookmarkUrl, mv, requireAdmin } from './common.js';
import { validateExtraSpec } from './extra-specs.js';

/** CONF.api.max_limit. */
const MAX_LIMIT = 1000;
const MAX_INT = 0x7fffffff;
const positive = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, maximum: MAX_INT };
const nonNegative = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, maximum: MAX_INT };
const BOOLEAN = { type: ['boolean', 'string'], enum: [true, false, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] };
// valid_description_regex: printable characters (spaces allowed), no control or line/paragraph separators.
const DESCRIPTION = { type: ['string', 'null'], minLength: 0, maxLength: 65535, pattern: '^[^\\p{C}\\p{Zl}\\p{Zp}]*$' };
const flavorProps = {
  name: { type: 'string', minLength: 1, maxLength: 255, format: 'name' },
  id: { type: ['string', 'number', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
  ram: positive, vcpus: positive, disk: nonNegative, 'OS-FLV-EXT-DATA:ephemeral': nonNegative, swap: nonNegative,
  rxtx_factor: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$', exclusiveMinimum: 0, maximum: 3.40282e+38 },
  'os-flavor-access:is_public': BOOLEAN,
};
const createBody = (props: Record<string, unknown>) => ({
  type: 'object', required: ['flavor'], additionalProperties: false,
  properties: { flavor: { type: 'object', required: ['name', 'ram', 'vcpus', 'disk'], additionalProperties: false, properties: props } },
});
const CREATE: VersionedSchema[] = [
  { schema: createBody(flavorProps), max: '2.54' },
  { schema: createBody({ ...flavorProps, description: DESCRIPTION }), min: '2.55' },
];
const UPDATE = {
  type: 'object', required: ['flavor'], additionalProperties: false,
  properties: { flavor: { type: 'object', required: ['description'], additionalProperties: false, properties: { description: DESCRIPTION } } },
};
const SORT_KEYS = ['created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id', 'is_public', 'memory_mb', 'name', 'root_gb', 'rxtx_factor', 'swap', 'updated_at', 'vcpu_weight', 'vcpus'];
const strings = { type: 'array', items: { type: 'string' } };
const indexProps = {
  limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, marker: strings, is_public: strings, minRam: strings, minDisk: strings,
  sort_key: { type: 'array', items: { type: 'string', enum: SORT_KEYS } }, sort_dir: { type: 'array', items: { type: 'string', enum: ['asc', 'desc'] } },
};
const INDEX_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', properties: indexProps, additionalProperties: true }, max: '2.74' },
  { schema: { type: 'object', properties: indexProps, additionalProperties: false }, min: '2.75' },
];
const METADATA_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const specsMap = { type: 'object', patternProperties: { [METADATA_KEY]: { type: ['string', 'number'], maxLength: 255 } }, additionalProperties: false };
const SPECS_CREATE = { type: 'object', required: ['extra_specs'], additionalProperties: false, properties: { extra_specs: specsMap } };
const SPECS_UPDATE = { ...specsMap, minProperties: 1, maxProperties: 1 };

type Row = Record<string, any>;

/** views/flavors.py: `basic` (list) or `show` (detail), per microversion. */
export function flavorDocument(req: FastifyRequest, f: Row, detail: boolean, extraSpecs = mv(req, '2.61')): Record<string, unknown> {
  const links = [
    { rel: 'self', href: `${baseUrl(req)}/flavors/${f['flavorid']}` },
    { rel: 'bookmark', href: `${bookmarkUrl(req)}/flavors/${f['flavorid']}` },
  ];
  if (!detail) return { id: f['flavorid'], name: f['name'], links, ...(mv(req, '2.55') ? { description: f['description'] ?? null } : {}) };
  const v: Record<string, unknown> = {
    id: f['flavorid'], name: f['name'], ram: f['memory_mb'], disk: f['root_gb'], swap: f['swap'] || (mv(req, '2.75') ? 0 : ''),
    'OS-FLV-EXT-DATA:ephemeral': f['ephemeral_gb'] ?? 0, 'OS-FLV-DISABLED:disabled': Boolean(f['disabled']), vcpus: f['vcpus'],
    'os-flavor-access:is_public': Boolean(f['is_public']), rxtx_factor: f['rxtx_factor'] || '', links,
  };
  if (mv(req, '2.55')) v['description'] = f['description'] ?? null;
  if (extraSpecs) v['extra_specs'] = f['extra_specs'] ?? {};
  return v;
}

/** _check_extra_specs_value: numbers at most 255 characters; from 2.86 the validators. */
function checkSpecValues(req: FastifyRequest, specs: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(specs)) {
    if (typeof value === 'number' && String(value).length > 255) throw badRequest('Invalid input received: extra_specs value has more than 255 characters.');
    if (mv(req, '2.86')) validateExtraSpec(name, value);
  }
}

export function registerFlavors(app: FastifyInstance, api: Database): void {
  const get = async (id: string) => {
    const f = await apiDb.flavorGetByFlavorId(api, id);
    if (!f) throw notFound(`Flavor ${id} could not be found.`, { type: 'FlavorNotFound' });
    return f;
  };
  const listing = (detail: boolean) => async (req: FastifyRequest) => {
    const q = validateQuery(req, INDEX_QUERY);
    const last = (k: string) => q[k]?.[q[k].length - 1];
    let isPublic: boolean | null = true;
    if (req.ctx.isAdmin) {
      const ip = last('is_public');
      if (ip === undefined) isPublic = true;
      else if (ip.toLowerCase() === 'none') isPublic = null;
      else {
        const b = ['1', 't', 'true', 'on', 'y', 'yes'].includes(ip.toLowerCase()) ? true : ['0', 'f', 'false', 'off', 'n', 'no'].includes(ip.toLowerCase()) ? false : undefined;
        if (b === undefined) throw badRequest(`Invalid is_public filter [${ip}]`);
        isPublic = b;
      }
    }
    const minRam = last('minRam'), minDisk = last('minDisk');
    if (minRam !== undefined && !/^\s*[-+]?\d+\s*$/.test(minRam)) throw badRequest(`Invalid minRam filter [${minRam}]`);
    if (minDisk !== undefined && !/^\s*[-+]?\d+\s*$/.test(minDisk)) throw badRequest(`Invalid minDisk filter [${minDisk}]`);
    let rows = await apiDb.flavorList(api, {
      projectId: req.ctx.isAdmin ? null : req.ctx.projectId, isPublic: req.ctx.isAdmin ? isPublic : null,
      ...(minRam !== undefined ? { minRam: Number(minRam) } : {}), ...(minDisk !== undefined ? { minDisk: Number(minDisk) } : {}),
    });
    if (!req.ctx.isAdmin) rows = rows.filter((r) => !r['disabled']);
    const sortKey = last('sort_key') || 'flavorid';
    const dir = last('sort_dir') === 'desc' ? -1 : 1;
    const k = sortKey === 'id' ? 'flavorid' : sortKey === 'created_at' || sortKey === 'updated_at' ? 'id' : sortKey;
    rows.sort((a, b) => (a[k] < b[k] ? -dir : a[k] > b[k] ? dir : 0));
    const marker = last('marker');
    if (marker !== undefined) {
      const i = rows.findIndex((r) => r['flavorid'] === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(i + 1);
    }
    const limit = Math.min(MAX_LIMIT, last('limit') !== undefined ? Number(last('limit')) : MAX_LIMIT);
    rows = rows.slice(0, limit);
    const body: Record<string, unknown> = { flavors: rows.map((r) => flavorDocument(req, r, detail)) };
    // _get_collection_links: a next link when the page is full.
    if (limit && rows.length === limit) {
      const params = new URLSearchParams();
      const qs: Record<string, string[]> = { ...q, marker: [String(rows[rows.length - 1]!['flavorid'])] };
      for (const key of Object.keys(qs).sort()) for (const v of qs[key]!) params.append(key, v);
      body['flavors_links'] = [{ rel: 'next', href: `${baseUrl(req)}/flavors${detail ? '/detail' : ''}?${params.toString()}` }];
    }
    return body;
  };
  app.get('/flavors', listing(false));
  app.get('/flavors/detail', listing(true));
  app.get<{ Params: { id: string } }>('/flavors/:id', async (req) => ({ flavor: flavorDocument(req, await get(req.params.id), true) }));

  app.post('/flavors', async (req) => {
    const body = validateBody<{ flavor: Row }>(req, CREATE);
    requireAdmin(req, 'os_compute_api:os-flavor-manage:create');
    const f = body.flavor;
    const flavorid = f['id'] === undefined || f['id'] === null ? undefined : String(f['id']);
    if (await apiDb.flavorGetByName(api, f['name'])) throw conflict(`Flavor with name ${f['name']} already exists.`, { type: 'FlavorExists' });
    if (flavorid && (await apiDb.flavorGetByFlavorId(api, flavorid))) throw conflict(`Flavor with ID ${flavorid} already exists.`, { type: 'FlavorIdExists' });
    const row = await apiDb.flavorCreate(api, {
      name: f['name'], ...(flavorid ? { flavorid } : {}), memory_mb: Number(f['ram']), vcpus: Number(f['vcpus']), root_gb: Number(f['disk']),
      ephemeral_gb: Number(f['OS-FLV-EXT-DATA:ephemeral'] || 0), swap: Number(f['swap'] || 0), rxtx_factor: Number(f['rxtx_factor'] ?? 1),
      is_public: f['os-flavor-access:is_public'] === undefined ? true : Boolean(boolParam(f['os-flavor-access:is_public'])),
      description: mv(req, '2.55') ? (f['description'] ?? null) : null,
    });
    return { flavor: flavorDocument(req, { ...row, extra_specs: {} }, true) };
  });
  // 2.55: the description is the one thing that changes on a flavor.
  app.put<{ Params: { id: string } }>('/flavors/:id', async (req) => {
    if (!mv(req, '2.55')) throw notFound('The resource could not be found.');
    const body = validateBody<{ flavor: { description: string | null } }>(req, UPDATE);
    requireAdmin(req, 'os_compute_api:os-flavor-manage:update');
    const f = await get(req.params.id);
    await apiDb.flavorUpdateDescription(api, f['id'], body.flavor.description);
    return { flavor: flavorDocument(req, await get(req.params.id), true) };
  });
  app.delete<{ Params: { id: string } }>('/flavors/:id', async (req, reply) => {
    requireAdmin(req, 'os_compute_api:os-flavor-manage:delete');
    if (!(await apiDb.flavorDestroy(api, req.params.id))) throw notFound(`Flavor ${req.params.id} could not be found.`, { type: 'FlavorNotFound' });
    reply.code(202);
    return null;
  });

  // ---- extra specs ----
  app.get<{ Params: { id: string } }>('/flavors/:id/os-extra_specs', async (req) => ({ extra_specs: (await get(req.params.id))['extra_specs'] }));
  app.post<{ Params: { id: string } }>('/flavors/:id/os-extra_specs', async (req) => {
    const body = validateBody<{ extra_specs: Record<string, string | number> }>(req, SPECS_CREATE);
    requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:create');
    checkSpecValues(req, body.extra_specs);
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
    const body = validateBody<Record<string, string | number>>(req, SPECS_UPDATE);
    requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:update');
    checkSpecValues(req, body);
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

  // ---- access lists ----
  app.get<{ Params: { id: string } }>('/flavors/:id/os-flavor-access', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-access');
    const f = await get(req.params.id);
    if (f['is_public']) throw notFound('Access list not available for public flavors.', { type: 'FlavorAccessNotFound' });
    return { flavor_access: (await apiDb.flavorProjects(api, f['id'])).map((p) => ({ flavor_id: f['flavorid'], tenant_id: p })) };
  });
  app.post<{ Params: { id: string } }>('/flavors/:id/action', async (req) => {
    requireAdmin(req, 'os_compute_api:os-flavor-access:add_tenant_access');
    const body = req.body as Row;
    const f = await get(req.params.id);
    if (body?.['addTenantAccess']) {
      if (f['is_public']) throw conflict('Can not add access to a public flavor.');
      if (!(await apiDb.flavorAddProject(api, f['id'], body['addTenantAccess']['tenant']))) throw conflict(`Flavor access already exists for flavor ${f['flavorid']} and project ${body['addTenantAccess']['tenant']} combination.`);
    } else if (body?.['removeTenantAccess']) {
      if (!(await apiDb.flavorRemoveProject(api, f['id'], body['removeTenantAccess']['tenant']))) throw notFound(`Flavor access not found for ${f['flavorid']} / ${body['removeTenantAccess']['tenant']} combination.`);
    } else throw badRequest(`There is no such action: ${Object.keys(body ?? {})[0] ?? ''}`);
    return { flavor_access: (await apiDb.flavorProjects(api, f['id'])).map((p) => ({ flavor_id: f['flavorid'], tenant_id: p })) };
  });
}
