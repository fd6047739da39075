/**
 * Password hashing as Keystone's default (`password_hash_algorithm = bcrypt`): 12 rounds,
 * 4 in tests (STRATUS_TEST), as Keystone's own tests do. bcrypt reads only 72 bytes.
 * @module
 */
import bcrypt from 'bcrypt';
import { createHmac, randomBytes } from 'node:crypto';

export const MAX_PASSWORD_LENGTH = 4096;

export function defaultRounds(): number {
  return process.env['STRATUS_TEST'] ? 4 : 12;
}

/** A new hash; the pair is remembered as verified (it matches by construction), so the first login with it costs no bcrypt compare. */
export async function hashPassword(password: string, rounds = defaultRounds()): Promise<string> {
  const hash = await bcrypt.hash(password, rounds);
  rememberVerified(password, hash);
  return hash;
}

/**
 * Successful verifications are remembered for a while, keyed by an HMAC (random per-process key)
 * of the stored hash and the password: services re-authenticate with the same password many
 * times, and at 12 rounds each bcrypt compare costs ~300 ms of CPU. A wrong password always pays
 * the full bcrypt price, so guessing stays as slow as Keystone makes it.
 */
const VERIFIED_TTL_MS = 10 * 60_000;
const VERIFIED_MAX = 10_000;
const verifiedKey = randomBytes(32);
const verified = new Map<string, number>();

function verifiedId(password: string, hash: string): string {
  return createHmac('sha256', verifiedKey).update(hash).update('\0').update(password).digest('base64');
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith('$2')) return false;
  const id = verifiedId(password, hash);
  const until = verified.get(id);
  if (until !== undefined && until > Date.now()) return true;
  let ok = false;
  try {
    ok = await bcrypt.compare(password, hash);
  } catch {
    ok = false;
  }
  if (ok) remember(id);
  return ok;
}

function remember(id: string): void {
  if (verified.size >= VERIFIED_MAX) verified.clear();
  verified.set(id, Date.now() + VERIFIED_TTL_MS);
}

/** Records that `password` matches `hash`, as a successful compare would (for pairs known to match from an earlier compare). */
export function rememberVerified(password: string, hash: string): void {
  if (hash.startsWith('$2')) remember(verifiedId(password, hash));
}
