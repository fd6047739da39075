/**
 * The in-process TokenValidator (all-in-one mode): other services validate tokens against
 * Keystone's own provider and keys, with its cache, without an HTTP hop.
 * @module
 */
import type { TokenValidator, ValidatedToken } from '../common/http/auth-types.js';
import { ApiError } from '../common/errors.js';
import type { TokenData, TokenProvider } from './token/provider.js';
import { isoTime } from './util.js';
import type { CatalogEntry } from '../common/context.js';

export function toValidatedToken(t: TokenData, catalog?: CatalogEntry[]): ValidatedToken {
  const v: ValidatedToken = {
    userId: t.userId,
    userName: t.userName,
    userDomainId: t.userDomainId,
    userDomainName: t.userDomainName,
    roles: t.roles.map((r) => r.name),
    methods: t.methods,
    auditIds: t.auditIds,
    expiresAt: isoTime(t.expiresAt),
    issuedAt: isoTime(t.issuedAt),
  };
  const s = t.scope;
  if (s.kind === 'project') Object.assign(v, { projectId: s.id, projectName: s.name, projectDomainId: s.domainId });
  else if (s.kind === 'domain') Object.assign(v, { domainId: s.id, domainName: s.name });
  else if (s.kind === 'system') v.system = 'all';
  if (catalog && s.kind !== 'unscoped') v.catalog = catalog;
  return v;
}

export class LocalTokenValidator implements TokenValidator {
  private readonly rendered = new WeakMap<TokenData, ValidatedToken>();

  constructor(
    private readonly tokens: TokenProvider,
    private readonly catalog: (t: TokenData) => Promise<CatalogEntry[]>,
  ) {}

  async validate(token: string): Promise<ValidatedToken> {
    let t: TokenData;
    try {
      t = await this.tokens.validate(token);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new ApiError(401, 'The request you have made requires authentication.', { type: 'Unauthorized', title: 'Unauthorized' });
      throw e;
    }
    let v = this.rendered.get(t);
    if (!v) {
      v = toValidatedToken(t, await this.catalog(t));
      this.rendered.set(t, v);
    }
    return v;
  }
}
