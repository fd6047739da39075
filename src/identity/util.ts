/**
 * Small helpers shared by the identity modules: ids, Keystone's time format, error shapes.
 * @module
 */
import { randomUUID, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ApiError } from '../common/errors.js';
import type { KeystoneDB } from './db/schema.js';

/** A transaction runner over the keystone database. */
export type Tx = <T>(fn: (trx: Kysely<KeystoneDB>) => Promise<T>) => Promise<T>;

/** Keystone ids are uuid4 hex without dashes. */
export const newId = (): string => randomUUID().replace(/-/g, '');

/** Audit ids: 16 random bytes, url-safe base64 without padding (22 characters). */
export const newAuditId = (): string => randomBytes(16).toString('base64url');

/** Keystone's `isotime(subsecond=True)`: `2026-01-02T03:04:05.000000Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Parses ISO 8601 (with or without zone; no zone means UTC, as Keystone does). */
export function parseTime(s: string): number | undefined {
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? undefined : t;
}

/** ISO 8601 to epoch microseconds, keeping up to 6 fraction digits (no zone = UTC). */
export function parseTimeMicros(s: string): number | undefined {
  const m = /^(.*T\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?([zZ]|[+-]\d\d:?\d\d)?$/.exec(s.trim());
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(base)) return undefined;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return base * 1000 + Number(frac);
}

/** Python's naive `datetime.isoformat()`: microseconds only when non-zero, no zone. */
export function isoFormatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - Math.floor(us / 1_000_000) * 1_000_000;
  const base = new Date(ms).toISOString().slice(0, 19);
  return micro ? `${base}.${String(micro).padStart(6, '0')}` : base;
}

export const bool = (n: unknown): boolean => n === 1 || n === true || n === '1';
export const num = (n: unknown): number | null => (n === null || n === undefined ? null : Number(n));

export function parseExtra(s: string | null | undefined): Record<string, unknown> {
  if (!s) return {};
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Keystone's NotFound: "Could not find project: <id>." */
export function notFoundError(kind: string, id: string): ApiError {
  return new ApiError(404, `Could not find ${kind}: ${id}.`, { title: 'Not Found', type: 'NotFound' });
}

/** Keystone's Conflict wording. */
export function conflictError(kind: string, detail: string): ApiError {
  return new ApiError(409, `Conflict occurred attempting to store ${kind} - ${detail}`, { title: 'Conflict', type: 'Conflict' });
}

export function validationError(message: string): ApiError {
  return new ApiError(400, message, { title: 'Bad Request', type: 'ValidationError' });
}

/** The one 401 answer for every authentication failure, whichever part was wrong. */
export function unauthorizedError(message = 'The request you have made requires authentication.'): ApiError {
  return new ApiError(401, message, { title: 'Unauthorized', type: 'Unauthorized' });
}

export function forbiddenError(message: string): ApiError {
  return new ApiError(403, message, { title: 'Forbidden', type: 'Forbidden' });
}

/** True for unique-constraint violations on any of the three dialects. */
export function isDuplicate(e: unknown): boolean {
  const err = e as { code?: string; errno?: number; message?: string };
  return (
    err?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    err?.code === 'ER_DUP_ENTRY' ||
    err?.code === '23505' ||
    /UNIQUE constraint failed|Duplicate entry|duplicate key/i.test(err?.message ?? '')
  );
}
