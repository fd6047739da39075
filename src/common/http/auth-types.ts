/**
 * The contract between Keystone's token validation (src/identity/middleware) and every
 * service's REST app (src/common/http). keystonemiddleware's job in two halves:
 * a `TokenValidator` turns a token into what Keystone says about it; the app factory's auth
 * hook turns that into the request's `RequestContext` (or a 401 with WWW-Authenticate).
 * @module
 */
import type { CatalogEntry } from '../context.js';

export interface ValidatedToken {
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName?: string;
  /** Present for project-scoped tokens. */
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  /** Present for domain-scoped tokens. */
  domainId?: string;
  domainName?: string;
  /** 'all' for system-scoped tokens. */
  system?: string;
  /** Effective role names (implied roles expanded: admin => member => reader). */
  roles: string[];
  methods: string[];
  auditIds: string[];
  /** ISO 8601. */
  expiresAt: string;
  issuedAt: string;
  catalog?: CatalogEntry[];
}

export interface TokenValidator {
  /** Resolves to the token's data; rejects with an ApiError(401) when it is invalid, expired or revoked. */
  validate(token: string): Promise<ValidatedToken>;
}
