/** /v3/policies: opaque policy blobs Keystone stores for other services (no enforcement). @module */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import { newId, notFoundError, parseExtra } from '../util.js';

export interface PolicyBlob {
  id: string;
  type: string;
  blob: string;
  [extra: string]: unknown;
}

export class PolicyBlobManager {
  constructor(private readonly db: Kysely<KeystoneDB>) {}

  private view(r: { id: string; type: string; blob: string; extra: string }): PolicyBlob {
    return { ...parseExtra(r.extra), id: r.id, type: r.type, blob: r.blob };
  }

  async create(p: { type: string; blob: string; extra?: Record<string, unknown> }): Promise<PolicyBlob> {
    const id = newId();
    await this.db.insertInto('policy').values({ id, type: p.type, blob: p.blob, extra: JSON.stringify(p.extra ?? {}) }).execute();
    return this.get(id);
  }

  async get(id: string): Promise<PolicyBlob> {
    const r = await this.db.selectFrom('policy').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('policy', id);
    return this.view(r);
  }

  async list(type?: string): Promise<PolicyBlob[]> {
    let q = this.db.selectFrom('policy').selectAll();
    if (type) q = q.where('type', '=', type);
    return (await q.execute()).map((r) => this.view(r));
  }

  async update(id: string, patch: { type?: string; blob?: string }): Promise<PolicyBlob> {
    const cur = await this.get(id);
    await this.db.updateTable('policy').set({ type: patch.type ?? cur.type, blob: patch.blob ?? cur.blob }).where('id', '=', id).execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.deleteFrom('policy').where('id', '=', id).execute();
  }
}
