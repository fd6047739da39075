/**
 * Fernet (https://github.com/fernet/spec) on node:crypto, as Python `cryptography` does it:
 * `0x80 | timestamp (u64 BE) | IV (16) | AES-128-CBC(PKCS7) | HMAC-SHA256 (32)`, base64url.
 * A 32-byte key is split into a signing half (first 16) and an encryption half (last 16).
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;

export class InvalidToken extends Error {
  constructor(reason = 'invalid fernet token') {
    super(reason);
    this.name = 'InvalidToken';
  }
}

/** base64url with padding, the form `Fernet.generate_key()` writes to key files. */
export function generateKey(): string {
  return randomBytes(32).toString('base64url') + '=';
}

function decodeKey(key: string): { signing: Buffer; encryption: Buffer } {
  const raw = Buffer.from(key.trim(), 'base64url');
  if (raw.length !== 32) throw new Error('Fernet key must be 32 url-safe base64-encoded bytes');
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
}

/** Decodes url-safe base64 with or without padding; rejects other alphabets. */
function decodeToken(token: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(token)) throw new InvalidToken();
  return Buffer.from(token, 'base64url');
}

export class Fernet {
  private readonly signing: Buffer;
  private readonly encryption: Buffer;

  constructor(key: string) {
    const k = decodeKey(key);
    this.signing = k.signing;
    this.encryption = k.encryption;
  }

  /** Encrypts at `now` (seconds); `iv` only for test vectors. Returns padded base64url. */
  encrypt(data: Uint8Array, now = Math.floor(Date.now() / 1000), iv: Buffer = randomBytes(16)): string {
    const cipher = createCipheriv('aes-128-cbc', this.encryption, iv);
    const ct = Buffer.concat([cipher.update(data), cipher.final()]);
    const header = Buffer.alloc(9);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(now), 1);
    const body = Buffer.concat([header, iv, ct]);
    const mac = createHmac('sha256', this.signing).update(body).digest();
    return Buffer.concat([body, mac]).toString('base64url') + '='.repeat(padLen(body.length + MAC));
  }

  /** Decrypts; `ttl` in seconds (optional) checks age against `now`. */
  decrypt(token: string, ttl?: number, now = Math.floor(Date.now() / 1000)): Buffer {
    const raw = decodeToken(token);
    return this.decryptRaw(raw, ttl, now);
  }

  /** @internal MultiFernet decodes once and tries each key. */
  decryptRaw(raw: Buffer, ttl?: number, now = Math.floor(Date.now() / 1000)): Buffer {
    if (raw.length < HEADER + MAC + 16 || raw[0] !== VERSION) throw new InvalidToken();
    const ts = Number(raw.readBigUInt64BE(1));
    if (ttl !== undefined) {
      if (ts + ttl < now) throw new InvalidToken('token expired');
    }
    // cryptography rejects tokens from more than 60 s in the future (clock skew)
    if (ttl !== undefined && ts > now + 60) throw new InvalidToken('token from the future');
    const body = raw.subarray(0, raw.length - MAC);
    const mac = raw.subarray(raw.length - MAC);
    const expected = createHmac('sha256', this.signing).update(body).digest();
    if (!timingSafeEqual(mac, expected)) throw new InvalidToken();
    const iv = raw.subarray(9, HEADER);
    const ct = raw.subarray(HEADER, raw.length - MAC);
    if (ct.length % 16 !== 0) throw new InvalidToken();
    try {
      const d = createDecipheriv('aes-128-cbc', this.encryption, iv);
      return Buffer.concat([d.update(ct), d.final()]);
    } catch {
      throw new InvalidToken();
    }
  }
}

function padLen(n: number): number {
  const r = n % 3;
  return r === 0 ? 0 : 3 - r;
}

/** Encrypts with the first key, decrypts with any (keys in primary-first order). */
export class MultiFernet {
  private readonly fernets: Fernet[];

  constructor(keys: string[]) {
    if (keys.length === 0) throw new Error('MultiFernet requires at least one key');
    this.fernets = keys.map((k) => new Fernet(k));
  }

  encrypt(data: Uint8Array, now?: number): string {
    return this.fernets[0]!.encrypt(data, now);
  }

  decrypt(token: string, ttl?: number, now?: number): Buffer {
    const raw = decodeToken(token);
    for (const f of this.fernets) {
      try {
        return f.decryptRaw(raw, ttl, now);
      } catch (e) {
        if (!(e instanceof InvalidToken)) throw e;
      }
    }
    throw new InvalidToken();
  }
}

/** The 64-bit timestamp at bytes 1..9 (Keystone's `creation_time`), seconds since the epoch. */
export function tokenTimestamp(token: string): number {
  const raw = decodeToken(token);
  if (raw.length < 9) throw new InvalidToken();
  return Number(raw.readBigUInt64BE(1));
}
