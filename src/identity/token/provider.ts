/**
 * Issues and validates Fernet tokens, and holds Keystone's token model: who, how (methods),
 * scope, effective roles and audit ids. Validation re-reads the current state (user, project,
 * roles, revocations), as Keystone does, behind a cache that any change clears.
 * @module
 */
import type { KeyRepository } from './key-repository.js';
import { MultiFernet, InvalidToken } from './fernet.js';
import { TokenFormatter } from './formatter.js';
import type { ResourceManager } from '../core/resource.js';
import type { IdentityManager } from '../core/identity.js';
import type { AssignmentManager } from '../core/assignment.js';
import type { RevokeManager } from '../core/revoke.js';
import type { AppCredManager } from '../core/app-creds.js';
import type { TrustManager } from '../core/trusts.js';
import { isoTime, newAuditId, notFoundError, unauthorizedError } from '../util.js';
import { ApiError } from '../../common/errors.js';

export type TokenScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; id: string; name: string; domainId: string; domainName: string }
  | { kind: 'domain'; id: string; name: string }
  | { kind: 'system' };

export interface TokenData {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  passwordExpiresAt: string | null;
  methods: string[];
  auditIds: string[];
  /** ms */
  expiresAt: number;
  issuedAt: number;
  scope: TokenScope;
  roles: { id: string; name: string }[];
  appCred?: { id: string; name: string; restricted: boolean };
  trust?: { id: string; impersonation: boolean; trusteeUserId: string; trustorUserId: string };
}

export interface IssueRequest {
  userId: string;
  methods: string[];
  scope: { kind: 'unscoped' } | { kind: 'project'; id: string } | { kind: 'domain'; id: string } | { kind: 'system' };
  /** Re-scoping keeps the original expiry and audit chain. */
  parent?: { expiresAt: number; auditIds: string[] };
  appCred?: { id: string; expiresAt: number | null };
  trust?: { id: string; expiresAt: number | null };
}

interface Deps {
  keys: KeyRepository;
  resource: ResourceManager;
  identity: IdentityManager;
  assignment: AssignmentManager;
  revoke: RevokeManager;
  appCreds: AppCredManager;
  trusts: TrustManager;
  expirationSeconds: () => number;
  allowExpiredWindowSeconds: () => number;
}

const CACHE_MAX = 50_000;

export class TokenProvider {
  private crypto: MultiFernet | undefined;
  private keysVersion = -2;
  private keysCheckedAt = 0;
  private readonly formatter = new TokenFormatter(() => this.fernet());
  private readonly cache = new Map<string, { data: TokenData; gen: number; at: number }>();
  /** A cached validation is rechecked after this long (changes made by other Keystone processes). */
  static readonly CACHE_TTL_MS = 5000;
  /** Bumped by any change that could alter a validation result. */
  generation = 0;

  constructor(private readonly d: Deps) {
    d.revoke.onRevoke(() => this.invalidate());
  }

  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  /** Keys reloaded when the repository changes (checked at most once a second). */
  private fernet(): MultiFernet {
    const now = Date.now();
    if (!this.crypto || now - this.keysCheckedAt > 1000) {
      this.keysCheckedAt = now;
      const v = this.d.keys.version();
      if (!this.crypto || v !== this.keysVersion) {
        const keys = this.d.keys.load();
        if (keys.length === 0) throw new ApiError(500, 'Failed to find Fernet keys; run fernet_setup.', { type: 'KeysNotFound' });
        this.crypto = new MultiFernet(keys);
        this.keysVersion = v;
      }
    }
    return this.crypto;
  }

  reloadKeys(): void {
    this.crypto = undefined;
  }

  async issue(req: IssueRequest): Promise<TokenData> {
    // Fernet timestamps are whole seconds: a token minted in the same second as a revocation
    // of its user would count as revoked, so wait for the next second first.
    const latest = await this.d.revoke.latestForUser(req.userId);
    const second = Math.floor(Date.now() / 1000) * 1000;
    if (latest >= second) await new Promise((r) => setTimeout(r, latest - second + 1000 - (Date.now() - second) + 5));
    const now = Date.now();
    let expiresAt = req.parent?.expiresAt ?? now + this.d.expirationSeconds() * 1000;
    if (req.appCred?.expiresAt && req.appCred.expiresAt < expiresAt) expiresAt = req.appCred.expiresAt;
    if (req.trust?.expiresAt && req.trust.expiresAt < expiresAt) expiresAt = req.trust.expiresAt;
    const auditIds = req.parent ? [newAuditId(), req.parent.auditIds.at(-1)!] : [newAuditId()];
    const scope = req.scope;
    const token = this.formatter.pack({
      userId: req.userId,
      methods: req.methods,
      projectId: scope.kind === 'project' ? scope.id : undefined,
      domainId: scope.kind === 'domain' ? scope.id : undefined,
      system: scope.kind === 'system' ? 'all' : undefined,
      appCredId: req.appCred?.id,
      trustId: req.trust?.id,
      expiresAt: expiresAt / 1000,
      auditIds,
    });
    // issuing is validating: the same checks, so a token is never handed out that would not validate
    return this.validate(token);
  }

  /** Full validation; throws 404 (Keystone's TokenNotFound) for any invalid token. */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenData> {
    const hit = this.cache.get(token);
    const now = Date.now();
    if (hit && hit.gen === this.generation && !opts.allowExpired && now - hit.at < TokenProvider.CACHE_TTL_MS) {
      if (hit.data.expiresAt > now) return hit.data;
      this.cache.delete(token);
      throw tokenNotFound();
    }
    const gen = this.generation;
    const data = await this.build(token, opts);
    if (!opts.allowExpired && gen === this.generation) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(token, { data, gen, at: now });
    }
    return data;
  }

  private async build(token: string, opts: { allowExpired?: boolean }): Promise<TokenData> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) throw tokenNotFound();
    let p;
    try {
      p = this.formatter.unpack(token);
    } catch (e) {
      if (e instanceof InvalidToken) throw tokenNotFound();
      throw e;
    }
    const expiresAt = Math.round(p.expiresAt * 1000);
    // ?allow_expired reaches back [token] allow_expired_window (48 h), no further
    if (expiresAt <= Date.now() - (opts.allowExpired ? this.d.allowExpiredWindowSeconds() * 1000 : 0)) throw tokenNotFound();
    const issuedAt = (p.issuedAt ?? 0) * 1000;
    if (await this.d.revoke.isRevoked({ userId: p.userId, projectId: p.projectId, domainId: p.domainId, auditIds: p.auditIds, issuedAt })) {
      throw tokenNotFound();
    }
    const user = await this.d.identity.findUser(p.userId);
    if (!user || !user.enabled) throw tokenNotFound();
    const userDomain = await this.d.resource.findDomain(user.domain_id);
    if (!userDomain || !userDomain.enabled) throw tokenNotFound();

    let scope: TokenScope = { kind: 'unscoped' };
    let roleIds: string[] = [];
    if (p.projectId) {
      const project = await this.d.resource.findProject(p.projectId);
      if (!project || !project.enabled) throw tokenNotFound();
      const pdom = await this.d.resource.findDomain(project.domain_id);
      if (!pdom || !pdom.enabled) throw tokenNotFound();
      scope = { kind: 'project', id: project.id, name: project.name, domainId: pdom.id, domainName: pdom.name };
      roleIds = await this.d.assignment.effectiveRoleIds(user.id, { projectId: project.id, projectDomainId: project.domain_id });
    } else if (p.domainId) {
      const dom = await this.d.resource.findDomain(p.domainId);
      if (!dom || !dom.enabled) throw tokenNotFound();
      scope = { kind: 'domain', id: dom.id, name: dom.name };
      roleIds = await this.d.assignment.effectiveRoleIds(user.id, { domainId: dom.id });
    } else if (p.system) {
      scope = { kind: 'system' };
      roleIds = await this.d.assignment.effectiveRoleIds(user.id, { system: true });
    }
    let appCred: TokenData['appCred'];
    if (p.appCredId) {
      const ac = await this.d.appCreds.get(p.appCredId).catch(() => undefined);
      if (!ac || ac.user_id !== user.id) throw tokenNotFound();
      // Keystone drops an application credential when its user loses one of its roles there
      const held = new Set(roleIds);
      if (!ac.role_ids.every((r) => held.has(r))) throw tokenNotFound();
      const allowed = new Set(await this.d.assignment.expandImplied(ac.role_ids));
      roleIds = roleIds.filter((r) => allowed.has(r));
      appCred = { id: ac.id, name: ac.name, restricted: !ac.unrestricted };
    }
    let trust: TokenData['trust'];
    if (p.trustId) {
      const tr = await this.d.trusts.get(p.trustId).catch(() => undefined);
      if (!tr || tr.project_id !== p.projectId) throw tokenNotFound();
      // an impersonating token is the trustor's, otherwise the trustee's
      if (user.id !== (tr.impersonation ? tr.trustor_user_id : tr.trustee_user_id)) throw tokenNotFound();
      const trustor = await this.d.identity.findUser(tr.trustor_user_id);
      const trustee = await this.d.identity.findUser(tr.trustee_user_id);
      if (!trustor?.enabled || !trustee?.enabled) throw tokenNotFound();
      const project = await this.d.resource.findProject(tr.project_id!);
      const held = new Set(await this.d.assignment.effectiveRoleIds(tr.trustor_user_id, { projectId: tr.project_id!, projectDomainId: project?.domain_id }));
      const delegated = await this.d.assignment.expandImplied(tr.role_ids);
      if (!tr.role_ids.every((r) => held.has(r))) throw tokenNotFound(); // the trustor lost a delegated role
      roleIds = delegated.filter((r) => held.has(r));
      trust = { id: tr.id, impersonation: tr.impersonation, trusteeUserId: tr.trustee_user_id, trustorUserId: tr.trustor_user_id };
    }
    if (scope.kind !== 'unscoped' && roleIds.length === 0) throw tokenNotFound();
    const roleMap = await this.d.assignment.rolesByIds(roleIds);
    const roles = roleIds.filter((r) => roleMap.has(r)).map((r) => ({ id: r, name: roleMap.get(r)!.name }));
    return {
      token,
      userId: user.id,
      userName: user.name,
      userDomainId: userDomain.id,
      userDomainName: userDomain.name,
      passwordExpiresAt: user.password_expires_at,
      methods: p.methods,
      auditIds: p.auditIds,
      expiresAt,
      issuedAt,
      scope,
      roles,
      appCred,
      trust,
    };
  }

  /** Revokes one token by its audit id (DELETE /v3/auth/tokens). */
  async revokeToken(token: string): Promise<void> {
    const data = await this.validate(token);
    await this.d.revoke.revoke({ audit_id: data.auditIds[0], expires_at: data.expiresAt });
  }
}

export function tokenNotFound(): ApiError {
  return new ApiError(404, 'Failed to validate token', { title: 'Not Found', type: 'TokenNotFound' });
}

/** Keystone's `token` body. */
export function renderToken(t: TokenData, catalog?: unknown[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: { id: t.userDomainId, name: t.userDomainName }, id: t.userId, name: t.userName, password_expires_at: t.passwordExpiresAt },
    audit_ids: t.auditIds,
    expires_at: isoTime(t.expiresAt),
    issued_at: isoTime(t.issuedAt),
  };
  const s = t.scope;
  if (s.kind === 'project') {
    body['project'] = { domain: { id: s.domainId, name: s.domainName }, id: s.id, name: s.name };
    if (!t.trust) body['is_domain'] = false;
  } else if (s.kind === 'domain') {
    body['domain'] = { id: s.id, name: s.name };
  } else if (s.kind === 'system') {
    body['system'] = { all: true };
  }
  if (s.kind !== 'unscoped') body['roles'] = t.roles;
  if (t.appCred) body['application_credential'] = t.appCred;
  if (t.trust) {
    body['OS-TRUST:trust'] = { id: t.trust.id, impersonation: t.trust.impersonation, trustee_user: { id: t.trust.trusteeUserId }, trustor_user: { id: t.trust.trustorUserId } };
  }
  if (catalog && s.kind !== 'unscoped') body['catalog'] = catalog;
  return body;
}

export { unauthorizedError, notFoundError };
