/**
 * ML2 type drivers: local, flat, vlan, vxlan. Each validates a provider segment and reserves
 * it, or allocates a project segment from its configured ranges. Reservations are rows in
 * `networksegments` under a unique (type, physnet, id) index, so two networks never share one.
 * @module
 */
import type { Transaction } from 'kysely';
import { InvalidInput, FlatNetworkInUse, VlanIdInUse, TunnelIdInUse, NoNetworkAvailable } from '../../common/exceptions.js';
import type { NeutronConfig } from '../config.js';

export interface Segment {
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

export interface ProviderRequest {
  network_type?: string | undefined;
  physical_network?: string | null | undefined;
  segmentation_id?: number | null | undefined;
}

const MAX_VLAN = 4094;
const MAX_VNI = 2 ** 24 - 1;

/** Segments already taken of one type on one physnet ('' for tunnels). */
async function taken(trx: Transaction<any>, type: string, physnet: string): Promise<Set<number>> {
  const rows = await trx.selectFrom('networksegments').select('segmentation_id')
    .where('network_type', '=', type).where('physical_network', '=', physnet).execute();
  return new Set(rows.map((r: any) => Number(r.segmentation_id)));
}

async function inUse(trx: Transaction<any>, type: string, physnet: string, segId: number): Promise<boolean> {
  const r = await trx.selectFrom('networksegments').select('id').where('network_type', '=', type)
    .where('physical_network', '=', physnet).where('segmentation_id', '=', segId).executeTakeFirst();
  return !!r;
}

/** Validates a provider request (admin only) and checks the segment is free. */
export async function reserveProviderSegment(trx: Transaction<any>, cfg: NeutronConfig, p: ProviderRequest): Promise<Segment> {
  const type = p.network_type!;
  if (!cfg.typeDrivers.includes(type)) throw InvalidInput(`network_type value '${type}' not supported`);
  const physnet = p.physical_network ?? null;
  const segId = p.segmentation_id ?? null;
  switch (type) {
    case 'local':
      if (physnet) throw InvalidInput('physical_network prohibited for local provider network');
      if (segId !== null) throw InvalidInput('segmentation_id prohibited for local provider network');
      return { network_type: 'local', physical_network: null, segmentation_id: null };
    case 'flat': {
      if (!physnet) throw InvalidInput('physical_network required for flat provider network');
      if (segId !== null) throw InvalidInput('segmentation_id prohibited for flat provider network');
      if (!cfg.flatNetworks.includes('*') && !cfg.flatNetworks.includes(physnet)) {
        throw InvalidInput(`physical_network '${physnet}' unknown for flat provider network`);
      }
      if (await inUse(trx, 'flat', physnet, 0)) throw FlatNetworkInUse(physnet);
      return { network_type: 'flat', physical_network: physnet, segmentation_id: null };
    }
    case 'vlan': {
      if (!physnet) {
        // physnet left out: pick a free VLAN from a configured range, like a project network
        if (segId !== null) throw InvalidInput('segmentation_id requires physical_network for VLAN provider network');
        return allocateProjectSegment(trx, cfg, 'vlan');
      }
      if (!(physnet in cfg.networkVlanRanges)) throw InvalidInput(`physical_network '${physnet}' unknown for VLAN provider network`);
      if (segId === null) {
        const ranges = cfg.networkVlanRanges[physnet] ?? [];
        const used = await taken(trx, 'vlan', physnet);
        for (const [lo, hi] of ranges) for (let v = lo; v <= hi; v++) if (!used.has(v)) return { network_type: 'vlan', physical_network: physnet, segmentation_id: v };
        throw NoNetworkAvailable();
      }
      if (segId < 1 || segId > MAX_VLAN) throw InvalidInput(`segmentation_id out of range (1 through ${MAX_VLAN})`);
      if (await inUse(trx, 'vlan', physnet, segId)) throw VlanIdInUse(segId, physnet);
      return { network_type: 'vlan', physical_network: physnet, segmentation_id: segId };
    }
    case 'vxlan': {
      if (physnet) throw InvalidInput('provider:physical_network specified for vxlan network');
      if (segId === null) return allocateProjectSegment(trx, cfg, 'vxlan');
      if (segId < 1 || segId > MAX_VNI) throw InvalidInput(`segmentation_id out of range (1 through ${MAX_VNI})`);
      if (await inUse(trx, 'vxlan', '', segId)) throw TunnelIdInUse(segId);
      return { network_type: 'vxlan', physical_network: null, segmentation_id: segId };
    }
    default:
      throw InvalidInput(`network_type value '${type}' not supported`);
  }
}

/** A project network: the first tenant network type with a free segment. */
export async function allocateProjectSegment(trx: Transaction<any>, cfg: NeutronConfig, only?: string): Promise<Segment> {
  for (const type of only ? [only] : cfg.tenantNetworkTypes) {
    if (type === 'local') return { network_type: 'local', physical_network: null, segmentation_id: null };
    if (type === 'vxlan') {
      const used = await taken(trx, 'vxlan', '');
      for (const [lo, hi] of cfg.vniRanges) for (let v = lo; v <= hi; v++) if (!used.has(v)) return { network_type: 'vxlan', physical_network: null, segmentation_id: v };
    }
    if (type === 'vlan') {
      for (const [physnet, ranges] of Object.entries(cfg.networkVlanRanges)) {
        const used = await taken(trx, 'vlan', physnet);
        for (const [lo, hi] of ranges) for (let v = lo; v <= hi; v++) if (!used.has(v)) return { network_type: 'vlan', physical_network: physnet, segmentation_id: v };
      }
    }
  }
  throw NoNetworkAvailable();
}

/** MTU of a network on this segment: tunnels lose their encapsulation overhead. */
export function segmentMtu(cfg: NeutronConfig, seg: Segment): number {
  if (seg.network_type === 'vxlan') return cfg.globalPhysnetMtu - 50;
  return cfg.globalPhysnetMtu;
}
