/**
 * IPv4/IPv6 address and CIDR arithmetic on bigints (what Neutron gets from netaddr).
 * Formatting follows Python's `ipaddress`/netaddr so addresses read back byte-identical.
 * @module
 */
export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** Network address (host bits cleared). */
  network: bigint;
  prefixlen: number;
  /** The address as written (host bits possibly set). */
  ip: bigint;
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function bits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

export function parseIp(text: unknown): Ip | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (V4_RE.test(text)) {
    const parts = text.split('.').map(Number);
    // netaddr rejects leading zeros ambiguity; "01.2.3.4" is refused by the regex above
    return { version: 4, value: BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) };
  }
  if (!text.includes(':')) return null;
  return parseV6(text);
}

function parseV6(text: string): Ip | null {
  let s = text.toLowerCase();
  if (s.includes('%')) return null;
  let tailV4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIp(tail);
    if (!v4 || v4.version !== 4) return null;
    tailV4 = v4.value;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.split('::');
  if (dbl.length > 2) return null;
  const head = dbl[0] ? dbl[0].split(':') : [];
  const rest = dbl.length === 2 ? (dbl[1] ? dbl[1].split(':') : []) : [];
  const groups = dbl.length === 2 ? head.length + rest.length : head.length;
  if (dbl.length === 1 && groups !== 8) return null;
  if (dbl.length === 2 && groups > 7) return null;
  const all = dbl.length === 2 ? [...head, ...Array(8 - groups).fill('0'), ...rest] : head;
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) v = (v & ~0xffffffffn) | tailV4;
  return { version: 6, value: v };
}

export function formatIp(version: IpVersion, v: bigint): string {
  if (version === 4) {
    const n = Number(v);
    return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // longest run of zero groups (length >= 2) becomes '::', first one on ties (Python's rule)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Canonical form of an address string, or null when it is not one. */
export function normalizeIp(text: unknown): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip.version, ip.value) : null;
}

export function parseCidr(text: unknown): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return null;
  let prefixlen = bits(ip.version);
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefixlen = Number(p);
    if (prefixlen > bits(ip.version)) return null;
  }
  return { version: ip.version, network: ip.value & netmask(ip.version, prefixlen), prefixlen, ip: ip.value };
}

export function netmask(version: IpVersion, prefixlen: number): bigint {
  const b = BigInt(bits(version));
  const all = (1n << b) - 1n;
  return prefixlen === 0 ? 0n : (all >> BigInt(bits(version) - prefixlen)) << BigInt(bits(version) - prefixlen);
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bits(c.version) - c.prefixlen);
}
export function cidrFirst(c: Cidr): bigint {
  return c.network;
}
export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.version, c.network)}/${c.prefixlen}`;
}
export function cidrContains(c: Cidr, ip: Ip): boolean {
  return ip.version === c.version && ip.value >= cidrFirst(c) && ip.value <= cidrLast(c);
}
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && cidrFirst(a) <= cidrLast(b) && cidrFirst(b) <= cidrLast(a);
}

export interface IpRange {
  first: bigint;
  last: bigint;
}

/**
 * Neutron's default allocation pools (`ipam.utils.generate_pools`): the whole subnet minus the
 * network address, the IPv4 broadcast address and the gateway.
 */
export function generatePools(c: Cidr, gateway: bigint | null): IpRange[] {
  const first = cidrFirst(c);
  const last = cidrLast(c);
  if (first === last) return [{ first, last }];
  const f = first + 1n;
  const l = last - (c.version === 4 ? 1n : 0n);
  if (f >= l) return [{ first: f, last: l }];
  if (gateway === null || gateway < f || gateway > l) return [{ first: f, last: l }];
  const out: IpRange[] = [];
  if (gateway > f) out.push({ first: f, last: gateway - 1n });
  if (gateway < l) out.push({ first: gateway + 1n, last: l });
  return out;
}

/** EUI-64 interface address from a /64 prefix and a MAC (RFC 4291 appendix A; oslo netutils). */
export function eui64(prefix: Cidr, mac: string): bigint {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid =
    (BigInt(b[0]! ^ 0x02) << 56n) | (BigInt(b[1]!) << 48n) | (BigInt(b[2]!) << 40n) | (0xffn << 32n) |
    (0xfen << 24n) | (BigInt(b[3]!) << 16n) | (BigInt(b[4]!) << 8n) | BigInt(b[5]!);
  return (prefix.network & ~((1n << 64n) - 1n)) | iid;
}

const MAC_RE = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
/** Normalised `aa:bb:cc:dd:ee:ff`, or null. */
export function normalizeMac(text: unknown): string | null {
  if (typeof text !== 'string' || !MAC_RE.test(text)) return null;
  return text.toLowerCase().replace(/-/g, ':');
}

/** Neutron's `base_mac` default is `fa:16:3e:00:00:00`: the first three octets stay. */
/** Random bytes drawn in blocks: one draw per MAC was a visible cost of every port create. */
const macEntropy = { buf: new Uint8Array(3 * 1024), at: 3 * 1024 };
const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

export function randomMac(base = 'fa:16:3e'): string {
  if (macEntropy.at + 3 > macEntropy.buf.length) {
    crypto.getRandomValues(macEntropy.buf);
    macEntropy.at = 0;
  }
  const r = macEntropy.buf;
  const k = macEntropy.at;
  macEntropy.at += 3;
  return `${base}:${HEX[r[k]!]}:${HEX[r[k + 1]!]}:${HEX[r[k + 2]!]}`;
}

export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
