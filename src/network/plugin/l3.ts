/**
 * The L3 service plugin (neutron/db/l3_db.py, extraroute_db.py): routers with an external
 * gateway (SNAT), interfaces by subnet or port, extra routes, and floating IPs with their
 * association rules. Router and floating-IP ports are ordinary ports with `network:*` owners.
 * @module
 */
import type { Transaction } from 'kysely';
import type { RequestContext } from '../../common/context.js';
import * as X from '../common/exceptions.js';
import * as C from '../common/constants.js';
import { cidrContains, cidrsOverlap, parseCidr, parseIp, formatCidr } from '../common/ipaddr.js';
import { isSet, type Body, type Dict, type ListResult, type NeutronPlugin, applyFilters } from './core.js';
import { b, emptyList, fromJson, i, now, paginate, applyTagFilters, toJson, uuid, type ListOptions } from './dbutil.js';

const ROUTER_COLS: Record<string, string> = {
  id: 'id', name: 'name', status: 'status', admin_state_up: 'admin_state_up', project_id: 'project_id', tenant_id: 'project_id',
  description: 'description', revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at',
};
const FIP_COLS: Record<string, string> = {
  id: 'id', floating_ip_address: 'floating_ip_address', floating_network_id: 'floating_network_id', router_id: 'router_id',
  port_id: 'fixed_port_id', fixed_ip_address: 'fixed_ip_address', status: 'status', project_id: 'project_id', tenant_id: 'project_id',
  description: 'description', revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at',
};

export class L3 {
  constructor(private readonly p: NeutronPlugin) {
    p.disassociateFloatingIps = (trx, portId) => this.disassociateForPort(trx, portId);
  }

  private get db() {
    return this.p.db;
  }

  private visible(q: any, ctx: RequestContext, table: string): any {
    return ctx.isAdmin ? q : q.where(`${table}.project_id`, '=', ctx.projectId ?? '');
  }

  // ------------------------------------------------------------------ routers

  async getRow(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.visible(this.db.selectFrom('routers').selectAll().where('id', '=', id), ctx, 'routers').executeTakeFirst();
    if (!row) throw X.RouterNotFound(id);
    return row;
  }

  async routerDicts(rows: Dict[]): Promise<Dict[]> {
    if (!rows.length) return [];
    const gwIds = rows.map((r) => r.gw_port_id).filter(Boolean);
    const gws = gwIds.length ? await this.db.selectFrom('ports').select(['id', 'network_id', 'fixed_ips']).where('id', 'in', gwIds).execute() : [];
    const ids = rows.map((r) => r.id);
    const tags = await this.p.loadTags('routers', ids);
    const azRows = await this.db.selectFrom('routerl3agentbindings').innerJoin('agents', 'agents.id', 'routerl3agentbindings.l3_agent_id')
      .select(['routerl3agentbindings.router_id as router_id', 'agents.availability_zone as az']).where('router_id', 'in', ids).execute();
    return rows.map((r) => {
      const gw = gws.find((g: any) => g.id === r.gw_port_id);
      return {
        id: r.id, name: r.name, status: r.status, admin_state_up: b(r.admin_state_up), tenant_id: r.project_id ?? '', project_id: r.project_id ?? '',
        external_gateway_info: gw ? { network_id: gw.network_id, enable_snat: b(r.enable_snat), external_fixed_ips: fromJson(gw.fixed_ips, []) } : null,
        routes: fromJson(r.routes, []), distributed: b(r.distributed), ha: b(r.ha),
        availability_zone_hints: fromJson(r.availability_zone_hints, []),
        availability_zones: [...new Set(azRows.filter((a: any) => a.router_id === r.id && a.az).map((a: any) => a.az as string))],
        description: r.description, flavor_id: null, tags: tags.get(r.id) ?? [],
        created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
      };
    });
  }

  async get(ctx: RequestContext, id: string): Promise<Dict> {
    return (await this.routerDicts([await this.getRow(ctx, id)]))[0]!;
  }

  async list(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.visible(this.db.selectFrom('routers').selectAll('routers'), ctx, 'routers');
    q = applyFilters(q, 'routers', opts.filters, ROUTER_COLS);
    q = applyTagFilters(q, this.db, 'routers', 'routers.id', opts.tagFilters);
    const { rows, more } = await paginate(this.db, 'routers', q, opts, (k) => ROUTER_COLS[k] ?? null);
    return { items: await this.routerDicts(rows), more };
  }

  private gatewayRequest(info: unknown): Dict | null {
    if (info === null || info === undefined || !isSet(info)) return null;
    const g = info as Dict;
    if (Object.keys(g).length === 0) return null;
    if (!g['network_id'] || typeof g['network_id'] !== 'string') throw X.InvalidInput(`Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {${Object.keys(g).map((k) => `'${k}'`).join(', ')}}`);
    return g;
  }

  /** Creates the gateway port on the external network (project '' like Neutron) and links it. */
  private async setGateway(ctx: RequestContext, router: Dict, info: Dict | null): Promise<void> {
    const cur = router.gw_port_id ? await this.db.selectFrom('ports').selectAll().where('id', '=', router.gw_port_id).executeTakeFirst() : null;
    const enableSnat = info && info['enable_snat'] !== undefined ? !!info['enable_snat'] : true;
    if (cur && info && info['network_id'] === cur.network_id && info['external_fixed_ips'] === undefined) {
      await this.db.updateTable('routers').set({ enable_snat: i(enableSnat) }).where('id', '=', router.id).execute();
      return;
    }
    if (cur) {
      const fip = await this.db.selectFrom('floatingips').select('id').where('router_id', '=', router.id).executeTakeFirst();
      if (fip) throw X.RouterExternalGatewayInUseByFloatingIp(router.id, cur.network_id);
      await this.db.updateTable('routers').set({ gw_port_id: null }).where('id', '=', router.id).execute();
      await this.db.deleteFrom('routerports').where('port_id', '=', cur.id).execute();
      await this.p.deletePort(ctx.elevated(), cur.id, { l3PortCheck: false });
    }
    if (!info) return;
    const admin = ctx.elevated();
    const net = await this.db.selectFrom('networks').selectAll().where('id', '=', info['network_id']).executeTakeFirst();
    if (!net) throw X.NetworkNotFound(info['network_id']);
    if (!b(net.router_external)) throw X.BadRequest('router', `Network ${info['network_id']} is not an external network`);
    const portBody: Body = {
      network_id: net.id, project_id: '', device_id: router.id, device_owner: C.DEVICE_OWNER_ROUTER_GW, admin_state_up: true, name: '',
    };
    if (Array.isArray(info['external_fixed_ips']) && info['external_fixed_ips'].length) portBody['fixed_ips'] = info['external_fixed_ips'];
    const port = await this.p.createPort(admin, portBody);
    if (!port['fixed_ips'].length) {
      await this.p.deletePort(admin, port['id'], { l3PortCheck: false });
      throw X.BadRequest('router', `No IPs available for external network ${net.id}`);
    }
    await this.p.tx(async (trx) => {
      await trx.updateTable('routers').set({ gw_port_id: port['id'], enable_snat: i(enableSnat) }).where('id', '=', router.id).execute();
      await trx.insertInto('routerports').values({ router_id: router.id, port_id: port['id'], port_type: C.DEVICE_OWNER_ROUTER_GW }).execute();
    });
  }

  async create(ctx: RequestContext, body: Body): Promise<Dict> {
    const projectId = this.p.projectOf(ctx, body);
    const gw = this.gatewayRequest(body['external_gateway_info']);
    if (gw && !ctx.isAdmin && (gw['enable_snat'] !== undefined || gw['external_fixed_ips'] !== undefined)) {
      throw X.PolicyNotAuthorized(gw['enable_snat'] !== undefined ? 'create_router:external_gateway_info:enable_snat' : 'create_router:external_gateway_info:external_fixed_ips');
    }
    if (gw) {
      const net = await this.db.selectFrom('networks').select(['id', 'router_external']).where('id', '=', gw['network_id']).executeTakeFirst();
      if (!net) throw X.NetworkNotFound(gw['network_id']);
      if (!b(net.router_external)) throw X.BadRequest('router', `Network ${gw['network_id']} is not an external network`);
    }
    const id = uuid();
    const ts = now();
    await this.p.tx(async (trx) => {
      await this.p.checkQuota(trx, projectId, 'router');
      await trx.insertInto('routers').values({
        id, project_id: projectId, name: body['name'] ?? '', status: C.ROUTER_STATUS_ACTIVE, admin_state_up: i(body['admin_state_up'] ?? true),
        gw_port_id: null, enable_snat: 1, routes: '[]', distributed: i(isSet(body['distributed']) && body['distributed']), ha: i(isSet(body['ha']) && body['ha']),
        availability_zone_hints: toJson(body['availability_zone_hints'] ?? []), description: body['description'] ?? '',
        revision_number: 1, created_at: ts, updated_at: ts,
      }).execute();
    });
    try {
      if (gw) await this.setGateway(ctx, await this.db.selectFrom('routers').selectAll().where('id', '=', id).executeTakeFirstOrThrow(), gw);
    } catch (e) {
      await this.db.deleteFrom('routers').where('id', '=', id).execute();
      throw e;
    }
    await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [id] });
    return this.get(ctx.elevated(), id);
  }

  async update(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'update_router');
    if (isSet(body['external_gateway_info'])) {
      const gw = this.gatewayRequest(body['external_gateway_info']);
      if (gw && !ctx.isAdmin && (gw['enable_snat'] !== undefined || gw['external_fixed_ips'] !== undefined)) {
        throw X.PolicyNotAuthorized('update_router:external_gateway_info:enable_snat');
      }
      await this.setGateway(ctx, row, gw);
    }
    const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    for (const k of ['name', 'description']) if (isSet(body[k])) upd[k] = body[k];
    if (isSet(body['admin_state_up'])) upd['admin_state_up'] = i(body['admin_state_up']);
    if (isSet(body['routes'])) upd['routes'] = toJson(await this.validateRoutes(id, body['routes'] ?? []));
    await this.db.updateTable('routers').set(upd).where('id', '=', id).execute();
    await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [id] });
    return this.get(ctx.elevated(), id);
  }

  private async interfaceSubnets(routerId: string): Promise<Array<{ subnet_id: string; cidr: string; ip: string; port_id: string }>> {
    const ports = await this.db.selectFrom('routerports').innerJoin('ports', 'ports.id', 'routerports.port_id')
      .select(['ports.id as id', 'ports.fixed_ips as fixed_ips']).where('routerports.router_id', '=', routerId)
      .where('routerports.port_type', '=', C.DEVICE_OWNER_ROUTER_INTF).execute();
    const out: Array<{ subnet_id: string; cidr: string; ip: string; port_id: string }> = [];
    for (const p of ports) {
      for (const f of fromJson<Dict[]>(p.fixed_ips, [])) {
        const s = await this.db.selectFrom('subnets').select('cidr').where('id', '=', f['subnet_id']).executeTakeFirst();
        if (s) out.push({ subnet_id: f['subnet_id'], cidr: s.cidr, ip: f['ip_address'], port_id: p.id });
      }
    }
    return out;
  }

  private async validateRoutes(routerId: string, routes: Dict[]): Promise<Dict[]> {
    if (routes.length > this.p.cfg.maxRoutes) throw X.RoutesExhausted(routerId, this.p.cfg.maxRoutes);
    const ifaces = await this.interfaceSubnets(routerId);
    const out: Dict[] = [];
    const show = JSON.stringify(routes);
    for (const r of routes) {
      if (!r || typeof r !== 'object' || !('destination' in r) || !('nexthop' in r)) throw X.InvalidRoutes(show, 'the format of routes is invalid');
      const d = parseCidr(r['destination']);
      const n = parseIp(r['nexthop']);
      if (!d || !String(r['destination']).includes('/')) throw X.InvalidRoutes(show, `'${r['destination']}' is not a valid CIDR`);
      if (!n) throw X.InvalidRoutes(show, `'${r['nexthop']}' is not a valid IP address`);
      if (ifaces.some((f) => f.ip === r['nexthop'])) throw X.InvalidRoutes(show, 'the nexthop is used by router');
      if (!ifaces.some((f) => cidrContains(parseCidr(f.cidr)!, n))) throw X.InvalidRoutes(show, 'the nexthop is not connected with router');
      out.push({ destination: formatCidr(d), nexthop: r['nexthop'] });
    }
    return out;
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'delete_router');
    const iface = await this.db.selectFrom('routerports').select('port_id').where('router_id', '=', id).where('port_type', '!=', C.DEVICE_OWNER_ROUTER_GW).executeTakeFirst();
    if (iface) throw X.RouterInUse(id, 'still has ports');
    const fip = await this.db.selectFrom('floatingips').select('id').where('router_id', '=', id).executeTakeFirst();
    if (fip) throw X.RouterInUse(id, 'still has floating IPs');
    const hosts = await this.hostsOf(id);
    if (row.gw_port_id) await this.setGateway(ctx, row, null);
    await this.p.tx(async (trx) => {
      await trx.deleteFrom('routerl3agentbindings').where('router_id', '=', id).execute();
      await trx.deleteFrom('routerports').where('router_id', '=', id).execute();
      await trx.deleteFrom('tags').where('resource_type', '=', 'routers').where('resource_id', '=', id).execute();
      await trx.deleteFrom('routers').where('id', '=', id).execute();
    });
    await this.p.callbacks.publish(ctx, 'router.after_delete', { ids: [id], hosts });
  }

  async hostsOf(routerId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('routerl3agentbindings').innerJoin('agents', 'agents.id', 'routerl3agentbindings.l3_agent_id')
      .select('agents.host as host').where('router_id', '=', routerId).execute();
    return rows.map((r: any) => r.host);
  }

  private interfaceInfo(router: Dict, port: Dict, subnetId: string): Dict {
    return {
      id: router.id, tenant_id: router.project_id, project_id: router.project_id, port_id: port['id'], network_id: port['network_id'],
      subnet_id: subnetId, subnet_ids: port['fixed_ips'].map((f: Dict) => f['subnet_id']),
    };
  }

  private async checkOverlap(routerId: string, subnetIds: string[]): Promise<void> {
    const existing = await this.interfaceSubnets(routerId);
    for (const sid of subnetIds) {
      const s = await this.db.selectFrom('subnets').select(['id', 'cidr']).where('id', '=', sid).executeTakeFirstOrThrow();
      const c = parseCidr(s.cidr)!;
      for (const e of existing) {
        if (e.subnet_id === sid) throw X.BadRequest('router', `Router already has a port on subnet ${sid}`);
        if (cidrsOverlap(c, parseCidr(e.cidr)!)) {
          throw X.BadRequest('router', `Cidr ${s.cidr} of subnet ${sid} overlaps with cidr ${e.cidr} of subnet ${e.subnet_id}`);
        }
      }
    }
  }

  async addInterface(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const router = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, router, 'add_router_interface');
    const info = body ?? {};
    if (!info['subnet_id'] && !info['port_id']) throw X.BadRequest('router', 'Either subnet_id or port_id must be specified');
    if (info['subnet_id'] && info['port_id']) throw X.BadRequest('router', 'Cannot specify both subnet-id and port-id');
    const admin = ctx.elevated();
    let port: Dict;
    let subnetId: string;
    if (info['port_id']) {
      const row = await this.p.getPortRow(ctx, info['port_id']);
      port = (await this.p.portDicts([row]))[0]!;
      if (port['device_id'] || (port['device_owner'] && port['device_owner'] !== '')) {
        if (port['device_id'] !== id || !C.ROUTER_INTERFACE_OWNERS.includes(port['device_owner'])) {
          throw X.PortInUse(port['id'], port['network_id'], port['device_id']);
        }
      }
      if (!port['fixed_ips'].length) throw X.BadRequest('router', 'Router port must have at least one fixed IP');
      const subnets = port['fixed_ips'].map((f: Dict) => f['subnet_id']);
      await this.checkOverlap(id, subnets);
      subnetId = subnets[0];
      port = await this.p.updatePort(admin, port['id'], { device_id: id, device_owner: C.DEVICE_OWNER_ROUTER_INTF });
    } else {
      const subnet = await this.p.getSubnetRow(ctx, info['subnet_id']);
      if (!subnet.gateway_ip) throw X.BadRequest('router', 'Subnet for router interface must have a gateway IP');
      await this.checkOverlap(id, [subnet.id]);
      subnetId = subnet.id;
      port = await this.p.createPort(admin, {
        network_id: subnet.network_id, project_id: subnet.project_id ?? router.project_id, device_id: id,
        device_owner: C.DEVICE_OWNER_ROUTER_INTF, admin_state_up: true, name: '',
        fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
      });
    }
    await this.db.insertInto('routerports').values({ router_id: id, port_id: port['id'], port_type: C.DEVICE_OWNER_ROUTER_INTF }).execute();
    await this.db.updateTable('routers').set({ updated_at: now(), revision_number: Number(router.revision_number) + 1 }).where('id', '=', id).execute();
    await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [id] });
    return this.interfaceInfo(router, port, subnetId);
  }

  async removeInterface(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const router = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, router, 'remove_router_interface');
    const info = body ?? {};
    if (!info['subnet_id'] && !info['port_id']) throw X.BadRequest('router', 'Either subnet_id or port_id must be specified');
    const ifaces = await this.interfaceSubnets(id);
    let portId: string;
    let subnetId: string;
    if (info['port_id']) {
      const match = ifaces.filter((f) => f.port_id === info['port_id']);
      if (!match.length) throw X.RouterInterfaceNotFound(id, info['port_id']);
      if (info['subnet_id'] && !match.some((m) => m.subnet_id === info['subnet_id'])) throw X.SubnetMismatchForPort(info['port_id'], info['subnet_id']);
      portId = info['port_id'];
      subnetId = info['subnet_id'] ?? match[0]!.subnet_id;
    } else {
      const match = ifaces.find((f) => f.subnet_id === info['subnet_id']);
      if (!match) throw X.RouterInterfaceNotFoundForSubnet(id, info['subnet_id']);
      portId = match.port_id;
      subnetId = match.subnet_id;
    }
    const subnetsOfPort = ifaces.filter((f) => f.port_id === portId);
    for (const s of subnetsOfPort) {
      const c = parseCidr(s.cidr)!;
      const fips = await this.db.selectFrom('floatingips').select('fixed_ip_address').where('router_id', '=', id).execute();
      if (fips.some((f: any) => f.fixed_ip_address && cidrContains(c, parseIp(f.fixed_ip_address)!))) throw X.RouterInterfaceInUseByFloatingIP(id, s.subnet_id);
      const routes = fromJson<Dict[]>(router.routes, []);
      if (routes.some((r) => cidrContains(c, parseIp(r['nexthop'])!))) throw X.RouterInterfaceInUseByRoute(id, s.subnet_id);
    }
    const port = await this.p.getPort(ctx.elevated(), portId);
    await this.db.deleteFrom('routerports').where('port_id', '=', portId).execute();
    await this.p.deletePort(ctx.elevated(), portId, { l3PortCheck: false });
    await this.db.updateTable('routers').set({ updated_at: now(), revision_number: Number(router.revision_number) + 1 }).where('id', '=', id).execute();
    await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [id] });
    return this.interfaceInfo(router, port, subnetId);
  }

  // ------------------------------------------------------------------ floating IPs

  async fipDicts(rows: Dict[]): Promise<Dict[]> {
    if (!rows.length) return [];
    const portIds = rows.map((r) => r.fixed_port_id).filter(Boolean);
    const ports = portIds.length ? await this.db.selectFrom('ports').selectAll().where('id', 'in', portIds).execute() : [];
    const tags = await this.p.loadTags('floatingips', rows.map((r) => r.id));
    return rows.map((r) => {
      const p = ports.find((x: any) => x.id === r.fixed_port_id);
      return {
        id: r.id, tenant_id: r.project_id ?? '', project_id: r.project_id ?? '', floating_ip_address: r.floating_ip_address,
        floating_network_id: r.floating_network_id, router_id: r.router_id ?? null, port_id: r.fixed_port_id ?? null,
        fixed_ip_address: r.fixed_ip_address ?? null, status: r.status, description: r.description,
        port_details: p ? {
          name: p.name, network_id: p.network_id, mac_address: p.mac_address, admin_state_up: b(p.admin_state_up),
          status: p.status, device_id: p.device_id, device_owner: p.device_owner,
        } : null,
        port_forwardings: [], tags: tags.get(r.id) ?? [],
        created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
      };
    });
  }

  async getFipRow(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.visible(this.db.selectFrom('floatingips').selectAll().where('id', '=', id), ctx, 'floatingips').executeTakeFirst();
    if (!row) throw X.FloatingIPNotFound(id);
    return row;
  }

  async getFip(ctx: RequestContext, id: string): Promise<Dict> {
    return (await this.fipDicts([await this.getFipRow(ctx, id)]))[0]!;
  }

  async listFips(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.visible(this.db.selectFrom('floatingips').selectAll('floatingips'), ctx, 'floatingips');
    q = applyFilters(q, 'floatingips', opts.filters, FIP_COLS);
    q = applyTagFilters(q, this.db, 'floatingips', 'floatingips.id', opts.tagFilters);
    const { rows, more } = await paginate(this.db, 'floatingips', q, opts, (k) => FIP_COLS[k] ?? null);
    return { items: await this.fipDicts(rows), more };
  }

  /** Works out (port, fixed IP, router) for an association, with Neutron's checks and errors. */
  private async resolveAssociation(ctx: RequestContext, fipId: string, extNet: string, projectId: string, portId: string, fixedIp: string | null): Promise<{ port: Dict; ip: string; routerId: string }> {
    const port = await this.p.getPort(ctx, portId);
    if (port['project_id'] !== projectId && !ctx.isAdmin) {
      throw X.BadRequest('floatingip', `Cannot process floating IP association with Port ${portId}, since that port is owned by a different project`);
    }
    const owner: string = port['device_owner'];
    if (owner.startsWith(C.DEVICE_OWNER_NETWORK_PREFIX)) throw X.BadRequest('floatingip', `Port ${portId} is unable to be assigned a floating IP`);
    let ip: string;
    let subnetId: string;
    if (fixedIp) {
      const a = parseIp(fixedIp);
      if (!a || a.version !== 4) throw X.BadRequest('floatingip', `Cannot process floating IP association with ${fixedIp}, since that is not an IPv4 address`);
      const f = port['fixed_ips'].find((x: Dict) => x['ip_address'] === fixedIp);
      if (!f) throw X.BadRequest('floatingip', `Port ${portId} does not have fixed ip ${fixedIp}`);
      ip = fixedIp;
      subnetId = f['subnet_id'];
    } else {
      const v4 = port['fixed_ips'].filter((x: Dict) => !String(x['ip_address']).includes(':'));
      if (!v4.length) throw X.BadRequest('floatingip', `Cannot add floating IP to port ${portId} that has no fixed IPv4 addresses`);
      if (v4.length > 1) {
        throw X.BadRequest('floatingip', `Port ${portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
      }
      ip = v4[0]['ip_address'];
      subnetId = v4[0]['subnet_id'];
    }
    // a router with a gateway on the floating network and an interface on the port's subnet
    const candidates = await this.db.selectFrom('routers').innerJoin('ports', 'ports.id', 'routers.gw_port_id')
      .select('routers.id as id').where('ports.network_id', '=', extNet).execute();
    let routerId: string | null = null;
    for (const c of candidates) {
      const ifaces = await this.interfaceSubnets(c.id);
      if (ifaces.some((f) => f.subnet_id === subnetId)) { routerId = c.id; break; }
    }
    if (!routerId) throw X.ExternalGatewayForFloatingIPNotFound(extNet, subnetId, portId);
    const dup = await this.db.selectFrom('floatingips').select(['id', 'floating_ip_address']).where('floating_network_id', '=', extNet)
      .where('fixed_port_id', '=', portId).where('fixed_ip_address', '=', ip).where('id', '!=', fipId).executeTakeFirst();
    if (dup) throw X.FloatingIPPortAlreadyAssociated(dup.floating_ip_address, dup.id, portId, ip, extNet);
    return { port, ip, routerId };
  }

  async createFip(ctx: RequestContext, body: Body): Promise<Dict> {
    const projectId = this.p.projectOf(ctx, body);
    const extNet = body['floating_network_id'];
    const net = await this.db.selectFrom('networks').selectAll().where('id', '=', extNet).executeTakeFirst();
    if (!net || (!ctx.isAdmin && !b(net.router_external) && !b(net.shared) && net.project_id !== ctx.projectId)) throw X.NetworkNotFound(extNet);
    if (!b(net.router_external)) throw X.BadRequest('floatingip', `Network ${extNet} is not a valid external network`);
    const v4 = await this.db.selectFrom('subnets').select('id').where('network_id', '=', extNet).where('ip_version', '=', 4).orderBy('created_at').execute();
    if (!v4.length) throw X.BadRequest('floatingip', `Network ${extNet} does not contain any IPv4 subnet`);
    const portId = isSet(body['port_id']) ? body['port_id'] : null;
    const fixedIp = isSet(body['fixed_ip_address']) ? body['fixed_ip_address'] : null;
    if (fixedIp && !portId) throw X.BadRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
    const id = uuid();
    const assoc = portId ? await this.resolveAssociation(ctx, id, extNet, projectId, portId, fixedIp) : null;
    await this.p.tx(async (trx) => this.p.checkQuota(trx, projectId, 'floatingip'));
    const fixed: Dict = {};
    if (isSet(body['subnet_id']) && body['subnet_id']) fixed['subnet_id'] = body['subnet_id'];
    if (isSet(body['floating_ip_address']) && body['floating_ip_address']) fixed['ip_address'] = body['floating_ip_address'];
    const fport = await this.p.createPort(ctx.elevated(), {
      network_id: extNet, project_id: '', device_id: id, device_owner: C.DEVICE_OWNER_FLOATINGIP, admin_state_up: true, name: '',
      fixed_ips: Object.keys(fixed).length ? [fixed] : [{ subnet_id: v4[0]!.id }],
    });
    const ts = now();
    try {
      await this.p.tx(async (trx) => {
        await trx.insertInto('floatingips').values({
          id, project_id: projectId, floating_ip_address: fport['fixed_ips'][0]['ip_address'], floating_network_id: extNet,
          floating_port_id: fport['id'], fixed_port_id: assoc?.port['id'] ?? null, fixed_ip_address: assoc?.ip ?? null,
          router_id: assoc?.routerId ?? null, status: C.FLOATINGIP_STATUS_DOWN, description: body['description'] ?? '',
          revision_number: 1, created_at: ts, updated_at: ts,
        }).execute();
      });
    } catch (e) {
      await this.p.deletePort(ctx.elevated(), fport['id'], { l3PortCheck: false });
      throw e;
    }
    const fip = await this.getFip(ctx.elevated(), id);
    if (assoc) await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [assoc.routerId] });
    await this.p.callbacks.publish(ctx, 'floatingip.after_update', { resource: fip, original: null });
    return fip;
  }

  async updateFip(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getFipRow(ctx, id);
    this.p.checkOwner(ctx, row, 'update_floatingip');
    const original = (await this.fipDicts([row]))[0]!;
    const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    if (isSet(body['description'])) upd['description'] = body['description'];
    const routers = new Set<string>();
    if (row.router_id) routers.add(row.router_id);
    if (isSet(body['port_id'])) {
      if (body['port_id'] === null) {
        if (isSet(body['fixed_ip_address']) && body['fixed_ip_address']) throw X.BadRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
        Object.assign(upd, { fixed_port_id: null, fixed_ip_address: null, router_id: null, status: C.FLOATINGIP_STATUS_DOWN });
      } else {
        const a = await this.resolveAssociation(ctx, id, row.floating_network_id, row.project_id, body['port_id'], isSet(body['fixed_ip_address']) ? body['fixed_ip_address'] : null);
        Object.assign(upd, { fixed_port_id: a.port['id'], fixed_ip_address: a.ip, router_id: a.routerId });
        routers.add(a.routerId);
      }
    } else if (isSet(body['fixed_ip_address']) && body['fixed_ip_address'] && row.fixed_port_id) {
      const a = await this.resolveAssociation(ctx, id, row.floating_network_id, row.project_id, row.fixed_port_id, body['fixed_ip_address']);
      Object.assign(upd, { fixed_ip_address: a.ip, router_id: a.routerId });
      routers.add(a.routerId);
    }
    await this.db.updateTable('floatingips').set(upd).where('id', '=', id).execute();
    const fip = await this.getFip(ctx.elevated(), id);
    if (routers.size) await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [...routers] });
    await this.p.callbacks.publish(ctx, 'floatingip.after_update', { resource: fip, original });
    return fip;
  }

  async deleteFip(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getFipRow(ctx, id);
    this.p.checkOwner(ctx, row, 'delete_floatingip');
    const original = (await this.fipDicts([row]))[0]!;
    await this.db.deleteFrom('floatingips').where('id', '=', id).execute();
    await this.db.deleteFrom('tags').where('resource_type', '=', 'floatingips').where('resource_id', '=', id).execute();
    await this.p.deletePort(ctx.elevated(), row.floating_port_id, { l3PortCheck: false }).catch(() => undefined);
    if (row.router_id) await this.p.callbacks.publish(ctx, 'router.after_update', { ids: [row.router_id] });
    await this.p.callbacks.publish(ctx, 'floatingip.after_update', { resource: null as any, original });
  }

  /** A port is going away: its floating IPs stay, unassociated (Neutron's disassociate_floatingips). */
  async disassociateForPort(trx: Transaction<any>, portId: string): Promise<string[]> {
    const rows = await trx.selectFrom('floatingips').select(['id', 'router_id']).where('fixed_port_id', '=', portId).execute();
    if (!rows.length) return [];
    await trx.updateTable('floatingips').set({ fixed_port_id: null, fixed_ip_address: null, router_id: null, status: C.FLOATINGIP_STATUS_DOWN, updated_at: now() })
      .where('fixed_port_id', '=', portId).execute();
    return [...new Set(rows.map((r: any) => r.router_id).filter(Boolean))] as string[];
  }

  /** The L3 agent's report (update_floatingip_statuses). */
  async setFipStatuses(statuses: Record<string, string>): Promise<void> {
    for (const [id, status] of Object.entries(statuses)) {
      await this.db.updateTable('floatingips').set({ status }).where('id', '=', id).execute();
    }
  }
}
