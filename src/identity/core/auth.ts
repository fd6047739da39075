/**
 * POST /v3/auth/tokens: authenticates the identity methods (password, token,
 * application_credential), resolves the requested scope and issues the token. Any failure to
 * authenticate is the same 401, whichever part was wrong.
 * @module
 */
import type { ResourceManager } from './resource.js';
import type { IdentityManager, User } from './identity.js';
import type { AssignmentManager } from './assignment.js';
import type { AppCredManager } from './app-creds.js';
import type { TrustManager } from './trusts.js';
import type { TokenProvider, TokenData, IssueRequest } from '../token/provider.js';
import { ApiError } from '../../common/errors.js';
import { unauthorizedError, validationError } from '../util.js';

type Obj = Record<string, any>;

interface Managers {
  resource: ResourceManager;
  identity: IdentityManager;
  assignment: AssignmentManager;
  appCreds: AppCredManager;
  trusts: TrustManager;
  tokens: TokenProvider;
}

export class AuthManager {
  constructor(private readonly m: Managers) {}

  private async domainRef(ref: Obj | undefined): Promise<string> {
    if (!ref || typeof ref !== 'object') throw unauthorizedError();
    if (typeof ref['id'] === 'string') {
      const d = await this.m.resource.findDomain(ref['id']);
      if (!d || !d.enabled) throw unauthorizedError();
      return d.id;
    }
    if (typeof ref['name'] === 'string') {
      const d = await this.m.resource.getDomainByName(ref['name']).catch(() => undefined);
      if (!d || !d.enabled) throw unauthorizedError();
      return d.id;
    }
    throw unauthorizedError();
  }

  private async resolveUser(u: Obj): Promise<User> {
    if (typeof u['id'] === 'string') {
      const user = await this.m.identity.findUser(u['id']);
      if (!user) throw unauthorizedError();
      return user;
    }
    if (typeof u['name'] === 'string') {
      const domainId = await this.domainRef(u['domain']);
      const user = await this.m.identity.findUserByName(u['name'], domainId);
      if (!user) throw unauthorizedError();
      return user;
    }
    throw validationError("Expecting to find id or name in user - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
  }

  /** Authenticates and issues; `subjectOf` validates a token given to the `token` method. */
  async authenticate(body: Obj, opts: { nocatalog?: boolean } = {}): Promise<TokenData> {
    void opts;
    const auth = body['auth'] as Obj;
    const identity = auth['identity'] as Obj;
    const methods = identity['methods'] as string[];
    if (!Array.isArray(methods) || methods.length === 0) throw validationError("Invalid input for field 'identity/methods': [] is too short");
    let userId: string | undefined;
    let parent: IssueRequest['parent'];
    let parentToken: TokenData | undefined;
    let appCred: Awaited<ReturnType<AppCredManager['authenticate']>> | undefined;
    const used: string[] = [];
    for (const method of methods) {
      const data = identity[method] as Obj | undefined;
      if (method === 'password') {
        const u = data?.['user'] as Obj | undefined;
        if (!u || typeof u !== 'object') throw validationError("Invalid input for field 'identity/password/user': 'user' is a required property");
        const password = u['password'];
        if (typeof password !== 'string') throw unauthorizedError();
        const user = await this.resolveUser(u);
        await this.m.identity.checkPassword(user.id, password);
        if (userId && userId !== user.id) throw unauthorizedError();
        userId = user.id;
        used.push('password');
      } else if (method === 'token') {
        const id = data?.['id'];
        if (typeof id !== 'string') throw validationError("Invalid input for field 'identity/token/id': 'id' is a required property");
        // an invalid or revoked token is Keystone's TokenNotFound (404), as clients expect
        parentToken = await this.m.tokens.validate(id);
        if (parentToken.appCred) throw new ApiError(403, 'Application credential tokens cannot be rescoped.', { title: 'Forbidden' });
        if (parentToken.trust) throw new ApiError(403, 'Trust-scoped tokens cannot be rescoped.', { title: 'Forbidden' });
        if (userId && userId !== parentToken.userId) throw unauthorizedError();
        userId = parentToken.userId;
        parent = { expiresAt: parentToken.expiresAt, auditIds: parentToken.auditIds };
        used.push('token', ...parentToken.methods.filter((m) => m !== 'token'));
      } else if (method === 'application_credential') {
        const ac = data as Obj | undefined;
        if (!ac || typeof ac['secret'] !== 'string') throw unauthorizedError();
        let ownerId: string | undefined;
        if (!ac['id']) {
          const u = ac['user'] as Obj | undefined;
          if (!u || typeof u !== 'object') throw unauthorizedError();
          ownerId = (await this.resolveUser(u)).id;
        }
        appCred = await this.m.appCreds.authenticate({ id: ac['id'], name: ac['name'], userId: ownerId }, ac['secret']);
        const user = await this.m.identity.findUser(appCred.user_id);
        if (!user || !user.enabled) throw unauthorizedError();
        userId = user.id;
        used.push('application_credential');
      } else {
        throw unauthorizedError(`Attempted to authenticate with an unsupported method.`);
      }
    }
    if (!userId) throw unauthorizedError();
    const user = await this.m.identity.findUser(userId);
    if (!user || !user.enabled) throw unauthorizedError();
    if (!appCred) this.checkMfaRules(user, used);

    let scope: IssueRequest['scope'] = { kind: 'unscoped' };
    const reqScope = auth['scope'];
    const trustRef = reqScope && typeof reqScope === 'object' ? (reqScope as Obj)['OS-TRUST:trust'] : undefined;
    if (trustRef && !appCred) return this.redeemTrust(user.id, trustRef, used, parent);
    if (appCred) {
      if (reqScope !== undefined && reqScope !== null) {
        const projectId = reqScope?.project?.id;
        if (projectId !== appCred.project_id) throw unauthorizedError();
      }
      scope = { kind: 'project', id: appCred.project_id! };
    } else if (reqScope && typeof reqScope === 'object') {
      scope = await this.resolveScope(reqScope as Obj);
    } else if (reqScope === 'unscoped') {
      scope = { kind: 'unscoped' };
    } else if (parentToken) {
      // a token re-authenticated without a scope keeps the original scope
      const s = parentToken.scope;
      scope = s.kind === 'project' || s.kind === 'domain' ? { kind: s.kind, id: s.id } : s.kind === 'system' ? { kind: 'system' } : { kind: 'unscoped' };
    } else if (user.default_project_id) {
      // Keystone scopes to the default project when the user has a role there
      const p = await this.m.resource.findProject(user.default_project_id);
      if (p && p.enabled && (await this.m.assignment.effectiveRoleIds(user.id, { projectId: p.id, projectDomainId: p.domain_id })).length) {
        scope = { kind: 'project', id: p.id };
      }
    }
    // the user must hold a role on the scope target
    if (scope.kind !== 'unscoped') {
      let roles: string[] = [];
      if (scope.kind === 'project') {
        const p = await this.m.resource.findProject(scope.id);
        if (!p || !p.enabled) throw unauthorizedError();
        const d = await this.m.resource.findDomain(p.domain_id);
        if (!d || !d.enabled) throw unauthorizedError();
        roles = await this.m.assignment.effectiveRoleIds(user.id, { projectId: p.id, projectDomainId: p.domain_id });
      } else if (scope.kind === 'domain') {
        roles = await this.m.assignment.effectiveRoleIds(user.id, { domainId: scope.id });
      } else {
        roles = await this.m.assignment.effectiveRoleIds(user.id, { system: true });
      }
      if (roles.length === 0) throw unauthorizedError();
    }
    try {
      return await this.m.tokens.issue({
        userId,
        methods: [...new Set(used)],
        scope,
        parent,
        appCred: appCred ? { id: appCred.id, expiresAt: appCred.expires_at_ms } : undefined,
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw unauthorizedError();
      throw e;
    }
  }

  /**
   * Multi-factor rules (user options `multi_factor_auth_enabled` + `multi_factor_auth_rules`):
   * the methods used must cover one rule. Stratus has no auth receipts, so the client must
   * send every method of a rule in one request.
   */
  private checkMfaRules(user: User, used: string[]): void {
    const rules = user.options['multi_factor_auth_rules'];
    if (user.options['multi_factor_auth_enabled'] !== true || !Array.isArray(rules) || rules.length === 0) return;
    const have = new Set(used);
    const ok = (rules as unknown[]).some((r) => Array.isArray(r) && r.length > 0 && r.every((m) => have.has(String(m))));
    if (!ok) {
      throw unauthorizedError(`Insufficient auth methods received for user ${user.id}. Auth Methods Provided: ${JSON.stringify([...have])}.`);
    }
  }

  /** A trustee redeems a trust: a project token with the delegated roles, as the trustor when impersonating. */
  private async redeemTrust(userId: string, ref: Obj, methods: string[], parent: IssueRequest['parent']): Promise<TokenData> {
    if (typeof ref?.['id'] !== 'string') throw validationError("Invalid input for field 'scope/OS-TRUST:trust': 'id' is a required property");
    const trust = await this.m.trusts.get(ref['id']).catch(() => undefined);
    if (!trust || trust.trustee_user_id !== userId || !trust.project_id) throw unauthorizedError();
    await this.m.trusts.consume(trust.id).catch(() => {
      throw unauthorizedError();
    });
    try {
      return await this.m.tokens.issue({
        userId: trust.impersonation ? trust.trustor_user_id : trust.trustee_user_id,
        methods: [...new Set(methods)],
        scope: { kind: 'project', id: trust.project_id },
        parent,
        trust: { id: trust.id, expiresAt: trust.expires_at_us === null ? null : Math.floor(trust.expires_at_us / 1000) },
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw unauthorizedError();
      throw e;
    }
  }

  private async resolveScope(s: Obj): Promise<IssueRequest['scope']> {
    const keys = Object.keys(s).filter((k) => ['project', 'domain', 'system', 'OS-TRUST:trust'].includes(k));
    if (keys.length !== 1) throw validationError('Specify one of domain, project or system in the scope.');
    if (s['project']) {
      const p = s['project'] as Obj;
      if (typeof p['id'] === 'string') {
        const proj = await this.m.resource.findProject(p['id']);
        if (!proj) throw unauthorizedError();
        return { kind: 'project', id: proj.id };
      }
      if (typeof p['name'] === 'string') {
        const domainId = await this.domainRef(p['domain']);
        const proj = await this.m.resource.getProjectByName(p['name'], domainId).catch(() => undefined);
        if (!proj) throw unauthorizedError();
        return { kind: 'project', id: proj.id };
      }
      throw validationError('Scope project must have an id or a name.');
    }
    if (s['domain']) return { kind: 'domain', id: await this.domainRef(s['domain']) };
    if (s['system']) {
      if ((s['system'] as Obj)['all'] !== true) throw validationError("Invalid input for field 'scope/system': only {'all': true} is supported.");
      return { kind: 'system' };
    }
    throw unauthorizedError('Trusts are not supported.');
  }
}
