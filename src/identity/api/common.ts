/**
 * What every Keystone controller shares: the managers, policy checks against the caller's
 * token, links, list envelopes, body validation with Keystone's wording.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import type { Enforcer } from '../../common/policy/index.js';
import { validate, type JsonSchema } from '../../common/http/validation.js';
import type { ResourceManager } from '../core/resource.js';
import type { IdentityManager } from '../core/identity.js';
import type { AssignmentManager } from '../core/assignment.js';
import type { CatalogManager } from '../core/catalog.js';
import type { AppCredManager } from '../core/app-creds.js';
import type { RevokeManager } from '../core/revoke.js';
import type { AuthManager } from '../core/auth.js';
import type { TokenProvider, TokenData } from '../token/provider.js';
import type { IdentityConfig } from '../config.js';
import type { CatalogEntry } from '../../common/context.js';
import { forbiddenError, unauthorizedError } from '../util.js';

export interface ApiDeps {
  resource: ResourceManager;
  identity: IdentityManager;
  assignment: AssignmentManager;
  catalog: CatalogManager;
  appCreds: AppCredManager;
  revoke: RevokeManager;
  auth: AuthManager;
  tokens: TokenProvider;
  enforcer: Enforcer;
  publicUrl: string;
  conf: IdentityConfig;
  /** The catalog a token shows (endpoint filters of its project applied). */
  tokenCatalog(t: TokenData): Promise<CatalogEntry[]>;
}

/** The caller's token (validated by the app's auth hook, so this is a cache hit). */
export async function callerToken(d: ApiDeps, req: FastifyRequest): Promise<TokenData> {
  const token = req.ctx?.authToken;
  if (!token) throw unauthorizedError();
  return d.tokens.validate(token).catch(() => {
    throw unauthorizedError();
  });
}

/** oslo.context policy values plus Keystone's `token.*` keys. */
export function credentials(t: TokenData): Record<string, unknown> {
  const s = t.scope;
  return {
    user_id: t.userId,
    user_domain_id: t.userDomainId,
    project_id: s.kind === 'project' ? s.id : null,
    project_domain_id: s.kind === 'project' ? s.domainId : null,
    domain_id: s.kind === 'domain' ? s.id : null,
    system_scope: s.kind === 'system' ? 'all' : null,
    roles: t.roles.map((r) => r.name),
    is_admin: false,
    'token.project.domain.id': s.kind === 'project' ? s.domainId : null,
    'token.domain.id': s.kind === 'domain' ? s.id : null,
    'token.user_id': t.userId,
  };
}

export async function authorize(d: ApiDeps, req: FastifyRequest, rule: string, target: Record<string, unknown> = {}): Promise<TokenData> {
  const t = await callerToken(d, req);
  if (!d.enforcer.enforce(rule, target, credentials(t))) {
    throw forbiddenError(`You are not authorized to perform the requested action: ${rule}.`);
  }
  return t;
}

export function selfLink(d: ApiDeps, path: string): { self: string } {
  return { self: `${d.publicUrl}/v3/${path}` };
}

export function listBody(d: ApiDeps, req: FastifyRequest, key: string, items: unknown[]): Record<string, unknown> {
  const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
  const path = (req.routeOptions.url ?? '').replace(/^\/v3\//, '');
  const concrete = req.url.split('?')[0]!.replace(/^\/v3\//, '');
  return { [key]: items, links: { next: null, self: `${d.publicUrl}/v3/${concrete || path}${qs}`, previous: null } };
}

/** Validates a request body with Keystone's 400 wording. */
export function checkBody<T>(schema: JsonSchema, body: unknown): T {
  validate(schema, body, 'body', { messageStyle: 'keystone' });
  return body as T;
}

export function query(req: FastifyRequest): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  return out;
}

/** Keystone's query boolean: '0', 'false' (any case) and '' are false; present means true. */
export function queryBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return !['0', 'false', 'f', 'no', 'n', 'off'].includes(v.toLowerCase()) || false;
}

/** Flag parameters (`?nocatalog`, `?effective`): present and not false-ish. */
export function flag(q: Record<string, string>, name: string): boolean {
  if (!(name in q)) return false;
  const v = q[name]!.toLowerCase();
  return !['0', 'false', 'f', 'no', 'off'].includes(v);
}

export const ID = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const NAME = { type: 'string', minLength: 1, maxLength: 255 } as const;
export const DESCRIPTION = { type: ['string', 'null'] } as const;
export const ENABLED = { type: 'boolean' } as const;
export const TAGS = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^,/]*$' }, maxItems: 80 } as const;
