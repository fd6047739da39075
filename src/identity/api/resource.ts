/** /v3/domains and /v3/projects (with tags). @module */
import type { FastifyInstance } from 'fastify';
import type { Domain, Project } from '../core/resource.js';
import { DEFAULT_DOMAIN_ID } from '../core/resource.js';
import { authorize, checkBody, DESCRIPTION, ENABLED, listBody, NAME, query, queryBool, selfLink, TAGS, ID, type ApiDeps } from './common.js';
import { notFoundError, validationError } from '../util.js';

export function renderDomain(d: ApiDeps, x: Domain): Record<string, unknown> {
  return { id: x.id, name: x.name, description: x.description, enabled: x.enabled, tags: x.tags, options: x.options, links: selfLink(d, `domains/${x.id}`) };
}

export function renderProject(d: ApiDeps, p: Project): Record<string, unknown> {
  return { ...p, links: selfLink(d, `projects/${p.id}`) };
}

const PROJECT_NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;

const domainCreate = {
  type: 'object',
  properties: {
    domain: {
      type: 'object',
      properties: { name: PROJECT_NAME, description: DESCRIPTION, enabled: ENABLED, tags: TAGS, explicit_domain_id: ID, options: { type: 'object' } },
      required: ['name'],
    },
  },
  required: ['domain'],
};
const domainUpdate = {
  type: 'object',
  properties: {
    domain: { type: 'object', properties: { name: PROJECT_NAME, description: DESCRIPTION, enabled: ENABLED, tags: TAGS, options: { type: 'object' } }, minProperties: 1 },
  },
  required: ['domain'],
};
const projectCreate = {
  type: 'object',
  properties: {
    project: {
      type: 'object',
      properties: {
        name: PROJECT_NAME,
        description: DESCRIPTION,
        enabled: ENABLED,
        domain_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        parent_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        is_domain: { type: 'boolean' },
        tags: TAGS,
        options: { type: 'object' },
      },
      required: ['name'],
    },
  },
  required: ['project'],
};
const projectUpdate = {
  type: 'object',
  properties: {
    project: {
      type: 'object',
      properties: { name: PROJECT_NAME, description: DESCRIPTION, enabled: ENABLED, tags: TAGS, options: { type: 'object' }, domain_id: { not: {} }, is_domain: { not: {} }, parent_id: { not: {} } },
      minProperties: 1,
    },
  },
  required: ['project'],
};
const tagsBody = { type: 'object', properties: { tags: TAGS }, required: ['tags'] };

const PROJECT_CORE = new Set(['name', 'description', 'enabled', 'domain_id', 'parent_id', 'is_domain', 'tags', 'options', 'id', 'links']);
const extraOf = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !PROJECT_CORE.has(k)));
const splitList = (v: string | undefined) => (v === undefined ? undefined : v.split(',').filter(Boolean));

/** Deleting a (disabled) domain deletes what it owns: projects, users, groups, domain roles. */
export async function deleteDomainCascade(d: ApiDeps, id: string): Promise<void> {
  const dom = await d.resource.getDomain(id);
  if (dom.enabled) return d.resource.deleteDomain(id); // refuses with 403
  for (const u of await d.identity.listUsers({ domain_id: id })) {
    await d.identity.deleteUser(u.id);
    await d.revoke.revoke({ user_id: u.id });
  }
  for (const g of await d.identity.listGroups({ domain_id: id })) await d.identity.deleteGroup(g.id);
  for (const r of await d.assignment.listRoles({ domain_id: id })) await d.assignment.deleteRole(r.id);
  await d.resource.deleteDomain(id);
  d.tokens.invalidate();
}

export function registerResource(app: FastifyInstance, d: ApiDeps): void {
  // ---- domains
  app.get('/v3/domains', async (req) => {
    await authorize(d, req, 'identity:list_domains');
    const q = query(req);
    const list = await d.resource.listDomains({ name: q['name'], enabled: queryBool(q['enabled']) });
    return listBody(d, req, 'domains', list.map((x) => renderDomain(d, x)));
  });
  app.get<{ Params: { id: string } }>('/v3/domains/:id', async (req) => {
    await authorize(d, req, 'identity:get_domain', { target: { domain: { id: req.params.id } } });
    return { domain: renderDomain(d, await d.resource.getDomain(req.params.id)) };
  });
  app.post('/v3/domains', async (req, reply) => {
    await authorize(d, req, 'identity:create_domain');
    const b = checkBody<{ domain: Record<string, any> }>(domainCreate, req.body).domain;
    const x = await d.resource.createDomain({ id: b['explicit_domain_id'], name: b['name'], description: b['description'] ?? '', enabled: b['enabled'], tags: b['tags'] });
    reply.code(201);
    return { domain: renderDomain(d, x) };
  });
  app.patch<{ Params: { id: string } }>('/v3/domains/:id', async (req) => {
    await authorize(d, req, 'identity:update_domain', { target: { domain: { id: req.params.id } } });
    const b = checkBody<{ domain: Record<string, any> }>(domainUpdate, req.body).domain;
    if (req.params.id === DEFAULT_DOMAIN_ID && b['enabled'] === false) throw validationError('The default domain cannot be disabled.');
    return { domain: renderDomain(d, await d.resource.updateDomain(req.params.id, b)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/domains/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_domain', { target: { domain: { id: req.params.id } } });
    await deleteDomainCascade(d, req.params.id);
    reply.code(204);
    return '';
  });

  // ---- projects
  app.get('/v3/projects', async (req) => {
    const q = query(req);
    await authorize(d, req, 'identity:list_projects', { target: { domain_id: q['domain_id'] } , domain_id: q['domain_id'] });
    const list = await d.resource.listProjects({
      domain_id: q['domain_id'],
      name: q['name'],
      enabled: queryBool(q['enabled']),
      parent_id: q['parent_id'],
      tags: splitList(q['tags']),
      tags_any: splitList(q['tags-any']),
      not_tags: splitList(q['not-tags']),
      not_tags_any: splitList(q['not-tags-any']),
      is_domain: queryBool(q['is_domain']) === true,
    });
    return listBody(d, req, 'projects', list.map((p) => renderProject(d, p)));
  });
  app.get<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    const p = await d.resource.findProject(req.params.id);
    await authorize(d, req, 'identity:get_project', { target: { project: { id: req.params.id, domain_id: p?.domain_id } } });
    return { project: renderProject(d, await d.resource.getProject(req.params.id)) };
  });
  app.post('/v3/projects', async (req, reply) => {
    const b = checkBody<{ project: Record<string, any> }>(projectCreate, req.body).project;
    await authorize(d, req, 'identity:create_project', { target: { project: b } });
    if (b['is_domain'] === true) {
      // a project acting as a domain is a domain
      if (b['parent_id'] || b['domain_id']) throw validationError('A project acting as a domain cannot have a parent or a domain.');
      const dom = await d.resource.createDomain({ name: b['name'], description: b['description'] ?? '', enabled: b['enabled'], tags: b['tags'] });
      reply.code(201);
      return { project: renderProject(d, await d.resource.getProject(dom.id)) };
    }
    const p = await d.resource.createProject({
      name: b['name'],
      domain_id: b['domain_id'] ?? undefined,
      parent_id: b['parent_id'] ?? null,
      description: b['description'] ?? '',
      enabled: b['enabled'],
      tags: b['tags'],
      extra: extraOf(b),
    });
    reply.code(201);
    return { project: renderProject(d, p) };
  });
  app.patch<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    await authorize(d, req, 'identity:update_project', { target: { project: { id: req.params.id } } });
    const b = checkBody<{ project: Record<string, any> }>(projectUpdate, req.body).project;
    const extra = extraOf(b);
    return { project: renderProject(d, await d.resource.updateProject(req.params.id, { ...b, extra: Object.keys(extra).length ? extra : undefined })) };
  });
  app.delete<{ Params: { id: string } }>('/v3/projects/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_project', { target: { project: { id: req.params.id } } });
    const p = await d.resource.getProject(req.params.id);
    if (p.is_domain) await deleteDomainCascade(d, p.id);
    else await d.resource.deleteProject(req.params.id);
    reply.code(204);
    return '';
  });

  // ---- project tags
  app.get<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req) => {
    await authorize(d, req, 'identity:list_project_tags', { target: { project: { id: req.params.id } } });
    return { tags: (await d.resource.getProject(req.params.id)).tags };
  });
  app.put<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req) => {
    await authorize(d, req, 'identity:update_project_tags', { target: { project: { id: req.params.id } } });
    const b = checkBody<{ tags: string[] }>(tagsBody, req.body);
    return { tags: await d.resource.setTags(req.params.id, b.tags) };
  });
  app.delete<{ Params: { id: string } }>('/v3/projects/:id/tags', async (req, reply) => {
    await authorize(d, req, 'identity:delete_project_tags', { target: { project: { id: req.params.id } } });
    await d.resource.setTags(req.params.id, []);
    reply.code(204);
    return '';
  });
  app.get<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    await authorize(d, req, 'identity:get_project_tag', { target: { project: { id: req.params.id } } });
    const p = await d.resource.getProject(req.params.id);
    if (!p.tags.includes(req.params.tag)) throw notFoundError('tag', req.params.tag);
    reply.code(204);
    return '';
  });
  app.put<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    await authorize(d, req, 'identity:create_project_tag', { target: { project: { id: req.params.id } } });
    if (req.params.tag.length > 255 || /[,/]/.test(req.params.tag)) throw validationError(`Invalid project tag: ${req.params.tag}`);
    await d.resource.addTag(req.params.id, req.params.tag);
    reply.code(201).header('Location', `${d.publicUrl}/v3/projects/${req.params.id}/tags/${encodeURIComponent(req.params.tag)}`);
    return '';
  });
  app.delete<{ Params: { id: string; tag: string } }>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    await authorize(d, req, 'identity:delete_project_tag', { target: { project: { id: req.params.id } } });
    await d.resource.removeTag(req.params.id, req.params.tag);
    reply.code(204);
    return '';
  });
}

export { NAME };
