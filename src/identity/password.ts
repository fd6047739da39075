/**
 * Password hashing as Keystone's default (`password_hash_algorithm = bcrypt`): 12 rounds,
 * 4 in tests (STRATUS_TEST), as Keystone's own tests do. bcrypt reads only 72 bytes.
 * @module
 */
import bcrypt from 'bcrypt';

export const MAX_PASSWORD_LENGTH = 4096;

export function defaultRounds(): number {
  return process.env['STRATUS_TEST'] ? 4 : 12;
}

export async function hashPassword(password: string, rounds = defaultRounds()): Promise<string> {
  return bcrypt.hash(password, rounds);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith('$2')) return false;
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}
