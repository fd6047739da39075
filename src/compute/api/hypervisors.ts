/**
 * /os-hypervisors (nova/api/openstack/compute/hypervisors.py), admin only: compute nodes with
 * their service's state. 2.28 cpu_info as an object; 2.33 paging (limit, marker,
 * hypervisors_links); 2.53 uuid ids, `hypervisor_hostname_pattern` and `with_servers` instead
 * of the /search and /servers routes, unknown query parameters refused; 2.75 `servers: []` when
 * asked for and empty; 2.88 resource fields gone, `uptime` in the detail, /statistics and
 * /{id}/uptime gone.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import { isUuidLike, validateQuery, type VersionedSchema } from '../../common/http/validation.js';
import type { ComputeApiFacade } from '../api.js';
import type { Cell } from '../cells.js';
import * as hostApi from '../db/host-api.js';
import { baseUrl, mv, requireAdmin } from './common.js';
import { serviceIsUp } from './services.js';

type Row = Record<string, any>;
interface Node { cell: Cell; node: Row; svc: Row | undefined }

/** CONF.api.max_limit. */
const MAX_LIMIT = 1000;
const BOOLEAN = { type: ['boolean', 'string'], enum: [true, false, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] };
const single = (s: Record<string, unknown>) => ({ type: 'array', items: s, maxItems: 1 });
const PAGING = { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, marker: { type: 'array', items: { type: 'string' } } };
const INDEX_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', additionalProperties: true }, max: '2.32' },
  { schema: { type: 'object', properties: PAGING, additionalProperties: true }, min: '2.33', max: '2.52' },
  {
    schema: {
      type: 'object', additionalProperties: false,
      properties: {
        limit: single({ type: 'string', pattern: '^[0-9]+$' }), marker: single({ type: 'string' }),
        hypervisor_hostname_pattern: single({ type: 'string', minLength: 1, maxLength: 255 }), with_servers: single(BOOLEAN),
      },
    },
    min: '2.53',
  },
];
const SHOW_QUERY: VersionedSchema[] = [
  { schema: { type: 'object', additionalProperties: true }, max: '2.52' },
  { schema: { type: 'object', properties: { with_servers: single(BOOLEAN) }, additionalProperties: false }, min: '2.53' },
];
const toBool = (v: string | undefined) => v !== undefined && ['true', '1', 'on', 'yes', 'y', 't'].includes(v.toLowerCase());
/** The resource fields 2.88 drops from the detail view. */
const RESOURCE_FIELDS = ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms', 'disk_available_least'];
const gone = () => new ApiError(404, 'The resource could not be found.');

export function registerHypervisors(app: FastifyInstance, compute: ComputeApiFacade): void {
  /** Every cell's compute nodes with their nova-compute service, ordered by cell then id. */
  const allNodes = async (): Promise<Node[]> => {
    const out: Node[] = [];
    for (const cell of await compute.cells.computeCells()) {
      const svcs = await hostApi.serviceList(cell.db, { binary: 'nova-compute' });
      for (const n of await hostApi.computeNodeList(cell.db)) out.push({ cell, node: n, svc: svcs.find((s) => s['host'] === n['host']) });
    }
    return out;
  };
  const serversOn = async (x: Node) => (await x.cell.db.db.selectFrom('instances').select(['id', 'uuid']).where('host', '=', x.node['host']).where('deleted', '=', 0).orderBy('id').execute())
    // Instance.name: the instance_name_template, as the hypervisor knows the guest.
    .map((i) => ({ name: `instance-${Number(i['id']).toString(16).padStart(8, '0')}`, uuid: i['uuid'] }));
  const uptimeOf = async (req: FastifyRequest, x: Node): Promise<string | null> => {
    if (!serviceIsUp(x.svc)) return null;
    try {
      return await (await compute.computeRpcFor(x.cell)).getHostUptime(req.ctx, x.node['host']);
    } catch {
      return null;
    }
  };

  const view = async (req: FastifyRequest, x: Node, detail: boolean, o: { servers?: { name: string; uuid: string }[] | null; withServers?: boolean } = {}) => {
    const n = x.node;
    const v: Record<string, unknown> = {
      id: mv(req, '2.53') ? n['uuid'] : n['id'], hypervisor_hostname: n['hypervisor_hostname'],
      state: serviceIsUp(x.svc) ? 'up' : 'down', status: x.svc?.['disabled'] ? 'disabled' : 'enabled',
    };
    if (detail) {
      Object.assign(v, {
        hypervisor_type: n['hypervisor_type'], hypervisor_version: n['hypervisor_version'], host_ip: n['host_ip'] ?? null,
        service: { id: mv(req, '2.53') ? x.svc?.['uuid'] : x.svc?.['id'], host: n['host'], disabled_reason: x.svc?.['disabled_reason'] ?? null },
      });
      if (!mv(req, '2.88')) {
        for (const f of RESOURCE_FIELDS) v[f] = n[f] ?? (f === 'current_workload' || f === 'running_vms' ? 0 : null);
        v['cpu_info'] = mv(req, '2.28') ? (n['cpu_info'] ? JSON.parse(n['cpu_info']) : {}) : (n['cpu_info'] ?? '');
      } else {
        v['uptime'] = await uptimeOf(req, x);
      }
    }
    if (o.servers?.length) v['servers'] = o.servers;
    else if (o.withServers && mv(req, '2.75')) v['servers'] = [];
    return v;
  };
  /** Nodes whose hypervisor_hostname contains the pattern (compute_node_search_by_hypervisor), 404 when none. */
  const search = async (pattern: string) => {
    const found = (await allNodes()).filter((x) => String(x.node['hypervisor_hostname']).includes(pattern));
    if (found.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
    return found;
  };

  const listing = (detail: boolean) => async (req: FastifyRequest) => {
    requireAdmin(req, `os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'}`);
    const q = validateQuery(req, INDEX_QUERY);
    const last = (k: string) => q[k]?.[q[k].length - 1];
    const paged = mv(req, '2.33');
    const pattern = mv(req, '2.53') ? last('hypervisor_hostname_pattern') : undefined;
    const withServers = mv(req, '2.53') ? toBool(last('with_servers')) : false;
    let nodes: Node[];
    let limit = MAX_LIMIT;
    let links = paged;
    if (pattern !== undefined) {
      if (q['limit'] !== undefined || last('marker')) throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
      links = false;
      nodes = await search(pattern);
    } else {
      nodes = await allNodes();
      if (paged) {
        if (last('limit') !== undefined) limit = Math.min(MAX_LIMIT, Number(last('limit')));
        const marker = last('marker');
        if (marker !== undefined) {
          const i = nodes.findIndex((x) => String(mv(req, '2.53') ? x.node['uuid'] : x.node['id']) === marker);
          if (i < 0) throw badRequest(`marker [${marker}] not found`);
          nodes = nodes.slice(i + 1);
        }
        nodes = nodes.slice(0, limit);
      }
    }
    // Nodes without a service (deleted) are skipped, as upstream does.
    const hypervisors = [];
    for (const x of nodes.filter((y) => y.svc)) hypervisors.push(await view(req, x, detail, { servers: withServers ? await serversOn(x) : null, withServers }));
    const body: Record<string, unknown> = { hypervisors };
    if (links && limit && hypervisors.length === limit) {
      const params = new URLSearchParams();
      const qs: Record<string, string[]> = { ...q, marker: [String(hypervisors[hypervisors.length - 1]!['id'])] };
      for (const k of Object.keys(qs).sort()) for (const v of qs[k]!) params.append(k, v);
      body['hypervisors_links'] = [{ rel: 'next', href: `${baseUrl(req)}/os-hypervisors${detail ? '/detail' : ''}?${params.toString()}` }];
    }
    return body;
  };
  app.get('/os-hypervisors', listing(false));
  app.get('/os-hypervisors/detail', listing(true));

  app.get('/os-hypervisors/statistics', async (req) => {
    if (mv(req, '2.88')) throw gone();
    requireAdmin(req, 'os_compute_api:os-hypervisors:statistics');
    const nodes = (await allNodes()).map((x) => x.node);
    const sum = (k: string) => nodes.reduce((s, n) => s + Number(n[k] ?? 0), 0);
    return {
      hypervisor_statistics: {
        count: nodes.length, vcpus: sum('vcpus'), memory_mb: sum('memory_mb'), local_gb: sum('local_gb'), vcpus_used: sum('vcpus_used'),
        memory_mb_used: sum('memory_mb_used'), local_gb_used: sum('local_gb_used'), free_ram_mb: sum('free_ram_mb'), free_disk_gb: sum('free_disk_gb'),
        current_workload: sum('current_workload'), running_vms: sum('running_vms'), disk_available_least: sum('disk_available_least'),
      },
    };
  });

  /** _validate_id + compute_node_get: uuid from 2.53 (else 400), integer before (else 404). */
  const byId = async (req: FastifyRequest, id: string): Promise<Node> => {
    const missing = () => notFound(`Hypervisor with ID '${id}' could not be found.`);
    if (mv(req, '2.53')) {
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    } else if (!/^-?\d+$/.test(id)) throw missing();
    const x = (await allNodes()).find((y) => (mv(req, '2.53') ? y.node['uuid'] === id : String(y.node['id']) === id));
    if (!x || !x.svc) throw missing();
    return x;
  };
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id', async (req) => {
    requireAdmin(req, 'os_compute_api:os-hypervisors:show');
    const q = validateQuery(req, SHOW_QUERY);
    const withServers = mv(req, '2.53') ? toBool(q['with_servers']?.[0]) : false;
    const x = await byId(req, req.params.id);
    return { hypervisor: await view(req, x, true, { servers: withServers ? await serversOn(x) : null, withServers }) };
  });
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id/uptime', async (req) => {
    if (mv(req, '2.88')) throw gone();
    requireAdmin(req, 'os_compute_api:os-hypervisors:uptime');
    const x = await byId(req, req.params.id);
    if (!serviceIsUp(x.svc)) throw badRequest(`Compute service of ${x.node['host']} is unavailable at this time.`, { type: 'ComputeServiceUnavailable' });
    let uptime: string;
    try {
      uptime = await (await compute.computeRpcFor(x.cell)).getHostUptime(req.ctx, x.node['host']);
    } catch {
      throw badRequest(`Compute service of ${x.node['host']} is unavailable at this time.`, { type: 'ComputeServiceUnavailable' });
    }
    return { hypervisor: { ...(await view(req, x, false)), uptime } };
  });
  // Below 2.53 only: search by hostname pattern, and the same with the servers of each.
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id/search', async (req) => {
    if (mv(req, '2.53')) throw gone();
    requireAdmin(req, 'os_compute_api:os-hypervisors:search');
    const found = (await search(req.params.id)).filter((x) => x.svc);
    return { hypervisors: await Promise.all(found.map((x) => view(req, x, false))) };
  });
  app.get<{ Params: { id: string } }>('/os-hypervisors/:id/servers', async (req) => {
    if (mv(req, '2.53')) throw gone();
    requireAdmin(req, 'os_compute_api:os-hypervisors:servers');
    const found = (await search(req.params.id)).filter((x) => x.svc);
    return { hypervisors: await Promise.all(found.map(async (x) => view(req, x, false, { servers: await serversOn(x) }))) };
  });
}
