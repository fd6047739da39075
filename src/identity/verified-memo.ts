/**
 * Password checks an earlier bootstrap already made. keystone-manage bootstrap re-checks the
 * admin password on every run, and `stratus up` bootstraps six users (admin and the service
 * users): at Keystone's 12 bcrypt rounds that is seconds of CPU on every start, for an answer
 * that cannot change while neither the stored hash nor the password does.
 *
 * Kept as SHA-256 digests of (hash, password) in a file of the state directory, beside the
 * plaintext secrets.json it vouches for (same 0600 mode), so it reveals nothing they do not.
 * Only bootstrap's own users go in it, never passwords users chose through the API.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface VerifiedPasswords {
  knows(hash: string, password: string): boolean;
  remember(hash: string, password: string): void;
}

function digest(hash: string, password: string): string {
  return createHash('sha256').update(hash).update('\0').update(password).digest('hex');
}

export class VerifiedPasswordFile implements VerifiedPasswords {
  private readonly digests = new Set<string>();

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    try {
      const list = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(list)) for (const d of list) if (typeof d === 'string') this.digests.add(d);
    } catch {
      // unreadable: every password is checked again, and the file rewritten
    }
  }

  knows(hash: string, password: string): boolean {
    return this.digests.has(digest(hash, password));
  }

  remember(hash: string, password: string): void {
    const d = digest(hash, password);
    if (this.digests.has(d)) return;
    this.digests.add(d);
    writeFileSync(this.file, JSON.stringify([...this.digests]), { mode: 0o600 });
  }
}
