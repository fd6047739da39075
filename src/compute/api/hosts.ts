/**
 * Nova's host-level resources: availability zones, hypervisors and services.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../common/errors.js';
import type { ComputeApiFacade } from '../api.js';
import * as hostApi from '../db/host-api.js';
import { mv, requireAdmin } from './common.js';
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

  // ---- hypervisors and services (admin) ----
  const allNodes = async () => {
    const out: { cell: string; node: Record<string, any>; svc: Record<string, any> | undefined }[] = [];
    for (const cell of await compute.cells.computeCells()) {
      const svcs = await hostApi.serviceList(cell.db, { binary: 'nova-compute' });
      for (const n of await hostApi.computeNodeList(cell.db)) out.push({ cell: cell.uuid, node: n, svc: svcs.find((s) => s['host'] === n['host']) });
    }
    return out;
  };
  const hvView = (req: any, x: { node: Record<string, any>; svc: Record<string, any> | undefined }, detail: boolean) => {
    const n = x.node;
    const up = serviceIsUp(x.svc);
    const v: Record<string, unknown> = {
      id: mv(req, '2.53') ? n['uuid'] : n['id'], hypervisor_hostname: n['hypervisor_hostname'],
      state: up ? 'up' : 'down', status: x.svc?.['disabled'] ? 'disabled' : 'enabled',
    };
    if (detail) Object.assign(v, {
      vcpus: n['vcpus'], memory_mb: n['memory_mb'], local_gb: n['local_gb'], vcpus_used: n['vcpus_used'], memory_mb_used: n['memory_mb_used'],
      local_gb_used: n['local_gb_used'], hypervisor_type: n['hypervisor_type'], hypervisor_version: n['hypervisor_version'],
      free_ram_mb: n['free_ram_mb'], free_disk_gb: n['free_disk_gb'], current_workload: n['current_workload'] ?? 0, running_vms: n['running_vms'] ?? 0,
      cpu_info: n['cpu_info'], disk_available_least: n['disk_available_least'], host_ip: n['host_ip'],
      service: { host: n['host'], id: mv(req, '2.53') ? x.svc?.['uuid'] : x.svc?.['id'], disabled_reason: x.svc?.['disabled_reason'] ?? null },
    });
    return v;
  };
  app.get('/os-hypervisors', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:list');
    return { hypervisors: (await allNodes()).map((x) => hvView(req, x, false)) };
  });
  app.get('/os-hypervisors/detail', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:list-detail');
    return { hypervisors: (await allNodes()).map((x) => hvView(req, x, true)) };
  });
  app.get('/os-hypervisors/statistics', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:statistics');
    const nodes = (await allNodes()).map((x) => x.node);
    const sum = (k: string) => nodes.reduce((s, n) => s + Number(n[k] ?? 0), 0);
    return { hypervisor_statistics: { count: nodes.length, vcpus: sum('vcpus'), memory_mb: sum('memory_mb'), local_gb: sum('local_gb'), vcpus_used: sum('vcpus_used'), memory_mb_used: sum('memory_mb_used'), local_gb_used: sum('local_gb_used'), free_ram_mb: sum('free_ram_mb'), free_disk_gb: sum('free_disk_gb'), current_workload: 0, running_vms: sum('running_vms'), disk_available_least: sum('disk_available_least') } };
  });
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:show');
    const x = (await allNodes()).find((y) => String(y.node['id']) === req.params.id || y.node['uuid'] === req.params.id);
    if (!x) throw notFound(`Hypervisor with ID ${req.params.id} could not be found.`);
    return { hypervisor: hvView(req, x, true) };
  });

  registerServices(app, compute);
}
