/** /v3/credentials and the EC2 view /v3/users/{id}/credentials/OS-EC2. @module */
import type { FastifyInstance } from 'fastify';
import type { Credential } from '../core/credentials.js';
import { CredentialManager } from '../core/credentials.js';
import { authorize, checkBody, listBody, query, selfLink, type ApiDeps } from './common.js';
import { forbiddenError, notFoundError } from '../util.js';

export interface CredentialDeps extends ApiDeps {
  credentials: CredentialManager;
}

const createSchema = {
  type: 'object',
  properties: {
    credential: {
      type: 'object',
      properties: { blob: { type: 'string' }, project_id: { type: ['string', 'null'] }, type: { type: 'string', minLength: 1, maxLength: 255 }, user_id: { type: 'string', minLength: 1, maxLength: 64 } },
      required: ['blob', 'type', 'user_id'],
    },
  },
  required: ['credential'],
};
const updateSchema = {
  type: 'object',
  properties: {
    credential: {
      type: 'object',
      properties: { blob: { type: 'string' }, project_id: { type: ['string', 'null'] }, type: { type: 'string', minLength: 1, maxLength: 255 }, user_id: { type: 'string', minLength: 1, maxLength: 64 } },
      minProperties: 1,
    },
  },
  required: ['credential'],
};
const ec2Schema = { type: 'object', properties: { tenant_id: { type: 'string', minLength: 1 } }, required: ['tenant_id'] };

type P = { Params: { id: string; user: string; access: string } };

export function registerCredentials(app: FastifyInstance, d: CredentialDeps): void {
  const render = (c: Credential) => ({ ...c, links: selfLink(d, `credentials/${c.id}`) });
  const renderEc2 = (c: Credential) => {
    const b = JSON.parse(c.blob) as Record<string, unknown>;
    return {
      user_id: c.user_id,
      tenant_id: c.project_id,
      access: b['access'],
      secret: b['secret'],
      trust_id: b['trust_id'] ?? null,
      links: selfLink(d, `users/${c.user_id}/credentials/OS-EC2/${b['access']}`),
    };
  };
  const target = (c: Partial<Credential>) => ({ target: { credential: { user_id: c.user_id } } });

  app.post('/v3/credentials', async (req, reply) => {
    const b = checkBody<{ credential: Record<string, any> }>(createSchema, req.body).credential;
    await authorize(d, req, 'identity:create_credential', target(b));
    await d.identity.getUser(b['user_id']);
    reply.code(201);
    return { credential: render(await d.credentials.create({ user_id: b['user_id'], project_id: b['project_id'], type: b['type'], blob: b['blob'] })) };
  });
  app.get('/v3/credentials', async (req) => {
    const t = await authorize(d, req, 'identity:list_credentials');
    const q = query(req);
    let list = await d.credentials.list({ user_id: q['user_id'], type: q['type'] });
    // without admin rights a user sees only their own
    if (!d.enforcer.enforce('admin_required', {}, { roles: t.roles.map((r) => r.name) })) list = list.filter((c) => c.user_id === t.userId);
    return listBody(d, req, 'credentials', list.map(render));
  });
  app.get<P>('/v3/credentials/:id', async (req) => {
    const c = await d.credentials.get(req.params.id).catch(() => undefined);
    await authorize(d, req, 'identity:get_credential', target(c ?? {}));
    if (!c) throw notFoundError('credential', req.params.id);
    return { credential: render(c) };
  });
  app.patch<P>('/v3/credentials/:id', async (req) => {
    const c = await d.credentials.get(req.params.id).catch(() => undefined);
    await authorize(d, req, 'identity:update_credential', target(c ?? {}));
    if (!c) throw notFoundError('credential', req.params.id);
    const b = checkBody<{ credential: Record<string, any> }>(updateSchema, req.body).credential;
    return { credential: render(await d.credentials.update(req.params.id, b)) };
  });
  app.delete<P>('/v3/credentials/:id', async (req, reply) => {
    const c = await d.credentials.get(req.params.id).catch(() => undefined);
    await authorize(d, req, 'identity:delete_credential', target(c ?? {}));
    if (!c) throw notFoundError('credential', req.params.id);
    await d.credentials.delete(req.params.id);
    reply.code(204);
    return '';
  });

  // EC2
  const ec2 = '/v3/users/:user/credentials/OS-EC2';
  app.post<P>(ec2, async (req, reply) => {
    await authorize(d, req, 'identity:ec2_create_credential', { user_id: req.params.user, target: { credential: { user_id: req.params.user } } });
    const b = checkBody<{ tenant_id: string }>(ec2Schema, req.body);
    await d.identity.getUser(req.params.user);
    const project = await d.resource.getProject(b.tenant_id);
    if ((await d.assignment.effectiveRoleIds(req.params.user, { projectId: project.id, projectDomainId: project.domain_id })).length === 0) {
      throw forbiddenError(`User ${req.params.user} has no access to project ${project.id}.`);
    }
    reply.code(201);
    return { credential: renderEc2(await d.credentials.createEc2(req.params.user, project.id)) };
  });
  app.get<P>(ec2, async (req) => {
    await authorize(d, req, 'identity:ec2_list_credentials', { user_id: req.params.user, target: { credential: { user_id: req.params.user } } });
    return listBody(d, req, 'credentials', (await d.credentials.list({ user_id: req.params.user, type: 'ec2' })).map(renderEc2));
  });
  const ec2Get = async (user: string, access: string) => {
    const c = await d.credentials.get(CredentialManager.ec2Id(access)).catch(() => undefined);
    if (!c || c.user_id !== user || c.type !== 'ec2') throw notFoundError('credential', access);
    return c;
  };
  app.get<P>(`${ec2}/:access`, async (req) => {
    await authorize(d, req, 'identity:ec2_get_credential', { user_id: req.params.user, target: { credential: { user_id: req.params.user } } });
    return { credential: renderEc2(await ec2Get(req.params.user, req.params.access)) };
  });
  app.delete<P>(`${ec2}/:access`, async (req, reply) => {
    await authorize(d, req, 'identity:ec2_delete_credential', { user_id: req.params.user, target: { credential: { user_id: req.params.user } } });
    const c = await ec2Get(req.params.user, req.params.access);
    await d.credentials.delete(c.id);
    reply.code(204);
    return '';
  });
}
