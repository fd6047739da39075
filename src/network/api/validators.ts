/**
 * neutron_lib.api.validators and converters: each validator returns null when the value is
 * fine, or the reason Neutron gives ("'%s' is not a valid UUID"); converters throw InvalidInput.
 * @module
 */
import { InvalidInput } from '../common/exceptions.js';
import { normalizeMac, parseCidr, parseIp, formatCidr } from '../common/ipaddr.js';

export type Validator = (v: unknown) => string | null;

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const repr = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v));

export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID_RE.test(v);

export const string = (maxLen?: number): Validator => (v) => {
  if (typeof v !== 'string') return `'${repr(v)}' is not a valid string`;
  if (maxLen !== undefined && v.length > maxLen) return `'${v}' exceeds maximum length of ${maxLen}`;
  return null;
};
export const stringOrNone = (maxLen?: number): Validator => (v) => (v === null ? null : string(maxLen)(v));
export const notEmptyString = (maxLen?: number): Validator => (v) => {
  const m = string(maxLen)(v);
  if (m) return m;
  return (v as string).trim() === '' ? `'${v as string}' Blank strings are not permitted` : null;
};
export const uuid: Validator = (v) => (isUuid(v) ? null : `'${repr(v)}' is not a valid UUID`);
export const uuidOrNone: Validator = (v) => (v === null ? null : uuid(v));
export const uuidList: Validator = (v) => {
  if (!Array.isArray(v)) return `'${repr(v)}' is not a list`;
  for (const x of v) {
    const m = uuid(x);
    if (m) return m;
  }
  const dup = v.filter((x, i) => v.indexOf(x) !== i);
  return dup.length ? `Duplicate items in the list: '${dup.join(', ')}'` : null;
};
export const values = (allowed: unknown[]): Validator => (v) =>
  allowed.includes(v) ? null : `${repr(v)} is not in [${allowed.map((a) => (a === null ? 'None' : `'${String(a)}'`)).join(', ')}]`;
export const macAddress: Validator = (v) => (normalizeMac(v) ? null : `'${repr(v)}' is not a valid MAC address`);
export const ipAddress: Validator = (v) => (parseIp(v) ? null : `'${repr(v)}' is not a valid IP address`);
export const ipAddressOrNone: Validator = (v) => (v === null ? null : ipAddress(v));
export const subnet: Validator = (v) => {
  const c = typeof v === 'string' && !/\s/.test(v) && v.includes('/') ? parseCidr(v) : null;
  if (!c) return `'${repr(v)}' is not a valid IP subnet`;
  return null;
};
export const subnetOrNone: Validator = (v) => (v === null ? null : subnet(v));
export const routeCidr: Validator = (v) => {
  const c = typeof v === 'string' && v.includes('/') ? parseCidr(v) : null;
  if (!c || c.network !== c.ip) return `'${repr(v)}' is not a valid CIDR`;
  return null;
};
export const range = (min: number, max: number): Validator => (v) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) return `'${repr(v)}' is not an integer`;
  if (v < min) return `'${v}' is too small - must be at least '${min}'`;
  if (v > max) return `'${v}' is too large - must be no larger than '${max}'`;
  return null;
};
export const dict: Validator = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? null : `'${repr(v)}' is not a dictionary`);
export const dictOrNone: Validator = (v) => (v === null ? null : dict(v));
export const dictOrEmpty: Validator = (v) => (v === null || v === undefined ? null : dict(v));
export const listOfStrings = (maxLen?: number): Validator => (v) => {
  if (!Array.isArray(v)) return `'${repr(v)}' is not a list`;
  for (const x of v) {
    const m = string(maxLen)(x);
    if (m) return m;
  }
  return null;
};

export const allocationPools: Validator = (v) => {
  if (!Array.isArray(v)) return `Invalid data format for IP pool: '${repr(v)}'`;
  for (const p of v) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) return `Invalid data format for IP pool: '${repr(p)}'`;
    const keys = Object.keys(p);
    if (!keys.includes('start') || !keys.includes('end') || keys.length !== 2) {
      return `Invalid data format for IP pool: '${repr(p)}'`;
    }
    const m = ipAddress(p.start) ?? ipAddress(p.end);
    if (m) return m;
  }
  return null;
};

export const fixedIps: Validator = (v) => {
  if (!Array.isArray(v)) return `Invalid data format for fixed IP: '${repr(v)}'`;
  const seen: string[] = [];
  for (const f of v) {
    if (!f || typeof f !== 'object' || Array.isArray(f)) return `Invalid data format for fixed IP: '${repr(f)}'`;
    for (const k of Object.keys(f)) {
      if (k !== 'ip_address' && k !== 'subnet_id') return `Invalid data format for fixed IP: '${repr(f)}'`;
    }
    if ('ip_address' in f) {
      if (seen.includes(f.ip_address)) return `Duplicate IP address '${f.ip_address}'`;
      seen.push(f.ip_address);
      const m = ipAddress(f.ip_address);
      if (m) return m;
    }
    if ('subnet_id' in f) {
      const m = uuid(f.subnet_id);
      if (m) return m;
    }
  }
  return null;
};

export const nameservers: Validator = (v) => {
  if (!Array.isArray(v)) return `Invalid data format for nameserver: '${repr(v)}'`;
  const seen = new Set<string>();
  for (const h of v) {
    const m = ipAddress(h);
    if (m) return `'${repr(h)}' is not a valid nameserver. ${m}`;
    if (seen.has(h)) return `Duplicate nameserver '${h}'`;
    seen.add(h);
  }
  return null;
};

export const hostRoutes: Validator = (v) => {
  if (!Array.isArray(v)) return `Invalid data format for hostroute: '${repr(v)}'`;
  const seen = new Set<string>();
  for (const r of v) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) return `Invalid data format for hostroute: '${repr(r)}'`;
    const keys = Object.keys(r);
    if (!keys.includes('destination') || !keys.includes('nexthop') || keys.length !== 2) {
      return `Invalid data format for hostroute: '${repr(r)}'`;
    }
    const m = routeCidr(r.destination) ?? ipAddress(r.nexthop);
    if (m) return m;
    const k = `${r.destination}|${r.nexthop}`;
    if (seen.has(k)) return `Duplicate hostroute '${repr(r)}'`;
    seen.add(k);
  }
  return null;
};

export const allowedAddressPairs: Validator = (v) => {
  if (!Array.isArray(v)) return `Allowed address pairs must be a list.`;
  for (const p of v) {
    if (!p || typeof p !== 'object') return `Allowed address pairs must be a list.`;
    if (!('ip_address' in p)) return 'AllowedAddressPair must contain ip_address';
    if (p.mac_address !== undefined && macAddress(p.mac_address)) return macAddress(p.mac_address);
    const ip = p.ip_address;
    if (ipAddress(ip) && subnet(ip)) return `'${repr(ip)}' is not a valid IP address`;
  }
  return null;
};

// ---- converters (raise InvalidInput like neutron_lib.api.converters) ----

export function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  throw InvalidInput(`'${repr(v)}' cannot be converted to boolean`);
}

export function toInt(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw InvalidInput(`'${repr(v)}' is not an integer`);
}

export function toIntOrNone(v: unknown): number | null {
  return v === null || v === undefined ? null : toInt(v);
}

export function toList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** `convert_ip_to_canonical_format` for IP prefixes: '10.0.0.1' -> '10.0.0.1/32'. */
export function toCidrOrNone(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return v as string;
  const c = parseCidr(v);
  if (!c) return v;
  return `${formatCidr({ ...c, network: c.ip })}`;
}
