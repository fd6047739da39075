/** /v3/OS-EP-FILTER: endpoint groups and project associations. @module */
import type { FastifyInstance } from 'fastify';
import type { EndpointFilterManager, EndpointGroup } from '../core/endpoint-filter.js';
import { matches } from '../core/endpoint-filter.js';
import { INTERFACES } from '../core/catalog.js';
import { authorize, checkBody, listBody, query, selfLink, type ApiDeps } from './common.js';
import { renderProject } from './resource.js';
import { notFoundError } from '../util.js';

export interface EndpointFilterDeps extends ApiDeps {
  endpointFilter: EndpointFilterManager;
}

const filters = {
  type: 'object',
  properties: { interface: { type: 'string', enum: INTERFACES }, service_id: { type: 'string' }, region_id: { type: 'string' } },
  additionalProperties: false,
  minProperties: 1,
};
const groupBody = (required: string[]) => ({
  type: 'object',
  properties: {
    endpoint_group: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, description: { type: ['string', 'null'] }, filters },
      required,
      minProperties: 1,
    },
  },
  required: ['endpoint_group'],
});

type P = { Params: { id: string; project: string; endpoint: string } };
const BASE = '/v3/OS-EP-FILTER';

export function registerEndpointFilter(app: FastifyInstance, d: EndpointFilterDeps): void {
  const render = (g: EndpointGroup) => ({ ...g, links: selfLink(d, `OS-EP-FILTER/endpoint_groups/${g.id}`) });
  const renderEndpoint = (e: Awaited<ReturnType<typeof d.catalog.getEndpoint>>) => ({ ...e, links: selfLink(d, `endpoints/${e.id}`) });
  const changed = () => d.tokens.invalidate();

  app.post(`${BASE}/endpoint_groups`, async (req, reply) => {
    await authorize(d, req, 'identity:create_endpoint_group');
    const b = checkBody<{ endpoint_group: Omit<EndpointGroup, 'id'> }>(groupBody(['name', 'filters']), req.body).endpoint_group;
    reply.code(201);
    return { endpoint_group: render(await d.endpointFilter.create({ name: b.name, description: b.description ?? null, filters: b.filters })) };
  });
  app.get(`${BASE}/endpoint_groups`, async (req) => {
    await authorize(d, req, 'identity:list_endpoint_groups');
    return listBody(d, req, 'endpoint_groups', (await d.endpointFilter.list(query(req)['name'])).map(render));
  });
  app.head<P>(`${BASE}/endpoint_groups/:id`, async (req, reply) => {
    await authorize(d, req, 'identity:get_endpoint_group');
    await d.endpointFilter.get(req.params.id);
    reply.code(200);
    return '';
  });
  app.get<P>(`${BASE}/endpoint_groups/:id`, async (req) => {
    await authorize(d, req, 'identity:get_endpoint_group');
    return { endpoint_group: render(await d.endpointFilter.get(req.params.id)) };
  });
  app.patch<P>(`${BASE}/endpoint_groups/:id`, async (req) => {
    await authorize(d, req, 'identity:update_endpoint_group');
    const b = checkBody<{ endpoint_group: Partial<EndpointGroup> }>(groupBody([]), req.body).endpoint_group;
    const g = await d.endpointFilter.update(req.params.id, b);
    changed();
    return { endpoint_group: render(g) };
  });
  app.delete<P>(`${BASE}/endpoint_groups/:id`, async (req, reply) => {
    await authorize(d, req, 'identity:delete_endpoint_group');
    await d.endpointFilter.delete(req.params.id);
    changed();
    reply.code(204);
    return '';
  });
  app.get<P>(`${BASE}/endpoint_groups/:id/endpoints`, async (req) => {
    await authorize(d, req, 'identity:list_endpoints_associated_with_endpoint_group');
    const g = await d.endpointFilter.get(req.params.id);
    return listBody(d, req, 'endpoints', (await d.catalog.listEndpoints()).filter((e) => matches(e, g.filters)).map(renderEndpoint));
  });
  app.get<P>(`${BASE}/endpoint_groups/:id/projects`, async (req) => {
    await authorize(d, req, 'identity:list_projects_associated_with_endpoint_group');
    await d.endpointFilter.get(req.params.id);
    const projects = await d.resource.listProjects({ ids: await d.endpointFilter.projectsOfGroup(req.params.id) });
    return listBody(d, req, 'projects', projects.map((p) => renderProject(d, p)));
  });
  const groupProject = async (id: string, project: string) => {
    await d.endpointFilter.get(id);
    await d.resource.getProject(project);
  };
  app.put<P>(`${BASE}/endpoint_groups/:id/projects/:project`, async (req, reply) => {
    await authorize(d, req, 'identity:add_endpoint_group_to_project');
    await groupProject(req.params.id, req.params.project);
    await d.endpointFilter.associateGroup(req.params.id, req.params.project);
    changed();
    reply.code(204);
    return '';
  });
  app.head<P>(`${BASE}/endpoint_groups/:id/projects/:project`, async (req, reply) => {
    await authorize(d, req, 'identity:get_endpoint_group_in_project');
    await groupProject(req.params.id, req.params.project);
    if (!(await d.endpointFilter.isGroupAssociated(req.params.id, req.params.project))) throw notFoundError('endpoint group association', req.params.id);
    reply.code(200);
    return '';
  });
  app.get<P>(`${BASE}/endpoint_groups/:id/projects/:project`, async (req) => {
    await authorize(d, req, 'identity:get_endpoint_group_in_project');
    await groupProject(req.params.id, req.params.project);
    if (!(await d.endpointFilter.isGroupAssociated(req.params.id, req.params.project))) throw notFoundError('endpoint group association', req.params.id);
    return { project: renderProject(d, await d.resource.getProject(req.params.project)) };
  });
  app.delete<P>(`${BASE}/endpoint_groups/:id/projects/:project`, async (req, reply) => {
    await authorize(d, req, 'identity:remove_endpoint_group_from_project');
    await groupProject(req.params.id, req.params.project);
    await d.endpointFilter.dissociateGroup(req.params.id, req.params.project);
    changed();
    reply.code(204);
    return '';
  });
  app.get<P>(`${BASE}/projects/:project/endpoint_groups`, async (req) => {
    await authorize(d, req, 'identity:list_endpoint_groups_for_project');
    await d.resource.getProject(req.params.project);
    return listBody(d, req, 'endpoint_groups', (await d.endpointFilter.groupsOfProject(req.params.project)).map(render));
  });

  // direct project <-> endpoint associations
  const projEndpoint = async (project: string, endpoint: string) => {
    await d.resource.getProject(project);
    await d.catalog.getEndpoint(endpoint);
  };
  app.put<P>(`${BASE}/projects/:project/endpoints/:endpoint`, async (req, reply) => {
    await authorize(d, req, 'identity:add_endpoint_to_project');
    await projEndpoint(req.params.project, req.params.endpoint);
    await d.endpointFilter.associateEndpoint(req.params.endpoint, req.params.project);
    changed();
    reply.code(204);
    return '';
  });
  app.head<P>(`${BASE}/projects/:project/endpoints/:endpoint`, async (req, reply) => {
    await authorize(d, req, 'identity:check_endpoint_in_project');
    await projEndpoint(req.params.project, req.params.endpoint);
    if (!(await d.endpointFilter.endpointIdsOfProject(req.params.project)).includes(req.params.endpoint)) throw notFoundError('endpoint association', req.params.endpoint);
    reply.code(204);
    return '';
  });
  app.get<P>(`${BASE}/projects/:project/endpoints/:endpoint`, async (req, reply) => {
    await authorize(d, req, 'identity:check_endpoint_in_project');
    await projEndpoint(req.params.project, req.params.endpoint);
    if (!(await d.endpointFilter.endpointIdsOfProject(req.params.project)).includes(req.params.endpoint)) throw notFoundError('endpoint association', req.params.endpoint);
    reply.code(204);
    return '';
  });
  app.delete<P>(`${BASE}/projects/:project/endpoints/:endpoint`, async (req, reply) => {
    await authorize(d, req, 'identity:remove_endpoint_from_project');
    await projEndpoint(req.params.project, req.params.endpoint);
    await d.endpointFilter.dissociateEndpoint(req.params.endpoint, req.params.project);
    changed();
    reply.code(204);
    return '';
  });
  app.get<P>(`${BASE}/projects/:project/endpoints`, async (req) => {
    await authorize(d, req, 'identity:list_endpoints_for_project');
    await d.resource.getProject(req.params.project);
    const all = await d.catalog.listEndpoints();
    const allowed = await d.endpointFilter.allowedEndpoints(req.params.project, all);
    return listBody(d, req, 'endpoints', all.filter((e) => !allowed || allowed.has(e.id)).map(renderEndpoint));
  });
  app.get<P>(`${BASE}/endpoints/:endpoint/projects`, async (req) => {
    await authorize(d, req, 'identity:list_projects_for_endpoint');
    await d.catalog.getEndpoint(req.params.endpoint);
    const projects = await d.resource.listProjects({ ids: await d.endpointFilter.projectsOfEndpoint(req.params.endpoint) });
    return listBody(d, req, 'projects', projects.map((p) => renderProject(d, p)));
  });
}
