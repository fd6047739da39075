/**
 * Metadata definitions (glance/api/v2/metadef_*.py): namespaces with their resource type
 * associations, objects, properties and tags. Reads follow glance's visibility (public
 * namespaces, or the caller's project's; admins see all); writes are admin-only, as glance's
 * default `*_metadef_*` policies.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Database } from '../common/db/connection.js';
import { fromJson, toJson } from '../common/db/index.js';
import type { RequestContext } from '../common/context.js';
import { ApiError } from '../common/errors.js';
import { isotime } from './api/views.js';

type Row = Record<string, any>;
type Json = Record<string, unknown>;
export type MetadefChild = 'objects' | 'properties' | 'tags';
const TABLE: Record<MetadefChild, string> = { objects: 'metadef_objects', properties: 'metadef_properties', tags: 'metadef_tags' };

const time = (v: unknown) => isotime(v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));

function requireBody(body: unknown): Json {
  if (body === undefined) throw new ApiError(400, 'Body expected in request.');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'Malformed JSON in request body.');
  return body as Json;
}
function requireName(b: Json, what: string): string {
  const n = b['name'];
  if (typeof n !== 'string' || n.trim() === '' || n.length > 80) {
    throw new ApiError(400, `Provided object does not match schema '${what}': 'name' is a required property`);
  }
  return n;
}

export class MetadefService {
  private readonly db: Kysely<any>;
  constructor(private readonly database: Database) {
    this.db = database.db as Kysely<any>;
  }

  private adminOnly(ctx: RequestContext, action: string): void {
    if (!ctx.isAdmin) throw new ApiError(403, `You are not authorized to complete ${action} action.`);
  }

  private visible(ctx: RequestContext, ns: Row): boolean {
    return ctx.isAdmin || ns['visibility'] === 'public' || (ctx.projectId !== null && ns['owner'] === ctx.projectId);
  }

  /** A namespace the caller may see, else glance's 404. */
  async namespaceRow(ctx: RequestContext, name: string): Promise<Row> {
    const ns = await this.db.selectFrom('metadef_namespaces').selectAll().where('namespace', '=', name).executeTakeFirst();
    if (!ns || !this.visible(ctx, ns)) throw new ApiError(404, `Metadata definition namespace=${name} was not found.`);
    return ns;
  }

  // ---- namespaces -------------------------------------------------------------------------------

  private namespaceView(ns: Row, extra: Json = {}): Json {
    const v: Json = {
      namespace: ns['namespace'],
      visibility: ns['visibility'],
      protected: ns['protected'] === true || ns['protected'] === 1,
      owner: ns['owner'],
      created_at: time(ns['created_at']),
      updated_at: time(ns['updated_at'] ?? ns['created_at']),
      self: `/v2/metadefs/namespaces/${ns['namespace']}`,
      schema: '/v2/schemas/metadefs/namespace',
      ...extra,
    };
    if (ns['display_name'] !== null) v['display_name'] = ns['display_name'];
    if (ns['description'] !== null) v['description'] = ns['description'];
    return v;
  }

  async listNamespaces(ctx: RequestContext, q: { resourceTypes?: string[]; visibility?: string }): Promise<Json> {
    let rows = (await this.db.selectFrom('metadef_namespaces').selectAll().orderBy('namespace').execute()).filter((n) => this.visible(ctx, n));
    if (q.visibility) rows = rows.filter((n) => n['visibility'] === q.visibility);
    const out: Json[] = [];
    for (const ns of rows) {
      const assoc = await this.associations(ns);
      if (q.resourceTypes?.length && !assoc.some((a) => q.resourceTypes!.includes(a['name'] as string))) continue;
      out.push(this.namespaceView(ns, assoc.length ? { resource_type_associations: assoc } : {}));
    }
    return { namespaces: out, first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' };
  }

  async showNamespace(ctx: RequestContext, name: string): Promise<Json> {
    const ns = await this.namespaceRow(ctx, name);
    const extra: Json = {};
    const assoc = await this.associations(ns);
    if (assoc.length) extra['resource_type_associations'] = assoc;
    const props = await this.childRows(ns, 'properties');
    if (props.length) extra['properties'] = Object.fromEntries(props.map((p) => [p['name'], fromJson(p['json_schema']) ?? {}]));
    const objs = await this.childRows(ns, 'objects');
    if (objs.length) extra['objects'] = objs.map((o) => this.childView(ns, 'objects', o));
    const tags = await this.childRows(ns, 'tags');
    if (tags.length) extra['tags'] = tags.map((t) => ({ name: t['name'] }));
    return this.namespaceView(ns, extra);
  }

  async createNamespace(ctx: RequestContext, body: unknown): Promise<Json> {
    this.adminOnly(ctx, 'add_metadef_namespace');
    const b = requireBody(body);
    const name = b['namespace'];
    if (typeof name !== 'string' || name.trim() === '' || name.length > 80) {
      throw new ApiError(400, "Provided object does not match schema 'namespace': 'namespace' is a required property");
    }
    const visibility = (b['visibility'] as string | undefined) ?? 'private';
    if (!['public', 'private'].includes(visibility)) {
      throw new ApiError(400, `Provided object does not match schema 'namespace': '${visibility}' is not one of ['public', 'private']`);
    }
    if (await this.db.selectFrom('metadef_namespaces').select('id').where('namespace', '=', name).executeTakeFirst()) {
      throw new ApiError(409, `A metadata definition namespace with name=${name} already exists.`);
    }
    const now = new Date();
    await this.database.transaction(async (trx) => {
      await (trx as Kysely<any>).insertInto('metadef_namespaces').values({
        namespace: name, display_name: (b['display_name'] as string | undefined) ?? null, description: (b['description'] as string | undefined) ?? null,
        visibility, protected: b['protected'] === true, owner: (b['owner'] as string | undefined) ?? ctx.projectId ?? '', created_at: now, updated_at: now,
      }).execute();
    });
    const ns = await this.namespaceRow(ctx, name);
    for (const a of (b['resource_type_associations'] as Json[] | undefined) ?? []) await this.associate(ctx, name, a);
    for (const [pname, schema] of Object.entries((b['properties'] as Json | undefined) ?? {})) {
      await this.createChild(ctx, name, 'properties', { ...(schema as Json), name: pname });
    }
    for (const o of (b['objects'] as Json[] | undefined) ?? []) await this.createChild(ctx, name, 'objects', o);
    for (const t of (b['tags'] as Json[] | undefined) ?? []) await this.createChild(ctx, name, 'tags', t);
    void ns;
    return this.showNamespace(ctx, name);
  }

  async updateNamespace(ctx: RequestContext, name: string, body: unknown): Promise<Json> {
    this.adminOnly(ctx, 'modify_metadef_namespace');
    const b = requireBody(body);
    const ns = await this.namespaceRow(ctx, name);
    const set: Row = { updated_at: new Date() };
    for (const k of ['namespace', 'display_name', 'description', 'visibility', 'owner'] as const) if (k in b) set[k] = b[k];
    if ('protected' in b) set['protected'] = b['protected'] === true;
    if (set['visibility'] !== undefined && !['public', 'private'].includes(set['visibility'])) {
      throw new ApiError(400, `Provided object does not match schema 'namespace': '${set['visibility']}' is not one of ['public', 'private']`);
    }
    if (set['namespace'] !== undefined && set['namespace'] !== name &&
      (await this.db.selectFrom('metadef_namespaces').select('id').where('namespace', '=', set['namespace']).executeTakeFirst())) {
      throw new ApiError(409, `A metadata definition namespace with name=${set['namespace']} already exists.`);
    }
    await this.db.updateTable('metadef_namespaces').set(set).where('id', '=', ns['id']).execute();
    return this.namespaceView((await this.db.selectFrom('metadef_namespaces').selectAll().where('id', '=', ns['id']).executeTakeFirst())!);
  }

  async deleteNamespace(ctx: RequestContext, name: string): Promise<void> {
    this.adminOnly(ctx, 'delete_metadef_namespace');
    const ns = await this.namespaceRow(ctx, name);
    if (ns['protected'] === true || ns['protected'] === 1) {
      throw new ApiError(403, `Namespace ${name} is protected and cannot be deleted.`);
    }
    await this.database.transaction(async (trx) => {
      const t = trx as Kysely<any>;
      for (const table of [...Object.values(TABLE), 'metadef_namespace_resource_types']) await t.deleteFrom(table).where('namespace_id', '=', ns['id']).execute();
      await t.deleteFrom('metadef_namespaces').where('id', '=', ns['id']).execute();
    });
  }

  // ---- resource types ---------------------------------------------------------------------------

  async listResourceTypes(): Promise<Json> {
    const rows = await this.db.selectFrom('metadef_resource_types').selectAll().orderBy('id').execute();
    return { resource_types: rows.map((r) => ({ name: r['name'], created_at: time(r['created_at']), updated_at: time(r['updated_at'] ?? r['created_at']) })) };
  }

  private async associations(ns: Row): Promise<Json[]> {
    const rows = await this.db
      .selectFrom('metadef_namespace_resource_types as a')
      .innerJoin('metadef_resource_types as r', 'r.id', 'a.resource_type_id')
      .select(['r.name', 'a.prefix', 'a.properties_target', 'a.created_at', 'a.updated_at'])
      .where('a.namespace_id', '=', ns['id'])
      .orderBy('r.name')
      .execute();
    return rows.map((r) => {
      const v: Json = { name: r['name'], created_at: time(r['created_at']), updated_at: time(r['updated_at'] ?? r['created_at']) };
      if (r['prefix'] !== null) v['prefix'] = r['prefix'];
      if (r['properties_target'] !== null) v['properties_target'] = r['properties_target'];
      return v;
    });
  }

  async listAssociations(ctx: RequestContext, name: string): Promise<Json> {
    return { resource_type_associations: await this.associations(await this.namespaceRow(ctx, name)) };
  }

  async associate(ctx: RequestContext, name: string, body: unknown): Promise<Json> {
    this.adminOnly(ctx, 'add_metadef_resource_type_association');
    const b = requireBody(body);
    const rtName = requireName(b, 'resource_type_association');
    const ns = await this.namespaceRow(ctx, name);
    const now = new Date();
    let rt = await this.db.selectFrom('metadef_resource_types').selectAll().where('name', '=', rtName).executeTakeFirst();
    if (!rt) {
      await this.db.insertInto('metadef_resource_types').values({ name: rtName, protected: false, created_at: now, updated_at: now }).execute();
      rt = (await this.db.selectFrom('metadef_resource_types').selectAll().where('name', '=', rtName).executeTakeFirst())!;
    }
    const exists = await this.db.selectFrom('metadef_namespace_resource_types').select('namespace_id')
      .where('namespace_id', '=', ns['id']).where('resource_type_id', '=', rt['id']).executeTakeFirst();
    if (exists) throw new ApiError(409, `The metadata definition resource-type association of resource-type=${rtName} to namespace=${name}, already exists.`);
    await this.db.insertInto('metadef_namespace_resource_types').values({
      namespace_id: ns['id'], resource_type_id: rt['id'], prefix: (b['prefix'] as string | undefined) ?? null,
      properties_target: (b['properties_target'] as string | undefined) ?? null, created_at: now, updated_at: now,
    }).execute();
    return (await this.associations(ns)).find((a) => a['name'] === rtName)!;
  }

  async dissociate(ctx: RequestContext, name: string, rtName: string): Promise<void> {
    this.adminOnly(ctx, 'remove_metadef_resource_type_association');
    const ns = await this.namespaceRow(ctx, name);
    const rt = await this.db.selectFrom('metadef_resource_types').select('id').where('name', '=', rtName).executeTakeFirst();
    const res = rt
      ? await this.db.deleteFrom('metadef_namespace_resource_types').where('namespace_id', '=', ns['id']).where('resource_type_id', '=', rt['id']).executeTakeFirst()
      : undefined;
    if (!res || Number(res.numDeletedRows) === 0) {
      throw new ApiError(404, `The metadata definition resource-type association of resource-type=${rtName} to namespace=${name}, was not found.`);
    }
  }

  // ---- objects, properties, tags ----------------------------------------------------------------

  private childRows(ns: Row, kind: MetadefChild): Promise<Row[]> {
    return this.db.selectFrom(TABLE[kind]).selectAll().where('namespace_id', '=', ns['id']).orderBy('name').execute();
  }

  private childView(ns: Row, kind: MetadefChild, r: Row): Json {
    const stamps = { created_at: time(r['created_at']), updated_at: time(r['updated_at'] ?? r['created_at']) };
    if (kind === 'tags') return { name: r['name'], ...stamps };
    if (kind === 'properties') return { ...(fromJson<Json>(r['json_schema']) ?? {}), name: r['name'] };
    const v: Json = { name: r['name'], properties: fromJson<Json>(r['json_schema']) ?? {}, required: fromJson<string[]>(r['required']) ?? [], ...stamps };
    if (r['description'] !== null) v['description'] = r['description'];
    v['self'] = `/v2/metadefs/namespaces/${ns['namespace']}/objects/${r['name']}`;
    v['schema'] = 'v2/schemas/metadefs/object';
    return v;
  }

  private childValues(kind: MetadefChild, b: Json): Row {
    if (kind === 'objects') {
      return { description: (b['description'] as string | undefined) ?? null, required: toJson(b['required'] ?? []), json_schema: toJson(b['properties'] ?? {}) };
    }
    if (kind === 'properties') {
      const { name: _n, ...schema } = b;
      if (typeof schema['title'] !== 'string' || typeof schema['type'] !== 'string') {
        throw new ApiError(400, "Provided object does not match schema 'property': 'title' and 'type' are required properties");
      }
      return { json_schema: toJson(schema) };
    }
    return {};
  }

  private notFound(kind: MetadefChild, child: string, ns: string): ApiError {
    const what = { objects: 'object', properties: 'property', tags: 'tag' }[kind];
    return new ApiError(404, `The metadata definition ${what} with name=${child} was not found in namespace=${ns}.`);
  }

  async listChildren(ctx: RequestContext, name: string, kind: MetadefChild): Promise<Json> {
    const ns = await this.namespaceRow(ctx, name);
    const rows = await this.childRows(ns, kind);
    if (kind === 'properties') return { properties: Object.fromEntries(rows.map((r) => [r['name'], this.childView(ns, kind, r)])) };
    if (kind === 'objects') return { objects: rows.map((r) => this.childView(ns, kind, r)), schema: 'v2/schemas/metadefs/objects' };
    return { tags: rows.map((r) => this.childView(ns, kind, r)) };
  }

  async showChild(ctx: RequestContext, name: string, kind: MetadefChild, child: string): Promise<Json> {
    const ns = await this.namespaceRow(ctx, name);
    const r = await this.db.selectFrom(TABLE[kind]).selectAll().where('namespace_id', '=', ns['id']).where('name', '=', child).executeTakeFirst();
    if (!r) throw this.notFound(kind, child, name);
    return this.childView(ns, kind, r);
  }

  async createChild(ctx: RequestContext, name: string, kind: MetadefChild, body: unknown): Promise<Json> {
    this.adminOnly(ctx, `add_metadef_${kind === 'properties' ? 'property' : kind.slice(0, -1)}`);
    const b = requireBody(body);
    const child = requireName(b, kind === 'properties' ? 'property' : kind.slice(0, -1));
    const ns = await this.namespaceRow(ctx, name);
    if (await this.db.selectFrom(TABLE[kind]).select('id').where('namespace_id', '=', ns['id']).where('name', '=', child).executeTakeFirst()) {
      const what = { objects: 'object', properties: 'property', tags: 'tag' }[kind];
      throw new ApiError(409, `A metadata definition ${what} with name=${child} already exists in namespace=${name}.`);
    }
    const now = new Date();
    await this.db.insertInto(TABLE[kind]).values({ namespace_id: ns['id'], name: child, ...this.childValues(kind, b), created_at: now, updated_at: now }).execute();
    return this.showChild(ctx, name, kind, child);
  }

  async updateChild(ctx: RequestContext, name: string, kind: MetadefChild, child: string, body: unknown): Promise<Json> {
    this.adminOnly(ctx, `modify_metadef_${kind === 'properties' ? 'property' : kind.slice(0, -1)}`);
    const b = requireBody(body);
    const newName = requireName(b, kind === 'properties' ? 'property' : kind.slice(0, -1));
    const ns = await this.namespaceRow(ctx, name);
    const r = await this.db.selectFrom(TABLE[kind]).select('id').where('namespace_id', '=', ns['id']).where('name', '=', child).executeTakeFirst();
    if (!r) throw this.notFound(kind, child, name);
    await this.db.updateTable(TABLE[kind]).set({ name: newName, ...this.childValues(kind, b), updated_at: new Date() }).where('id', '=', r['id']).execute();
    return this.showChild(ctx, name, kind, newName);
  }

  async deleteChild(ctx: RequestContext, name: string, kind: MetadefChild, child: string): Promise<void> {
    this.adminOnly(ctx, `delete_metadef_${kind === 'properties' ? 'property' : kind.slice(0, -1)}`);
    const ns = await this.namespaceRow(ctx, name);
    const res = await this.db.deleteFrom(TABLE[kind]).where('namespace_id', '=', ns['id']).where('name', '=', child).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw this.notFound(kind, child, name);
  }

  /** `POST .../tags` replaces every tag of the namespace; `DELETE .../tags` removes them all. */
  async replaceTags(ctx: RequestContext, name: string, body: unknown): Promise<Json> {
    this.adminOnly(ctx, 'add_metadef_tags');
    const b = requireBody(body);
    const tags = b['tags'];
    if (!Array.isArray(tags)) throw new ApiError(400, "Provided object does not match schema 'tags': 'tags' is a required property");
    const names = tags.map((t) => requireName(t as Json, 'tag'));
    if (new Set(names).size !== names.length) throw new ApiError(409, `A metadata tag with name=${names.find((n, i) => names.indexOf(n) !== i)} already exists in namespace=${name}.`);
    const ns = await this.namespaceRow(ctx, name);
    const now = new Date();
    await this.database.transaction(async (trx) => {
      const t = trx as Kysely<any>;
      await t.deleteFrom('metadef_tags').where('namespace_id', '=', ns['id']).execute();
      for (const n of names) await t.insertInto('metadef_tags').values({ namespace_id: ns['id'], name: n, created_at: now, updated_at: now }).execute();
    });
    return { tags: names.map((n) => ({ name: n })) };
  }

  async deleteTags(ctx: RequestContext, name: string): Promise<void> {
    this.adminOnly(ctx, 'delete_metadef_tags');
    const ns = await this.namespaceRow(ctx, name);
    await this.db.deleteFrom('metadef_tags').where('namespace_id', '=', ns['id']).execute();
  }
}
