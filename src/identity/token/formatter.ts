/**
 * Keystone's Fernet token payloads (keystone/token/token_formatters.py), byte-compatible:
 * `msgpack((version,) + payload)` encrypted with MultiFernet, trailing '=' stripped.
 * UUID-hex ids travel as `(true, 16 raw bytes)`, other ids as `(false, str)`; methods as a
 * bitmask over `[auth] methods`; audit ids as raw bytes of their url-safe base64 form.
 * @module
 */
import { encode, decode } from '@msgpack/msgpack';
import { tokenTimestamp, InvalidToken, type MultiFernet } from './fernet.js';

/** Keystone's default `[auth] methods`, whose positions give the bitmask values. */
export const AUTH_METHODS = ['external', 'password', 'token', 'oauth1', 'mapped', 'application_credential'];

export const PAYLOAD_UNSCOPED = 0;
export const PAYLOAD_DOMAIN = 1;
export const PAYLOAD_PROJECT = 2;
export const PAYLOAD_TRUST = 3;
export const PAYLOAD_SYSTEM = 8;
export const PAYLOAD_APP_CRED = 9;

export interface TokenPayload {
  userId: string;
  methods: string[];
  projectId?: string;
  domainId?: string;
  system?: string;
  appCredId?: string;
  trustId?: string;
  /** Seconds since the epoch (with fraction). */
  expiresAt: number;
  auditIds: string[];
  /** From the Fernet timestamp on unpack (seconds). */
  issuedAt?: number;
}

const HEX32 = /^[0-9a-f]{32}$/;

export function methodsToInt(methods: string[]): number {
  let n = 0;
  for (const m of methods) {
    const i = AUTH_METHODS.indexOf(m);
    if (i >= 0) n |= 1 << i;
  }
  return n;
}

export function intToMethods(n: number): string[] {
  return AUTH_METHODS.filter((_, i) => (n & (1 << i)) !== 0);
}

function packId(id: string): [boolean, Uint8Array | string] {
  return HEX32.test(id) ? [true, Buffer.from(id, 'hex')] : [false, id];
}

function unpackId(v: unknown): string {
  if (!Array.isArray(v) || v.length !== 2) throw new InvalidToken('malformed id');
  const [isBytes, val] = v as [boolean, unknown];
  if (isBytes) return Buffer.from(val as Uint8Array).toString('hex');
  return val instanceof Uint8Array ? Buffer.from(val).toString('utf8') : String(val);
}

function packDomainId(id: string): Uint8Array | string {
  return HEX32.test(id) ? Buffer.from(id, 'hex') : id;
}

function unpackDomainId(v: unknown): string {
  if (typeof v === 'string') return v;
  const b = Buffer.from(v as Uint8Array);
  return b.length === 16 ? b.toString('hex') : b.toString('utf8');
}

const auditToBytes = (a: string) => Buffer.from(a, 'base64url');
const auditFromBytes = (b: unknown) => Buffer.from(b as Uint8Array).toString('base64url');

export class TokenFormatter {
  constructor(private readonly crypto: () => MultiFernet) {}

  pack(p: TokenPayload, now?: number): string {
    const user = packId(p.userId);
    const methods = methodsToInt(p.methods);
    const audits = p.auditIds.map(auditToBytes);
    let tuple: unknown[];
    if (p.trustId && p.projectId) {
      // trust ids travel as raw uuid bytes, not as an (is_bytes, value) pair
      tuple = [PAYLOAD_TRUST, user, methods, packId(p.projectId), p.expiresAt, audits, Buffer.from(p.trustId, 'hex')];
    } else if (p.appCredId && p.projectId) {
      tuple = [PAYLOAD_APP_CRED, user, methods, packId(p.projectId), p.expiresAt, audits, packId(p.appCredId)];
    } else if (p.projectId) {
      tuple = [PAYLOAD_PROJECT, user, methods, packId(p.projectId), p.expiresAt, audits];
    } else if (p.domainId) {
      tuple = [PAYLOAD_DOMAIN, user, methods, packDomainId(p.domainId), p.expiresAt, audits];
    } else if (p.system) {
      tuple = [PAYLOAD_SYSTEM, user, methods, p.system, p.expiresAt, audits];
    } else {
      tuple = [PAYLOAD_UNSCOPED, user, methods, p.expiresAt, audits];
    }
    return this.crypto().encrypt(encode(tuple), now).replace(/=+$/, '');
  }

  unpack(token: string): TokenPayload {
    const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
    const plain = this.crypto().decrypt(padded);
    let v: unknown;
    try {
      v = decode(plain);
    } catch {
      throw new InvalidToken('malformed payload');
    }
    if (!Array.isArray(v) || v.length < 5) throw new InvalidToken('malformed payload');
    const [version, user, methods] = v as [number, unknown, number];
    const base = { userId: unpackId(user), methods: intToMethods(Number(methods)), issuedAt: tokenTimestamp(padded) };
    const audits = (x: unknown) => (Array.isArray(x) ? x.map(auditFromBytes) : []);
    switch (version) {
      case PAYLOAD_UNSCOPED:
        return { ...base, expiresAt: Number(v[3]), auditIds: audits(v[4]) };
      case PAYLOAD_DOMAIN:
        return { ...base, domainId: unpackDomainId(v[3]), expiresAt: Number(v[4]), auditIds: audits(v[5]) };
      case PAYLOAD_PROJECT:
        return { ...base, projectId: unpackId(v[3]), expiresAt: Number(v[4]), auditIds: audits(v[5]) };
      case PAYLOAD_TRUST:
        return { ...base, projectId: unpackId(v[3]), expiresAt: Number(v[4]), auditIds: audits(v[5]), trustId: Buffer.from(v[6] as Uint8Array).toString('hex') };
      case PAYLOAD_SYSTEM:
        return { ...base, system: String(v[3]), expiresAt: Number(v[4]), auditIds: audits(v[5]) };
      case PAYLOAD_APP_CRED:
        return { ...base, projectId: unpackId(v[3]), expiresAt: Number(v[4]), auditIds: audits(v[5]), appCredId: unpackId(v[6]) };
      default:
        throw new InvalidToken(`This is not a recognized Fernet payload version: ${version}`);
    }
  }
}
