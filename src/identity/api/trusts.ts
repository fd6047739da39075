/** /v3/OS-TRUST/trusts: create, list, show, delete, and the delegated roles. @module */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Trust, TrustManager } from '../core/trusts.js';
import { callerToken, checkBody, credentials, listBody, query, selfLink, type ApiDeps } from './common.js';
import { forbiddenError, isoTime, notFoundError, parseTimeMicros, validationError } from '../util.js';
import { renderRole } from './roles.js';

export interface TrustDeps extends ApiDeps {
  trusts: TrustManager;
}

const createSchema = {
  type: 'object',
  properties: {
    trust: {
      type: 'object',
      properties: {
        trustor_user_id: { type: 'string', minLength: 1, maxLength: 64 },
        trustee_user_id: { type: 'string', minLength: 1, maxLength: 64 },
        project_id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        impersonation: { type: 'boolean' },
        expires_at: { type: ['string', 'null'] },
        remaining_uses: { type: ['integer', 'null'], minimum: 1 },
        allow_redelegation: { type: ['boolean', 'null'] },
        redelegation_count: { type: ['integer', 'null'], minimum: 0 },
        roles: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, minProperties: 1 } },
      },
      required: ['trustor_user_id', 'trustee_user_id', 'impersonation'],
    },
  },
  required: ['trust'],
};

type P = { Params: { id: string; role: string } };

export function registerTrusts(app: FastifyInstance, d: TrustDeps): void {
  const render = async (t: Trust) => {
    const roles = await d.assignment.rolesByIds(t.role_ids);
    return {
      id: t.id,
      trustor_user_id: t.trustor_user_id,
      trustee_user_id: t.trustee_user_id,
      project_id: t.project_id,
      impersonation: t.impersonation,
      expires_at: t.expires_at_us === null ? null : isoTime(Math.floor(t.expires_at_us / 1000)).replace(/\.\d{6}Z$/, `.${String(t.expires_at_us % 1_000_000).padStart(6, '0')}Z`),
      remaining_uses: t.remaining_uses,
      allow_redelegation: false,
      redelegation_count: 0,
      redelegated_trust_id: null,
      roles: [...roles.values()].map((r) => renderRole(d, r)),
      roles_links: { self: `${d.publicUrl}/v3/OS-TRUST/trusts/${t.id}/roles`, previous: null, next: null },
      links: selfLink(d, `OS-TRUST/trusts/${t.id}`),
    };
  };
  const isAdmin = async (req: FastifyRequest) => d.enforcer.enforce('admin_required', {}, credentials(await callerToken(d, req)));
  /** The trustor, the trustee or an admin may see a trust; only the trustor or an admin may delete it. */
  const visible = async (req: FastifyRequest, id: string, trustorOnly = false): Promise<Trust> => {
    const caller = await callerToken(d, req);
    const t = await d.trusts.get(id);
    const allowed = caller.userId === t.trustor_user_id || (!trustorOnly && caller.userId === t.trustee_user_id) || (await isAdmin(req));
    if (!allowed) throw forbiddenError(`You are not authorized to perform the requested action: identity:${trustorOnly ? 'delete_trust' : 'get_trust'}.`);
    return t;
  };

  app.post('/v3/OS-TRUST/trusts', async (req, reply) => {
    const caller = await callerToken(d, req);
    const b = checkBody<{ trust: Record<string, any> }>(createSchema, req.body).trust;
    if (caller.userId !== b['trustor_user_id']) throw forbiddenError('You are not authorized to perform the requested action: identity:create_trust.');
    if (caller.trust) throw forbiddenError('Trust-scoped tokens cannot create trusts.');
    if (caller.appCred?.restricted) throw forbiddenError('Using method \'application_credential\' is not allowed for managing trusts.');
    await d.identity.getUser(b['trustee_user_id']);
    let expires: number | null = null;
    if (b['expires_at'] != null) {
      const us = parseTimeMicros(b['expires_at']);
      if (us === undefined) throw validationError(`Invalid input for field 'expires_at': '${b['expires_at']}' is not a 'date-time'`);
      expires = us;
    }
    const roleIds: string[] = [];
    if (b['project_id']) {
      const project = await d.resource.getProject(b['project_id']);
      const held = new Set(await d.assignment.effectiveRoleIds(caller.userId, { projectId: project.id, projectDomainId: project.domain_id }));
      for (const r of (b['roles'] ?? []) as { id?: string; name?: string }[]) {
        const role = r.id ? await d.assignment.getRole(r.id) : await d.assignment.findRoleByName(r.name!);
        if (!role) throw notFoundError('role', r.name ?? '');
        if (!held.has(role.id)) throw forbiddenError(`The trustor does not have role ${role.id} on project ${project.id}.`);
        roleIds.push(role.id);
      }
    } else if (b['roles']?.length) {
      throw forbiddenError('Roles can only be delegated on a project.');
    }
    const t = await d.trusts.create({
      trustor_user_id: b['trustor_user_id'],
      trustee_user_id: b['trustee_user_id'],
      project_id: b['project_id'] ?? null,
      impersonation: b['impersonation'],
      expires_at_us: expires,
      remaining_uses: b['remaining_uses'] ?? null,
      role_ids: roleIds,
    });
    reply.code(201);
    return { trust: await render(t) };
  });

  app.get('/v3/OS-TRUST/trusts', async (req) => {
    const caller = await callerToken(d, req);
    const q = query(req);
    const admin = await isAdmin(req);
    if (!admin) {
      const own = q['trustor_user_id'] === caller.userId || q['trustee_user_id'] === caller.userId;
      if (!own) throw forbiddenError('You are not authorized to perform the requested action: identity:list_trusts.');
    }
    const list = await d.trusts.list({ trustor_user_id: q['trustor_user_id'], trustee_user_id: q['trustee_user_id'] });
    return listBody(d, req, 'trusts', await Promise.all(list.map(render)));
  });

  app.get<P>('/v3/OS-TRUST/trusts/:id', async (req) => ({ trust: await render(await visible(req, req.params.id)) }));

  app.delete<P>('/v3/OS-TRUST/trusts/:id', async (req, reply) => {
    await visible(req, req.params.id, true);
    await d.trusts.delete(req.params.id);
    d.tokens.invalidate();
    reply.code(204);
    return '';
  });

  app.get<P>('/v3/OS-TRUST/trusts/:id/roles', async (req) => {
    const t = await visible(req, req.params.id);
    const roles = await d.assignment.rolesByIds(t.role_ids);
    return listBody(d, req, 'roles', [...roles.values()].map((r) => renderRole(d, r)));
  });
  const trustRole = async (req: FastifyRequest<P>) => {
    const t = await visible(req, req.params.id);
    if (!t.role_ids.includes(req.params.role)) throw notFoundError('role', req.params.role);
    return d.assignment.getRole(req.params.role);
  };
  app.head<P>('/v3/OS-TRUST/trusts/:id/roles/:role', async (req, reply) => {
    await trustRole(req);
    reply.code(200);
    return '';
  });
  app.get<P>('/v3/OS-TRUST/trusts/:id/roles/:role', async (req) => ({ role: renderRole(d, await trustRole(req)) }));
}
