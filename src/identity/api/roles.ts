/**
 * /v3/roles, implied roles, grants on projects, domains and system, and
 * GET /v3/role_assignments with its filters, `effective` and `include_names`.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role, Assignment } from '../core/assignment.js';
import { authorize, checkBody, DESCRIPTION, flag, listBody, query, selfLink, type ApiDeps } from './common.js';
import { notFoundError, validationError } from '../util.js';

export function renderRole(d: ApiDeps, r: Role): Record<string, unknown> {
  return { id: r.id, name: r.name, domain_id: r.domain_id, description: r.description, options: r.options, links: selfLink(d, `roles/${r.id}`) };
}

const roleBody = (required: string[]) => ({
  type: 'object',
  properties: {
    role: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, domain_id: { type: ['string', 'null'] }, description: DESCRIPTION, options: { type: 'object' } },
      required,
      minProperties: 1,
    },
  },
  required: ['role'],
});

type Params = Record<string, string>;

export function registerRoles(app: FastifyInstance, d: ApiDeps): void {
  const changed = () => d.tokens.invalidate();

  app.get('/v3/roles', async (req) => {
    await authorize(d, req, 'identity:list_roles');
    const q = query(req);
    return listBody(d, req, 'roles', (await d.assignment.listRoles({ name: q['name'], domain_id: q['domain_id'] })).map((r) => renderRole(d, r)));
  });
  app.get<{ Params: Params }>('/v3/roles/:id', async (req) => {
    await authorize(d, req, 'identity:get_role');
    return { role: renderRole(d, await d.assignment.getRole(req.params['id']!)) };
  });
  app.post('/v3/roles', async (req, reply) => {
    await authorize(d, req, 'identity:create_role');
    const b = checkBody<{ role: Record<string, any> }>(roleBody(['name']), req.body).role;
    reply.code(201);
    return { role: renderRole(d, await d.assignment.createRole({ name: b['name'], domain_id: b['domain_id'], description: b['description'], options: b['options'] })) };
  });
  app.patch<{ Params: Params }>('/v3/roles/:id', async (req) => {
    await authorize(d, req, 'identity:update_role');
    const b = checkBody<{ role: Record<string, any> }>(roleBody([]), req.body).role;
    const r = await d.assignment.updateRole(req.params['id']!, b);
    changed();
    return { role: renderRole(d, r) };
  });
  app.delete<{ Params: Params }>('/v3/roles/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_role');
    await d.assignment.deleteRole(req.params['id']!);
    changed();
    reply.code(204);
    return '';
  });

  // ---- implied roles
  const ref = (r: Role) => ({ id: r.id, name: r.name, links: selfLink(d, `roles/${r.id}`) });
  app.get<{ Params: Params }>('/v3/roles/:prior/implies', async (req) => {
    await authorize(d, req, 'identity:list_implied_roles');
    const prior = await d.assignment.getRole(req.params['prior']!);
    const rows = await d.assignment.listImpliedRoles(prior.id);
    const roles = await d.assignment.rolesByIds(rows.map((r) => r.implied_role_id));
    return {
      role_inference: { prior_role: ref(prior), implies: rows.map((r) => roles.get(r.implied_role_id)).filter(Boolean).map((r) => ref(r!)) },
      links: selfLink(d, `roles/${prior.id}/implies`),
    };
  });
  app.put<{ Params: Params }>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    await authorize(d, req, 'identity:create_implied_role');
    await d.assignment.createImpliedRole(req.params['prior']!, req.params['implied']!);
    changed();
    const [prior, implied] = [await d.assignment.getRole(req.params['prior']!), await d.assignment.getRole(req.params['implied']!)];
    reply.code(201);
    return { role_inference: { prior_role: ref(prior), implies: ref(implied) }, links: selfLink(d, `roles/${prior.id}/implies/${implied.id}`) };
  });
  app.head<{ Params: Params }>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    await authorize(d, req, 'identity:check_implied_role');
    if (!(await d.assignment.getImpliedRole(req.params['prior']!, req.params['implied']!))) throw notFoundError('implied role', req.params['implied']!);
    reply.code(204);
    return '';
  });
  app.get<{ Params: Params }>('/v3/roles/:prior/implies/:implied', async (req) => {
    await authorize(d, req, 'identity:get_implied_role');
    if (!(await d.assignment.getImpliedRole(req.params['prior']!, req.params['implied']!))) throw notFoundError('implied role', req.params['implied']!);
    const [prior, implied] = [await d.assignment.getRole(req.params['prior']!), await d.assignment.getRole(req.params['implied']!)];
    return { role_inference: { prior_role: ref(prior), implies: ref(implied) }, links: selfLink(d, `roles/${prior.id}/implies/${implied.id}`) };
  });
  app.delete<{ Params: Params }>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    await authorize(d, req, 'identity:delete_implied_role');
    await d.assignment.deleteImpliedRole(req.params['prior']!, req.params['implied']!);
    changed();
    reply.code(204);
    return '';
  });
  app.get('/v3/role_inferences', async (req) => {
    await authorize(d, req, 'identity:list_role_inference_rules');
    const rows = await d.assignment.listImpliedRoles();
    const roles = await d.assignment.rolesByIds(rows.flatMap((r) => [r.prior_role_id, r.implied_role_id]));
    const byPrior = new Map<string, string[]>();
    for (const r of rows) byPrior.set(r.prior_role_id, [...(byPrior.get(r.prior_role_id) ?? []), r.implied_role_id]);
    return {
      role_inferences: [...byPrior].map(([p, imps]) => ({ prior_role: ref(roles.get(p)!), implies: imps.map((i) => ref(roles.get(i)!)) })),
      links: selfLink(d, 'role_inferences'),
    };
  });

  // ---- grants: /v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role}] and /v3/system/...
  const grantTarget = async (req: FastifyRequest<{ Params: Params }>, inherited = false) => {
    const p = req.params;
    const g: { userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: boolean; inherited?: boolean } = { inherited };
    if (p['user']) g.userId = (await d.identity.getUser(p['user'])).id;
    if (p['group']) g.groupId = (await d.identity.getGroup(p['group'])).id;
    if (p['project']) g.projectId = (await d.resource.getProject(p['project'])).id;
    if (p['domain']) g.domainId = (await d.resource.getDomain(p['domain'])).id;
    if (!p['project'] && !p['domain']) g.system = true;
    return g;
  };
  const roleOf = async (req: FastifyRequest<{ Params: Params }>) => (await d.assignment.getRole(req.params['role']!)).id;

  const grantRoutes = (prefix: string, inherited: boolean, sys: boolean) => {
    const suffix = inherited ? '/inherited_to_projects' : '';
    const rule = (base: string) => (sys ? `identity:${base}_system_grant_for_${prefix.includes('groups') ? 'group' : 'user'}` : `identity:${base}`);
    app.put<{ Params: Params }>(`${prefix}/roles/:role${suffix}`, async (req, reply: FastifyReply) => {
      await authorize(d, req, rule(sys ? 'create' : 'create_grant'));
      const g = await grantTarget(req, inherited);
      await d.assignment.createGrant({ ...g, roleId: await roleOf(req) });
      changed();
      reply.code(204);
      return '';
    });
    app.head<{ Params: Params }>(`${prefix}/roles/:role${suffix}`, async (req, reply) => {
      await authorize(d, req, rule(sys ? 'check' : 'check_grant'));
      const g = await grantTarget(req, inherited);
      const roleId = await roleOf(req);
      if (!(await d.assignment.checkGrant({ ...g, roleId }))) throw notFoundError('role assignment', roleId);
      reply.code(204);
      return '';
    });
    app.get<{ Params: Params }>(`${prefix}/roles/:role${suffix}`, async (req, reply) => {
      await authorize(d, req, rule(sys ? 'check' : 'check_grant'));
      const g = await grantTarget(req, inherited);
      const roleId = await roleOf(req);
      if (!(await d.assignment.checkGrant({ ...g, roleId }))) throw notFoundError('role assignment', roleId);
      reply.code(204);
      return '';
    });
    app.delete<{ Params: Params }>(`${prefix}/roles/:role${suffix}`, async (req, reply) => {
      await authorize(d, req, rule(sys ? 'revoke' : 'revoke_grant'));
      const g = await grantTarget(req, inherited);
      await d.assignment.deleteGrant({ ...g, roleId: await roleOf(req) });
      changed();
      reply.code(204);
      return '';
    });
    app.get<{ Params: Params }>(`${prefix}/roles${suffix}`, async (req) => {
      await authorize(d, req, rule(sys ? 'list' : 'list_grants').replace('list_system_grant', 'list_system_grants'));
      const g = await grantTarget(req, inherited);
      const roles = await d.assignment.rolesByIds(await d.assignment.listGrantRoleIds(g));
      return listBody(d, req, 'roles', [...roles.values()].map((r) => renderRole(d, r)));
    });
  };
  grantRoutes('/v3/projects/:project/users/:user', false, false);
  grantRoutes('/v3/projects/:project/groups/:group', false, false);
  grantRoutes('/v3/domains/:domain/users/:user', false, false);
  grantRoutes('/v3/domains/:domain/groups/:group', false, false);
  grantRoutes('/v3/OS-INHERIT/domains/:domain/users/:user', true, false);
  grantRoutes('/v3/OS-INHERIT/domains/:domain/groups/:group', true, false);
  grantRoutes('/v3/OS-INHERIT/projects/:project/users/:user', true, false);
  grantRoutes('/v3/OS-INHERIT/projects/:project/groups/:group', true, false);
  grantRoutes('/v3/system/users/:user', false, true);
  grantRoutes('/v3/system/groups/:group', false, true);

  // ---- role assignments
  app.get('/v3/role_assignments', async (req) => {
    const q = query(req);
    await authorize(d, req, 'identity:list_role_assignments', { domain_id: q['scope.domain.id'], target: { domain_id: q['scope.domain.id'] } });
    const effective = flag(q, 'effective');
    const includeNames = flag(q, 'include_names');
    if (effective && q['group.id']) throw validationError('Combining effective and group filter will always result in an empty list.');
    if (q['scope.project.id'] && q['scope.domain.id']) throw validationError('Specify a domain or project, not both');
    const filter = {
      user_id: q['user.id'],
      group_id: q['group.id'],
      project_id: q['scope.project.id'],
      domain_id: q['scope.domain.id'],
      system: q['scope.system'] !== undefined ? true : undefined,
      role_id: q['role.id'],
    };
    const inheritedOnly = flag(q, 'scope.OS-INHERIT:inherited_to');
    const subtree = flag(q, 'include_subtree');
    if (subtree && !filter.project_id) throw validationError('scope.project.id needs to be specified if include_subtree is also specified');
    const projectIds = subtree ? [filter.project_id!, ...(await d.resource.descendants(filter.project_id!))] : undefined;
    let list: Assignment[];
    if (effective) {
      list = await d.assignment.listEffective({ ...filter, project_ids: projectIds }, {
        usersInGroup: async (g) => (await d.identity.listUsersInGroup(g).catch(() => [])).map((u) => u.id),
        projectsInDomain: async (dom) => (await d.resource.listProjects({ domain_id: dom })).map((p) => p.id),
        domainOfProject: async (p) => (await d.resource.findProject(p))?.domain_id,
        descendants: (p) => d.resource.descendants(p),
      });
    } else {
      list = projectIds
        ? (await Promise.all(projectIds.map((p) => d.assignment.listDirect({ ...filter, project_id: p })))).flat()
        : await d.assignment.listDirect(filter);
      if (filter.project_id || filter.domain_id) list = list.filter((a) => !a.system);
      if (inheritedOnly) list = list.filter((a) => a.inherited);
    }
    const rendered = await renderAssignments(d, list, includeNames);
    return listBody(d, req, 'role_assignments', rendered);
  });
}

async function renderAssignments(d: ApiDeps, list: Assignment[], names: boolean): Promise<Record<string, unknown>[]> {
  const domainCache = new Map<string, { id: string; name: string }>();
  const domainRef = async (id: string) => {
    if (!domainCache.has(id)) {
      const x = await d.resource.findDomain(id);
      domainCache.set(id, { id, name: x?.name ?? id });
    }
    return domainCache.get(id)!;
  };
  const roles = await d.assignment.rolesByIds(list.map((a) => a.role_id));
  const out: Record<string, unknown>[] = [];
  for (const a of list) {
    const role: Record<string, unknown> = { id: a.role_id };
    if (names) {
      const r = roles.get(a.role_id);
      role['name'] = r?.name;
      if (r?.domain_id) role['domain'] = await domainRef(r.domain_id);
    }
    const item: Record<string, unknown> = { role };
    if (a.user_id) {
      const u: Record<string, unknown> = { id: a.user_id };
      if (names) {
        const user = await d.identity.findUser(a.user_id);
        if (user) Object.assign(u, { name: user.name, domain: await domainRef(user.domain_id) });
      }
      item['user'] = u;
    }
    if (a.group_id) {
      const g: Record<string, unknown> = { id: a.group_id };
      if (names) {
        const grp = await d.identity.getGroup(a.group_id).catch(() => undefined);
        if (grp) Object.assign(g, { name: grp.name, domain: await domainRef(grp.domain_id) });
      }
      item['group'] = g;
    }
    const scope: Record<string, unknown> = {};
    let targetPath = '';
    if (a.project_id) {
      const p: Record<string, unknown> = { id: a.project_id };
      if (names) {
        const proj = await d.resource.findProject(a.project_id);
        if (proj) Object.assign(p, { name: proj.name, domain: await domainRef(proj.domain_id) });
      }
      scope['project'] = p;
      targetPath = a.inherited ? `OS-INHERIT/projects/${a.project_id}` : `projects/${a.project_id}`;
    } else if (a.domain_id) {
      scope['domain'] = names ? await domainRef(a.domain_id) : { id: a.domain_id };
      targetPath = a.inherited ? `OS-INHERIT/domains/${a.domain_id}` : `domains/${a.domain_id}`;
    } else if (a.system) {
      scope['system'] = { all: true };
      targetPath = 'system';
    }
    if (a.inherited) scope['OS-INHERIT:inherited_to'] = 'projects';
    item['scope'] = scope;
    const actorPath = a.user_id && !a.indirect?.group_id ? `users/${a.user_id}` : `groups/${a.indirect?.group_id ?? a.group_id}`;
    const links: Record<string, string> = {
      assignment: `${d.publicUrl}/v3/${targetPath}/${actorPath}/roles/${a.indirect?.role_id ?? a.role_id}${a.inherited ? '/inherited_to_projects' : ''}`,
    };
    if (a.indirect?.group_id && a.user_id) links['membership'] = `${d.publicUrl}/v3/groups/${a.indirect.group_id}/users/${a.user_id}`;
    item['links'] = links;
    if (a.indirect?.role_id) item['prior_role'] = { id: a.indirect.role_id };
    out.push(item);
  }
  return out;
}
