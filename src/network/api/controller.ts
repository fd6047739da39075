/**
 * The generic REST controller of Neutron's v2 API (neutron/api/v2/base.py): request bodies
 * checked against the resource's attribute map (unknown, read-only and admin-only attributes,
 * defaults, converters, validators, in that order), bulk creates that are all-or-nothing,
 * `fields`, filters, sorting and marker pagination with `<collection>_links`.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../common/context.js';
import { isApiError } from '../../common/errors.js';
import * as X from '../common/exceptions.js';
import { NOT_SPECIFIED, REQUIRED, RESOURCES, type AttrDef } from './attributes.js';
import { toBoolean } from './validators.js';
import type { ListOptions, SortSpec } from '../plugin/dbutil.js';
import type { Dict, ListResult } from '../plugin/core.js';

export interface ResourceOps {
  list(ctx: RequestContext, opts: ListOptions): Promise<ListResult>;
  get(ctx: RequestContext, id: string): Promise<Dict>;
  create?(ctx: RequestContext, body: Dict): Promise<Dict>;
  /** When the plugin does bulk natively (security group rules). */
  createBulk?(ctx: RequestContext, bodies: Dict[]): Promise<Dict[]>;
  update?(ctx: RequestContext, id: string, body: Dict): Promise<Dict>;
  delete?(ctx: RequestContext, id: string): Promise<void>;
}

const RESERVED_QUERY = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

/** Turns one request item into the attribute dict the plugin expects (defaults filled, values converted). */
export function prepareBody(ctx: RequestContext, resource: string, item: unknown, create: boolean): Dict {
  const attrs = RESOURCES[resource]!.attrs;
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw X.HTTPBadRequest(`Object '${resource}' contains invalid data`);
  const body = item as Dict;
  const unknown = Object.keys(body).filter((k) => !(k in attrs));
  if (unknown.length) throw X.HTTPBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const out: Dict = {};
  for (const [name, def] of Object.entries(attrs)) {
    const given = name in body;
    if (given) {
      if (create && !def.post) throw X.HTTPBadRequest(`Attribute '${name}' not allowed in POST`);
      if (!create && !def.put) throw X.HTTPBadRequest(`Cannot update read-only attribute ${name}`);
      if (def.adminSet && !ctx.isAdmin) throw X.PolicyNotAuthorized(`${create ? 'create' : 'update'}_${resource}:${name}`);
      out[name] = convertAndValidate(name, def, body[name]);
    } else if (create && def.post) {
      if (def.default === REQUIRED) throw X.HTTPBadRequest(`Failed to parse request. Required attribute '${name}' not specified`);
      if (def.default !== undefined) out[name] = def.default === NOT_SPECIFIED ? NOT_SPECIFIED : structuredClone(def.default);
    }
  }
  if (create && 'tenant_id' in body && 'project_id' in body && body['tenant_id'] !== body['project_id']) {
    throw X.HTTPBadRequest("'project_id' and 'tenant_id' do not match");
  }
  return out;
}

function convertAndValidate(name: string, def: AttrDef, value: unknown): unknown {
  let v = value;
  if (def.convert) v = def.convert(v);
  if (def.validate) {
    const msg = def.validate(v);
    if (msg) throw X.HTTPBadRequest(`Invalid input for ${name}. Reason: ${msg}.`);
  }
  return v;
}

/** Hides what the caller may not see and keeps only `fields` when asked. */
export function present(ctx: RequestContext, resource: string, item: Dict, fields: string[] | null): Dict {
  const attrs = RESOURCES[resource]!.attrs;
  const out: Dict = {};
  for (const [k, v] of Object.entries(item)) {
    const def = attrs[k];
    if (def && (!def.visible || (def.adminVisible && !ctx.isAdmin))) continue;
    if (fields && !fields.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

function asList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Query string -> ListOptions (filters converted like Neutron's `convert_to` for each attribute). */
export function parseListQuery(resource: string, query: Dict): { opts: ListOptions; fields: string[] | null } {
  const attrs = RESOURCES[resource]!.attrs;
  const filters: Record<string, unknown[]> = {};
  for (const [k, raw] of Object.entries(query)) {
    if (RESERVED_QUERY.has(k)) continue;
    const def = attrs[k];
    const vals = asList(raw);
    if (k === 'fixed_ips') {
      filters[k] = vals.map((v) => {
        const eq = v.indexOf('=');
        if (eq < 0) throw X.InvalidInput(`'${v}' is not of the form <key>=[value]`);
        return { [v.slice(0, eq)]: v.slice(eq + 1) };
      });
      continue;
    }
    if (!def && k !== 'alive') continue;
    filters[k] = vals.map((v) => {
      if (v === '' && def?.convert) return null;
      if (def?.convert === toBoolean || k === 'alive' || (def?.convert as any)?.name === 'toBoolean') return toBoolean(v);
      if (def?.convert && /^-?\d+$/.test(v)) return def.convert(v);
      if (['ip_version', 'mtu', 'port_range_min', 'port_range_max', 'revision_number', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen'].includes(k)) {
        return /^-?\d+$/.test(v) ? Number(v) : v;
      }
      return v;
    });
  }
  const keys = asList(query['sort_key']);
  const dirs = asList(query['sort_dir']);
  if (dirs.length && dirs.length !== keys.length) throw X.HTTPBadRequest('The number of sort_keys and sort_dirs must be same');
  const sorts: SortSpec[] = keys.map((key, idx) => {
    if (!attrs[key]) throw X.HTTPBadRequest(`${key} is invalid attribute for sort_key`);
    const dir = dirs[idx] ?? 'asc';
    if (dir !== 'asc' && dir !== 'desc') throw X.HTTPBadRequest(`${dir} is invalid input for sort_dir`);
    return { key, dir };
  });
  let limit: number | null = null;
  if (query['limit'] !== undefined) {
    const l = asList(query['limit'])[0]!;
    if (!/^\d+$/.test(l)) throw X.HTTPBadRequest(`Limit must be an integer 0 or greater and not '${l}'`);
    limit = Number(l) === 0 ? null : Number(l);
  }
  const marker = query['marker'] !== undefined ? asList(query['marker'])[0]! : null;
  const pageReverse = query['page_reverse'] !== undefined ? toBoolean(asList(query['page_reverse'])[0]) : false;
  const tagFilters = {
    tags: splitTags(query['tags']), tagsAny: splitTags(query['tags-any']), notTags: splitTags(query['not-tags']), notTagsAny: splitTags(query['not-tags-any']),
  };
  const fields = query['fields'] !== undefined ? asList(query['fields']).flatMap((f) => f.split(',')).filter(Boolean) : null;
  return { opts: { filters, sorts, limit, marker, pageReverse, tagFilters }, fields };
}

function splitTags(v: unknown): string[] {
  return asList(v).flatMap((t) => t.split(',')).filter(Boolean);
}

function linkBase(req: FastifyRequest): string {
  const host = req.headers.host ?? 'localhost';
  return `${req.protocol}://${host}${req.url.split('?')[0]}`;
}

function pageLinks(req: FastifyRequest, items: Dict[], more: boolean, opts: ListOptions): Dict[] {
  if (opts.limit === null) return [];
  const links: Dict[] = [];
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query as Dict)) {
    if (k === 'marker' || k === 'page_reverse') continue;
    for (const x of asList(v)) q.append(k, x);
  }
  const base = linkBase(req);
  const last = items[items.length - 1];
  const first = items[0];
  const hasNext = opts.pageReverse ? !!opts.marker : more;
  const hasPrev = opts.pageReverse ? more : !!opts.marker;
  if (hasNext && last) {
    const n = new URLSearchParams(q);
    n.set('marker', last['id']);
    links.push({ rel: 'next', href: `${base}?${n.toString()}` });
  }
  if (hasPrev && first) {
    const p = new URLSearchParams(q);
    p.set('marker', first['id']);
    p.set('page_reverse', 'True');
    links.push({ rel: 'previous', href: `${base}?${p.toString()}` });
  }
  return links;
}

/** Mounts list/show/create/update/delete of one resource under `prefix/<collection>`. */
export function mountResource(app: FastifyInstance, prefix: string, resource: string, ops: ResourceOps, pathName?: string): void {
  const collection = RESOURCES[resource]!.collection;
  const path = `${prefix}/${pathName ?? collection}`;

  app.get(path, async (req: FastifyRequest) => {
    const { opts, fields } = parseListQuery(resource, req.query as Dict);
    const { items, more } = await ops.list(req.ctx, { ...opts, fields });
    const body: Dict = { [collection]: items.map((it) => present(req.ctx, resource, it, fields)) };
    const links = pageLinks(req, items, more, opts);
    if (links.length) body[`${collection}_links`] = links;
    return body;
  });

  app.get(`${path}/:id`, async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    const { fields } = parseListQuery(resource, req.query as Dict);
    return { [resource]: present(req.ctx, resource, await ops.get(req.ctx, id), fields) };
  });

  if (ops.create || ops.createBulk) {
    app.post(path, async (req: FastifyRequest, reply: FastifyReply) => {
      const body = req.body as Dict | undefined;
      if (!body || typeof body !== 'object') throw X.HTTPBadRequest('Resource body required');
      if (collection in body) {
        const items = body[collection];
        if (!Array.isArray(items) || items.length === 0) throw X.HTTPBadRequest('Resources required');
        const prepared = items.map((it) => prepareBody(req.ctx, resource, it, true));
        const created = await createBulk(req.ctx, ops, prepared);
        reply.code(201);
        return { [collection]: created.map((c) => present(req.ctx, resource, c, null)) };
      }
      if (!(resource in body)) throw X.HTTPBadRequest(`Unable to find '${resource}' in request body`);
      const prepared = prepareBody(req.ctx, resource, body[resource], true);
      const created = ops.create ? await ops.create(req.ctx, prepared) : (await ops.createBulk!(req.ctx, [prepared]))[0]!;
      reply.code(201);
      return { [resource]: present(req.ctx, resource, created, null) };
    });
  }

  if (ops.update) {
    app.put(`${path}/:id`, async (req: FastifyRequest) => {
      const { id } = req.params as { id: string };
      const body = req.body as Dict | undefined;
      if (!body || typeof body !== 'object') throw X.HTTPBadRequest('Resource body required');
      if (!(resource in body)) throw X.HTTPBadRequest(`Unable to find '${resource}' in request body`);
      const prepared = prepareBody(req.ctx, resource, body[resource], false);
      return { [resource]: present(req.ctx, resource, await ops.update!(req.ctx, id, prepared), null) };
    });
  }

  if (ops.delete) {
    app.delete(`${path}/:id`, async (req: FastifyRequest, reply: FastifyReply) => {
      const { id } = req.params as { id: string };
      await ops.delete!(req.ctx, id);
      reply.code(204);
      return reply.send();
    });
  }
}

/** All-or-nothing bulk create (Neutron's emulated bulk): undo what was made when one fails. */
async function createBulk(ctx: RequestContext, ops: ResourceOps, items: Dict[]): Promise<Dict[]> {
  if (ops.createBulk) return ops.createBulk(ctx, items);
  const done: Dict[] = [];
  try {
    for (const it of items) done.push(await ops.create!(ctx, it));
    return done;
  } catch (e) {
    for (const d of done.reverse()) {
      try {
        await ops.delete?.(ctx.elevated(), d['id']);
      } catch (err) {
        if (!isApiError(err)) throw err;
      }
    }
    throw e;
  }
}
