/**
 * Weighers (nova/scheduler/weights/*): each scores hosts, scores are normalized to 0..1 across
 * the candidates and summed with their multipliers; the highest total wins.
 * @module
 */
import type { HostState } from '../host-state.js';

export interface HostWeigher {
  readonly name: string;
  multiplier: number;
  weigh(h: HostState): number;
}

/** Spread by free RAM (multiplier > 0 spreads, < 0 stacks). */
export const ramWeigher = (multiplier = 1.0): HostWeigher => ({ name: 'RAMWeigher', multiplier, weigh: (h) => h.freeRamMb });
export const cpuWeigher = (multiplier = 1.0): HostWeigher => ({
  name: 'CPUWeigher', multiplier, weigh: (h) => h.vcpusTotal * h.cpuAllocationRatio - h.vcpusUsed,
});
export const diskWeigher = (multiplier = 1.0): HostWeigher => ({ name: 'DiskWeigher', multiplier, weigh: (h) => h.freeDiskMb });

export interface WeighedHost {
  host: HostState;
  weight: number;
}

/** nova.weights.normalize + BaseWeightHandler.get_weighed_objects. */
export function weighHosts(hosts: HostState[], weighers: HostWeigher[]): WeighedHost[] {
  const out = hosts.map((host) => ({ host, weight: 0 }));
  for (const w of weighers) {
    const raw = hosts.map((h) => w.weigh(h));
    const min = Math.min(...raw), max = Math.max(...raw);
    raw.forEach((v, i) => {
      const norm = max === min ? 0 : (v - min) / (max - min);
      out[i]!.weight += w.multiplier * norm;
    });
  }
  // Stable: equal weights keep the candidate order (Placement's order).
  return out.map((x, i) => ({ ...x, i })).sort((a, b) => b.weight - a.weight || a.i - b.i).map(({ host, weight }) => ({ host, weight }));
}
