/**
 * Access IP addresses as Nova stores and shows them. The Instance object's IPV6Address field
 * coerces through netaddr, and `str(netaddr.IPAddress(v))` is glibc's `inet_ntop`: lower-case
 * hex, the first longest run of two or more zero words as `::`, and a dotted IPv4 tail only
 * for `::a.b.c.d` and `::ffff:a.b.c.d`.
 * @module
 */

/** The eight 16-bit words of an IPv6 address, or null when it is not one. */
function ipv6Words(v: string): number[] | null {
  let host: string;
  try {
    // WHATWG's parser accepts exactly RFC 4291 text (with an IPv4 tail) and prints plain hex.
    host = new URL(`http://[${v}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const [head, tail] = host.split('::') as [string, string | undefined];
  const hex = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const left = hex(head);
  if (tail === undefined) return left.length === 8 ? left : null;
  const right = hex(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** `str(netaddr.IPAddress(v))` for an IPv6 address; anything else comes back unchanged. */
export function compactIpv6(v: string): string {
  const w = ipv6Words(v);
  if (!w) return v;
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = { ...cur };
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
      return out;
    }
    out += w[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}
