/**
 * Microversions: `OpenStack-API-Version: <service> X.Y` (and Nova's legacy
 * `X-OpenStack-Nova-API-Version`), `latest`, the default (the minimum), and the errors
 * for strings that are not versions (400) or versions outside the range (406).
 * @module
 */
import { ApiError } from '../errors.js';

export const API_VERSION_HEADER = 'OpenStack-API-Version';
const API_VERSION_HEADER_LC = API_VERSION_HEADER.toLowerCase();

export interface MicroversionSpec {
  service: 'compute' | 'volume' | 'placement';
  min: string;
  max: string;
  /** 'X-OpenStack-Nova-API-Version' for compute. */
  legacyHeader?: string;
}

const VERSION_RE = /^([1-9]\d*|0)\.([1-9]\d*|0)$/;

export class APIVersion {
  readonly major: number;
  readonly minor: number;

  constructor(major: number, minor: number) {
    this.major = major;
    this.minor = minor;
  }

  /** Parses `X.Y`; throws a plain Error for anything else (callers turn it into their 400). */
  static parse(s: string): APIVersion {
    const m = VERSION_RE.exec(s.trim());
    if (!m) throw new Error(`invalid version string: ${s}`);
    return new APIVersion(Number(m[1]), Number(m[2]));
  }

  static isValid(s: string): boolean {
    return VERSION_RE.test(s.trim());
  }

  /** <0, 0, >0 like a comparator. */
  compare(other: APIVersion | string): number {
    const o = typeof other === 'string' ? parseKnown(other) : other;
    return this.major !== o.major ? this.major - o.major : this.minor - o.minor;
  }

  /** min <= this <= max; a null/undefined bound is open (as Nova's `matches`). */
  matches(min?: APIVersion | string | null, max?: APIVersion | string | null): boolean {
    if (min != null && this.compare(min) < 0) return false;
    if (max != null && this.compare(max) > 0) return false;
    return true;
  }

  /** this >= v */
  atLeast(v: APIVersion | string): boolean {
    return this.compare(v) >= 0;
  }

  equals(v: APIVersion | string): boolean {
    return this.compare(v) === 0;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

// Versions compared against are mostly constants in code ('3.13'): parsed once each.
const known = new Map<string, APIVersion>();
function parseKnown(s: string): APIVersion {
  let v = known.get(s);
  if (!v) {
    v = APIVersion.parse(s);
    if (known.size < 1000) known.set(s, v);
  }
  return v;
}

/**
 * The version string a request asks for, as microversion_parse.get_version finds it: the
 * `OpenStack-API-Version` header entries for our service (last wins), else a legacy header.
 */
export function requestedVersion(
  headers: Record<string, string | string[] | undefined>,
  service: string,
  legacyHeaders: string[] = [],
): string | null {
  const raw = headers[API_VERSION_HEADER.toLowerCase()];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  let found: string | null = null;
  for (const v of values) {
    for (const item of v.split(',')) {
      const [svc, ...rest] = item.trim().split(/\s+/);
      if (svc && svc.toLowerCase() === service && rest.length > 0) found = rest.join(' ');
    }
  }
  if (found !== null) return found;
  for (const h of legacyHeaders) {
    const lv = headers[h.toLowerCase()];
    const s = Array.isArray(lv) ? lv[lv.length - 1] : lv;
    if (s !== undefined && s.trim() !== '') return s.trim();
  }
  return null;
}

export interface NegotiationResult {
  version: APIVersion;
  /** Errors raise after the version is known, so the fault can still echo it (Nova does). */
  error?: ApiError;
}

/** Picks the request's version or the error to answer with. */
export function negotiateVersion(
  spec: MicroversionSpec,
  headers: Record<string, string | string[] | undefined>,
): NegotiationResult {
  const min = APIVersion.parse(spec.min);
  const max = APIVersion.parse(spec.max);
  const legacy = spec.legacyHeader ? [spec.legacyHeader] : [];
  const asked = requestedVersion(headers, spec.service, legacy);
  if (asked === null) return { version: min };
  if (asked.toLowerCase() === 'latest') return { version: max };
  if (!APIVersion.isValid(asked)) {
    const msg = spec.service === 'placement'
      ? `invalid version string: ${asked}`
      : `API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`;
    return { version: min, error: new ApiError(400, msg, { type: 'InvalidAPIVersionString' }) };
  }
  const v = APIVersion.parse(asked);
  if (!v.matches(min, max)) {
    const msg = spec.service === 'placement'
      ? `Unacceptable version header: ${asked}`
      : `Version ${v} is not supported by the API. Minimum is ${min} and maximum is ${max}.`;
    return { version: v, error: new ApiError(406, msg, { type: 'InvalidGlobalAPIVersion' }) };
  }
  return { version: v };
}

/** Headers a versioned response carries: the echo and the Vary that caches need. */
export function versionResponseHeaders(spec: MicroversionSpec, v: APIVersion): Record<string, string> {
  const h: Record<string, string> = { [API_VERSION_HEADER]: `${spec.service} ${v}` };
  const vary = [API_VERSION_HEADER];
  if (spec.legacyHeader) {
    h[spec.legacyHeader] = v.toString();
    vary.push(spec.legacyHeader);
  }
  h['Vary'] = vary.join(', ');
  return h;
}

/**
 * negotiateVersion and versionResponseHeaders for one service, with its bounds parsed once and
 * the response headers of each version built once (the app factory's per-request path).
 */
export class VersionNegotiator {
  private readonly min: APIVersion;
  private readonly headers = new Map<string, Readonly<Record<string, string>>>();

  constructor(private readonly spec: MicroversionSpec) {
    this.min = APIVersion.parse(spec.min);
  }

  negotiate(headers: Record<string, string | string[] | undefined>): NegotiationResult {
    // No version asked for: the minimum, the common case of most clients.
    if (headers[API_VERSION_HEADER_LC] === undefined && (!this.spec.legacyHeader || headers[this.spec.legacyHeader.toLowerCase()] === undefined)) {
      return { version: this.min };
    }
    return negotiateVersion(this.spec, headers);
  }

  responseHeaders(v: APIVersion): Readonly<Record<string, string>> {
    const key = v.toString();
    let h = this.headers.get(key);
    if (!h) {
      h = Object.freeze(versionResponseHeaders(this.spec, v));
      if (this.headers.size < 1000) this.headers.set(key, h);
    }
    return h;
  }
}
