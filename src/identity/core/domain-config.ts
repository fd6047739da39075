/**
 * Domain-specific configuration (/v3/domains/{id}/config): per-domain overrides of the
 * `[identity]` and `[ldap]` options Keystone allows, sensitive ones (the LDAP password) kept
 * apart and never shown. Stored only: Stratus has no LDAP backend to apply them to.
 * @module
 */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import { forbiddenError, notFoundError, type Tx } from '../util.js';

export type DomainConfig = Record<string, Record<string, unknown>>;

/** Keystone's defaults for the allowed options (keystone/conf/identity.py, ldap.py). */
export const CONFIG_DEFAULTS: DomainConfig = {
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    url: 'ldap://localhost', user: null, suffix: 'cn=example,cn=com', query_scope: 'one', page_size: 0,
    alias_dereferencing: 'default', debug_level: null, chase_referrals: null, user_tree_dn: null, user_filter: null,
    user_objectclass: 'inetOrgPerson', user_id_attribute: 'cn', user_name_attribute: 'sn', user_description_attribute: 'description',
    user_mail_attribute: 'mail', user_pass_attribute: 'userPassword', user_enabled_attribute: 'enabled', user_enabled_invert: false,
    user_enabled_mask: 0, user_enabled_default: 'True', user_attribute_ignore: ['default_project_id'], user_default_project_id_attribute: null,
    user_enabled_emulation: false, user_enabled_emulation_dn: null, user_enabled_emulation_use_group_config: false,
    user_additional_attribute_mapping: [], group_tree_dn: null, group_filter: null, group_objectclass: 'groupOfNames',
    group_id_attribute: 'cn', group_name_attribute: 'ou', group_member_attribute: 'member', group_members_are_ids: false,
    group_desc_attribute: 'description', group_attribute_ignore: [], group_additional_attribute_mapping: [],
    tls_cacertfile: null, tls_cacertdir: null, use_tls: false, tls_req_cert: 'demand', use_pool: true, pool_size: 10,
    pool_retry_max: 3, pool_retry_delay: 0.1, pool_connection_timeout: -1, pool_connection_lifetime: 600,
    use_auth_pool: true, auth_pool_size: 100, auth_pool_connection_lifetime: 60,
  },
};
const SENSITIVE: Record<string, string[]> = { ldap: ['password'] };

function allowed(group: string, option?: string): 'whitelisted' | 'sensitive' {
  if (!(group in CONFIG_DEFAULTS)) throw forbiddenError(`Invalid domain specific configuration: Group ${group} is not supported for domain specific configurations.`);
  if (option === undefined) return 'whitelisted';
  if (SENSITIVE[group]?.includes(option)) return 'sensitive';
  if (!(option in CONFIG_DEFAULTS[group]!)) {
    throw forbiddenError(`Invalid domain specific configuration: Option ${option} in group ${group} is not supported for domain specific configurations.`);
  }
  return 'whitelisted';
}

export class DomainConfigManager {
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  constructor(private readonly db: Kysely<KeystoneDB>) {}

  /** Checks every group and option of a config body. */
  validate(config: DomainConfig): void {
    for (const [g, opts] of Object.entries(config)) {
      allowed(g);
      if (!opts || typeof opts !== 'object' || Array.isArray(opts)) throw forbiddenError(`Invalid domain specific configuration: group ${g} must be an object.`);
      for (const o of Object.keys(opts)) allowed(g, o);
    }
  }

  /** The whitelisted options of a domain (sensitive ones are never returned). */
  async get(domainId: string, group?: string, option?: string): Promise<DomainConfig> {
    let q = this.db.selectFrom('whitelisted_config').selectAll().where('domain_id', '=', domainId);
    if (group) q = q.where('group', '=', group);
    if (option) q = q.where('option', '=', option);
    const out: DomainConfig = {};
    for (const r of await q.execute()) (out[r.group] ??= {})[r.option] = JSON.parse(r.value) as unknown;
    const what = option ? `option ${option} in group ${group}` : group ? `group ${group}` : 'config';
    if (Object.keys(out).length === 0) throw notFoundError('domain config', `${domainId} (${what})`);
    return out;
  }

  async exists(domainId: string): Promise<boolean> {
    const a = await this.db.selectFrom('whitelisted_config').select('domain_id').where('domain_id', '=', domainId).executeTakeFirst();
    const b = await this.db.selectFrom('sensitive_config').select('domain_id').where('domain_id', '=', domainId).executeTakeFirst();
    return !!(a || b);
  }

  /** PUT: replaces the whole configuration. */
  async replace(domainId: string, config: DomainConfig): Promise<void> {
    this.validate(config);
    await this.tx(async (trx) => {
      await trx.deleteFrom('whitelisted_config').where('domain_id', '=', domainId).execute();
      await trx.deleteFrom('sensitive_config').where('domain_id', '=', domainId).execute();
      await this.write(trx, domainId, config);
    });
  }

  /** PATCH: merges options into what is there; with `group`/`option`, only inside them. */
  async update(domainId: string, config: DomainConfig, group?: string, option?: string): Promise<void> {
    this.validate(config);
    if (group && Object.keys(config).some((g) => g !== group)) throw forbiddenError(`Invalid domain specific configuration: only group ${group} may be updated here.`);
    if (option && Object.values(config).some((o) => Object.keys(o).some((k) => k !== option))) {
      throw forbiddenError(`Invalid domain specific configuration: only option ${option} may be updated here.`);
    }
    // updating what does not exist is a 404, as in Keystone
    await this.get(domainId, group, option).catch(async (e) => {
      if (!group && !(await this.exists(domainId))) throw e;
      if (group) throw e;
    });
    await this.tx(async (trx) => {
      for (const [g, opts] of Object.entries(config)) {
        for (const o of Object.keys(opts)) {
          const table = allowed(g, o) === 'sensitive' ? 'sensitive_config' : 'whitelisted_config';
          await trx.deleteFrom(table).where('domain_id', '=', domainId).where('group', '=', g).where('option', '=', o).execute();
        }
      }
      await this.write(trx, domainId, config);
    });
  }

  async delete(domainId: string, group?: string, option?: string): Promise<void> {
    if (group) await this.get(domainId, group, option);
    else if (!(await this.exists(domainId))) throw notFoundError('domain config', domainId);
    await this.tx(async (trx) => {
      for (const table of ['whitelisted_config', 'sensitive_config'] as const) {
        let q = trx.deleteFrom(table).where('domain_id', '=', domainId);
        if (group) q = q.where('group', '=', group);
        if (option) q = q.where('option', '=', option);
        await q.execute();
      }
    });
  }

  private async write(trx: Kysely<KeystoneDB>, domainId: string, config: DomainConfig): Promise<void> {
    for (const [g, opts] of Object.entries(config)) {
      for (const [o, v] of Object.entries(opts)) {
        const table = allowed(g, o) === 'sensitive' ? 'sensitive_config' : 'whitelisted_config';
        await trx.insertInto(table).values({ domain_id: domainId, group: g, option: o, value: JSON.stringify(v) }).execute();
      }
    }
  }
}
