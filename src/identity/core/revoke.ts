/**
 * Revocation events (Keystone's revoke backend). A token is revoked when an event matches it
 * and the token was issued at or before the event; Fernet timestamps are whole seconds, so a
 * token issued in the same second as the event counts as revoked, as in Keystone.
 * @module
 */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';

export interface RevocationEvent {
  user_id?: string | null;
  project_id?: string | null;
  domain_id?: string | null;
  role_id?: string | null;
  audit_id?: string | null;
  audit_chain_id?: string | null;
  issued_before: number;
  expires_at?: number | null;
  revoked_at: number;
}

export interface TokenFacts {
  userId: string;
  projectId?: string;
  domainId?: string;
  auditIds: string[];
  /** ms */
  issuedAt: number;
}

export class RevokeManager {
  private events: RevocationEvent[] | undefined;
  /** Bumped on every new event, so caches of validated tokens know to drop. */
  generation = 0;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly db: Kysely<KeystoneDB>,
    private readonly maxTokenLifeMs: () => number,
  ) {}

  onRevoke(fn: () => void): void {
    this.listeners.push(fn);
  }

  private loadedAt = 0;
  private lastCount = -1;
  /** How long the events read from the database are trusted (other Keystone processes may add some). */
  static readonly RELOAD_MS = 1000;
  static readonly PRUNE_MS = 600_000;
  private prunedAt = 0;

  async load(): Promise<RevocationEvent[]> {
    if (this.events && Date.now() - this.loadedAt < RevokeManager.RELOAD_MS) return this.events;
    this.loadedAt = Date.now();
    // events older than any possible live token are useless; prune now and then, not on every read
    if (Date.now() - this.prunedAt > RevokeManager.PRUNE_MS) {
      this.prunedAt = Date.now();
      const horizon = Date.now() - this.maxTokenLifeMs() - 60_000;
      await this.db.deleteFrom('revocation_event').where('revoked_at', '<', horizon).execute();
    }
    const rows = await this.db.selectFrom('revocation_event').selectAll().execute();
    this.events = rows.map((r) => ({ ...r, issued_before: Number(r.issued_before), revoked_at: Number(r.revoked_at), expires_at: r.expires_at === null ? null : Number(r.expires_at) }));
    const newest = Math.max(0, ...this.events.map((e) => e.revoked_at));
    const stamp = this.events.length * 1e13 + newest;
    if (this.lastCount !== -1 && stamp !== this.lastCount) {
      // someone else revoked something: cached validations may be stale
      this.generation++;
      for (const l of this.listeners) l();
    }
    this.lastCount = stamp;
    return this.events;
  }

  async revoke(e: Omit<RevocationEvent, 'issued_before' | 'revoked_at'> & { issued_before?: number }): Promise<void> {
    const now = Date.now();
    const ev: RevocationEvent = { ...e, issued_before: e.issued_before ?? now, revoked_at: now };
    await this.db
      .insertInto('revocation_event')
      .values({
        user_id: ev.user_id ?? null,
        project_id: ev.project_id ?? null,
        domain_id: ev.domain_id ?? null,
        role_id: ev.role_id ?? null,
        audit_id: ev.audit_id ?? null,
        audit_chain_id: ev.audit_chain_id ?? null,
        issued_before: ev.issued_before,
        expires_at: ev.expires_at ?? null,
        revoked_at: ev.revoked_at,
      })
      .execute();
    this.events = undefined;
    this.generation++;
    for (const l of this.listeners) l();
  }

  /** Forget cached events (another process may have written some). */
  invalidate(): void {
    this.events = undefined;
  }

  /** Latest `issued_before` of the events aimed at a user (ms), or 0. */
  async latestForUser(userId: string): Promise<number> {
    let latest = 0;
    for (const e of await this.load()) if (e.user_id === userId && e.issued_before > latest) latest = e.issued_before;
    return latest;
  }

  async isRevoked(t: TokenFacts): Promise<boolean> {
    const events = await this.load();
    const issuedSec = Math.floor(t.issuedAt / 1000) * 1000;
    for (const e of events) {
      if (issuedSec > e.issued_before) continue;
      if (e.user_id && e.user_id !== t.userId) continue;
      if (e.project_id && e.project_id !== t.projectId) continue;
      if (e.domain_id && e.domain_id !== t.domainId) continue;
      if (e.audit_id && e.audit_id !== t.auditIds[0]) continue;
      if (e.audit_chain_id && e.audit_chain_id !== (t.auditIds[1] ?? t.auditIds[0])) continue;
      if (!e.user_id && !e.project_id && !e.domain_id && !e.audit_id && !e.audit_chain_id) continue;
      return true;
    }
    return false;
  }
}
