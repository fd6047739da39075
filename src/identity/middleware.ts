/**
 * keystonemiddleware's token validation for services that run apart from Keystone: validates
 * user tokens with `GET /v3/auth/tokens` (X-Subject-Token) using a service user's own token,
 * caching results (`token_cache_time`, 300 s by default) and coalescing concurrent checks.
 * @module
 */
import type { TokenValidator, ValidatedToken } from '../common/http/auth-types.js';
import type { CatalogEntry } from '../common/context.js';
import { ApiError } from '../common/errors.js';

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
  private serviceToken: { id: string; until: number } | undefined;
  private serviceTokenPending: Promise<string> | undefined;

  constructor(private readonly opts: HttpTokenValidatorOptions) {
    this.base = opts.authUrl.replace(/\/+$/, '').replace(/\/v3$/, '') + '/v3';
    this.ttl = opts.cacheTtlMs ?? 300_000;
    this.max = opts.cacheMax ?? 100_000;
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

  private async fetchValidation(token: string, retried = false): Promise<ValidatedToken> {
    const svc = await this.getServiceToken();
    const res = await fetch(`${this.base}/auth/tokens`, {
      headers: { 'X-Auth-Token': svc, 'X-Subject-Token': token, Accept: 'application/json' },
    });
    if (res.status === 200) {
      const v = parseTokenBody(await res.json());
      const expires = Date.parse(v.expiresAt);
      this.remember(token, { until: Math.min(Date.now() + this.ttl, Number.isNaN(expires) ? Infinity : expires), value: v });
      return v;
    }
    await res.body?.cancel();
    if (res.status === 404) {
      const error = unauthorized();
      this.remember(token, { until: Date.now() + Math.min(this.ttl, 30_000), error });
      throw error;
    }
    if (res.status === 401 && !retried) {
      // our own token expired or was revoked: get a new one and try once more
      this.serviceToken = undefined;
      return this.fetchValidation(token, true);
    }
    throw new ApiError(503, 'The Keystone service is temporarily unavailable.', { type: 'ServiceUnavailable' });
  }

  private async getServiceToken(): Promise<string> {
    if (this.serviceToken && this.serviceToken.until > Date.now()) return this.serviceToken.id;
    this.serviceTokenPending ??= this.issueServiceToken().finally(() => (this.serviceTokenPending = undefined));
    return this.serviceTokenPending;
  }

  private async issueServiceToken(): Promise<string> {
    const o = this.opts;
    const res = await fetch(`${this.base}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: o.username, password: o.password, domain: { id: o.userDomainId ?? 'default' } } } },
          scope: { project: { name: o.projectName, domain: { id: o.projectDomainId ?? 'default' } } },
        },
      }),
    });
    const id = res.headers.get('x-subject-token');
    const body = (await res.json().catch(() => ({}))) as { token?: { expires_at?: string } };
    if (res.status !== 201 || !id) throw new ApiError(503, 'The Keystone service is temporarily unavailable.', { type: 'ServiceUnavailable' });
    const exp = Date.parse(body.token?.expires_at ?? '');
    // renew a minute before expiry, as keystoneauth does
    this.serviceToken = { id, until: (Number.isNaN(exp) ? Date.now() + 3_600_000 : exp) - 60_000 };
    return id;
  }
}
