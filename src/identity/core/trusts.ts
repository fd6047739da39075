/**
 * Trusts (OS-TRUST): a trustor delegates some of their roles on a project to a trustee,
 * optionally impersonating, expiring, or limited in uses. Deleted trusts are soft-deleted.
 * @module
 */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import { newId, notFoundError, num, type Tx } from '../util.js';

export interface Trust {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: boolean;
  /** epoch microseconds */
  expires_at_us: number | null;
  remaining_uses: number | null;
  role_ids: string[];
}

export class TrustManager {
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  constructor(private readonly db: Kysely<KeystoneDB>) {}

  private async view(r: { id: string; trustor_user_id: string; trustee_user_id: string; project_id: string | null; impersonation: number; expires_at: number | null; remaining_uses: number | null }): Promise<Trust> {
    const roles = await this.db.selectFrom('trust_role').select('role_id').where('trust_id', '=', r.id).execute();
    return {
      id: r.id,
      trustor_user_id: r.trustor_user_id,
      trustee_user_id: r.trustee_user_id,
      project_id: r.project_id,
      impersonation: r.impersonation === 1,
      expires_at_us: num(r.expires_at),
      remaining_uses: num(r.remaining_uses),
      role_ids: roles.map((x) => x.role_id),
    };
  }

  async create(t: Omit<Trust, 'id'>): Promise<Trust> {
    const id = newId();
    await this.tx(async (trx) => {
      await trx
        .insertInto('trust')
        .values({
          id,
          trustor_user_id: t.trustor_user_id,
          trustee_user_id: t.trustee_user_id,
          project_id: t.project_id,
          impersonation: t.impersonation ? 1 : 0,
          expires_at: t.expires_at_us,
          remaining_uses: t.remaining_uses,
          deleted_at: null,
          extra: '{}',
        })
        .execute();
      for (const r of new Set(t.role_ids)) await trx.insertInto('trust_role').values({ trust_id: id, role_id: r }).execute();
    });
    return this.get(id);
  }

  /** A live trust: not deleted, not expired, uses left. */
  async get(id: string): Promise<Trust> {
    const r = await this.db.selectFrom('trust').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (!r) throw notFoundError('trust', id);
    const t = await this.view(r);
    if (t.expires_at_us !== null && t.expires_at_us <= Date.now() * 1000) throw notFoundError('trust', id);
    return t;
  }

  async list(f: { trustor_user_id?: string; trustee_user_id?: string } = {}): Promise<Trust[]> {
    let q = this.db.selectFrom('trust').selectAll().where('deleted_at', 'is', null);
    if (f.trustor_user_id) q = q.where('trustor_user_id', '=', f.trustor_user_id);
    if (f.trustee_user_id) q = q.where('trustee_user_id', '=', f.trustee_user_id);
    const now = Date.now() * 1000;
    return (await Promise.all((await q.execute()).map((r) => this.view(r)))).filter((t) => t.expires_at_us === null || t.expires_at_us > now);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.updateTable('trust').set({ deleted_at: Date.now() }).where('id', '=', id).execute();
  }

  /** Counts one use of a limited trust (when it is redeemed for a token). */
  async consume(id: string): Promise<void> {
    const t = await this.get(id);
    if (t.remaining_uses === null) return;
    if (t.remaining_uses <= 0) throw notFoundError('trust', id);
    const r = await this.db.updateTable('trust').set({ remaining_uses: t.remaining_uses - 1 }).where('id', '=', id).where('remaining_uses', '=', t.remaining_uses).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFoundError('trust', id);
  }
}
