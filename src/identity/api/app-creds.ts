/** /v3/users/{user_id}/application_credentials. @module */
import type { FastifyInstance } from 'fastify';
import type { AppCred } from '../core/app-creds.js';
import { authorize, checkBody, listBody, query, selfLink, type ApiDeps } from './common.js';
import { forbiddenError, parseTimeMicros, validationError } from '../util.js';

const createSchema = {
  type: 'object',
  properties: {
    application_credential: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: ['string', 'null'] },
        secret: { type: ['string', 'null'] },
        expires_at: { type: ['string', 'null'] },
        roles: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, minProperties: 1 } },
        unrestricted: { type: ['boolean', 'null'] },
        access_rules: { type: 'array', maxItems: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['application_credential'],
};

type P = { Params: { user: string; id: string } };

export function registerAppCreds(app: FastifyInstance, d: ApiDeps): void {
  const render = async (a: AppCred, secret?: string) => {
    const roles = await d.assignment.rolesByIds(a.role_ids);
    const body: Record<string, unknown> = {
      id: a.id,
      name: a.name,
      description: a.description,
      user_id: a.user_id,
      project_id: a.project_id,
      system: a.system,
      expires_at: a.expires_at,
      unrestricted: a.unrestricted,
      roles: a.role_ids.filter((r) => roles.has(r)).map((r) => ({ id: r, name: roles.get(r)!.name, domain_id: roles.get(r)!.domain_id })),
      access_rules: [],
      links: selfLink(d, `users/${a.user_id}/application_credentials/${a.id}`),
    };
    if (secret !== undefined) body['secret'] = secret;
    return body;
  };

  app.post<P>('/v3/users/:user/application_credentials', async (req, reply) => {
    const t = await authorize(d, req, 'identity:create_application_credential', { user_id: req.params.user, target: { user: { id: req.params.user } } });
    const b = checkBody<{ application_credential: Record<string, any> }>(createSchema, req.body).application_credential;
    if (t.scope.kind !== 'project') throw forbiddenError('Application credentials require a project-scoped token.');
    if (t.appCred && t.appCred.restricted) throw forbiddenError('Using method \'application_credential\' is not allowed for managing additional application credentials.');
    const tokenRoles = new Map(t.roles.map((r) => [r.id, r]));
    let roleIds: string[];
    if (b['roles']?.length) {
      roleIds = [];
      for (const r of b['roles'] as { id?: string; name?: string }[]) {
        const found = r.id ? tokenRoles.get(r.id) : t.roles.find((x) => x.name === r.name);
        if (!found) throw forbiddenError(`Application credential roles must be a subset of the roles of the token: ${r.id ?? r.name}.`);
        roleIds.push(found.id);
      }
    } else {
      roleIds = t.roles.map((r) => r.id);
    }
    let expiresAt: number | null = null;
    if (b['expires_at']) {
      const us = parseTimeMicros(b['expires_at']);
      if (us === undefined) throw validationError(`Invalid input for field 'expires_at': '${b['expires_at']}' is not a 'date-time'`);
      if (us <= Date.now() * 1000) throw validationError('The expiration date of an application credential must be in the future.');
      expiresAt = us;
    }
    const a = await d.appCreds.create({
      name: b['name'],
      description: b['description'],
      userId: req.params.user,
      projectId: t.scope.id,
      expiresAtMicros: expiresAt,
      unrestricted: b['unrestricted'] === true,
      roleIds,
      secret: b['secret'],
    });
    reply.code(201);
    return { application_credential: await render(a, a.secret) };
  });

  app.get<P>('/v3/users/:user/application_credentials', async (req) => {
    await authorize(d, req, 'identity:list_application_credentials', { user_id: req.params.user, target: { user: { id: req.params.user } } });
    await d.identity.getUser(req.params.user);
    const list = await d.appCreds.list(req.params.user, query(req)['name']);
    return listBody(d, req, 'application_credentials', await Promise.all(list.map((a) => render(a))));
  });

  app.get<P>('/v3/users/:user/application_credentials/:id', async (req) => {
    await authorize(d, req, 'identity:get_application_credential', { user_id: req.params.user, target: { user: { id: req.params.user } } });
    return { application_credential: await render(await d.appCreds.get(req.params.id, req.params.user)) };
  });

  app.delete<P>('/v3/users/:user/application_credentials/:id', async (req, reply) => {
    const t = await authorize(d, req, 'identity:delete_application_credential', { user_id: req.params.user, target: { user: { id: req.params.user } } });
    if (t.appCred && t.appCred.restricted) throw forbiddenError('Using method \'application_credential\' is not allowed for managing additional application credentials.');
    await d.appCreds.delete(req.params.id, req.params.user);
    d.tokens.invalidate();
    reply.code(204);
    return '';
  });
}
