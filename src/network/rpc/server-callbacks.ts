/**
 * What neutron-server answers over the bus (exchange `neutron`):
 * - `q-plugin`: ML2's RpcCallbacks (device details, device up/down), the DHCP callbacks
 *   (namespace `dhcp`), security-group info (namespace `securitygroup`), metadata (`metadata`);
 * - `q-reports-plugin`: `report_state` (namespace `report_state`);
 * - `q-l3-plugin`: the L3 agent's `sync_routers`, `update_floatingip_statuses`, ...
 * @module
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../common/context.js';
import * as C from '../common/constants.js';
import type { NeutronCore } from '../plugin/index.js';
import type { AgentSchedulers } from '../plugin/agentschedulers.js';
import type { Dict } from '../plugin/core.js';
import { b, emptyList, fromJson } from '../plugin/dbutil.js';
import { Q } from '../db/queries.js';

type Args = Record<string, any>;

/** ML2 RpcCallbacks (neutron/plugins/ml2/rpc.py), target 1.9. */
export class Ml2RpcCallbacks {
  readonly target = { version: '1.9', namespace: null };
  constructor(private readonly n: NeutronCore) {}

  async get_device_details(ctx: RequestContext, a: Args): Promise<Dict> {
    return this.details(ctx, String(a['device']), String(a['host'] ?? ''));
  }

  private async details(ctx: RequestContext, device: string, host: string): Promise<Dict> {
    const c = this.n.core;
    const row = await Q.portById.first(c.db, device);
    if (!row) return { device };
    if (host && row.binding_host_id !== host) return { device };
    const net = await Q.networkById.first(c.db, row.network_id);
    const seg = row.binding_segment_id ? await Q.segmentById.first(c.db, row.binding_segment_id) : undefined;
    // the agent has seen the device: DOWN -> BUILD (ML2 does this for admin-up ports)
    if (b(row.admin_state_up) && row.status === C.PORT_STATUS_DOWN) await c.setPortRowStatus(ctx, row, C.PORT_STATUS_BUILD);
    return {
      device, port_id: row.id, network_id: row.network_id, mac_address: row.mac_address, admin_state_up: b(row.admin_state_up),
      network_type: seg?.network_type ?? null, segmentation_id: seg && seg.segmentation_id ? Number(seg.segmentation_id) : null,
      physical_network: seg?.physical_network || null, mtu: net ? Number(net.mtu) : null,
      fixed_ips: fromJson(row.fixed_ips, []), device_owner: row.device_owner, allowed_address_pairs: fromJson(row.allowed_address_pairs, []),
      port_security_enabled: b(row.port_security_enabled), security_groups: fromJson(row.security_groups, []),
      profile: fromJson(row.binding_profile, {}), qos_policy_id: null, network_qos_policy_id: null,
    };
  }

  async get_devices_details_list(ctx: RequestContext, a: Args): Promise<Dict[]> {
    const out: Dict[] = [];
    for (const d of (a['devices'] as string[]) ?? []) out.push(await this.details(ctx, d, String(a['host'] ?? '')));
    return out;
  }

  async get_devices_details_list_and_failed_devices(ctx: RequestContext, a: Args): Promise<Dict> {
    const devices: Dict[] = [];
    const failed: string[] = [];
    for (const d of (a['devices'] as string[]) ?? []) {
      try {
        devices.push(await this.details(ctx, d, String(a['host'] ?? '')));
      } catch {
        failed.push(d);
      }
    }
    return { devices, failed_devices: failed };
  }

  async update_device_up(ctx: RequestContext, a: Args): Promise<null> {
    const device = String(a['device']);
    const host = String(a['host'] ?? '');
    const row = await Q.portHost.first(this.n.core.db, device);
    if (!row || (host && row.binding_host_id !== host)) return null;
    await this.n.core.provisioningComplete(ctx, device, C.PROVISIONING_L2);
    return null;
  }

  async update_device_down(ctx: RequestContext, a: Args): Promise<Dict> {
    const device = String(a['device']);
    const host = String(a['host'] ?? '');
    const row = await Q.portHost.first(this.n.core.db, device);
    if (!row) return { device, exists: false };
    if (host && row.binding_host_id !== host) return { device, exists: true };
    await this.n.core.setPortStatus(ctx, device, C.PORT_STATUS_DOWN);
    return { device, exists: true };
  }

  async update_device_list(ctx: RequestContext, a: Args): Promise<Dict> {
    const up: string[] = [];
    const down: Dict[] = [];
    const failedUp: string[] = [];
    const failedDown: string[] = [];
    for (const d of (a['devices_up'] as string[]) ?? []) {
      try { await this.update_device_up(ctx, { device: d, host: a['host'] }); up.push(d); } catch { failedUp.push(d); }
    }
    for (const d of (a['devices_down'] as string[]) ?? []) {
      try { down.push(await this.update_device_down(ctx, { device: d, host: a['host'] })); } catch { failedDown.push(d); }
    }
    return { devices_up: up, failed_devices_up: failedUp, devices_down: down, failed_devices_down: failedDown };
  }

  async tunnel_sync(_ctx: RequestContext, _a: Args): Promise<Dict> {
    return { tunnels: [] };
  }
}

/** DhcpRpcCallback (neutron/api/rpc/handlers/dhcp_rpc.py), namespace `dhcp`, 1.8. */
export class DhcpRpcCallback {
  readonly target = { version: '1.8', namespace: 'dhcp' };
  constructor(private readonly n: NeutronCore, private readonly sched: AgentSchedulers) {}

  private async networkInfo(ctx: RequestContext, networkId: string): Promise<Dict | null> {
    const admin = ctx.elevated();
    const c = this.n.core;
    let net: Dict;
    try {
      net = await c.getNetwork(admin, networkId);
    } catch {
      return null;
    }
    const subnets = (await c.listSubnets(admin, { ...emptyList(), filters: { network_id: [networkId] } })).items;
    const ports = (await c.listPorts(admin, { ...emptyList(), filters: { network_id: [networkId] } })).items;
    return { ...net, subnets, non_local_subnets: [], ports };
  }

  async get_active_networks_info(ctx: RequestContext, a: Args): Promise<Dict[]> {
    const ids = await this.sched.networksForDhcpAgent(String(a['host']));
    const out: Dict[] = [];
    for (const id of ids) {
      const info = await this.networkInfo(ctx, id);
      if (info) out.push(info);
    }
    return out;
  }

  async get_network_info(ctx: RequestContext, a: Args): Promise<Dict | null> {
    return this.networkInfo(ctx, String(a['network_id']));
  }

  async create_dhcp_port(ctx: RequestContext, a: Args): Promise<Dict | null> {
    const port = a['port']?.['port'] ?? a['port'] ?? {};
    const host = String(a['host']);
    const c = this.n.core;
    const admin = ctx.elevated();
    const existing = await c.db.selectFrom('ports').select('id').where('network_id', '=', port['network_id']).where('device_id', '=', port['device_id']).executeTakeFirst();
    if (existing) return this.update_dhcp_port(ctx, { port_id: existing.id, port: { port }, host });
    const net = await c.db.selectFrom('networks').select(['project_id']).where('id', '=', port['network_id']).executeTakeFirst();
    if (!net) return null;
    const body: Dict = {
      network_id: port['network_id'], project_id: net.project_id ?? '', device_id: port['device_id'], device_owner: C.DEVICE_OWNER_DHCP,
      admin_state_up: true, name: '', 'binding:host_id': host,
    };
    if (Array.isArray(port['fixed_ips']) && port['fixed_ips'].length) body['fixed_ips'] = port['fixed_ips'];
    return c.createPort(admin, body);
  }

  async update_dhcp_port(ctx: RequestContext, a: Args): Promise<Dict | null> {
    const port = a['port']?.['port'] ?? a['port'] ?? {};
    const upd: Dict = { 'binding:host_id': String(a['host']) };
    if (Array.isArray(port['fixed_ips'])) upd['fixed_ips'] = port['fixed_ips'];
    try {
      return await this.n.core.updatePort(ctx.elevated(), String(a['port_id']), upd);
    } catch {
      return null;
    }
  }

  async release_dhcp_port(ctx: RequestContext, a: Args): Promise<null> {
    const rows = await this.n.core.db.selectFrom('ports').select('id').where('network_id', '=', String(a['network_id']))
      .where('device_id', '=', String(a['device_id'])).execute();
    for (const r of rows) await this.n.core.deletePort(ctx.elevated(), r.id, { l3PortCheck: false }).catch(() => undefined);
    return null;
  }

  async dhcp_ready_on_ports(ctx: RequestContext, a: Args): Promise<null> {
    for (const id of (a['port_ids'] as string[]) ?? []) await this.n.core.provisioningComplete(ctx, id, C.PROVISIONING_DHCP);
    return null;
  }
}

/** SecurityGroupServerRpcCallback, namespace `securitygroup`, 1.3. */
export class SecurityGroupRpcCallback {
  readonly target = { version: '1.3', namespace: 'securitygroup' };
  constructor(private readonly n: NeutronCore) {}

  async security_group_info_for_devices(_ctx: RequestContext, a: Args): Promise<Dict> {
    return this.n.securityGroups.infoForPorts((a['devices'] as string[]) ?? []);
  }

  async security_group_rules_for_devices(_ctx: RequestContext, a: Args): Promise<Dict> {
    const devices = Object.keys(a['devices'] ?? {});
    const info = await this.n.securityGroups.infoForPorts(devices);
    const out: Dict = {};
    for (const [id, d] of Object.entries<Dict>(info['devices'])) {
      out[id] = { ...d, security_group_rules: (d['security_groups'] as string[]).flatMap((sg) => info['security_groups'][sg] ?? []) };
    }
    return out;
  }
}

/** MetadataRpcCallback, namespace `metadata`: the metadata agent resolves an instance by its port. */
export class MetadataRpcCallback {
  readonly target = { version: '1.0', namespace: 'metadata' };
  constructor(private readonly n: NeutronCore) {}

  async get_ports(ctx: RequestContext, a: Args): Promise<Dict[]> {
    const filters: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries<any>(a['filters'] ?? {})) {
      filters[k] = k === 'fixed_ips' ? [Object.fromEntries(Object.entries<any>(v).map(([fk, fv]) => [fk, Array.isArray(fv) ? fv[0] : fv]))] : (Array.isArray(v) ? v : [v]);
    }
    return (await this.n.core.listPorts(ctx.elevated(), { ...emptyList(), filters })).items;
  }
}

/** AgentExtRpcCallback, namespace `report_state`, 1.4: the heartbeat into the agents table. */
export class AgentStateCallback {
  readonly target = { version: '1.4', namespace: 'report_state' };
  constructor(private readonly n: NeutronCore, private readonly onAgentRevived: (state: Dict) => Promise<void>) {}

  async report_state(_ctx: RequestContext, a: Args): Promise<string> {
    const state = a['agent_state']?.['agent_state'] ?? a['agent_state'] ?? {};
    const before = await this.n.core.db.selectFrom('agents').select('heartbeat_timestamp').where('agent_type', '=', state['agent_type']).where('host', '=', state['host']).executeTakeFirst();
    await this.n.agents.reportState(state);
    const revived = !before || !this.n.core.agentAlive(before.heartbeat_timestamp) || !!state['start_flag'];
    if (revived) await this.onAgentRevived(state);
    return revived ? 'revived' : 'alive';
  }
}

/** L3RpcCallback (neutron/api/rpc/handlers/l3_rpc.py), 1.10. */
export class L3RpcCallback {
  readonly target = { version: '1.10', namespace: null };
  constructor(private readonly n: NeutronCore, private readonly sched: AgentSchedulers) {}

  /** Router dicts as the L3 agent gets them: gw_port, _interfaces, _floatingips. */
  async sync_routers(ctx: RequestContext, a: Args): Promise<Dict[]> {
    const host = String(a['host']);
    const hosted = new Set(await this.sched.routersForL3Agent(host));
    const wanted = Array.isArray(a['router_ids']) ? (a['router_ids'] as string[]).filter((id) => hosted.has(id)) : [...hosted];
    const admin = ctx.elevated();
    const out: Dict[] = [];
    for (const id of wanted) {
      let router: Dict;
      try {
        router = await this.n.l3.get(admin, id);
      } catch {
        continue;
      }
      const ports = (await this.n.core.listPorts(admin, { ...emptyList(), filters: { device_id: [id] } })).items;
      // bind the router's ports to this agent's host (l3_rpc._ensure_host_set_on_ports)
      for (const p of ports) {
        if (p['binding:host_id'] !== host && C.ROUTER_PORT_OWNERS.includes(p['device_owner'])) {
          await this.n.core.updatePort(admin, p['id'], { 'binding:host_id': host }).catch(() => undefined);
        }
      }
      const fresh = (await this.n.core.listPorts(admin, { ...emptyList(), filters: { device_id: [id] } })).items;
      const fips = (await this.n.l3.listFips(admin, { ...emptyList(), filters: { router_id: [id] } })).items;
      out.push({
        ...router,
        gw_port: fresh.find((p) => p['device_owner'] === C.DEVICE_OWNER_ROUTER_GW) ?? null,
        _interfaces: fresh.filter((p) => p['device_owner'] === C.DEVICE_OWNER_ROUTER_INTF),
        _floatingips: fips,
      });
    }
    return out;
  }

  async get_router_ids(_ctx: RequestContext, a: Args): Promise<string[]> {
    return this.sched.routersForL3Agent(String(a['host']));
  }

  async update_floatingip_statuses(_ctx: RequestContext, a: Args): Promise<null> {
    const statuses = (a['fip_statuses'] ?? {}) as Record<string, string>;
    await this.n.l3.setFipStatuses(statuses);
    return null;
  }

  async get_external_network_id(ctx: RequestContext, _a: Args): Promise<string | null> {
    const nets = (await this.n.core.listNetworks(ctx.elevated(), { ...emptyList(), filters: { 'router:external': [true] } })).items;
    return nets.length === 1 ? nets[0]!['id'] : null;
  }

  async get_service_plugin_list(_ctx: RequestContext, _a: Args): Promise<string[]> {
    return ['router'];
  }
}

/** The DHCP port's device_id: `dhcp<uuid5(host)>-<network id>` as the DHCP agent makes it. */
export function dhcpDeviceId(host: string, networkId: string): string {
  const h = createHash('sha1').update(`6ba7b810-9dad-11d1-80b4-00c04fd430c8${host}`).digest('hex');
  const u = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
  return `dhcp${u}-${networkId}`;
}
