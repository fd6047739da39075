/**
 * Keystone in one object: the database, the Fernet key repository, the managers, the REST app
 * and the in-process token validator other services use in all-in-one mode.
 * @module
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../common/db/connection.js';
import type { ConfigOpts } from '../common/config/index.js';
import { createApp } from '../common/http/app.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { Enforcer, loadPolicyFile, policyOpts } from '../common/policy/index.js';
import type { KeystoneDB } from './db/schema.js';
import { migrateIdentity } from './db/migrations.js';
import { resolveIdentityConfig, identityOpts, type IdentityOverrides } from './config.js';
import { KeyRepository } from './token/key-repository.js';
import { TokenProvider } from './token/provider.js';
import { ResourceManager } from './core/resource.js';
import { IdentityManager } from './core/identity.js';
import { AssignmentManager } from './core/assignment.js';
import { CatalogManager } from './core/catalog.js';
import { AppCredManager } from './core/app-creds.js';
import { RevokeManager } from './core/revoke.js';
import { AuthManager } from './core/auth.js';
import { identityPolicies } from './policies.js';
import { LocalTokenValidator } from './validator.js';
import { runBootstrap, type BootstrapSpec } from './bootstrap.js';
import type { ApiDeps } from './api/common.js';
import { registerDiscovery } from './api/discovery.js';
import { registerAuth } from './api/auth.js';
import { registerResource } from './api/resource.js';
import { registerUsers } from './api/users.js';
import { registerRoles } from './api/roles.js';
import { registerCatalog } from './api/catalog.js';
import { registerAppCreds } from './api/app-creds.js';
import { registerCredentials } from './api/credentials.js';
import { registerPoliciesAndConsumers } from './api/policies-oauth.js';
import { CredentialManager } from './core/credentials.js';
import { PolicyBlobManager } from './core/policy-blobs.js';
import { ConsumerManager } from './core/consumers.js';
import { TrustManager } from './core/trusts.js';
import { registerTrusts } from './api/trusts.js';
import { DomainConfigManager } from './core/domain-config.js';
import { registerDomainConfig } from './api/domain-config.js';
import { EndpointFilterManager } from './core/endpoint-filter.js';
import { registerEndpointFilter } from './api/endpoint-filter.js';
import type { TokenData } from './token/provider.js';
import type { CatalogEntry } from '../common/context.js';

export type { BootstrapSpec } from './bootstrap.js';

export interface IdentityService {
  app: FastifyInstance;
  /** Local validation (keys + cache), for other services' auth hooks in all-in-one mode. */
  validator: TokenValidator;
  bootstrap(spec: BootstrapSpec): Promise<void>;
  close(): Promise<void>;
  /** Internals for tests, benches and `stratus manage keystone`. */
  readonly keys: KeyRepository;
  readonly tokens: TokenProvider;
  readonly deps: ApiDeps;
}

export interface IdentityServiceOptions {
  database: Database;
  stateDir: string;
  /** e.g. http://127.0.0.1:5000 */
  publicUrl: string;
  config?: ConfigOpts;
  /** Direct overrides (tests): token expiry, security compliance, ... */
  overrides?: IdentityOverrides;
}

/** Registers Keystone's option groups on a ConfigOpts (keystone.conf). */
export function registerIdentityOpts(config: ConfigOpts): void {
  for (const [group, opts] of Object.entries(identityOpts)) config.register(group, opts);
  config.register('oslo_policy', policyOpts);
}

/**
 * Keystone's `format_url`: `$(project_id)s`, `$(tenant_id)s` and `$(user_id)s` in endpoint URLs
 * become the token's values (`%(...)s` too); an endpoint whose placeholder has no value in this
 * token (no project) is left out, as Keystone does.
 */
export function substituteUrls(catalog: CatalogEntry[], t: TokenData): CatalogEntry[] {
  const values: Record<string, string | undefined> = {
    project_id: t.scope.kind === 'project' ? t.scope.id : undefined,
    tenant_id: t.scope.kind === 'project' ? t.scope.id : undefined,
    user_id: t.userId,
  };
  const PLACEHOLDER = /[$%]\((\w+)\)s/g;
  return catalog
    .map((s) => ({
      ...s,
      endpoints: s.endpoints.flatMap((e) => {
        let missing = false;
        const url = e.url.replace(PLACEHOLDER, (_m, name: string) => {
          const v = values[name];
          if (v === undefined) missing = true;
          return v ?? '';
        });
        return missing ? [] : [{ ...e, url }];
      }),
    }))
    .filter((s) => s.endpoints.length > 0 || !catalog.find((c) => c.id === s.id)?.endpoints.length);
}

export async function createIdentityService(opts: IdentityServiceOptions): Promise<IdentityService> {
  if (opts.config) registerIdentityOpts(opts.config);
  const conf = resolveIdentityConfig(opts.config, opts.overrides);
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  await migrateIdentity(opts.database);
  const db = opts.database.db as Kysely<KeystoneDB>;

  const keys = new KeyRepository(conf.keyRepository ?? path.join(opts.stateDir, 'fernet-keys'), conf.maxActiveKeys);
  keys.setup();
  // Keystone's `credential_setup`: a separate repository for credential blobs at rest
  const credentialKeys = new KeyRepository(path.join(opts.stateDir, 'credential-keys'), conf.maxActiveKeys);
  credentialKeys.setup();

  const resource = new ResourceManager(db);
  const identity = new IdentityManager(db, conf);
  const assignment = new AssignmentManager(db, (u) => identity.groupIdsForUser(u), (p) => resource.ancestors(p));
  const catalog = new CatalogManager(db);
  const appCreds = new AppCredManager(db, () => conf.passwordHashRounds);
  const trusts = new TrustManager(db);
  const revoke = new RevokeManager(db, () => (conf.tokenExpiration + conf.allowExpiredWindow) * 1000);
  const tx = <T,>(fn: (trx: Kysely<KeystoneDB>) => Promise<T>) => (opts.database as Database<KeystoneDB>).transaction(fn);
  for (const m of [resource, identity, assignment, appCreds, trusts]) m.tx = tx;
  const tokens = new TokenProvider({ keys, resource, identity, assignment, revoke, appCreds, trusts, expirationSeconds: () => conf.tokenExpiration, allowExpiredWindowSeconds: () => conf.allowExpiredWindow });
  const auth = new AuthManager({ resource, identity, assignment, appCreds, trusts, tokens });
  // operator overrides from [oslo_policy] policy_file, next to the first config file
  const policyFile = opts.config?.get<string>('oslo_policy', 'policy_file');
  const configDir = opts.config?.configFiles[0] ? path.dirname(opts.config.configFiles[0]) : undefined;
  const enforcer = new Enforcer(identityPolicies, policyFile && configDir ? loadPolicyFile(policyFile, configDir) : {});
  const endpointFilter = new EndpointFilterManager(db);
  /** The catalog of a token: everything, or only what the project's endpoint filters allow. */
  const tokenCatalog = async (t: TokenData): Promise<CatalogEntry[]> => {
    let full = substituteUrls(await catalog.catalog(), t);
    if (t.scope.kind !== 'project') return full;
    const allowed = await endpointFilter.allowedEndpoints(t.scope.id, await catalog.listEndpoints());
    if (allowed) full = full.map((s) => ({ ...s, endpoints: s.endpoints.filter((e) => allowed.has(e.id!)) })).filter((s) => s.endpoints.length > 0);
    return full;
  };
  const validator = new LocalTokenValidator(tokens, tokenCatalog);

  const deps: ApiDeps = { resource, identity, assignment, catalog, appCreds, revoke, auth, tokens, enforcer, publicUrl, conf, tokenCatalog };
  const app = createApp({ service: 'keystone', faults: 'keystone', validator, authUrl: publicUrl });
  // any write may change what a token validates to (roles, enabled flags): drop the cache
  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && req.url.startsWith('/v3/auth/tokens'))) tokens.invalidate();
    return payload;
  });
  registerDiscovery(app, deps);
  const domainConfig = new DomainConfigManager(db);
  domainConfig.tx = tx;
  registerDomainConfig(app, { ...deps, domainConfig });
  registerAuth(app, deps);
  registerResource(app, deps);
  registerUsers(app, deps);
  registerRoles(app, deps);
  registerCatalog(app, deps);
  registerAppCreds(app, deps);
  registerCredentials(app, { ...deps, credentials: new CredentialManager(db, credentialKeys) });
  registerTrusts(app, { ...deps, trusts });
  registerEndpointFilter(app, { ...deps, endpointFilter });
  registerPoliciesAndConsumers(app, { ...deps, policyBlobs: new PolicyBlobManager(db), consumers: new ConsumerManager(db) });

  return {
    app,
    validator,
    keys,
    tokens,
    deps,
    async bootstrap(spec: BootstrapSpec) {
      await runBootstrap({ resource, identity, assignment, catalog }, spec, `${publicUrl}/v3`);
      tokens.invalidate();
    },
    async close() {
      await app.close();
    },
  };
}
