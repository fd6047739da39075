/**
 * Nova's host-level resources: availability zones here; services (services.ts) and
 * hypervisors (hypervisors.ts) registered with them.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ComputeApiFacade } from '../api.js';
import * as hostApi from '../db/host-api.js';
import { requireAdmin } from './common.js';
import { registerHypervisors } from './hypervisors.js';
import { registerServices, serviceIsUp } from './services.js';
import { usec } from './time-format.js';

export function registerHosts(app: FastifyInstance, compute: ComputeApiFacade): void {
  const api = compute.api;

  // ---- availability zones ----
  const azs = async () => {
    const aggs = await api.db.selectFrom('aggregate_metadata').select(['aggregate_id', 'value']).where('key', '=', 'availability_zone').execute();
    const hosts = await api.db.selectFrom('aggregate_hosts').selectAll().execute();
    const hostAz = new Map<string, string>();
    for (const a of aggs) for (const h of hosts.filter((x) => x['aggregate_id'] === a['aggregate_id'])) hostAz.set(h['host'], a['value']);
    const services: { host: string; binary: string; up: boolean; disabled: boolean; updated: string }[] = [];
    for (const cell of await compute.cells.computeCells()) {
      for (const s of await hostApi.serviceList(cell.db)) services.push({ host: s['host'], binary: s['binary'], up: serviceIsUp(s), disabled: Boolean(s['disabled']), updated: s['last_seen_up'] ?? s['updated_at'] });
    }
    return { hostAz, services };
  };
  app.get('/os-availability-zone', async () => {
    const { hostAz, services } = await azs();
    const zones = new Map<string, boolean>();
    for (const s of services.filter((x) => x.binary === 'nova-compute')) {
      const z = hostAz.get(s.host) ?? 'nova';
      zones.set(z, (zones.get(z) ?? false) || (s.up && !s.disabled));
    }
    return { availabilityZoneInfo: [...zones].map(([zoneName, available]) => ({ zoneName, zoneState: { available }, hosts: null })) };
  });
  app.get('/os-availability-zone/detail', async (req) => {
    requireAdmin(req, 'os_compute_api:os-availability-zone:detail');
    const { hostAz, services } = await azs();
    const zones = new Map<string, { available: boolean; hosts: Record<string, Record<string, unknown>> }>();
    for (const s of services) {
      const z = s.binary === 'nova-compute' ? (hostAz.get(s.host) ?? 'nova') : 'internal';
      if (!zones.has(z)) zones.set(z, { available: false, hosts: {} });
      const zz = zones.get(z)!;
      zz.available ||= s.up && !s.disabled;
      zz.hosts[s.host] ??= {};
      zz.hosts[s.host]![s.binary] = { available: s.up, active: !s.disabled, updated_at: usec(s.updated) };
    }
    return { availabilityZoneInfo: [...zones].map(([zoneName, z]) => ({ zoneName, zoneState: { available: z.available }, hosts: z.hosts })) };
  });

  registerServices(app, compute);
  registerHypervisors(app, compute);
}
