/**
 * Users, groups and passwords (Keystone's identity backend), with the `[security_compliance]`
 * rules: lockout, password history, minimum age, expiry, regex.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Tx } from '../util.js';
import type { KeystoneDB } from '../db/schema.js';
import type { IdentityConfig } from '../config.js';
import { hashPassword, verifyPassword } from '../password.js';
import {
  bool,
  conflictError,
  isDuplicate,
  isoTime,
  newId,
  notFoundError,
  num,
  parseExtra,
  unauthorizedError,
  validationError,
} from '../util.js';

export interface User {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  default_project_id?: string;
  password_expires_at: string | null;
  options: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Group {
  id: string;
  name: string;
  domain_id: string;
  description: string;
}

/** Keystone user option ids (keystone/identity/backends/resource_options). */
const USER_OPTIONS: Record<string, string> = {
  ignore_change_password_upon_first_use: '1000',
  ignore_password_expiry: '1001',
  ignore_lockout_failure_attempts: '1002',
  lock_password: '1003',
  multi_factor_auth_rules: 'MFAR',
  multi_factor_auth_enabled: 'MFAE',
  ignore_user_inactivity: '1004',
};
const OPTION_NAMES = Object.fromEntries(Object.entries(USER_OPTIONS).map(([k, v]) => [v, k]));

const DAY = 86_400_000;

/** Turns a password into the hash stored for it. */
export type PasswordHasher = (password: string) => Promise<string>;

export class IdentityManager {
  /** Runs one transaction; the service points it at Database.transaction (journey spans). */
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  constructor(
    private readonly db: Kysely<KeystoneDB>,
    private readonly conf: IdentityConfig,
  ) {}

  /** How a new password is hashed unless the caller brings its own hasher (bootstrap does). */
  readonly hasher: PasswordHasher = (password) => hashPassword(password, this.conf.passwordHashRounds);

  // ---- users

  private async load(where: { id?: string; name?: string; domainId?: string }): Promise<User | undefined> {
    let q = this.db
      .selectFrom('user')
      .innerJoin('local_user', 'local_user.user_id', 'user.id')
      .select(['user.id', 'user.domain_id', 'user.enabled', 'user.default_project_id', 'user.extra', 'local_user.name', 'local_user.id as local_id']);
    if (where.id !== undefined) q = q.where('user.id', '=', where.id);
    if (where.name !== undefined) q = q.where('local_user.name', '=', where.name).where('local_user.domain_id', '=', where.domainId!);
    const r = await q.executeTakeFirst();
    if (!r) return undefined;
    const [pw, opts] = await Promise.all([this.currentPassword(Number(r.local_id)), this.optionsOf(r.id)]);
    return this.toUser(r, pw?.expires_at ?? null, opts);
  }

  private toUser(
    r: { id: string; domain_id: string; enabled: number; default_project_id: string | null; extra: string; name: string },
    expires: number | null,
    options: Record<string, unknown>,
  ): User {
    const extra = parseExtra(r.extra);
    const u: User = {
      ...extra,
      id: r.id,
      name: r.name,
      domain_id: r.domain_id,
      enabled: bool(r.enabled),
      password_expires_at: expires !== null ? isoTime(Number(expires)) : null,
      options,
    };
    if (r.default_project_id) u.default_project_id = r.default_project_id;
    return u;
  }

  private async optionsOf(userId: string): Promise<Record<string, unknown>> {
    const rows = await this.db.selectFrom('user_option').selectAll().where('user_id', '=', userId).execute();
    const out: Record<string, unknown> = {};
    for (const r of rows) {
      const name = OPTION_NAMES[r.option_id];
      if (name) out[name] = JSON.parse(r.option_value) as unknown;
    }
    return out;
  }

  private async currentPassword(localId: number) {
    return this.db
      .selectFrom('password')
      .selectAll()
      .where('local_user_id', '=', localId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  async getUser(id: string): Promise<User> {
    const u = await this.load({ id });
    if (!u) throw notFoundError('user', id);
    return u;
  }

  async findUser(id: string): Promise<User | undefined> {
    return this.load({ id });
  }

  async findUserByName(name: string, domainId: string): Promise<User | undefined> {
    return this.load({ name, domainId });
  }

  async listUsers(f: { domain_id?: string; name?: string; enabled?: boolean; ids?: string[] } = {}): Promise<User[]> {
    let q = this.db
      .selectFrom('user')
      .innerJoin('local_user', 'local_user.user_id', 'user.id')
      .select(['user.id', 'user.domain_id', 'user.enabled', 'user.default_project_id', 'user.extra', 'local_user.name', 'local_user.id as local_id']);
    if (f.domain_id !== undefined) q = q.where('user.domain_id', '=', f.domain_id);
    if (f.name !== undefined) q = q.where('local_user.name', '=', f.name);
    if (f.enabled !== undefined) q = q.where('user.enabled', '=', f.enabled ? 1 : 0);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      q = q.where('user.id', 'in', f.ids);
    }
    const rows = await q.orderBy('local_user.name').execute();
    const out: User[] = [];
    for (const r of rows) {
      const pw = await this.currentPassword(Number(r.local_id));
      out.push(this.toUser(r, pw?.expires_at ?? null, await this.optionsOf(r.id)));
    }
    return out;
  }

  async createUser(u: {
    id?: string;
    name: string;
    domain_id: string;
    enabled?: boolean;
    password?: string | null;
    default_project_id?: string | null;
    options?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  }, opts: { hasher?: PasswordHasher } = {}): Promise<User> {
    const id = u.id ?? newId();
    const now = Date.now();
    if (u.password != null) this.checkPasswordRules(u.password);
    const hash = u.password != null ? await (opts.hasher ?? this.hasher)(u.password) : null;
    try {
      await this.tx(async (trx) => {
        await trx
          .insertInto('user')
          .values({
            id,
            domain_id: u.domain_id,
            enabled: u.enabled === false ? 0 : 1,
            default_project_id: u.default_project_id ?? null,
            extra: JSON.stringify(u.extra ?? {}),
            created_at: now,
            last_active_at: null,
          })
          .execute();
        await trx.insertInto('local_user').values({ user_id: id, domain_id: u.domain_id, name: u.name, failed_auth_count: 0, failed_auth_at: null }).execute();
        // no RETURNING on MariaDB: read the generated id back by the unique user_id
        const local = await trx.selectFrom('local_user').select('id').where('user_id', '=', id).executeTakeFirstOrThrow();
        if (hash) {
          // an admin-set password expires at once when change_password_upon_first_use is on
          const expires = this.conf.security.changePasswordUponFirstUse && !u.options?.['ignore_change_password_upon_first_use'] ? now : this.expiryFrom(now);
          await trx.insertInto('password').values({ local_user_id: Number(local.id), password_hash: hash, created_at: now, expires_at: expires, self_service: 0 }).execute();
        }
        for (const [k, v] of Object.entries(u.options ?? {})) {
          const oid = USER_OPTIONS[k];
          if (oid) await trx.insertInto('user_option').values({ user_id: id, option_id: oid, option_value: JSON.stringify(v) }).execute();
        }
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('user', `Duplicate entry found with name ${u.name} at domain ID ${u.domain_id}.`);
      throw e;
    }
    return this.getUser(id);
  }

  async updateUser(
    id: string,
    patch: { name?: string; enabled?: boolean; password?: string | null; default_project_id?: string | null; options?: Record<string, unknown>; extra?: Record<string, unknown> },
  ): Promise<{ user: User; passwordChanged: boolean; disabled: boolean }> {
    const cur = await this.getUser(id);
    const local = await this.db.selectFrom('local_user').selectAll().where('user_id', '=', id).executeTakeFirstOrThrow();
    const set: Record<string, unknown> = {};
    if (patch.enabled !== undefined) set['enabled'] = patch.enabled ? 1 : 0;
    if (patch.default_project_id !== undefined) set['default_project_id'] = patch.default_project_id;
    if (patch.extra) {
      const { id: _a, name: _b, domain_id: _c, enabled: _d, default_project_id: _e, password_expires_at: _f, options: _g, ...old } = cur;
      set['extra'] = JSON.stringify({ ...old, ...patch.extra });
    }
    try {
      await this.tx(async (trx) => {
        if (Object.keys(set).length) await trx.updateTable('user').set(set).where('id', '=', id).execute();
        if (patch.name !== undefined) await trx.updateTable('local_user').set({ name: patch.name }).where('id', '=', local.id).execute();
        if (patch.enabled === true) await trx.updateTable('local_user').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', local.id).execute();
        for (const [k, v] of Object.entries(patch.options ?? {})) {
          const oid = USER_OPTIONS[k];
          if (!oid) continue;
          await trx.deleteFrom('user_option').where('user_id', '=', id).where('option_id', '=', oid).execute();
          if (v !== null) await trx.insertInto('user_option').values({ user_id: id, option_id: oid, option_value: JSON.stringify(v) }).execute();
        }
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('user', `Duplicate entry found with name ${patch.name} at domain ID ${cur.domain_id}.`);
      throw e;
    }
    let passwordChanged = false;
    if (patch.password !== undefined && patch.password !== null) {
      await this.setPassword(id, patch.password, { selfService: false });
      passwordChanged = true;
    }
    return { user: await this.getUser(id), passwordChanged, disabled: patch.enabled === false && cur.enabled };
  }

  async deleteUser(id: string): Promise<void> {
    await this.getUser(id);
    await this.tx(async (trx) => {
      const local = await trx.selectFrom('local_user').select('id').where('user_id', '=', id).executeTakeFirst();
      if (local) await trx.deleteFrom('password').where('local_user_id', '=', Number(local.id)).execute();
      await trx.deleteFrom('local_user').where('user_id', '=', id).execute();
      await trx.deleteFrom('user_option').where('user_id', '=', id).execute();
      await trx.deleteFrom('user_group_membership').where('user_id', '=', id).execute();
      await trx.deleteFrom('assignment').where('actor_id', '=', id).execute();
      await trx.deleteFrom('system_assignment').where('actor_id', '=', id).execute();
      const acs = await trx.selectFrom('application_credential').select('internal_id').where('user_id', '=', id).execute();
      if (acs.length) await trx.deleteFrom('application_credential_role').where('application_credential_id', 'in', acs.map((a) => Number(a.internal_id))).execute();
      await trx.deleteFrom('application_credential').where('user_id', '=', id).execute();
      await trx.deleteFrom('user').where('id', '=', id).execute();
    });
  }

  // ---- passwords

  private expiryFrom(now: number): number | null {
    const days = this.conf.security.passwordExpiresDays;
    return days ? now + days * DAY : null;
  }

  private checkPasswordRules(password: string): void {
    if (password.length > this.conf.maxPasswordLength) {
      throw validationError(`Invalid input for field 'password': '${password.slice(0, 8)}...' is too long`);
    }
    const { passwordRegex, passwordRegexDescription } = this.conf.security;
    if (passwordRegex && !new RegExp(passwordRegex).test(password)) {
      throw validationError(`Password validation error: The password does not meet the requirements: ${passwordRegexDescription ?? passwordRegex}.`);
    }
  }

  /** Sets a new password, enforcing history and minimum age for self-service changes. */
  async setPassword(userId: string, password: string, opts: { selfService: boolean; hasher?: PasswordHasher }): Promise<void> {
    this.checkPasswordRules(password);
    const local = await this.db.selectFrom('local_user').selectAll().where('user_id', '=', userId).executeTakeFirst();
    if (!local) throw notFoundError('user', userId);
    const sec = this.conf.security;
    const history = await this.db
      .selectFrom('password')
      .selectAll()
      .where('local_user_id', '=', Number(local.id))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const now = Date.now();
    if (opts.selfService && sec.minimumPasswordAge > 0 && history[0]) {
      const age = now - Number(history[0].created_at);
      if (age < sec.minimumPasswordAge * DAY) {
        throw validationError(
          `Password validation error: You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${sec.minimumPasswordAge} day(s) before it can be changed. Please try again in ${Math.ceil((sec.minimumPasswordAge * DAY - age) / DAY)} day(s) or contact your administrator to reset your password.`,
        );
      }
    }
    // password history binds users changing their own password, not an admin's reset
    if (opts.selfService && sec.uniqueLastPasswordCount > 1) {
      for (const old of history.slice(0, sec.uniqueLastPasswordCount)) {
        if (await verifyPassword(password, old.password_hash)) {
          throw validationError(
            `Password validation error: The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${sec.uniqueLastPasswordCount}.`,
          );
        }
      }
    }
    const hash = await (opts.hasher ?? this.hasher)(password);
    const expires = !opts.selfService && sec.changePasswordUponFirstUse ? now : this.expiryFrom(now);
    await this.tx(async (trx) => {
      // keep same-millisecond changes ordered
      const created = history[0] && Number(history[0].created_at) >= now ? Number(history[0].created_at) + 1 : now;
      await trx.insertInto('password').values({ local_user_id: Number(local.id), password_hash: hash, created_at: created, expires_at: expires, self_service: opts.selfService ? 1 : 0 }).execute();
      // trim history beyond what security compliance needs
      const keep = Math.max(sec.uniqueLastPasswordCount, 1);
      const stale = history.slice(keep - 1).map((h) => Number(h.id));
      if (stale.length) await trx.deleteFrom('password').where('id', 'in', stale).execute();
      await trx.updateTable('local_user').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', local.id).execute();
    });
  }

  /** The stored hash of the user's current password (undefined: no local password). */
  async currentPasswordHash(userId: string): Promise<string | undefined> {
    const local = await this.db.selectFrom('local_user').select('id').where('user_id', '=', userId).executeTakeFirst();
    if (!local) return undefined;
    return (await this.currentPassword(Number(local.id)))?.password_hash;
  }

  /**
   * Checks a user's password for authentication. Every failure is the same 401 to the caller;
   * lockout counting happens here when `lockout_failure_attempts` is set.
   */
  async checkPassword(userId: string, password: string): Promise<User> {
    const user = await this.findUser(userId);
    if (!user) throw unauthorizedError();
    const local = await this.db.selectFrom('local_user').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
    const sec = this.conf.security;
    const ignoreLockout = user.options['ignore_lockout_failure_attempts'] === true;
    const now = Date.now();
    if (sec.lockoutFailureAttempts && !ignoreLockout) {
      const count = Number(local.failed_auth_count ?? 0);
      const at = num(local.failed_auth_at);
      if (count >= sec.lockoutFailureAttempts && at !== null) {
        if (now - at < sec.lockoutDuration * 1000) {
          throw unauthorizedError('The account is locked for user: ' + userId + '.');
        }
        await this.db.updateTable('local_user').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', local.id).execute();
      }
    }
    const pw = await this.currentPassword(Number(local.id));
    const ok = pw !== undefined && password.length <= this.conf.maxPasswordLength && (await verifyPassword(password, pw.password_hash));
    if (!ok) {
      if (sec.lockoutFailureAttempts && !ignoreLockout) {
        await this.db
          .updateTable('local_user')
          .set({ failed_auth_count: Number(local.failed_auth_count ?? 0) + 1, failed_auth_at: now })
          .where('id', '=', local.id)
          .execute();
      }
      throw unauthorizedError();
    }
    if (!user.enabled) throw unauthorizedError();
    // [security_compliance] disable_user_account_days_inactive: idle accounts get disabled
    const idleDays = sec.disableUserAccountDaysInactive;
    const row = await this.db.selectFrom('user').select(['last_active_at', 'created_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    const lastActive = num(row.last_active_at) ?? Number(row.created_at);
    if (idleDays && user.options['ignore_user_inactivity'] !== true && now - lastActive > idleDays * DAY) {
      await this.db.updateTable('user').set({ enabled: 0 }).where('id', '=', userId).execute();
      throw unauthorizedError();
    }
    // Keystone records activity at day granularity
    if (row.last_active_at === null || now - Number(row.last_active_at) > DAY) {
      await this.db.updateTable('user').set({ last_active_at: now }).where('id', '=', userId).execute();
    }
    const expires = num(pw!.expires_at);
    if (expires !== null && expires <= now && user.options['ignore_password_expiry'] !== true) {
      throw unauthorizedError(`The password is expired and needs to be changed for user: ${userId}.`);
    }
    if (local.failed_auth_count) {
      await this.db.updateTable('local_user').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', local.id).execute();
    }
    return user;
  }

  // ---- groups

  private toGroup(r: { id: string; name: string; domain_id: string; description: string | null }): Group {
    return { id: r.id, name: r.name, domain_id: r.domain_id, description: r.description ?? '' };
  }

  async getGroup(id: string): Promise<Group> {
    const r = await this.db.selectFrom('group').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('group', id);
    return this.toGroup(r);
  }

  async listGroups(f: { domain_id?: string; name?: string } = {}): Promise<Group[]> {
    let q = this.db.selectFrom('group').selectAll();
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    return (await q.orderBy('name').execute()).map((r) => this.toGroup(r));
  }

  async createGroup(g: { name: string; domain_id: string; description?: string }): Promise<Group> {
    const id = newId();
    try {
      await this.db.insertInto('group').values({ id, name: g.name, domain_id: g.domain_id, description: g.description ?? '', extra: '{}' }).execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('group', `Duplicate entry found with name ${g.name} at domain ID ${g.domain_id}.`);
      throw e;
    }
    return this.getGroup(id);
  }

  async updateGroup(id: string, patch: { name?: string; description?: string }): Promise<Group> {
    await this.getGroup(id);
    const set: Record<string, string> = {};
    if (patch.name !== undefined) set['name'] = patch.name;
    if (patch.description !== undefined) set['description'] = patch.description;
    try {
      if (Object.keys(set).length) await this.db.updateTable('group').set(set).where('id', '=', id).execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('group', `Duplicate entry found with name ${patch.name}.`);
      throw e;
    }
    return this.getGroup(id);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.getGroup(id);
    await this.tx(async (trx) => {
      await trx.deleteFrom('user_group_membership').where('group_id', '=', id).execute();
      await trx.deleteFrom('assignment').where('actor_id', '=', id).execute();
      await trx.deleteFrom('system_assignment').where('actor_id', '=', id).execute();
      await trx.deleteFrom('group').where('id', '=', id).execute();
    });
  }

  async addUserToGroup(userId: string, groupId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    try {
      await this.db.insertInto('user_group_membership').values({ user_id: userId, group_id: groupId }).execute();
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
  }

  async removeUserFromGroup(userId: string, groupId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    const r = await this.db.deleteFrom('user_group_membership').where('user_id', '=', userId).where('group_id', '=', groupId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFoundError('membership', `${userId}, ${groupId}`);
  }

  async isUserInGroup(userId: string, groupId: string): Promise<boolean> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    return !!(await this.db.selectFrom('user_group_membership').select('user_id').where('user_id', '=', userId).where('group_id', '=', groupId).executeTakeFirst());
  }

  async groupIdsForUser(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('user_group_membership').select('group_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.group_id);
  }

  async listGroupsForUser(userId: string): Promise<Group[]> {
    await this.getUser(userId);
    const ids = await this.groupIdsForUser(userId);
    if (!ids.length) return [];
    return (await this.db.selectFrom('group').selectAll().where('id', 'in', ids).execute()).map((r) => this.toGroup(r));
  }

  async listUsersInGroup(groupId: string): Promise<User[]> {
    await this.getGroup(groupId);
    const rows = await this.db.selectFrom('user_group_membership').select('user_id').where('group_id', '=', groupId).execute();
    return this.listUsers({ ids: rows.map((r) => r.user_id) });
  }
}
