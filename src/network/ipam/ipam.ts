/**
 * IPAM (Neutron's reference driver, neutron/ipam/drivers/neutrondb_ipam): allocation pools,
 * fixed IPs chosen by the client, random picks inside the pools, and EUI-64 addresses on
 * SLAAC / DHCPv6-stateless subnets.
 *
 * Concurrency: `ipallocations` has primary key (subnet_id, ip_address). A pick is checked
 * inside the transaction and then inserted; if another transaction took the same address in
 * between, the insert fails on the key and the whole port operation is retried, so two ports
 * never hold one address on any dialect.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import {
  IpAddressGenerationFailure, IpAddressInUse, InvalidIpForSubnet, InvalidIpForNetwork, InvalidInput,
  InvalidAllocationPool, OutOfBoundsAllocationPool, OverlappingAllocationPools, GatewayConflictWithAllocationPools,
} from '../common/exceptions.js';
import {
  cidrFirst, cidrLast, eui64, formatIp, parseCidr, parseIp, type Cidr, type IpRange,
} from '../common/ipaddr.js';
import { ROUTER_INTERFACE_OWNERS, IPV6_SLAAC, DHCPV6_STATELESS } from '../common/constants.js';
import { RetryRequest, isDuplicateKey } from '../plugin/dbutil.js';
import { Q } from '../db/queries.js';

export interface SubnetForIpam {
  id: string;
  network_id: string;
  cidr: string;
  ip_version: number;
  gateway_ip: string | null;
  ipv6_address_mode: string | null;
  allocation_pools: Array<{ start: string; end: string }>;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export function isAutoAddressSubnet(s: { ip_version: number; ipv6_address_mode: string | null }): boolean {
  return s.ip_version === 6 && (s.ipv6_address_mode === IPV6_SLAAC || s.ipv6_address_mode === DHCPV6_STATELESS);
}

const poolStr = (p: IpRange, v: 4 | 6) => `${formatIp(v, p.first)}-${formatIp(v, p.last)}`;

/** Validates client allocation pools (neutron ipam_backend_mixin.validate_allocation_pools). */
export function validateAllocationPools(cidr: Cidr, pools: Array<{ start: string; end: string }>, gateway: string | null): IpRange[] {
  const v = cidr.version;
  const first = cidrFirst(cidr) + 1n;
  const last = cidrLast(cidr) - (v === 4 ? 1n : 0n);
  const ranges: IpRange[] = [];
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    const label = `${p.start}-${p.end}`;
    if (!s || !e || s.version !== v || e.version !== v) throw InvalidAllocationPool(label);
    if (s.value > e.value) throw InvalidAllocationPool(label);
    if (s.value < first || e.value > last) throw OutOfBoundsAllocationPool(label, `${formatIp(v, cidr.network)}/${cidr.prefixlen}`);
    ranges.push({ first: s.value, last: e.value });
  }
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : 1));
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.first <= sorted[k - 1]!.last) {
      throw OverlappingAllocationPools(poolStr(sorted[k - 1]!, v), poolStr(sorted[k]!, v), `${formatIp(v, cidr.network)}/${cidr.prefixlen}`);
    }
  }
  if (gateway) {
    const g = parseIp(gateway)!;
    for (const r of ranges) if (g.value >= r.first && g.value <= r.last) throw GatewayConflictWithAllocationPools(gateway, poolStr(r, v));
  }
  return ranges;
}

function poolsOf(s: SubnetForIpam): { cidr: Cidr; ranges: IpRange[] } {
  const cidr = parseCidr(s.cidr)!;
  const ranges = s.allocation_pools.map((p) => ({ first: parseIp(p.start)!.value, last: parseIp(p.end)!.value }));
  return { cidr, ranges };
}

/** Is `ip` a usable host address of the subnet (not the network or IPv4 broadcast address)? */
export function ipValidForSubnet(s: SubnetForIpam, ip: string, deviceOwner = ''): boolean {
  const c = parseCidr(s.cidr)!;
  const a = parseIp(ip);
  if (!a || a.version !== c.version) return false;
  if (a.value < cidrFirst(c) || a.value > cidrLast(c)) return false;
  if (c.version === 4 && c.prefixlen < 31) {
    return a.value !== cidrFirst(c) && a.value !== cidrLast(c);
  }
  if (c.version === 6 && a.value === cidrFirst(c)) {
    // the subnet-router anycast address is only for routers
    return ROUTER_INTERFACE_OWNERS.includes(deviceOwner);
  }
  return true;
}

function randomIn(r: IpRange): bigint {
  const size = r.last - r.first + 1n;
  const rnd = BigInt(`0x${randomBytes(16).toString('hex')}`);
  return r.first + (rnd % size);
}

async function taken(trx: Transaction<any>, subnetId: string, ips: string[]): Promise<Set<string>> {
  if (ips.length === 0) return new Set();
  if (ips.length === 8) return new Set((await Q.takenOf8.rows(trx, subnetId, ...ips)).map((r) => r.ip_address));
  const rows = await trx.selectFrom('ipallocations').select('ip_address')
    .where('subnet_id', '=', subnetId).where('ip_address', 'in', ips).execute();
  return new Set(rows.map((r: any) => r.ip_address as string));
}

/** Picks a free address in the subnet's pools; null when the pools are full. */
async function pickFree(trx: Transaction<any>, s: SubnetForIpam): Promise<string | null> {
  const { cidr, ranges } = poolsOf(s);
  if (ranges.length === 0) return null;
  const total = ranges.reduce((n, r) => n + (r.last - r.first + 1n), 0n);
  // Random probes first (Neutron picks at random, which also spreads concurrent creators).
  for (let round = 0; round < 3; round++) {
    const cands: string[] = [];
    const rnd = randomBytes(48);
    for (let k = 0; k < 8; k++) {
      let pick = rnd.readUIntBE(k * 6, 6) % Number(total > 2n ** 40n ? 2n ** 40n : total);
      let chosen: bigint | null = null;
      for (const r of ranges) {
        const sz = r.last - r.first + 1n;
        if (BigInt(pick) < sz) { chosen = total > 2n ** 40n ? randomIn(r) : r.first + BigInt(pick); break; }
        pick -= Number(sz);
      }
      if (chosen !== null) cands.push(formatIp(cidr.version, chosen));
    }
    const used = await taken(trx, s.id, cands);
    const free = cands.find((c) => !used.has(c));
    if (free) return free;
  }
  // Dense pool: walk it in order against everything allocated.
  const rows = await trx.selectFrom('ipallocations').select('ip_address').where('subnet_id', '=', s.id).execute();
  const used = new Set(rows.map((r: any) => parseIp(r.ip_address)!.value));
  for (const r of ranges) {
    for (let a = r.first; a <= r.last; a++) if (!used.has(a)) return formatIp(cidr.version, a);
  }
  return null;
}

export interface AllocationRequest {
  networkId: string;
  portId: string;
  mac: string;
  deviceOwner: string;
  /** All subnets of the network, in creation order. */
  subnets: SubnetForIpam[];
  /** What the client asked for; undefined = automatic. */
  requested?: Array<{ subnet_id?: string; ip_address?: string }>;
}

/** Decides the port's fixed IPs and records them in `ipallocations`. */
export async function allocateIps(trx: Transaction<any>, req: AllocationRequest): Promise<FixedIp[]> {
  const isRouterPort = ROUTER_INTERFACE_OWNERS.includes(req.deviceOwner);
  const wanted: FixedIp[] = [];
  if (req.requested !== undefined) {
    for (const f of req.requested) {
      let subnet: SubnetForIpam | undefined;
      if (f.subnet_id) {
        subnet = req.subnets.find((s) => s.id === f.subnet_id);
        if (!subnet) {
          throw InvalidInput(`Failed to create port on network ${req.networkId}, because fixed_ips included invalid subnet ${f.subnet_id}`);
        }
      } else if (f.ip_address) {
        subnet = req.subnets.find((s) => ipValidForSubnet(s, f.ip_address!, req.deviceOwner));
        if (!subnet) throw InvalidIpForNetwork(f.ip_address);
      } else {
        throw InvalidInput('IP allocation requires subnet_id or ip_address');
      }
      if (f.ip_address) {
        if (!ipValidForSubnet(subnet, f.ip_address, req.deviceOwner)) throw InvalidIpForSubnet(f.ip_address);
        const ip = formatIp(parseIp(f.ip_address)!.version, parseIp(f.ip_address)!.value);
        if (isAutoAddressSubnet(subnet) && !isRouterPort && ip !== eui64Of(subnet, req.mac)) {
          throw InvalidInput(`IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnet.id} since the subnet is configured for automatic addresses`);
        }
        wanted.push({ subnet_id: subnet.id, ip_address: ip });
      } else if (isAutoAddressSubnet(subnet) && !isRouterPort) {
        wanted.push({ subnet_id: subnet.id, ip_address: eui64Of(subnet, req.mac) });
      } else {
        const ip = await pickFree(trx, subnet);
        if (!ip) throw IpAddressGenerationFailure(req.networkId);
        wanted.push({ subnet_id: subnet.id, ip_address: ip });
      }
    }
    // auto-address subnets always add their EUI-64 address (Neutron does the same)
    if (!isRouterPort) {
      for (const s of req.subnets) {
        if (isAutoAddressSubnet(s) && !wanted.some((w) => w.subnet_id === s.id)) {
          wanted.push({ subnet_id: s.id, ip_address: eui64Of(s, req.mac) });
        }
      }
    }
  } else {
    // one address from the first IPv4 subnet with room, one from the first stateful IPv6
    // subnet with room, and the EUI-64 address of every auto-address IPv6 subnet
    const v4 = req.subnets.filter((s) => s.ip_version === 4);
    const v6stateful = req.subnets.filter((s) => s.ip_version === 6 && !isAutoAddressSubnet(s));
    const v6auto = req.subnets.filter((s) => isAutoAddressSubnet(s));
    for (const group of [v4, v6stateful]) {
      if (group.length === 0) continue;
      let got: FixedIp | null = null;
      for (const s of group) {
        const ip = await pickFree(trx, s);
        if (ip) { got = { subnet_id: s.id, ip_address: ip }; break; }
      }
      if (!got) throw IpAddressGenerationFailure(req.networkId);
      wanted.push(got);
    }
    if (!isRouterPort) for (const s of v6auto) wanted.push({ subnet_id: s.id, ip_address: eui64Of(s, req.mac) });
  }
  await recordAllocations(trx, req.networkId, req.portId, wanted, req.requested !== undefined);
  return wanted;
}

function eui64Of(s: SubnetForIpam, mac: string): string {
  return formatIp(6, eui64(parseCidr(s.cidr)!, mac));
}

async function recordAllocations(trx: Transaction<any>, networkId: string, portId: string, ips: FixedIp[], explicit: boolean): Promise<void> {
  for (const f of ips) {
    if (explicit) {
      const used = await taken(trx, f.subnet_id, [f.ip_address]);
      if (used.size) throw IpAddressInUse(networkId, f.ip_address);
    }
    try {
      await Q.insertIpAllocation.execute(trx, portId, f.ip_address, f.subnet_id, networkId);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      // someone else got it first: explicit requests fail, automatic picks start over
      if (explicit) throw IpAddressInUse(networkId, f.ip_address);
      throw new RetryRequest('ip allocation race');
    }
  }
}

export async function releaseIps(trx: Transaction<any>, portId: string, subnetId?: string): Promise<void> {
  let q = trx.deleteFrom('ipallocations').where('port_id', '=', portId);
  if (subnetId) q = q.where('subnet_id', '=', subnetId);
  await q.execute();
}
