/**
 * Application credentials: a secret shown once at creation and stored hashed, bound to the
 * user, a project and a subset of the user's roles there, optionally expiring.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tx } from '../util.js';
import type { KeystoneDB } from '../db/schema.js';
import { hashPassword, verifyPassword } from '../password.js';
import { conflictError, isDuplicate, isoFormatMicros, newId, notFoundError, num, unauthorizedError } from '../util.js';

export interface AppCred {
  id: string;
  name: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: string | null;
  expires_at_ms: number | null;
  unrestricted: boolean;
  role_ids: string[];
}

export class AppCredManager {
  /** Runs one transaction; the service points it at Database.transaction (journey spans). */
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  constructor(
    private readonly db: Kysely<KeystoneDB>,
    private readonly rounds: () => number,
  ) {}

  private async toAppCred(r: {
    internal_id: number;
    id: string;
    name: string;
    description: string | null;
    user_id: string;
    project_id: string | null;
    system: string | null;
    expires_at: number | null;
    unrestricted: number;
  }): Promise<AppCred> {
    const roles = await this.db.selectFrom('application_credential_role').select('role_id').where('application_credential_id', '=', Number(r.internal_id)).execute();
    const exp = num(r.expires_at);
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      user_id: r.user_id,
      project_id: r.project_id,
      system: r.system,
      expires_at: exp === null ? null : isoFormatMicros(exp),
      expires_at_ms: exp === null ? null : Math.floor(exp / 1000),
      unrestricted: r.unrestricted === 1,
      role_ids: roles.map((x) => x.role_id),
    };
  }

  async create(a: {
    name: string;
    description?: string | null;
    userId: string;
    projectId: string;
    /** epoch microseconds (Keystone's DateTimeInt) */
    expiresAtMicros?: number | null;
    unrestricted?: boolean;
    roleIds: string[];
    secret?: string | null;
  }): Promise<AppCred & { secret: string }> {
    const id = newId();
    const secret = a.secret ?? randomBytes(64).toString('base64url');
    const hash = await hashPassword(secret, this.rounds());
    try {
      await this.tx(async (trx) => {
        await trx
          .insertInto('application_credential')
          .values({
            id,
            name: a.name,
            secret_hash: hash,
            description: a.description ?? null,
            user_id: a.userId,
            project_id: a.projectId,
            system: null,
            expires_at: a.expiresAtMicros ?? null,
            unrestricted: a.unrestricted ? 1 : 0,
            created_at: Date.now(),
          })
          .execute();
        const row = await trx.selectFrom('application_credential').select('internal_id').where('id', '=', id).executeTakeFirstOrThrow();
        for (const r of new Set(a.roleIds)) {
          await trx.insertInto('application_credential_role').values({ application_credential_id: Number(row.internal_id), role_id: r }).execute();
        }
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('application_credential', `Duplicate entry found with name ${a.name}.`);
      throw e;
    }
    return { ...(await this.get(id)), secret };
  }

  async get(id: string, userId?: string): Promise<AppCred> {
    let q = this.db.selectFrom('application_credential').selectAll().where('id', '=', id);
    if (userId) q = q.where('user_id', '=', userId);
    const r = await q.executeTakeFirst();
    if (!r) throw notFoundError('application credential', id);
    return this.toAppCred(r);
  }

  async list(userId: string, name?: string): Promise<AppCred[]> {
    let q = this.db.selectFrom('application_credential').selectAll().where('user_id', '=', userId);
    if (name !== undefined) q = q.where('name', '=', name);
    const rows = await q.orderBy('name').execute();
    return Promise.all(rows.map((r) => this.toAppCred(r)));
  }

  async delete(id: string, userId: string): Promise<void> {
    const r = await this.db.selectFrom('application_credential').select('internal_id').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!r) throw notFoundError('application credential', id);
    await this.tx(async (trx) => {
      await trx.deleteFrom('application_credential_role').where('application_credential_id', '=', Number(r.internal_id)).execute();
      await trx.deleteFrom('application_credential').where('internal_id', '=', r.internal_id).execute();
    });
  }

  /** Looks up by id, or by name + user id, and checks the secret and expiry; 401 otherwise. */
  async authenticate(ref: { id?: string; name?: string; userId?: string }, secret: string): Promise<AppCred> {
    let q = this.db.selectFrom('application_credential').selectAll();
    if (ref.id) q = q.where('id', '=', ref.id);
    else if (ref.name && ref.userId) q = q.where('name', '=', ref.name).where('user_id', '=', ref.userId);
    else throw unauthorizedError();
    const r = await q.executeTakeFirst();
    if (!r || !(await verifyPassword(secret, r.secret_hash))) throw unauthorizedError();
    const ac = await this.toAppCred(r);
    if (ac.expires_at_ms !== null && ac.expires_at_ms <= Date.now()) throw unauthorizedError();
    return ac;
  }
}
