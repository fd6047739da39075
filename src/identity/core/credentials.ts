/**
 * Credentials (/v3/credentials, and the EC2 view of them): blobs encrypted at rest with a
 * Fernet key repository of their own (`<stateDir>/credential-keys`, Keystone's
 * `credential_setup`), with the hash of the key that encrypted them.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import type { KeyRepository } from '../token/key-repository.js';
import { MultiFernet } from '../token/fernet.js';
import { conflictError, isDuplicate, newId, notFoundError, validationError } from '../util.js';

export interface Credential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
}

export class CredentialManager {
  constructor(
    private readonly db: Kysely<KeystoneDB>,
    private readonly keys: KeyRepository,
  ) {}

  private crypto(): { f: MultiFernet; hash: string } {
    const keys = this.keys.load();
    return { f: new MultiFernet(keys), hash: createHash('sha1').update(keys[0]!).digest('hex') };
  }

  private decrypt(r: { id: string; user_id: string; project_id: string | null; type: string; encrypted_blob: string }): Credential {
    return { id: r.id, user_id: r.user_id, project_id: r.project_id, type: r.type, blob: this.crypto().f.decrypt(r.encrypted_blob).toString('utf8') };
  }

  /** EC2 credentials are keyed by sha256(access), so they can be found by their access key. */
  static ec2Id(access: string): string {
    return createHash('sha256').update(access).digest('hex');
  }

  async create(c: { user_id: string; project_id?: string | null; type: string; blob: string; id?: string }): Promise<Credential> {
    let id = c.id ?? newId();
    if (c.type === 'ec2') {
      let blob: Record<string, unknown>;
      try {
        blob = JSON.parse(c.blob) as Record<string, unknown>;
      } catch {
        throw validationError('Invalid blob in credential');
      }
      if (!c.project_id) throw validationError('Project ID not found: project_id is required for ec2 credentials.');
      if (typeof blob['access'] !== 'string') throw validationError('Invalid blob in credential: access is required.');
      id = CredentialManager.ec2Id(blob['access']);
    }
    const { f, hash } = this.crypto();
    try {
      await this.db
        .insertInto('credential')
        .values({ id, user_id: c.user_id, project_id: c.project_id ?? null, type: c.type, encrypted_blob: f.encrypt(Buffer.from(c.blob)), key_hash: hash, extra: '{}' })
        .execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('credential', `Duplicate ID, ${id}.`);
      throw e;
    }
    return this.get(id);
  }

  async get(id: string): Promise<Credential> {
    const r = await this.db.selectFrom('credential').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('credential', id);
    return this.decrypt(r);
  }

  async list(f: { user_id?: string; type?: string } = {}): Promise<Credential[]> {
    let q = this.db.selectFrom('credential').selectAll();
    if (f.user_id) q = q.where('user_id', '=', f.user_id);
    if (f.type) q = q.where('type', '=', f.type);
    return (await q.execute()).map((r) => this.decrypt(r));
  }

  async update(id: string, patch: { project_id?: string | null; type?: string; blob?: string; user_id?: string }): Promise<Credential> {
    const cur = await this.get(id);
    const next = { ...cur, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as Credential;
    const { f, hash } = this.crypto();
    await this.db
      .updateTable('credential')
      .set({ user_id: next.user_id, project_id: next.project_id, type: next.type, encrypted_blob: f.encrypt(Buffer.from(next.blob)), key_hash: hash })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.deleteFrom('credential').where('id', '=', id).execute();
  }

  /** POST /v3/users/{id}/credentials/OS-EC2: a fresh access/secret pair for a project. */
  async createEc2(userId: string, projectId: string): Promise<Credential> {
    const access = randomBytes(16).toString('hex');
    const secret = randomBytes(16).toString('hex');
    return this.create({ user_id: userId, project_id: projectId, type: 'ec2', blob: JSON.stringify({ access, secret, trust_id: null, app_cred_id: null, access_token_id: null }) });
  }
}
