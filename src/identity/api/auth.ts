/**
 * /v3/auth: issue (POST), validate (GET), check (HEAD) and revoke (DELETE) tokens with
 * X-Subject-Token; the catalog, projects, domains and system the caller's token can reach.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { renderToken, tokenNotFound, type TokenData } from '../token/provider.js';
import { ApiError } from '../../common/errors.js';
import { getLogger } from '../../common/log.js';

const log = getLogger('keystone');
import { authorize, callerToken, checkBody, listBody, query, selfLink, type ApiDeps } from './common.js';

/** oslo's bool_from_string: only explicit true words count (`?allow_expired` alone is false). */
const boolFromString = (v: string | undefined) => v !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());
import { renderDomain, renderProject } from './resource.js';

const identitySchema = {
  type: 'object',
  properties: {
    auth: {
      type: 'object',
      properties: {
        identity: {
          type: 'object',
          properties: {
            methods: { type: 'array', items: { type: 'string' }, minItems: 1 },
            password: { type: 'object', properties: { user: { type: 'object' } }, required: ['user'] },
            token: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
            application_credential: { type: 'object' },
          },
          required: ['methods'],
        },
        scope: { type: ['object', 'string'] },
      },
      required: ['identity'],
    },
  },
  required: ['auth'],
};

function subject(req: FastifyRequest): string {
  const h = req.headers['x-subject-token'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) throw tokenNotFound();
  return v;
}

export function registerAuth(app: FastifyInstance, d: ApiDeps): void {
  const catalogFor = async (t: TokenData, nocatalog: boolean) => (nocatalog ? undefined : await d.tokenCatalog(t));

  app.post('/v3/auth/tokens', { config: { public: true } }, async (req, reply) => {
    const body = checkBody<Record<string, any>>(identitySchema, req.body);
    const t = await d.auth.authenticate(body).catch((e: unknown) => {
      // as Keystone: a warning naming the source, never which part of the credentials was wrong
      if (e instanceof ApiError && e.status === 401) log.warn(`Authorization failed. ${e.message} from ${req.ip}`);
      throw e;
    });
    const q = query(req);
    reply.code(201).header('X-Subject-Token', t.token);
    return { token: renderToken(t, await catalogFor(t, 'nocatalog' in q)) };
  });

  app.head('/v3/auth/tokens', async (req, reply) => {
    const sub = subject(req);
    const t = await d.tokens.validate(sub, { allowExpired: boolFromString(query(req)['allow_expired']) });
    await authorize(d, req, 'identity:check_token', { target: { token: { user_id: t.userId } } });
    reply.header('X-Subject-Token', sub).code(200);
    return '';
  });

  // validation is the hot path of every other service: the body is rendered once per token
  const rendered = new WeakMap<TokenData, { withCatalog?: string; noCatalog?: string }>();
  app.get('/v3/auth/tokens', async (req, reply) => {
    const sub = subject(req);
    const q = query(req);
    const t = await d.tokens.validate(sub, { allowExpired: boolFromString(q['allow_expired']) });
    await authorize(d, req, 'identity:validate_token', { target: { token: { user_id: t.userId } } });
    const nocatalog = 'nocatalog' in q;
    let r = rendered.get(t);
    if (!r) rendered.set(t, (r = {}));
    const key = nocatalog ? 'noCatalog' : 'withCatalog';
    r[key] ??= JSON.stringify({ token: renderToken(t, await catalogFor(t, nocatalog)) });
    reply.header('X-Subject-Token', sub).type('application/json');
    return r[key];
  });

  app.delete('/v3/auth/tokens', async (req, reply) => {
    const sub = subject(req);
    const t = await d.tokens.validate(sub);
    await authorize(d, req, 'identity:revoke_token', { target: { token: { user_id: t.userId } } });
    await d.tokens.revokeToken(sub);
    reply.code(204);
    return '';
  });

  app.get('/v3/auth/catalog', async (req) => {
    const t = await callerToken(d, req);
    if (t.scope.kind === 'unscoped') {
      throw new ApiError(403, 'A scoped token is required to get a catalog.', { title: 'Forbidden' });
    }
    return { catalog: await d.tokenCatalog(t), links: selfLink(d, 'auth/catalog') };
  });

  app.get('/v3/auth/projects', async (req) => {
    const t = await callerToken(d, req);
    const ids = await d.assignment.projectIdsForUser(t.userId);
    const inherited = (await d.assignment.domainIdsForUser(t.userId)).inherited;
    for (const dom of inherited) for (const p of await d.resource.listProjects({ domain_id: dom })) ids.push(p.id);
    const projects = (await d.resource.listProjects({ ids: [...new Set(ids)] })).filter((p) => p.enabled);
    return listBody(d, req, 'projects', projects.map((p) => renderProject(d, p)));
  });

  app.get('/v3/auth/domains', async (req) => {
    const t = await callerToken(d, req);
    const { direct } = await d.assignment.domainIdsForUser(t.userId);
    const domains = (await d.resource.listDomains()).filter((x) => direct.includes(x.id) && x.enabled);
    return listBody(d, req, 'domains', domains.map((x) => renderDomain(d, x)));
  });

  app.get('/v3/auth/system', async (req) => {
    const t = await callerToken(d, req);
    const has = await d.assignment.hasSystemRole(t.userId);
    return { system: has ? [{ all: true }] : [], links: selfLink(d, 'auth/system') };
  });
}
