/**
 * `/v2/metadefs/...` routes and their `/v2/schemas/metadefs/...` documents.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MetadefChild, MetadefService } from '../metadefs.js';

type P = { ns: string; name: string; rt: string };
type R = FastifyRequest<{ Params: P; Querystring: Record<string, string> }>;

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const stamps = {
  created_at: str('Date and time of creation (READ-ONLY)', { readOnly: true, format: 'date-time' }),
  updated_at: str('Date and time of the last modification (READ-ONLY)', { readOnly: true, format: 'date-time' }),
};
const propertyBody = {
  name: { type: 'string', maxLength: 80 },
  title: { type: 'string' },
  description: { type: 'string' },
  operators: { type: 'array', items: { type: 'string' } },
  type: { type: 'string', enum: ['array', 'boolean', 'integer', 'number', 'object', 'string', null] },
  required: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
  minimum: { type: 'number' }, maximum: { type: 'number' }, maxLength: { type: 'integer', minimum: 0 },
  minLength: { type: 'integer', minimum: 0 }, pattern: { type: 'string', format: 'regex' },
  enum: { type: 'array' }, readonly: { type: 'boolean' }, default: {}, items: { type: 'object' },
  maxItems: { type: 'integer', minimum: 0 }, minItems: { type: 'integer', minimum: 0 }, uniqueItems: { type: 'boolean', default: false },
  additionalItems: { type: 'boolean' },
};
const single: Record<string, Record<string, unknown>> = {
  namespace: {
    name: 'namespace',
    properties: {
      namespace: str('The unique namespace text.', { maxLength: 80 }),
      display_name: str('The user friendly name for the namespace. Used by UI if available.', { maxLength: 80 }),
      description: str('Provides a user friendly description of the namespace.', { maxLength: 500 }),
      visibility: str('Scope of namespace accessibility.', { enum: ['public', 'private'] }),
      protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
      owner: str('Owner of the namespace.', { maxLength: 255 }),
      ...stamps,
      schema: { type: 'string', readOnly: true },
      self: { type: 'string', readOnly: true },
      resource_type_associations: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } } } },
      properties: { $ref: '#/definitions/property' },
      objects: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' }, required: { $ref: '#/definitions/stringArray' }, properties: { $ref: '#/definitions/property' } } } },
      tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
    additionalProperties: false,
    definitions: {
      positiveInteger: { type: 'integer', minimum: 0 },
      positiveIntegerDefault0: { allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }] },
      stringArray: { type: 'array', items: { type: 'string' }, uniqueItems: true },
      property: { type: 'object', additionalProperties: { type: 'object', required: ['title', 'type'], properties: propertyBody } },
    },
    required: ['namespace'],
    links: [{ rel: 'self', href: '{self}' }, { rel: 'describedby', href: '{schema}' }],
  },
  resource_type: {
    name: 'resource_type_association',
    properties: {
      name: str('Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html', { maxLength: 80 }),
      prefix: str('Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type.', { maxLength: 80 }),
      properties_target: str('Some resource types allow more than one key / value pair per instance.', { maxLength: 80 }),
      ...stamps,
    },
    additionalProperties: false,
    required: ['name'],
    links: [{ rel: 'self', href: '{self}' }, { rel: 'describedby', href: '{schema}' }],
  },
  object: {
    name: 'object',
    properties: {
      name: { type: 'string', maxLength: 80 },
      description: { type: 'string' },
      required: { $ref: '#/definitions/stringArray' },
      properties: { $ref: '#/definitions/property' },
      schema: { type: 'string', readOnly: true },
      self: { type: 'string', readOnly: true },
      ...stamps,
    },
    additionalProperties: false,
    required: ['name'],
    links: [{ rel: 'self', href: '{self}' }, { rel: 'describedby', href: '{schema}' }],
  },
  property: {
    name: 'property',
    properties: propertyBody,
    additionalProperties: false,
    required: ['name', 'title', 'type'],
  },
  tag: {
    name: 'tag',
    properties: { name: { type: 'string', maxLength: 255 }, ...stamps },
    additionalProperties: false,
    required: ['name'],
  },
};
const plural: Record<string, [string, string, string]> = {
  namespaces: ['namespaces', 'namespace', 'namespaces'],
  resource_types: ['resource_type_associations', 'resource_type', 'resource_type_associations'],
  objects: ['objects', 'object', 'objects'],
  properties: ['properties', 'property', 'properties'],
  tags: ['tags', 'tag', 'tags'],
};

export function registerMetadefRoutes(app: FastifyInstance, svc: MetadefService): void {
  for (const [path, schema] of Object.entries(single)) app.get(`/v2/schemas/metadefs/${path}`, async () => schema);
  for (const [path, [name, item, key]] of Object.entries(plural)) {
    app.get(`/v2/schemas/metadefs/${path}`, async () => ({
      name,
      properties: { [key]: { type: 'array', items: single[item] }, first: { type: 'string' }, next: { type: 'string' }, schema: { type: 'string' } },
      links: [{ rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' }],
    }));
  }

  const base = '/v2/metadefs/namespaces';
  app.get(base, async (req: R) => svc.listNamespaces(req.ctx, {
    ...(req.query['resource_types'] ? { resourceTypes: req.query['resource_types'].split(',') } : {}),
    ...(req.query['visibility'] ? { visibility: req.query['visibility'] } : {}),
  }));
  app.post(base, async (req: R, reply) => reply.code(201).send(await svc.createNamespace(req.ctx, req.body)));
  app.get(`${base}/:ns`, async (req: R) => svc.showNamespace(req.ctx, req.params.ns));
  app.put(`${base}/:ns`, async (req: R) => svc.updateNamespace(req.ctx, req.params.ns, req.body));
  app.delete(`${base}/:ns`, async (req: R, reply) => {
    await svc.deleteNamespace(req.ctx, req.params.ns);
    return reply.code(204).send();
  });

  app.get('/v2/metadefs/resource_types', async () => svc.listResourceTypes());
  app.get(`${base}/:ns/resource_types`, async (req: R) => svc.listAssociations(req.ctx, req.params.ns));
  app.post(`${base}/:ns/resource_types`, async (req: R, reply) => reply.code(201).send(await svc.associate(req.ctx, req.params.ns, req.body)));
  app.delete(`${base}/:ns/resource_types/:rt`, async (req: R, reply) => {
    await svc.dissociate(req.ctx, req.params.ns, req.params.rt);
    return reply.code(204).send();
  });

  for (const kind of ['objects', 'properties', 'tags'] as MetadefChild[]) {
    app.get(`${base}/:ns/${kind}`, async (req: R) => svc.listChildren(req.ctx, req.params.ns, kind));
    app.get(`${base}/:ns/${kind}/:name`, async (req: R) => svc.showChild(req.ctx, req.params.ns, kind, req.params.name));
    app.put(`${base}/:ns/${kind}/:name`, async (req: R) => svc.updateChild(req.ctx, req.params.ns, kind, req.params.name, req.body));
    app.delete(`${base}/:ns/${kind}/:name`, async (req: R, reply) => {
      await svc.deleteChild(req.ctx, req.params.ns, kind, req.params.name);
      return reply.code(204).send();
    });
    if (kind !== 'tags') {
      app.post(`${base}/:ns/${kind}`, async (req: R, reply) => reply.code(201).send(await svc.createChild(req.ctx, req.params.ns, kind, req.body)));
    }
  }
  // Tags: POST the collection replaces all, POST one name creates it, DELETE the collection clears.
  app.post(`${base}/:ns/tags`, async (req: R, reply) => reply.code(201).send(await svc.replaceTags(req.ctx, req.params.ns, req.body)));
  app.post(`${base}/:ns/tags/:name`, async (req: R, reply) =>
    reply.code(201).send(await svc.createChild(req.ctx, req.params.ns, 'tags', { name: req.params.name })));
  app.delete(`${base}/:ns/tags`, async (req: R, reply) => {
    await svc.deleteTags(req.ctx, req.params.ns);
    return reply.code(204).send();
  });
}
