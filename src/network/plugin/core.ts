/**
 * The core plugin (Neutron's ML2 plugin over db_base_plugin_v2): networks with their segments,
 * subnets with IPAM, ports with binding, plus the shared pieces the service plugins
 * (security groups, L3, subnet pools, quotas, tags, RBAC, agents) build on.
 * Every change is one transaction; AFTER_* callbacks fire once it has committed.
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import type { RequestContext } from '../../common/context.js';
import * as X from '../common/exceptions.js';
import * as C from '../common/constants.js';
import { cidrsOverlap, eui64, formatIp, generatePools, normalizeMac, parseCidr, parseIp, randomMac, cidrFirst, cidrLast } from '../common/ipaddr.js';
import { NOT_SPECIFIED } from '../api/attributes.js';
import { allocateIps, isAutoAddressSubnet, releaseIps, validateAllocationPools, type SubnetForIpam, type FixedIp } from '../ipam/ipam.js';
import { CallbackRegistry } from './callbacks.js';
import { defaultConfig, type NeutronConfig } from './config.js';
import { b, fromJson, i, isDuplicateKey, now, paginate, applyTagFilters, retryOnConflict, toJson, uuid, type ListOptions, emptyList, RetryRequest } from './dbutil.js';
import { allocateProjectSegment, reserveProviderSegment, segmentMtu } from './ml2/type-drivers.js';
import { bindPort, type AgentInfo, type StoredSegment } from './ml2/mech-driver.js';
import { Q, insertPort, PORT_INSERT_COLUMNS } from '../db/queries.js';
import { bindTransaction } from '../db/prepared.js';

export type Dict = Record<string, any>;
export type Body = Record<string | symbol, any>;

export const isSet = (v: unknown): boolean => v !== undefined && v !== NOT_SPECIFIED;

export interface ListResult {
  items: Dict[];
  more: boolean;
}

/** Columns behind API attributes where the names differ. */
const NETWORK_COLS: Record<string, string> = {
  id: 'id', name: 'name', status: 'status', admin_state_up: 'admin_state_up', shared: 'shared', 'router:external': 'router_external',
  mtu: 'mtu', project_id: 'project_id', tenant_id: 'project_id', description: 'description', port_security_enabled: 'port_security_enabled',
  revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at', is_default: 'is_default',
};
const SUBNET_COLS: Record<string, string> = {
  id: 'id', name: 'name', network_id: 'network_id', ip_version: 'ip_version', cidr: 'cidr', gateway_ip: 'gateway_ip',
  enable_dhcp: 'enable_dhcp', ipv6_ra_mode: 'ipv6_ra_mode', ipv6_address_mode: 'ipv6_address_mode', subnetpool_id: 'subnetpool_id',
  project_id: 'project_id', tenant_id: 'project_id', description: 'description', segment_id: 'segment_id',
  revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at',
};
const PORT_COLS: Record<string, string> = {
  id: 'id', name: 'name', network_id: 'network_id', mac_address: 'mac_address', admin_state_up: 'admin_state_up', status: 'status',
  device_id: 'device_id', device_owner: 'device_owner', project_id: 'project_id', tenant_id: 'project_id', description: 'description',
  'binding:host_id': 'binding_host_id', 'binding:vif_type': 'binding_vif_type', 'binding:vnic_type': 'binding_vnic_type',
  revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at', port_security_enabled: 'port_security_enabled',
};
const BOOL_COLS = new Set(['admin_state_up', 'shared', 'router_external', 'enable_dhcp', 'port_security_enabled', 'is_default', 'stateful', 'enable_snat']);

/** Applies simple column filters: attribute -> list of accepted values. */
export function applyFilters(qb: any, table: string, filters: Record<string, unknown[]>, cols: Record<string, string>): any {
  let q = qb;
  for (const [attr, values] of Object.entries(filters)) {
    const col = cols[attr];
    if (!col) continue;
    const vals = values.map((v) => (BOOL_COLS.has(col) ? i(v as boolean) : v));
    const nonNull = vals.filter((v) => v !== null);
    if (vals.some((v) => v === null)) {
      q = q.where((eb: any) => (nonNull.length ? eb.or([eb(`${table}.${col}`, 'is', null), eb(`${table}.${col}`, 'in', nonNull)]) : eb(`${table}.${col}`, 'is', null)));
    } else {
      q = q.where(`${table}.${col}`, 'in', vals);
    }
  }
  return q;
}

export class NeutronPlugin {
  readonly database: Database;
  readonly db: Kysely<any>;
  readonly cfg: NeutronConfig;
  readonly callbacks = new CallbackRegistry();
  /** Security-group service plugin hook: ensures a project's default group (set by securitygroups.ts). */
  ensureDefaultSecurityGroup: (ctx: RequestContext, projectId: string) => Promise<string | null> = async () => null;
  /** Quota engine hook (set by quotas.ts). */
  checkQuota: (trx: Transaction<any>, projectId: string, resource: string, delta?: number) => Promise<void> = async () => {};

  constructor(database: Database, cfg: Partial<NeutronConfig> = {}) {
    this.database = database;
    this.db = database.db as Kysely<any>;
    this.cfg = defaultConfig(cfg);
  }

  tx<T>(fn: (trx: Transaction<any>) => Promise<T>): Promise<T> {
    return retryOnConflict(() => this.database.transaction(async (trx) => {
      bindTransaction(trx as Transaction<any>, this.db);
      return fn(trx as Transaction<any>);
    }) as Promise<T>);
  }

  // ------------------------------------------------------------------ helpers

  projectOf(ctx: RequestContext, body: Body): string {
    const p = body['project_id'] ?? body['tenant_id'];
    if (isSet(p) && p !== undefined) {
      if (!ctx.isAdmin && p !== ctx.projectId) throw X.PolicyNotAuthorized('create:project_id');
      return p as string;
    }
    return ctx.projectId ?? '';
  }

  checkOwner(ctx: RequestContext, row: Dict, action: string): void {
    if (!ctx.isAdmin && row['project_id'] !== ctx.projectId) throw X.PolicyNotAuthorized(action);
  }

  async loadTags(resourceType: string, ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    if (ids.length === 1) {
      for (const r of await Q.tagsOfOne.rows(this.db, resourceType, ids[0])) out.set(r.resource_id, [...(out.get(r.resource_id) ?? []), r.tag]);
      return out;
    }
    for (let k = 0; k < ids.length; k += 500) {
      const rows = await this.db.selectFrom('tags').select(['resource_id', 'tag']).where('resource_type', '=', resourceType)
        .where('resource_id', 'in', ids.slice(k, k + 500)).execute();
      for (const r of rows) {
        const l = out.get(r.resource_id) ?? [];
        l.push(r.tag);
        out.set(r.resource_id, l);
      }
    }
    return out;
  }

  async liveAgents(host: string | null, agentType?: string): Promise<AgentInfo[]> {
    let rows: any[];
    if (host !== null && !agentType) {
      rows = await Q.agentsOnHost.rows(this.db, host);
    } else {
      let q = this.db.selectFrom('agents').selectAll();
      if (host !== null) q = q.where('host', '=', host);
      if (agentType) q = q.where('agent_type', '=', agentType);
      rows = await q.execute();
    }
    return rows.map((r: any) => ({
      host: r.host, agent_type: r.agent_type, admin_state_up: b(r.admin_state_up),
      alive: this.agentAlive(r.heartbeat_timestamp), configurations: fromJson(r.configurations, {}),
    }));
  }

  agentAlive(heartbeat: string): boolean {
    return Date.now() - new Date(heartbeat).getTime() <= this.cfg.agentDownTime * 1000;
  }

  // ------------------------------------------------------------------ networks

  private netVisibility(q: any, ctx: RequestContext): any {
    if (ctx.isAdmin) return q;
    const pid = ctx.projectId ?? '';
    return q.where((eb: any) => eb.or([
      eb('networks.project_id', '=', pid), eb('networks.shared', '=', 1), eb('networks.router_external', '=', 1),
      eb('networks.id', 'in', this.db.selectFrom('rbac_policies').select('object_id').where('object_type', '=', 'network').where('target_project', 'in', [pid, '*'])),
    ]));
  }

  async getNetworkRow(ctx: RequestContext, id: string, trx?: Transaction<any>): Promise<Dict> {
    const db = trx ?? this.db;
    const row = ctx.isAdmin ? await Q.networkById.first(db, id) : await Q.networkVisible.first(db, id, ctx.projectId ?? '');
    if (!row) throw X.NetworkNotFound(id);
    return row;
  }

  async networkDicts(rows: Dict[]): Promise<Dict[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const subnets = new Map<string, string[]>();
    const segs = new Map<string, Dict[]>();
    const azs = new Map<string, string[]>();
    for (let k = 0; k < ids.length; k += 500) {
      const chunk = ids.slice(k, k + 500);
      // one network (show, the DHCP agent's network info): the same queries, compiled once
      const one = chunk.length === 1 ? chunk[0] : undefined;
      const subnetRows = one !== undefined ? await Q.subnetIdsOfNetwork.rows(this.db, one)
        : await this.db.selectFrom('subnets').select(['id', 'network_id']).where('network_id', 'in', chunk).orderBy('created_at').execute();
      for (const s of subnetRows) {
        subnets.set(s.network_id, [...(subnets.get(s.network_id) ?? []), s.id]);
      }
      const segRows = one !== undefined ? await Q.segmentsOfNetworkIn.rows(this.db, one)
        : await this.db.selectFrom('networksegments').selectAll().where('network_id', 'in', chunk).orderBy('segment_index').execute();
      for (const s of segRows) {
        segs.set(s.network_id, [...(segs.get(s.network_id) ?? []), s]);
      }
      const bindings = one !== undefined ? await Q.dhcpZonesOfNetwork.rows(this.db, one)
        : await this.db.selectFrom('networkdhcpagentbindings').innerJoin('agents', 'agents.id', 'networkdhcpagentbindings.dhcp_agent_id')
          .select(['networkdhcpagentbindings.network_id as network_id', 'agents.availability_zone as az']).where('network_id', 'in', chunk).execute();
      for (const r of bindings) if (r.az) azs.set(r.network_id, [...new Set([...(azs.get(r.network_id) ?? []), r.az])]);
    }
    const tags = await this.loadTags('networks', ids);
    return rows.map((r) => {
      const seg = segs.get(r.id)?.[0];
      return {
        id: r.id, name: r.name, tenant_id: r.project_id ?? '', project_id: r.project_id ?? '',
        admin_state_up: b(r.admin_state_up), mtu: Number(r.mtu), status: r.status,
        subnets: subnets.get(r.id) ?? [], shared: b(r.shared),
        availability_zone_hints: fromJson(r.availability_zone_hints, []), availability_zones: azs.get(r.id) ?? [],
        ipv4_address_scope: null, ipv6_address_scope: null, 'router:external': b(r.router_external),
        description: r.description, port_security_enabled: b(r.port_security_enabled), is_default: b(r.is_default),
        l2_adjacency: true, tags: tags.get(r.id) ?? [],
        created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
        'provider:network_type': seg?.network_type ?? null,
        'provider:physical_network': seg?.physical_network ? seg.physical_network : null,
        'provider:segmentation_id': seg && ['vlan', 'vxlan', 'gre', 'geneve'].includes(seg.network_type) ? Number(seg.segmentation_id) : null,
      };
    });
  }

  async getNetwork(ctx: RequestContext, id: string): Promise<Dict> {
    return (await this.networkDicts([await this.getNetworkRow(ctx, id)]))[0]!;
  }

  async listNetworks(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.netVisibility(this.db.selectFrom('networks').selectAll('networks'), ctx);
    q = applyFilters(q, 'networks', opts.filters, NETWORK_COLS);
    q = applyTagFilters(q, this.db, 'networks', 'networks.id', opts.tagFilters);
    for (const [attr, col] of [['provider:network_type', 'network_type'], ['provider:physical_network', 'physical_network'], ['provider:segmentation_id', 'segmentation_id']] as const) {
      const vals = opts.filters[attr];
      if (vals) q = q.where('networks.id', 'in', this.db.selectFrom('networksegments').select('network_id').where(col, 'in', vals as any[]));
    }
    const { rows, more } = await paginate(this.db, 'networks', q, opts, (k) => NETWORK_COLS[k] ?? null);
    return { items: await this.networkDicts(rows), more };
  }

  async createNetwork(ctx: RequestContext, body: Body): Promise<Dict> {
    const projectId = this.projectOf(ctx, body);
    const provider = {
      network_type: isSet(body['provider:network_type']) ? body['provider:network_type'] : undefined,
      physical_network: isSet(body['provider:physical_network']) ? body['provider:physical_network'] : undefined,
      segmentation_id: isSet(body['provider:segmentation_id']) ? body['provider:segmentation_id'] : undefined,
    };
    if (provider.network_type === undefined && (provider.physical_network !== undefined || provider.segmentation_id !== undefined)) {
      throw X.InvalidInput('network_type required');
    }
    const id = uuid();
    const ts = now();
    await this.tx(async (trx) => {
      await this.checkQuota(trx, projectId, 'network');
      const seg = provider.network_type !== undefined
        ? await reserveProviderSegment(trx, this.cfg, provider)
        : await allocateProjectSegment(trx, this.cfg);
      const maxMtu = segmentMtu(this.cfg, seg);
      let mtu = maxMtu;
      if (isSet(body['mtu']) && body['mtu'] !== null) {
        if (body['mtu'] > maxMtu) throw X.InvalidInput(`Requested MTU is too big, maximum is ${maxMtu}`);
        if (body['mtu'] < 68) throw X.InvalidInput(`Requested MTU is too small, minimum is 68`);
        mtu = body['mtu'];
      }
      await trx.insertInto('networks').values({
        id, project_id: projectId, name: body['name'] ?? '', status: C.NET_STATUS_ACTIVE,
        admin_state_up: i(body['admin_state_up'] ?? true), shared: i(body['shared']), router_external: i(body['router:external']),
        is_default: i(body['is_default']), mtu, port_security_enabled: i(body['port_security_enabled'] ?? true),
        availability_zone_hints: toJson(body['availability_zone_hints'] ?? []),
        description: body['description'] ?? '', revision_number: 1, created_at: ts, updated_at: ts,
      }).execute();
      try {
        await trx.insertInto('networksegments').values({
          id: uuid(), network_id: id, network_type: seg.network_type, physical_network: seg.physical_network ?? '',
          segmentation_id: seg.segmentation_id ?? 0, segment_index: 0, is_dynamic: 0,
        }).execute();
      } catch (e) {
        if (isDuplicateKey(e)) throw X.InvalidInput('segment in use');
        throw e;
      }
      if (body['shared']) await this.addRbac(trx, projectId, 'network', id, '*', 'access_as_shared');
      if (body['router:external']) await this.addRbac(trx, projectId, 'network', id, '*', 'access_as_external');
    });
    if (projectId) await this.ensureDefaultSecurityGroup(ctx, projectId);
    const net = await this.getNetwork(ctx.elevated(), id);
    await this.callbacks.publish(ctx, 'network.after_create', { resource: net });
    return net;
  }

  async addRbac(trx: Transaction<any>, projectId: string, type: string, objectId: string, target: string, action: string): Promise<string> {
    const id = uuid();
    await trx.insertInto('rbac_policies').values({ id, project_id: projectId, object_type: type, object_id: objectId, target_project: target, action }).execute();
    return id;
  }

  async updateNetwork(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getNetworkRow(ctx, id);
    this.checkOwner(ctx, row, 'update_network');
    const original = (await this.networkDicts([row]))[0]!;
    for (const k of ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id']) {
      if (isSet(body[k]) && body[k] !== original[k]) throw X.InvalidInput('Plugin does not support updating provider attributes');
    }
    await this.tx(async (trx) => {
      const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
      if (isSet(body['name'])) upd['name'] = body['name'];
      if (isSet(body['description'])) upd['description'] = body['description'];
      if (isSet(body['admin_state_up'])) upd['admin_state_up'] = i(body['admin_state_up']);
      if (isSet(body['port_security_enabled'])) upd['port_security_enabled'] = i(body['port_security_enabled']);
      if (isSet(body['is_default'])) upd['is_default'] = i(body['is_default']);
      if (isSet(body['mtu']) && body['mtu'] !== null) {
        const seg = await trx.selectFrom('networksegments').selectAll().where('network_id', '=', id).executeTakeFirst();
        const maxMtu = seg ? segmentMtu(this.cfg, { network_type: seg.network_type, physical_network: seg.physical_network, segmentation_id: seg.segmentation_id }) : this.cfg.globalPhysnetMtu;
        if (body['mtu'] > maxMtu) throw X.InvalidInput(`Requested MTU is too big, maximum is ${maxMtu}`);
        upd['mtu'] = body['mtu'];
      }
      if (isSet(body['shared']) && !!body['shared'] !== b(row.shared)) {
        upd['shared'] = i(body['shared']);
        if (body['shared']) {
          await this.addRbac(trx, row.project_id, 'network', id, '*', 'access_as_shared');
        } else {
          const foreign = await trx.selectFrom('ports').select('id').where('network_id', '=', id)
            .where('project_id', '!=', row.project_id).where('device_owner', 'not in', [C.DEVICE_OWNER_DHCP, C.DEVICE_OWNER_ROUTER_GW, C.DEVICE_OWNER_FLOATINGIP])
            .executeTakeFirst();
          if (foreign) throw X.InvalidSharedSetting(id);
          await trx.deleteFrom('rbac_policies').where('object_id', '=', id).where('action', '=', 'access_as_shared').where('target_project', '=', '*').execute();
        }
      }
      if (isSet(body['router:external']) && !!body['router:external'] !== b(row.router_external)) {
        upd['router_external'] = i(body['router:external']);
        if (body['router:external']) {
          await this.addRbac(trx, row.project_id, 'network', id, '*', 'access_as_external');
        } else {
          const gw = await trx.selectFrom('ports').select('id').where('network_id', '=', id).where('device_owner', '=', C.DEVICE_OWNER_ROUTER_GW).executeTakeFirst();
          if (gw) throw X.ExternalNetworkInUse(id);
          await trx.deleteFrom('rbac_policies').where('object_id', '=', id).where('action', '=', 'access_as_external').execute();
        }
      }
      await trx.updateTable('networks').set(upd).where('id', '=', id).execute();
    });
    const net = await this.getNetwork(ctx.elevated(), id);
    await this.callbacks.publish(ctx, 'network.after_update', { resource: net, original });
    return net;
  }

  async deleteNetwork(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getNetworkRow(ctx, id);
    this.checkOwner(ctx, row, 'delete_network');
    const original = (await this.networkDicts([row]))[0]!;
    const autoDeleted: Dict[] = [];
    await this.tx(async (trx) => {
      const ports = await trx.selectFrom('ports').selectAll().where('network_id', '=', id).execute();
      const blocking = ports.filter((p: any) => !C.AUTO_DELETE_PORT_OWNERS.includes(p.device_owner));
      if (blocking.length) throw X.NetworkInUse(id);
      for (const p of ports) {
        autoDeleted.push(p);
        await this.deletePortRows(trx, p.id);
      }
      const subnetIds = (await trx.selectFrom('subnets').select('id').where('network_id', '=', id).execute()).map((s: any) => s.id);
      await trx.deleteFrom('ipallocations').where('network_id', '=', id).execute();
      await trx.deleteFrom('subnets').where('network_id', '=', id).execute();
      if (subnetIds.length) await trx.deleteFrom('tags').where('resource_type', '=', 'subnets').where('resource_id', 'in', subnetIds).execute();
      await trx.deleteFrom('networksegments').where('network_id', '=', id).execute();
      await trx.deleteFrom('rbac_policies').where('object_type', '=', 'network').where('object_id', '=', id).execute();
      await trx.deleteFrom('networkdhcpagentbindings').where('network_id', '=', id).execute();
      await trx.deleteFrom('tags').where('resource_type', '=', 'networks').where('resource_id', '=', id).execute();
      await trx.deleteFrom('networks').where('id', '=', id).execute();
    });
    for (const p of autoDeleted) await this.callbacks.publish(ctx, 'port.after_delete', { resource: (await this.portDicts([p]))[0]! });
    await this.callbacks.publish(ctx, 'network.after_delete', { resource: original });
  }

  async segmentsOf(networkId: string, trx?: Transaction<any>): Promise<StoredSegment[]> {
    const rows = await Q.segmentsOfNetwork.rows(trx ?? this.db, networkId);
    return rows.map((s: any) => ({ id: s.id, network_type: s.network_type, physical_network: s.physical_network || null, segmentation_id: s.segmentation_id }));
  }

  // ------------------------------------------------------------------ subnets

  private subnetVisibility(q: any, ctx: RequestContext): any {
    if (ctx.isAdmin) return q;
    const pid = ctx.projectId ?? '';
    // subnets of shared networks (or networks shared with the project) are visible; those of
    // merely external networks are not (no subnet-external-network extension)
    return q.where((eb: any) => eb.or([
      eb('subnets.project_id', '=', pid),
      eb('subnets.network_id', 'in', this.db.selectFrom('networks').select('id').where((e2: any) => e2.or([e2('project_id', '=', pid), e2('shared', '=', 1)]))),
      eb('subnets.network_id', 'in', this.db.selectFrom('rbac_policies').select('object_id').where('object_type', '=', 'network')
        .where('action', '=', 'access_as_shared').where('target_project', 'in', [pid, '*'])),
    ]));
  }

  subnetDict(r: Dict, tags: string[] = []): Dict {
    return {
      id: r.id, name: r.name, tenant_id: r.project_id ?? '', project_id: r.project_id ?? '', network_id: r.network_id,
      ip_version: Number(r.ip_version), subnetpool_id: r.subnetpool_id ?? null, enable_dhcp: b(r.enable_dhcp),
      ipv6_ra_mode: r.ipv6_ra_mode ?? null, ipv6_address_mode: r.ipv6_address_mode ?? null, gateway_ip: r.gateway_ip ?? null,
      cidr: r.cidr, allocation_pools: fromJson(r.allocation_pools, []), host_routes: fromJson(r.host_routes, []),
      dns_nameservers: fromJson(r.dns_nameservers, []), description: r.description, service_types: fromJson(r.service_types, []),
      segment_id: r.segment_id ?? null, dns_publish_fixed_ip: false, tags,
      created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
    };
  }

  async getSubnetRow(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.subnetVisibility(this.db.selectFrom('subnets').selectAll().where('id', '=', id), ctx).executeTakeFirst();
    if (!row) throw X.SubnetNotFound(id);
    return row;
  }

  async getSubnet(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.getSubnetRow(ctx, id);
    return this.subnetDict(row, (await this.loadTags('subnets', [id])).get(id));
  }

  async listSubnets(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.subnetVisibility(this.db.selectFrom('subnets').selectAll('subnets'), ctx);
    q = applyFilters(q, 'subnets', opts.filters, SUBNET_COLS);
    q = applyTagFilters(q, this.db, 'subnets', 'subnets.id', opts.tagFilters);
    const { rows, more } = await paginate(this.db, 'subnets', q, opts, (k) => SUBNET_COLS[k] ?? null);
    const tags = await this.loadTags('subnets', rows.map((r) => r.id));
    return { items: rows.map((r) => this.subnetDict(r, tags.get(r.id))), more };
  }

  /** Subnet pool hook (subnetpools.ts): allocates a CIDR when the client asked a pool for one. */
  allocateFromSubnetPool: (trx: Transaction<any>, ctx: RequestContext, body: Body, network: Dict) => Promise<{ cidr: string; subnetpool_id: string } | null> =
    async () => null;

  private validateIpVersion(version: number, addr: string, name: string): void {
    const ip = parseIp(addr.split('/')[0]) ;
    if (ip && ip.version !== version) throw X.InvalidInput(`${name} '${addr}' does not match the ip_version '${version}'`);
  }

  private validateSubnetCommon(s: Body, version: number, cidrText: string | null, subnetId: string, cur?: Dict): void {
    const cidr = cidrText ? parseCidr(cidrText) : null;
    if (isSet(s['gateway_ip']) && s['gateway_ip']) {
      this.validateIpVersion(version, s['gateway_ip'], 'gateway_ip');
      if (cidr) {
        const g = parseIp(s['gateway_ip'])!;
        const inNet = g.value >= cidrFirst(cidr) && g.value <= cidrLast(cidr);
        const invalid = inNet && (g.value === cidrFirst(cidr) && version === 4 || (version === 4 && g.value === cidrLast(cidr) && cidr.prefixlen < 31));
        if (invalid) throw X.InvalidInput('Gateway is not valid on subnet');
      }
    }
    if (isSet(s['dns_nameservers'])) {
      if (s['dns_nameservers'].length > this.cfg.maxDnsNameservers) throw X.DNSNameServersExhausted(subnetId, this.cfg.maxDnsNameservers);
      for (const d of s['dns_nameservers']) this.validateIpVersion(version, d, 'dns_nameserver');
    }
    if (isSet(s['host_routes'])) {
      if (s['host_routes'].length > this.cfg.maxSubnetHostRoutes) throw X.HostRoutesExhausted(subnetId, this.cfg.maxSubnetHostRoutes);
      for (const r of s['host_routes']) {
        const d = parseCidr(r.destination);
        const n = parseIp(r.nexthop);
        if (!d || !n || d.version !== version || n.version !== version) throw X.InvalidInput(`Invalid route: ${JSON.stringify(r)}`);
      }
    }
    if (version === 4) {
      if (isSet(s['ipv6_ra_mode']) && s['ipv6_ra_mode'] !== null) throw X.InvalidInput('ipv6_ra_mode is not valid when ip_version is 4');
      if (isSet(s['ipv6_address_mode']) && s['ipv6_address_mode'] !== null) throw X.InvalidInput('ipv6_address_mode is not valid when ip_version is 4');
    } else if (!cur) {
      const ra = isSet(s['ipv6_ra_mode']) ? s['ipv6_ra_mode'] : null;
      const am = isSet(s['ipv6_address_mode']) ? s['ipv6_address_mode'] : null;
      if ((ra || am) && s['enable_dhcp'] === false) throw X.InvalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
      if (ra && am && ra !== am) {
        throw X.InvalidInput(`ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${am}' is not valid. If both attributes are set, they must be the same value`);
      }
      if (cidr && isAutoAddressSubnet({ ip_version: 6, ipv6_address_mode: am }) && cidr.prefixlen !== 64) {
        throw X.InvalidInput(`Invalid CIDR ${cidrText} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
      }
    } else if (s['enable_dhcp'] === false && (cur['ipv6_ra_mode'] || cur['ipv6_address_mode'])) {
      throw X.InvalidInput('Cannot disable enable_dhcp with ipv6 attributes set');
    }
  }

  async createSubnet(ctx: RequestContext, body: Body): Promise<Dict> {
    const network = await this.getNetworkRow(ctx, body['network_id']);
    if (!ctx.isAdmin && network.project_id !== ctx.projectId) throw X.PolicyNotAuthorized('create_subnet');
    const projectId = this.projectOf(ctx, body);
    const version: number = body['ip_version'];
    const id = uuid();
    const ts = now();
    const touched: string[] = [];
    await this.tx(async (trx) => {
      touched.length = 0;
      await this.checkQuota(trx, projectId, 'subnet');
      let cidrText: string | null = isSet(body['cidr']) ? body['cidr'] : null;
      let subnetpoolId: string | null = null;
      const wantsPool = (isSet(body['subnetpool_id']) && body['subnetpool_id'] !== null) || body['use_default_subnetpool'];
      if (isSet(body['subnetpool_id']) && body['use_default_subnetpool']) {
        throw X.BadRequest('subnets', 'subnetpool_id and use_default_subnetpool cannot both be specified');
      }
      if (wantsPool) {
        if (cidrText && isSet(body['prefixlen'])) throw X.BadRequest('subnets', 'cidr and prefixlen must not be supplied together');
        const got = await this.allocateFromSubnetPool(trx, ctx, body, network);
        if (got) { cidrText = got.cidr; subnetpoolId = got.subnetpool_id; }
      }
      if (!cidrText) throw X.BadRequest('subnets', 'a subnetpool must be specified in the absence of a cidr');
      this.validateIpVersion(version, cidrText, 'cidr');
      const cidr = parseCidr(cidrText)!;
      const normalized = `${formatIp(cidr.version, cidr.network)}/${cidr.prefixlen}`;
      if (version === 6 && cidr.network === 0n) throw X.InvalidInput("IPv6 subnet '::' is not supported");
      const enableDhcp = body['enable_dhcp'] ?? true;
      if (enableDhcp && ((version === 4 && cidr.prefixlen > 30) || (version === 6 && cidr.prefixlen > 126))) {
        throw X.InvalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
      }
      if (enableDhcp && version === 4 && cidr.network === 0n) throw X.InvalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.");
      this.validateSubnetCommon(body, version, normalized, 'new subnet');
      // overlapping subnets on one network (allow_overlapping_ips=True: only within the network)
      const existing = await trx.selectFrom('subnets').select(['id', 'cidr', 'subnetpool_id']).where('network_id', '=', network.id).execute();
      for (const s of existing) {
        if (cidrsOverlap(cidr, parseCidr(s.cidr)!)) {
          throw X.InvalidInput(`Requested subnet with cidr: ${normalized} for network: ${network.id} overlaps with another subnet`);
        }
      }
      const sameFamily = existing.filter((s: any) => parseCidr(s.cidr)!.version === version);
      if (sameFamily.length && sameFamily.some((s: any) => (s.subnetpool_id ?? null) !== subnetpoolId)) throw X.NetworkSubnetPoolAffinityError();
      let gateway: string | null;
      if (!isSet(body['gateway_ip'])) gateway = formatIp(cidr.version, cidr.network + 1n);
      else gateway = body['gateway_ip'] === null ? null : formatIp(cidr.version, parseIp(body['gateway_ip'])!.value);
      let pools: Array<{ start: string; end: string }>;
      if (isSet(body['allocation_pools']) && body['allocation_pools'] !== null) {
        validateAllocationPools(cidr, body['allocation_pools'], gateway);
        pools = body['allocation_pools'].map((p: any) => ({ start: formatIp(cidr.version, parseIp(p.start)!.value), end: formatIp(cidr.version, parseIp(p.end)!.value) }));
      } else {
        const g = gateway ? parseIp(gateway)!.value : null;
        pools = generatePools(cidr, g).map((r) => ({ start: formatIp(cidr.version, r.first), end: formatIp(cidr.version, r.last) }));
      }
      await trx.insertInto('subnets').values({
        id, project_id: projectId, network_id: network.id, name: body['name'] ?? '', ip_version: version, cidr: normalized,
        gateway_ip: gateway, enable_dhcp: i(enableDhcp),
        ipv6_ra_mode: isSet(body['ipv6_ra_mode']) ? body['ipv6_ra_mode'] : null,
        ipv6_address_mode: isSet(body['ipv6_address_mode']) ? body['ipv6_address_mode'] : null,
        subnetpool_id: subnetpoolId, segment_id: isSet(body['segment_id']) ? body['segment_id'] : null,
        allocation_pools: toJson(pools), dns_nameservers: toJson(isSet(body['dns_nameservers']) ? body['dns_nameservers'] : []),
        host_routes: toJson(isSet(body['host_routes']) ? body['host_routes'] : []), service_types: toJson(body['service_types'] ?? []),
        description: body['description'] ?? '', revision_number: 1, created_at: ts, updated_at: ts,
      }).execute();
      await trx.updateTable('networks').set({ revision_number: Number(network.revision_number) + 1, updated_at: ts }).where('id', '=', network.id).execute();
      // a new SLAAC / DHCPv6-stateless subnet gives every existing port (but router ports) its EUI-64 address
      if (isAutoAddressSubnet({ ip_version: version, ipv6_address_mode: isSet(body['ipv6_address_mode']) ? body['ipv6_address_mode'] : null })) {
        const ports = await trx.selectFrom('ports').select(['id', 'mac_address', 'device_owner']).where('network_id', '=', network.id).execute();
        for (const p of ports) {
          if (C.ROUTER_INTERFACE_OWNERS.includes(p.device_owner)) continue;
          const ip = formatIp(6, eui64(cidr, p.mac_address));
          await trx.insertInto('ipallocations').values({ port_id: p.id, ip_address: ip, subnet_id: id, network_id: network.id }).execute();
          await this.rewritePortFixedIps(trx, p.id);
          touched.push(p.id);
        }
      }
    });
    const subnet = await this.getSubnet(ctx.elevated(), id);
    await this.callbacks.publish(ctx, 'subnet.after_create', { resource: subnet });
    for (const portId of touched) {
      const port = await this.getPort(ctx.elevated(), portId);
      await this.callbacks.publish(ctx, 'port.after_update', { resource: port, original: { ...port, fixed_ips: port['fixed_ips'].filter((f: Dict) => f['subnet_id'] !== id) } });
    }
    return subnet;
  }

  async updateSubnet(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getSubnetRow(ctx, id);
    this.checkOwner(ctx, row, 'update_subnet');
    const original = this.subnetDict(row);
    const version = Number(row.ip_version);
    const cidr = parseCidr(row.cidr)!;
    this.validateSubnetCommon(body, version, row.cidr, id, row);
    await this.tx(async (trx) => {
      const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
      for (const k of ['name', 'description']) if (isSet(body[k])) upd[k] = body[k];
      if (isSet(body['enable_dhcp'])) upd['enable_dhcp'] = i(body['enable_dhcp']);
      if (isSet(body['dns_nameservers'])) upd['dns_nameservers'] = toJson(body['dns_nameservers']);
      if (isSet(body['host_routes'])) upd['host_routes'] = toJson(body['host_routes']);
      if (isSet(body['service_types'])) upd['service_types'] = toJson(body['service_types']);
      if (isSet(body['segment_id'])) upd['segment_id'] = body['segment_id'];
      let gateway: string | null = row.gateway_ip ?? null;
      if (isSet(body['gateway_ip'])) {
        gateway = body['gateway_ip'] === null ? null : formatIp(cidr.version, parseIp(body['gateway_ip'])!.value);
        if (gateway !== row.gateway_ip && row.gateway_ip) {
          const alloc = await trx.selectFrom('ipallocations').innerJoin('ports', 'ports.id', 'ipallocations.port_id').select('ports.id as port_id')
            .where('ipallocations.subnet_id', '=', id).where('ipallocations.ip_address', '=', row.gateway_ip)
            .where('ports.device_owner', 'in', C.ROUTER_INTERFACE_OWNERS).executeTakeFirst();
          if (alloc) throw X.GatewayIpInUse(row.gateway_ip, alloc.port_id);
        }
        upd['gateway_ip'] = gateway;
      }
      let pools = fromJson<Array<{ start: string; end: string }>>(row.allocation_pools, []);
      if (isSet(body['allocation_pools']) && body['allocation_pools'] !== null) {
        validateAllocationPools(cidr, body['allocation_pools'], gateway);
        pools = body['allocation_pools'].map((p: any) => ({ start: formatIp(cidr.version, parseIp(p.start)!.value), end: formatIp(cidr.version, parseIp(p.end)!.value) }));
        upd['allocation_pools'] = toJson(pools);
      } else if (gateway && isSet(body['gateway_ip'])) {
        validateAllocationPools(cidr, pools, gateway);
      }
      await trx.updateTable('subnets').set(upd).where('id', '=', id).execute();
    });
    const subnet = await this.getSubnet(ctx.elevated(), id);
    await this.callbacks.publish(ctx, 'subnet.after_update', { resource: subnet, original });
    return subnet;
  }

  async deleteSubnet(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getSubnetRow(ctx, id);
    this.checkOwner(ctx, row, 'delete_subnet');
    const original = this.subnetDict(row);
    const touched: string[] = [];
    await this.tx(async (trx) => {
      const allocs = await trx.selectFrom('ipallocations').innerJoin('ports', 'ports.id', 'ipallocations.port_id')
        .select(['ports.id as port_id', 'ports.device_owner as device_owner']).where('ipallocations.subnet_id', '=', id).execute();
      const auto = isAutoAddressSubnet({ ip_version: Number(row.ip_version), ipv6_address_mode: row.ipv6_address_mode });
      for (const a of allocs) {
        const removable = a.device_owner === C.DEVICE_OWNER_DHCP || (auto && !C.ROUTER_INTERFACE_OWNERS.includes(a.device_owner));
        if (!removable) throw X.SubnetInUse(id);
      }
      for (const a of allocs) {
        await releaseIps(trx, a.port_id, id);
        await this.rewritePortFixedIps(trx, a.port_id);
        touched.push(a.port_id);
      }
      await trx.deleteFrom('tags').where('resource_type', '=', 'subnets').where('resource_id', '=', id).execute();
      await trx.deleteFrom('subnets').where('id', '=', id).execute();
      await trx.updateTable('networks').set({ updated_at: now() }).where('id', '=', row.network_id).execute();
    });
    await this.callbacks.publish(ctx, 'subnet.after_delete', { resource: original });
  }

  /** Rebuilds a port's denormalised fixed_ips from ipallocations. */
  async rewritePortFixedIps(trx: Transaction<any>, portId: string): Promise<FixedIp[]> {
    const rows = await trx.selectFrom('ipallocations').select(['subnet_id', 'ip_address']).where('port_id', '=', portId).execute();
    const port = await trx.selectFrom('ports').select('fixed_ips').where('id', '=', portId).executeTakeFirst();
    const prev = fromJson<FixedIp[]>(port?.fixed_ips, []);
    // keep the order the port had
    const ips = [...prev.filter((p) => rows.some((r: any) => r.ip_address === p.ip_address && r.subnet_id === p.subnet_id)),
      ...rows.filter((r: any) => !prev.some((p) => r.ip_address === p.ip_address && r.subnet_id === p.subnet_id)).map((r: any) => ({ subnet_id: r.subnet_id, ip_address: r.ip_address }))];
    await trx.updateTable('ports').set({ fixed_ips: toJson(ips), updated_at: now() }).where('id', '=', portId).execute();
    return ips;
  }

  async subnetsForIpam(trx: Transaction<any>, networkId: string): Promise<SubnetForIpam[]> {
    const rows = await Q.subnetsOfNetwork.rows(trx, networkId);
    return rows.map((r: any) => ({
      id: r.id, network_id: r.network_id, cidr: r.cidr, ip_version: Number(r.ip_version), gateway_ip: r.gateway_ip,
      ipv6_address_mode: r.ipv6_address_mode, allocation_pools: fromJson(r.allocation_pools, []),
    }));
  }

  // ------------------------------------------------------------------ ports

  private portVisibility(q: any, ctx: RequestContext): any {
    if (ctx.isAdmin) return q;
    const pid = ctx.projectId ?? '';
    return q.where((eb: any) => eb.or([
      eb('ports.project_id', '=', pid),
      eb('ports.network_id', 'in', this.db.selectFrom('networks').select('id').where('project_id', '=', pid)),
    ]));
  }

  async portDicts(rows: Dict[], withTags = true): Promise<Dict[]> {
    const tags = withTags ? await this.loadTags('ports', rows.map((r) => r.id)) : new Map<string, string[]>();
    return rows.map((r) => ({
      id: r.id, name: r.name, network_id: r.network_id, tenant_id: r.project_id ?? '', project_id: r.project_id ?? '',
      mac_address: r.mac_address, admin_state_up: b(r.admin_state_up), status: r.status, device_id: r.device_id,
      device_owner: r.device_owner, fixed_ips: fromJson(r.fixed_ips, []), allowed_address_pairs: fromJson(r.allowed_address_pairs, []),
      security_groups: fromJson(r.security_groups, []), port_security_enabled: b(r.port_security_enabled),
      description: r.description, 'binding:host_id': r.binding_host_id, 'binding:vif_type': r.binding_vif_type,
      'binding:vif_details': fromJson(r.binding_vif_details, {}), 'binding:vnic_type': r.binding_vnic_type,
      'binding:profile': fromJson(r.binding_profile, {}), ip_allocation: 'immediate', tags: tags.get(r.id) ?? [],
      created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
    }));
  }

  async getPortRow(ctx: RequestContext, id: string, trx?: Transaction<any>): Promise<Dict> {
    const db = trx ?? this.db;
    // the portVisibility filter, as a query compiled once
    const row = ctx.isAdmin ? await Q.portById.first(db, id) : await Q.portVisible.first(db, id, ctx.projectId ?? '');
    if (!row) throw X.PortNotFound(id);
    return row;
  }

  async getPort(ctx: RequestContext, id: string): Promise<Dict> {
    return (await this.portDicts([await this.getPortRow(ctx, id)]))[0]!;
  }

  async listPorts(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.portVisibility(this.db.selectFrom('ports').selectAll('ports'), ctx);
    q = applyFilters(q, 'ports', opts.filters, PORT_COLS);
    q = applyTagFilters(q, this.db, 'ports', 'ports.id', opts.tagFilters);
    const fixed = opts.filters['fixed_ips'] as Dict[] | undefined;
    for (const f of fixed ?? []) {
      let sub = this.db.selectFrom('ipallocations').select('port_id');
      if (f['ip_address']) sub = sub.where('ip_address', '=', normalizeIpOr(f['ip_address']));
      if (f['subnet_id']) sub = sub.where('subnet_id', '=', f['subnet_id']);
      if (f['ip_address_substr']) sub = sub.where('ip_address', 'like', `%${f['ip_address_substr']}%`);
      q = q.where('ports.id', 'in', sub);
    }
    const sgs = opts.filters['security_groups'] as string[] | undefined;
    if (sgs?.length) q = q.where('ports.id', 'in', this.db.selectFrom('securitygroupportbindings').select('port_id').where('security_group_id', 'in', sgs));
    const { rows, more } = await paginate(this.db, 'ports', q, opts, (k) => PORT_COLS[k] ?? null);
    return { items: await this.portDicts(rows), more };
  }

  /** Validates requested security groups (visible to the caller) and port-security rules. */
  private async resolveSecurityGroups(ctx: RequestContext, trx: Transaction<any>, projectId: string, requested: unknown,
    portSecurity: boolean, deviceOwner: string, hasIps: boolean, knownDefault?: string | null): Promise<string[]> {
    if (isSet(requested)) {
      const ids = [...new Set(requested as string[])];
      if (ids.length && (!portSecurity)) throw X.PortSecurityAndIPRequiredForSecurityGroups();
      if (ids.length) {
        let rows: Array<{ id: string }>;
        if (ids.length === 1) {
          rows = ctx.isAdmin ? await Q.sgExists.rows(trx, ids[0]) : await Q.sgExistsInProject.rows(trx, ids[0], ctx.projectId ?? '');
        } else {
          let q = trx.selectFrom('securitygroups').select('id').where('id', 'in', ids);
          if (!ctx.isAdmin) q = q.where('project_id', '=', ctx.projectId ?? '');
          rows = await q.execute();
        }
        const found = new Set(rows.map((r) => r.id));
        for (const id of ids) if (!found.has(id)) throw X.SecurityGroupNotFound(id);
      }
      return ids;
    }
    if (!portSecurity || deviceOwner.startsWith(C.DEVICE_OWNER_NETWORK_PREFIX) || !hasIps) return [];
    // the default group was made before the transaction (its own transaction would block on SQLite);
    // the caller that made sure of it already knows its id (a default group is never swapped for another)
    if (knownDefault) return [knownDefault];
    const sg = projectId ? await Q.defaultSecurityGroup.first(trx, projectId) : undefined;
    return sg ? [sg.security_group_id] : [];
  }

  async bindingFor(networkId: string, host: string, vnicType: string): Promise<{ vif_type: string; vif_details: Dict; segment_id: string | null }> {
    if (!host) return { vif_type: C.VIF_TYPE_UNBOUND, vif_details: {}, segment_id: null };
    return bindPort(networkId, vnicType, await this.liveAgents(host), await this.segmentsOf(networkId));
  }

  async createPort(ctx: RequestContext, body: Body): Promise<Dict> {
    const network = await this.getNetworkRow(ctx, body['network_id']);
    const owner = network.project_id === ctx.projectId;
    if (!ctx.isAdmin && !owner && !b(network.shared)) {
      const rbac = await this.db.selectFrom('rbac_policies').select('id').where('object_id', '=', network.id)
        .where('action', '=', 'access_as_shared').where('target_project', 'in', [ctx.projectId ?? '', '*']).executeTakeFirst();
      if (!rbac) throw X.PolicyNotAuthorized('create_port');
    }
    const projectId = this.projectOf(ctx, body);
    const id = uuid();
    const ts = now();
    const deviceOwner: string = body['device_owner'] ?? '';
    const portSecurity: boolean = isSet(body['port_security_enabled']) ? body['port_security_enabled'] : b(network.port_security_enabled);
    const host: string = isSet(body['binding:host_id']) ? body['binding:host_id'] : '';
    const vnic: string = body['binding:vnic_type'] ?? C.VNIC_NORMAL;
    const pairs = isSet(body['allowed_address_pairs']) ? normalizePairs(body['allowed_address_pairs']) : [];
    if (pairs.length && !portSecurity) throw X.AddressPairAndPortSecurityRequired();
    if (isSet(body['fixed_ips']) && !ctx.isAdmin && !owner && body['fixed_ips'].some((f: Dict) => f['ip_address'])) {
      throw X.PolicyNotAuthorized('create_port:fixed_ips:ip_address');
    }
    const binding = await this.bindingFor(network.id, host, vnic);
    let defaultSg: string | null = null;
    if (!isSet(body['security_groups']) && portSecurity && !deviceOwner.startsWith(C.DEVICE_OWNER_NETWORK_PREFIX) && projectId) {
      defaultSg = await this.ensureDefaultSecurityGroup(ctx, projectId);
    }
    const { sgs: sgIds, row } = await this.tx(async (trx) => {
      await this.checkQuota(trx, projectId, 'port');
      const mac = isSet(body['mac_address']) ? normalizeMac(body['mac_address'])! : randomMac(this.cfg.baseMac.slice(0, 8));
      const sgs = await this.resolveSecurityGroups(ctx, trx, projectId, body['security_groups'], portSecurity, deviceOwner, true, defaultSg);
      // addresses first (ipallocations decides races), then the port row with them
      const ips = await allocateIps(trx, {
        networkId: network.id, portId: id, mac, deviceOwner, subnets: await this.subnetsForIpam(trx, network.id),
        ...(isSet(body['fixed_ips']) ? { requested: body['fixed_ips'] } : {}),
      });
      const values = {
        id, project_id: projectId, network_id: network.id, name: body['name'] ?? '', mac_address: mac,
        admin_state_up: i(body['admin_state_up'] ?? true), status: C.PORT_STATUS_DOWN, device_id: body['device_id'] ?? '',
        device_owner: deviceOwner, fixed_ips: toJson(ips), security_groups: toJson(sgs), allowed_address_pairs: toJson(pairs),
        port_security_enabled: i(portSecurity), binding_host_id: host, binding_vif_type: binding.vif_type,
        binding_vif_details: toJson(binding.vif_details), binding_vnic_type: vnic,
        binding_profile: toJson(isSet(body['binding:profile']) ? body['binding:profile'] ?? {} : {}), binding_segment_id: binding.segment_id,
        description: body['description'] ?? '', revision_number: 1, created_at: ts, updated_at: ts,
      };
      try {
        await insertPort.execute(trx, ...PORT_INSERT_COLUMNS.map((c) => values[c]));
      } catch (e) {
        if (isDuplicateKey(e) && isSet(body['mac_address'])) throw X.MacAddressInUse(network.id, mac);
        // a generated MAC collided: start over with another one (mac_generation_retries)
        if (isDuplicateKey(e)) throw new RetryRequest('mac collision');
        throw e;
      }
      for (const sg of sgs) await Q.insertSgBinding.execute(trx, id, sg);
      if (this.isBound(binding.vif_type)) await this.addProvisioningBlocks(trx, id, network.id, ips);
      return { sgs, row: values };
    });
    const port = (await this.portDicts([row], false))[0]!;
    await this.callbacks.publish(ctx, 'port.after_create', { resource: port });
    if (sgIds.length) await this.callbacks.publish(ctx, 'security_group.members_changed', { ids: sgIds });
    return port;
  }

  isBound(vifType: string): boolean {
    return vifType !== C.VIF_TYPE_UNBOUND && vifType !== C.VIF_TYPE_BINDING_FAILED;
  }

  /** L2 always; DHCP when a DHCP agent serves the network and the port has an address on a DHCP subnet. */
  async addProvisioningBlocks(trx: Transaction<any>, portId: string, networkId: string, ips: FixedIp[]): Promise<void> {
    await Q.deleteProvisioningBlocks.execute(trx, portId);
    await Q.insertProvisioningBlock.execute(trx, portId, C.PROVISIONING_L2);
    if (ips.length === 0) return;
    const subnetIds = [...new Set(ips.map((f) => f.subnet_id))];
    const dhcpSubnet = subnetIds.length === 1 ? await Q.dhcpSubnetOfPort.first(trx, networkId, subnetIds[0])
      : await trx.selectFrom('subnets').select('id').where('network_id', '=', networkId).where('enable_dhcp', '=', 1)
        .where('id', 'in', subnetIds).executeTakeFirst();
    const agent = dhcpSubnet && (await Q.dhcpHostsOfNetwork.first(trx, networkId));
    if (agent) await Q.insertProvisioningBlock.execute(trx, portId, C.PROVISIONING_DHCP);
  }

  async updatePort(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getPortRow(ctx, id);
    const network = await Q.networkById.first(this.db, row.network_id);
    if (!network) throw new Error(`network ${row.network_id} of port ${id} not found`);
    if (!ctx.isAdmin && row.project_id !== ctx.projectId && network.project_id !== ctx.projectId) throw X.PolicyNotAuthorized('update_port');
    const original = (await this.portDicts([row]))[0]!;
    const hostChanged = isSet(body['binding:host_id']) && body['binding:host_id'] !== row.binding_host_id;
    const vnicChanged = isSet(body['binding:vnic_type']) && body['binding:vnic_type'] !== row.binding_vnic_type;
    const host = hostChanged ? body['binding:host_id'] as string : row.binding_host_id;
    const vnic = vnicChanged ? body['binding:vnic_type'] as string : row.binding_vnic_type;
    const rebind = hostChanged || vnicChanged || (host && row.binding_vif_type === C.VIF_TYPE_BINDING_FAILED && isSet(body['binding:host_id']));
    const binding = rebind ? await this.bindingFor(row.network_id, host, vnic) : null;
    let sgChanged: string[] = [];
    await this.tx(async (trx) => {
      const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
      for (const k of ['name', 'description', 'device_id', 'device_owner']) if (isSet(body[k])) upd[k] = body[k];
      if (isSet(body['admin_state_up'])) upd['admin_state_up'] = i(body['admin_state_up']);
      if (isSet(body['binding:profile'])) upd['binding_profile'] = toJson(body['binding:profile'] ?? {});
      if (isSet(body['mac_address'])) {
        const mac = normalizeMac(body['mac_address'])!;
        if (mac !== row.mac_address) {
          if (this.isBound(row.binding_vif_type)) throw X.PortBound(id, row.binding_vif_type, row.mac_address, mac);
          const dup = await trx.selectFrom('ports').select('id').where('network_id', '=', row.network_id).where('mac_address', '=', mac).executeTakeFirst();
          if (dup) throw X.MacAddressInUse(row.network_id, mac);
          upd['mac_address'] = mac;
        }
      }
      const portSecurity: boolean = isSet(body['port_security_enabled']) ? body['port_security_enabled'] : b(row.port_security_enabled);
      if (isSet(body['port_security_enabled'])) upd['port_security_enabled'] = i(portSecurity);
      let sgs: string[] = fromJson(row.security_groups, []);
      if (isSet(body['security_groups'])) {
        const nextSgs = await this.resolveSecurityGroups(ctx, trx, row.project_id, body['security_groups'], portSecurity, row.device_owner, true);
        sgChanged = [...new Set([...sgs.filter((s) => !nextSgs.includes(s)), ...nextSgs.filter((s) => !sgs.includes(s))])];
        sgs = nextSgs;
        upd['security_groups'] = toJson(sgs);
        await trx.deleteFrom('securitygroupportbindings').where('port_id', '=', id).execute();
        for (const sg of sgs) await trx.insertInto('securitygroupportbindings').values({ port_id: id, security_group_id: sg }).execute();
      } else if (!portSecurity && sgs.length) {
        throw X.PortSecurityPortHasSecurityGroup();
      }
      let pairs = fromJson<Dict[]>(row.allowed_address_pairs, []);
      if (isSet(body['allowed_address_pairs'])) {
        pairs = normalizePairs(body['allowed_address_pairs'] ?? []);
        upd['allowed_address_pairs'] = toJson(pairs);
      }
      if (pairs.length && !portSecurity) throw X.AddressPairAndPortSecurityRequired();
      let ips: FixedIp[] = fromJson(row.fixed_ips, []);
      if (isSet(body['fixed_ips'])) {
        const requested: Dict[] = body['fixed_ips'] ?? [];
        if (!ctx.isAdmin && network.project_id !== ctx.projectId && requested.some((f) => f['ip_address'])) {
          throw X.PolicyNotAuthorized('update_port:fixed_ips:ip_address');
        }
        const keep = ips.filter((cur) => requested.some((f) => f['ip_address'] && normalizeIpOr(f['ip_address']) === cur.ip_address && (!f['subnet_id'] || f['subnet_id'] === cur.subnet_id)));
        // a subnet_id-only entry keeps the address the port already has on that subnet
        const bySubnetOnly = requested.filter((f) => f['subnet_id'] && !f['ip_address']);
        const keptBySubnet: Dict[] = [];
        for (const f of bySubnetOnly) {
          const cur = ips.find((x) => x.subnet_id === f['subnet_id'] && !keep.includes(x));
          if (cur) { keep.push(cur); keptBySubnet.push(f); }
        }
        const subnets = await this.subnetsForIpam(trx, row.network_id);
        const autoKept = ips.filter((cur) => subnets.some((s) => s.id === cur.subnet_id && isAutoAddressSubnet(s)) && !C.ROUTER_INTERFACE_OWNERS.includes(row.device_owner));
        for (const cur of ips) {
          if (!keep.includes(cur) && !autoKept.includes(cur)) {
            await trx.deleteFrom('ipallocations').where('subnet_id', '=', cur.subnet_id).where('ip_address', '=', cur.ip_address).execute();
          }
        }
        const fresh = requested.filter((f) => !keptBySubnet.includes(f) && !(f['ip_address'] && keep.some((k) => k.ip_address === normalizeIpOr(f['ip_address']))))
          .filter((f) => !(f['subnet_id'] && !f['ip_address'] && autoKept.some((a) => a.subnet_id === f['subnet_id'])));
        let added: FixedIp[] = [];
        if (fresh.length) {
          added = await allocateIps(trx, {
            networkId: row.network_id, portId: id, mac: upd['mac_address'] ?? row.mac_address, deviceOwner: upd['device_owner'] ?? row.device_owner,
            subnets: subnets.filter((s) => !isAutoAddressSubnet(s) || fresh.some((f) => f['subnet_id'] === s.id)), requested: fresh,
          });
          added = added.filter((a) => !autoKept.some((k) => k.subnet_id === a.subnet_id && k.ip_address === a.ip_address));
        }
        ips = [...keep, ...autoKept.filter((a) => !keep.includes(a)), ...added];
        upd['fixed_ips'] = toJson(ips);
      }
      if (binding) {
        upd['binding_host_id'] = host;
        upd['binding_vnic_type'] = vnic;
        upd['binding_vif_type'] = binding.vif_type;
        upd['binding_vif_details'] = toJson(binding.vif_details);
        upd['binding_segment_id'] = binding.segment_id;
        if (hostChanged) upd['status'] = C.PORT_STATUS_DOWN;
        if (this.isBound(binding.vif_type)) await this.addProvisioningBlocks(trx, id, row.network_id, ips);
        else await trx.deleteFrom('provisioningblocks').where('port_id', '=', id).execute();
      }
      await trx.updateTable('ports').set(upd).where('id', '=', id).execute();
    });
    const port = await this.getPort(ctx.elevated(), id);
    await this.callbacks.publish(ctx, 'port.after_update', { resource: port, original });
    if (sgChanged.length) await this.callbacks.publish(ctx, 'security_group.members_changed', { ids: sgChanged });
    if (original.status !== port.status) {
      await this.callbacks.publish(ctx, 'port.status_changed', { resource: port, previousStatus: original.status });
    }
    return port;
  }

  /** Removes a port and everything hanging off it (inside the caller's transaction). */
  async deletePortRows(trx: Transaction<any>, id: string): Promise<void> {
    await Q.usageReleasePort.execute(trx, id);
    await trx.deleteFrom('ipallocations').where('port_id', '=', id).execute();
    await trx.deleteFrom('securitygroupportbindings').where('port_id', '=', id).execute();
    await trx.deleteFrom('provisioningblocks').where('port_id', '=', id).execute();
    await trx.deleteFrom('tags').where('resource_type', '=', 'ports').where('resource_id', '=', id).execute();
    await trx.deleteFrom('ports').where('id', '=', id).execute();
  }

  /** L3 hook: disassociates floating IPs from a port about to go (l3.ts sets it). */
  disassociateFloatingIps: (trx: Transaction<any>, portId: string) => Promise<string[]> = async () => [];

  async deletePort(ctx: RequestContext, id: string, opts: { l3PortCheck?: boolean } = {}): Promise<void> {
    const row = await this.getPortRow(ctx, id);
    if (!ctx.isAdmin && row.project_id !== ctx.projectId) {
      const net = await this.db.selectFrom('networks').select('project_id').where('id', '=', row.network_id).executeTakeFirst();
      if (net?.project_id !== ctx.projectId) throw X.PolicyNotAuthorized('delete_port');
    }
    if (opts.l3PortCheck !== false && [...C.ROUTER_PORT_OWNERS, C.DEVICE_OWNER_FLOATINGIP].includes(row.device_owner)) {
      throw X.ServicePortInUse(id, `has device owner ${row.device_owner}`);
    }
    const port = (await this.portDicts([row]))[0]!;
    let routers: string[] = [];
    await this.tx(async (trx) => {
      routers = await this.disassociateFloatingIps(trx, id);
      await this.deletePortRows(trx, id);
    });
    await this.callbacks.publish(ctx, 'port.after_delete', { resource: port });
    if (port.security_groups.length) await this.callbacks.publish(ctx, 'security_group.members_changed', { ids: port.security_groups });
    if (routers.length) await this.callbacks.publish(ctx, 'router.after_update', { ids: routers });
  }

  // ------------------------------------------------------------------ port status (agents)

  /** Sets a port's status (agents' update_device_up/down); publishes the change. */
  async setPortStatus(ctx: RequestContext, id: string, status: string): Promise<Dict | null> {
    const row = await Q.portById.first(this.db, id);
    if (!row) return null;
    return this.setPortRowStatus(ctx, row, status);
  }

  /** setPortStatus on a `ports` row the caller has just read (saves reading it again). */
  async setPortRowStatus(ctx: RequestContext, row: Dict, status: string): Promise<Dict> {
    if (row.status === status) return (await this.portDicts([row], false))[0]!;
    const updated = { ...row, status, updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    await Q.setPortStatus.execute(this.db, status, updated.updated_at, updated.revision_number, row.id);
    // the row as just written (this update is the one the event reports), with its tags
    const port = (await this.portDicts([updated]))[0]!;
    await this.callbacks.publish(ctx, 'port.status_changed', { resource: port, previousStatus: row.status });
    return port;
  }

  /** Neutron's provisioning_blocks.provisioning_complete: ACTIVE once no entity blocks the port. */
  async provisioningComplete(ctx: RequestContext, portId: string, entity: string): Promise<void> {
    const res = await Q.deleteProvisioningBlock.execute(this.db, portId, entity);
    // only the entity that held a block can complete provisioning (a late duplicate changes nothing)
    if (Number(res.numAffectedRows ?? 0) === 0) return;
    const left = await Q.provisioningBlockLeft.first(this.db, portId);
    if (left) return;
    const row = await Q.portById.first(this.db, portId);
    if (!row || !b(row.admin_state_up) || !this.isBound(row.binding_vif_type)) return;
    await this.setPortRowStatus(ctx, row, C.PORT_STATUS_ACTIVE);
  }
}

function normalizeIpOr(s: string): string {
  const ip = parseIp(s);
  return ip ? formatIp(ip.version, ip.value) : s;
}

function normalizePairs(pairs: Dict[]): Dict[] {
  const seen = new Set<string>();
  const out: Dict[] = [];
  for (const p of pairs) {
    const key = `${p['mac_address'] ?? ''}|${p['ip_address']}`;
    if (seen.has(key)) throw X.DuplicateAddressPairInRequest(p['mac_address'] ?? 'None', p['ip_address']);
    seen.add(key);
    out.push(p['mac_address'] ? { ip_address: p['ip_address'], mac_address: normalizeMac(p['mac_address']) } : { ip_address: p['ip_address'] });
  }
  return out;
}
