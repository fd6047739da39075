/** OAuth1 consumers (/v3/OS-OAUTH1/consumers): the registry part of Keystone's OAuth1 extension. @module */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import { newId, notFoundError } from '../util.js';

export interface Consumer {
  id: string;
  description: string | null;
  secret?: string;
}

export class ConsumerManager {
  constructor(private readonly db: Kysely<KeystoneDB>) {}

  async create(description: string | null): Promise<Consumer> {
    const id = newId();
    const secret = randomBytes(24).toString('base64url');
    await this.db.insertInto('consumer').values({ id, description, secret, extra: '{}' }).execute();
    return { id, description, secret };
  }

  async get(id: string): Promise<Consumer> {
    const r = await this.db.selectFrom('consumer').select(['id', 'description']).where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('consumer', id);
    return r;
  }

  async list(): Promise<Consumer[]> {
    return this.db.selectFrom('consumer').select(['id', 'description']).execute();
  }

  async update(id: string, description: string | null): Promise<Consumer> {
    await this.get(id);
    await this.db.updateTable('consumer').set({ description }).where('id', '=', id).execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.deleteFrom('consumer').where('id', '=', id).execute();
  }
}
