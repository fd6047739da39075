/** /v3/users (password change included) and /v3/groups with memberships. @module */
import type { FastifyInstance } from 'fastify';
import type { User, Group } from '../core/identity.js';
import { DEFAULT_DOMAIN_ID } from '../core/resource.js';
import { authorize, checkBody, DESCRIPTION, ENABLED, listBody, query, queryBool, selfLink, type ApiDeps } from './common.js';
import { renderProject } from './resource.js';
import { forbiddenError, notFoundError, unauthorizedError, validationError } from '../util.js';

export function renderUser(d: ApiDeps, u: User): Record<string, unknown> {
  return { ...u, links: selfLink(d, `users/${u.id}`) };
}
export function renderGroup(d: ApiDeps, g: Group): Record<string, unknown> {
  return { ...g, links: selfLink(d, `groups/${g.id}`) };
}

const USER_NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' } as const;
const PASSWORD = { type: ['string', 'null'] } as const;
const OPTIONS = {
  type: 'object',
  properties: {
    ignore_change_password_upon_first_use: { type: ['boolean', 'null'] },
    ignore_password_expiry: { type: ['boolean', 'null'] },
    ignore_lockout_failure_attempts: { type: ['boolean', 'null'] },
    lock_password: { type: ['boolean', 'null'] },
    ignore_user_inactivity: { type: ['boolean', 'null'] },
    multi_factor_auth_rules: { type: ['array', 'null'] },
    multi_factor_auth_enabled: { type: ['boolean', 'null'] },
  },
  additionalProperties: false,
} as const;
const userCreate = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        name: USER_NAME,
        domain_id: { type: 'string', minLength: 1, maxLength: 64 },
        default_project_id: { type: ['string', 'null'], maxLength: 64 },
        description: DESCRIPTION,
        enabled: ENABLED,
        password: PASSWORD,
        options: OPTIONS,
      },
      required: ['name'],
    },
  },
  required: ['user'],
};
const userUpdate = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: {
        name: USER_NAME,
        domain_id: { type: 'string' },
        default_project_id: { type: ['string', 'null'], maxLength: 64 },
        description: DESCRIPTION,
        enabled: ENABLED,
        password: PASSWORD,
        options: OPTIONS,
      },
      minProperties: 1,
    },
  },
  required: ['user'],
};
const passwordChange = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      properties: { password: { type: 'string' }, original_password: { type: 'string' } },
      required: ['password', 'original_password'],
    },
  },
  required: ['user'],
};
const groupBody = (required: string[]) => ({
  type: 'object',
  properties: {
    group: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, domain_id: { type: 'string', minLength: 1, maxLength: 64 }, description: DESCRIPTION },
      required,
      minProperties: 1,
    },
  },
  required: ['group'],
});

const USER_CORE = new Set(['name', 'domain_id', 'default_project_id', 'enabled', 'password', 'options', 'id', 'links', 'password_expires_at']);
const extraOf = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !USER_CORE.has(k)));

export function registerUsers(app: FastifyInstance, d: ApiDeps): void {
  app.get('/v3/users', async (req) => {
    const q = query(req);
    await authorize(d, req, 'identity:list_users', { domain_id: q['domain_id'], target: { domain_id: q['domain_id'] } });
    const list = await d.identity.listUsers({ domain_id: q['domain_id'], name: q['name'], enabled: queryBool(q['enabled']) });
    return listBody(d, req, 'users', list.map((u) => renderUser(d, u)));
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    const u = await d.identity.findUser(req.params.id);
    await authorize(d, req, 'identity:get_user', { target: { user: { id: req.params.id, domain_id: u?.domain_id } } });
    return { user: renderUser(d, await d.identity.getUser(req.params.id)) };
  });
  app.post('/v3/users', async (req, reply) => {
    const b = checkBody<{ user: Record<string, any> }>(userCreate, req.body).user;
    const t = await authorize(d, req, 'identity:create_user', { target: { user: b } });
    const domainId = b['domain_id'] ?? (t.scope.kind === 'domain' ? t.scope.id : DEFAULT_DOMAIN_ID);
    if (!(await d.resource.findDomain(domainId))) throw notFoundError('domain', domainId);
    if (b['default_project_id'] && !(await d.resource.findProject(b['default_project_id']))) {
      throw validationError(`Could not find project: ${b['default_project_id']}.`);
    }
    const u = await d.identity.createUser({
      name: b['name'],
      domain_id: domainId,
      enabled: b['enabled'],
      password: b['password'],
      default_project_id: b['default_project_id'],
      options: b['options'],
      extra: extraOf(b),
    });
    reply.code(201);
    return { user: renderUser(d, u) };
  });
  app.patch<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    await authorize(d, req, 'identity:update_user', { target: { user: { id: req.params.id } } });
    const b = checkBody<{ user: Record<string, any> }>(userUpdate, req.body).user;
    const cur = await d.identity.getUser(req.params.id);
    if (b['domain_id'] !== undefined && b['domain_id'] !== cur.domain_id) throw validationError('Cannot change Domain ID');
    const extra = extraOf(b);
    const r = await d.identity.updateUser(req.params.id, {
      name: b['name'],
      enabled: b['enabled'],
      password: b['password'],
      default_project_id: b['default_project_id'],
      options: b['options'],
      extra: Object.keys(extra).length ? extra : undefined,
    });
    if (r.passwordChanged || r.disabled) await d.revoke.revoke({ user_id: req.params.id });
    return { user: renderUser(d, r.user) };
  });
  app.delete<{ Params: { id: string } }>('/v3/users/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_user', { target: { user: { id: req.params.id } } });
    await d.identity.deleteUser(req.params.id);
    await d.revoke.revoke({ user_id: req.params.id });
    reply.code(204);
    return '';
  });

  // self-service password change: authenticated by the original password, not by a token
  app.post<{ Params: { id: string } }>('/v3/users/:id/password', { config: { public: true } }, async (req, reply) => {
    const b = checkBody<{ user: { password: string; original_password: string } }>(passwordChange, req.body).user;
    const user = await d.identity.findUser(req.params.id);
    if (!user) throw unauthorizedError();
    if (user.options['lock_password'] === true) {
      throw forbiddenError('You are not allowed to change the password of this user.');
    }
    try {
      await d.identity.checkPassword(req.params.id, b.original_password);
    } catch (e) {
      // an expired password may still be changed with the right original password
      if (!(e instanceof Error && /password is expired/.test(e.message))) throw e;
    }
    await d.identity.setPassword(req.params.id, b.password, { selfService: true });
    await d.revoke.revoke({ user_id: req.params.id });
    reply.code(204);
    return '';
  });

  app.get<{ Params: { id: string } }>('/v3/users/:id/projects', async (req) => {
    await authorize(d, req, 'identity:list_user_projects', { target: { user: { id: req.params.id } } });
    await d.identity.getUser(req.params.id);
    const ids = await d.assignment.projectIdsForUser(req.params.id);
    for (const dom of (await d.assignment.domainIdsForUser(req.params.id)).inherited) {
      for (const p of await d.resource.listProjects({ domain_id: dom })) ids.push(p.id);
    }
    const q = query(req);
    const list = await d.resource.listProjects({ ids: [...new Set(ids)], name: q['name'], enabled: queryBool(q['enabled']), domain_id: q['domain_id'] });
    return listBody(d, req, 'projects', list.map((p) => renderProject(d, p)));
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id/groups', async (req) => {
    await authorize(d, req, 'identity:list_groups_for_user', { target: { user: { id: req.params.id } } });
    return listBody(d, req, 'groups', (await d.identity.listGroupsForUser(req.params.id)).map((g) => renderGroup(d, g)));
  });

  // ---- groups
  app.get('/v3/groups', async (req) => {
    await authorize(d, req, 'identity:list_groups');
    const q = query(req);
    return listBody(d, req, 'groups', (await d.identity.listGroups({ domain_id: q['domain_id'], name: q['name'] })).map((g) => renderGroup(d, g)));
  });
  app.get<{ Params: { id: string } }>('/v3/groups/:id', async (req) => {
    await authorize(d, req, 'identity:get_group');
    return { group: renderGroup(d, await d.identity.getGroup(req.params.id)) };
  });
  app.post('/v3/groups', async (req, reply) => {
    await authorize(d, req, 'identity:create_group');
    const b = checkBody<{ group: Record<string, any> }>(groupBody(['name']), req.body).group;
    const domainId = b['domain_id'] ?? DEFAULT_DOMAIN_ID;
    if (!(await d.resource.findDomain(domainId))) throw notFoundError('domain', domainId);
    reply.code(201);
    return { group: renderGroup(d, await d.identity.createGroup({ name: b['name'], domain_id: domainId, description: b['description'] ?? '' })) };
  });
  app.patch<{ Params: { id: string } }>('/v3/groups/:id', async (req) => {
    await authorize(d, req, 'identity:update_group');
    const b = checkBody<{ group: Record<string, any> }>(groupBody([]), req.body).group;
    return { group: renderGroup(d, await d.identity.updateGroup(req.params.id, b)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/groups/:id', async (req, reply) => {
    await authorize(d, req, 'identity:delete_group');
    await d.identity.deleteGroup(req.params.id);
    d.tokens.invalidate();
    reply.code(204);
    return '';
  });
  app.get<{ Params: { id: string } }>('/v3/groups/:id/users', async (req) => {
    await authorize(d, req, 'identity:list_users_in_group');
    return listBody(d, req, 'users', (await d.identity.listUsersInGroup(req.params.id)).map((u) => renderUser(d, u)));
  });
  app.put<{ Params: { gid: string; uid: string } }>('/v3/groups/:gid/users/:uid', async (req, reply) => {
    await authorize(d, req, 'identity:add_user_to_group');
    await d.identity.addUserToGroup(req.params.uid, req.params.gid);
    d.tokens.invalidate();
    reply.code(204);
    return '';
  });
  app.head<{ Params: { gid: string; uid: string } }>('/v3/groups/:gid/users/:uid', async (req, reply) => {
    await authorize(d, req, 'identity:check_user_in_group');
    if (!(await d.identity.isUserInGroup(req.params.uid, req.params.gid))) throw notFoundError('membership', `${req.params.uid}, ${req.params.gid}`);
    reply.code(204);
    return '';
  });
  app.get<{ Params: { gid: string; uid: string } }>('/v3/groups/:gid/users/:uid', async (req, reply) => {
    await authorize(d, req, 'identity:check_user_in_group');
    if (!(await d.identity.isUserInGroup(req.params.uid, req.params.gid))) throw notFoundError('membership', `${req.params.uid}, ${req.params.gid}`);
    reply.code(204);
    return '';
  });
  app.delete<{ Params: { gid: string; uid: string } }>('/v3/groups/:gid/users/:uid', async (req, reply) => {
    await authorize(d, req, 'identity:remove_user_from_group');
    await d.identity.removeUserFromGroup(req.params.uid, req.params.gid);
    d.tokens.invalidate();
    reply.code(204);
    return '';
  });
}
