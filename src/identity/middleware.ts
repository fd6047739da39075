/**
 * keystonemiddleware's token validation for services that run apart from Keystone: validates
 * user tokens with `GET /v3/auth/tokens` (X-Subject-Token) using a service user's own token,
 * caching results (`token_cache_time`, 300 s by default) and coalescing concurrent checks.
 * The calls go through the shared `Session` (service token, re-auth, journey spans).
 * @module
 */
import type { TokenValidator, ValidatedToken } from '../common/http/auth-types.js';
import type { CatalogEntry } from '../common/context.js';
import { ApiError } from '../common/errors.js';
import { Session } from '../common/http/client.js';

export interface HttpTokenValidatorOptions {
  /** Keystone URL, with or without `/v3`. */
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainId?: string;
  projectDomainId?: string;
  /** How long a validation result is reused; default 300 000 (keystonemiddleware's 300 s). */
  cacheTtlMs?: number;
  /** Bound on cached entries; the cache is emptied when it fills. */
  cacheMax?: number;
}

interface Entry {
  until: number;
  value?: ValidatedToken;
  error?: ApiError;
}

const unauthorized = () => new ApiError(401, 'The request you have made requires authentication.', { type: 'Unauthorized', title: 'Unauthorized' });

/** Reads a Keystone token body into what the app factory needs. */
export function parseTokenBody(body: any): ValidatedToken {
  const t = body?.token;
  if (!t || !t.user) throw unauthorized();
  const v: ValidatedToken = {
    userId: t.user.id,
    userName: t.user.name,
    userDomainId: t.user.domain?.id,
    userDomainName: t.user.domain?.name,
    roles: Array.isArray(t.roles) ? t.roles.map((r: { name: string }) => r.name) : [],
    methods: t.methods ?? [],
    auditIds: t.audit_ids ?? [],
    expiresAt: t.expires_at,
    issuedAt: t.issued_at,
  };
  if (t.project) Object.assign(v, { projectId: t.project.id, projectName: t.project.name, projectDomainId: t.project.domain?.id });
  if (t.domain) Object.assign(v, { domainId: t.domain.id, domainName: t.domain.name });
  if (t.system?.all) v.system = 'all';
  if (Array.isArray(t.catalog)) v.catalog = t.catalog as CatalogEntry[];
  return v;
}

export class HttpTokenValidator implements TokenValidator {
  private readonly base: string;
  private readonly ttl: number;
  private readonly max: number;
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ValidatedToken>>();
  private readonly session: Session;

  constructor(private readonly opts: HttpTokenValidatorOptions) {
    this.base = opts.authUrl.replace(/\/+$/, '').replace(/\/v3$/, '') + '/v3';
    this.ttl = opts.cacheTtlMs ?? 300_000;
    this.max = opts.cacheMax ?? 100_000;
    this.session = new Session({
      authUrl: this.base,
      username: opts.username,
      password: opts.password,
      projectName: opts.projectName,
      userDomainId: opts.userDomainId ?? 'default',
      projectDomainId: opts.projectDomainId ?? 'default',
      service: 'keystonemiddleware',
    });
  }

  async validate(token: string): Promise<ValidatedToken> {
    if (!token) throw unauthorized();
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) {
      if (hit.value) return hit.value;
      throw hit.error!;
    }
    const running = this.inflight.get(token);
    if (running) return running;
    const p = this.fetchValidation(token).finally(() => this.inflight.delete(token));
    this.inflight.set(token, p);
    return p;
  }

  /** Drops cached results (tests, or after a revocation known to this process). */
  clear(): void {
    this.cache.clear();
  }

  private remember(token: string, e: Entry): void {
    if (this.cache.size >= this.max) this.cache.clear();
    this.cache.set(token, e);
  }

  private async fetchValidation(token: string): Promise<ValidatedToken> {
    let res;
    try {
      // through the shared Session: service token, re-auth on 401, request ids and an http.out span
      res = await this.session.request<unknown>('GET', this.base, '/auth/tokens', {
        headers: { 'X-Subject-Token': token },
        okStatuses: [404],
        retries: 1,
      });
    } catch {
      throw new ApiError(503, 'The Keystone service is temporarily unavailable.', { type: 'ServiceUnavailable' });
    }
    if (res.status === 404) {
      const error = unauthorized();
      this.remember(token, { until: Date.now() + Math.min(this.ttl, 30_000), error });
      throw error;
    }
    const v = parseTokenBody(res.body);
    const expires = Date.parse(v.expiresAt);
    this.remember(token, { until: Math.min(Date.now() + this.ttl, Number.isNaN(expires) ? Infinity : expires), value: v });
    return v;
  }
}
