/**
 * Nova's Neutron client (nova/network/neutron.py): creates the ports of a new server with the
 * user's token, binds them to the compute host with the service's token (this is what makes
 * ML2 bind and the L2 agent wire them), builds the network info cache, and on delete removes
 * the ports Nova created and unbinds the ones the user brought.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { ApiError } from '../../common/errors.js';
import { RemoteHttpError, type Session } from '../../common/http/client.js';
import type { NetworkInfoVif } from '../objects/instance.js';

export interface RequestedNetwork {
  network_id?: string | null;
  port_id?: string | null;
  fixed_ip?: string | null;
  tag?: string | null;
}

type Port = Record<string, any>;

/** `[neutron]extension_sync_interval`: how long Nova trusts the extension list it read (600 s). */
const EXTENSION_SYNC_INTERVAL_MS = 600_000;

export class NeutronAPI {
  /** Aliases from GET /v2.0/extensions and when they were read (nova's extensions cache). */
  private extensions: { aliases: Set<string>; at: number } | null = null;
  private extensionsLoading: Promise<Set<string> | null> | null = null;

  constructor(readonly session: Session) {}

  /**
   * Whether Neutron has an extension (nova's `_refresh_neutron_extensions_cache`): the list is
   * read again after extension_sync_interval. null when it cannot be read.
   */
  async hasExtension(ctx: RequestContext, alias: string): Promise<boolean | null> {
    if (this.extensions && Date.now() - this.extensions.at < EXTENSION_SYNC_INTERVAL_MS) return this.extensions.aliases.has(alias);
    this.extensionsLoading ??= this.session.get<any>('network', '/v2.0/extensions', { ctx })
      .then((r) => {
        const aliases = new Set<string>(((r.body?.extensions ?? []) as { alias: string }[]).map((e) => e.alias));
        this.extensions = { aliases, at: Date.now() };
        return aliases;
      })
      .catch(() => null)
      .finally(() => { this.extensionsLoading = null; });
    const aliases = await this.extensionsLoading;
    return aliases ? aliases.has(alias) : null;
  }

  private userOpts(ctx: RequestContext) {
    return ctx.authToken ? { ctx, userToken: ctx.authToken } : { ctx };
  }

  async getNetwork(ctx: RequestContext, id: string): Promise<Record<string, any> | null> {
    const r = await this.session.get<any>('network', `/v2.0/networks/${id}`, { ...this.userOpts(ctx), okStatuses: [404] });
    return r.status === 404 ? null : r.body.network;
  }

  async listNetworks(ctx: RequestContext, query: Record<string, string>): Promise<Record<string, any>[]> {
    const r = await this.session.get<any>('network', '/v2.0/networks', { ...this.userOpts(ctx), query });
    return r.body.networks;
  }

  async getPort(ctx: RequestContext, id: string): Promise<Port | null> {
    const r = await this.session.get<any>('network', `/v2.0/ports/${id}`, { ...this.userOpts(ctx), okStatuses: [404] });
    return r.status === 404 ? null : r.body.port;
  }

  async listPorts(ctx: RequestContext, query: Record<string, string>, admin = false): Promise<Port[]> {
    const r = await this.session.get<any>('network', '/v2.0/ports', admin ? { ctx, query } : { ...this.userOpts(ctx), query });
    return r.body.ports;
  }

  /** Security group names (or ids) of the project -> ids, as `_process_security_groups`. */
  async securityGroupIds(ctx: RequestContext, projectId: string, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const r = await this.session.get<any>('network', '/v2.0/security-groups', { ...this.userOpts(ctx), query: { tenant_id: projectId, fields: ['id', 'name'] as never } });
    const groups: { id: string; name: string }[] = r.body.security_groups;
    return names.map((n) => {
      const byId = groups.find((g) => g.id === n);
      if (byId) return byId.id;
      const matches = groups.filter((g) => g.name === n);
      if (matches.length > 1) throw new ApiError(409, `Multiple security groups found matching '${n}'. Use an ID to be more specific.`, { type: 'NoUniqueMatch' });
      if (!matches.length) throw new ApiError(400, `Security group ${n} not found for project ${projectId}.`, { type: 'SecurityGroupNotFound' });
      return matches[0]!.id;
    });
  }

  /**
   * allocate_for_instance: create missing ports (user token), then bind every port to `host`
   * (service token). Returns the network info built from the bound ports.
   */
  async allocateForInstance(ctx: RequestContext, a: {
    instanceUuid: string; projectId: string; availabilityZone: string; host: string; hostname: string;
    requested: RequestedNetwork[]; securityGroups: string[];
  }): Promise<NetworkInfoVif[]> {
    const created: string[] = [];
    const portIds: { id: string; preexisting: boolean }[] = [];
    try {
      const sgIds = await this.securityGroupIds(ctx, a.projectId, a.securityGroups);
      for (const req of a.requested) {
        if (req.port_id) {
          portIds.push({ id: req.port_id, preexisting: true });
          continue;
        }
        const body: Record<string, unknown> = { device_id: a.instanceUuid, network_id: req.network_id, admin_state_up: true, tenant_id: a.projectId };
        if (sgIds.length) body['security_groups'] = sgIds;
        if (req.fixed_ip) body['fixed_ips'] = [{ ip_address: req.fixed_ip }];
        const r = await this.session.post<any>('network', '/v2.0/ports', { ...this.userOpts(ctx), body: { port: body } });
        created.push(r.body.port.id);
        portIds.push({ id: r.body.port.id, preexisting: false });
      }
      const ports: { port: Port; preexisting: boolean }[] = [];
      // dns_name goes only to a Neutron with DNS integration (nova's _populate_neutron_extension_values).
      const withDns = portIds.length > 0 && (await this.hasExtension(ctx, 'dns-integration')) !== false;
      for (const p of portIds) {
        const update: Record<string, unknown> = { device_id: a.instanceUuid, device_owner: `compute:${a.availabilityZone}`, 'binding:host_id': a.host };
        if (withDns) update['dns_name'] = a.hostname;
        let r;
        try {
          r = await this.session.put<any>('network', `/v2.0/ports/${p.id}`, { ctx, body: { port: update } });
        } catch (e) {
          // The extension list could not be read, or is out of date: retry without dns_name.
          if (withDns && e instanceof RemoteHttpError && e.status === 400 && String(e.message).includes('dns_name')) {
            const { dns_name: _drop, ...rest } = update;
            r = await this.session.put<any>('network', `/v2.0/ports/${p.id}`, { ctx, body: { port: rest } });
          } else throw e;
        }
        ports.push({ port: r.body.port, preexisting: p.preexisting });
      }
      return await this.buildNetworkInfo(ctx, ports);
    } catch (e) {
      // Undo what this call created (nova's _unbind_ports / _delete_ports on failure).
      await Promise.allSettled(created.map((id) => this.session.delete('network', `/v2.0/ports/${id}`, { ctx, okStatuses: [404] })));
      throw e;
    }
  }

  /** Network info (the `instance_info_caches` model) from bound ports. */
  async buildNetworkInfo(ctx: RequestContext, ports: { port: Port; preexisting: boolean }[]): Promise<NetworkInfoVif[]> {
    const netIds = [...new Set(ports.map((p) => p.port['network_id'] as string))];
    const subnetIds = [...new Set(ports.flatMap((p) => (p.port['fixed_ips'] ?? []).map((f: any) => f.subnet_id as string)))];
    const [nets, subnets, fips] = await Promise.all([
      netIds.length ? this.session.get<any>('network', '/v2.0/networks', { ctx, query: { id: netIds } }).then((r) => r.body.networks as any[]) : [],
      subnetIds.length ? this.session.get<any>('network', '/v2.0/subnets', { ctx, query: { id: subnetIds } }).then((r) => r.body.subnets as any[]) : [],
      ports.length ? this.session.get<any>('network', '/v2.0/floatingips', { ctx, query: { port_id: ports.map((p) => p.port['id']) } }).then((r) => r.body.floatingips as any[]).catch(() => []) : [],
    ]);
    return ports.map(({ port, preexisting }) => {
      const net = nets.find((n) => n.id === port['network_id']);
      const bySubnet = new Map<string, { cidr: string; ips: any[] }>();
      for (const f of port['fixed_ips'] ?? []) {
        const sn = subnets.find((s) => s.id === f.subnet_id);
        if (!bySubnet.has(f.subnet_id)) bySubnet.set(f.subnet_id, { cidr: sn?.cidr ?? '', ips: [] });
        const floating = fips.filter((fip) => fip.port_id === port['id'] && fip.fixed_ip_address === f.ip_address).map((fip) => ({ address: fip.floating_ip_address }));
        bySubnet.get(f.subnet_id)!.ips.push({ address: f.ip_address, type: 'fixed', version: f.ip_address.includes(':') ? 6 : 4, floating_ips: floating });
      }
      return {
        id: port['id'], address: port['mac_address'],
        network: { id: port['network_id'], label: net?.name ?? '', subnets: [...bySubnet.values()] },
        type: port['binding:vif_type'] ?? 'unbound', details: port['binding:vif_details'] ?? {},
        devname: `tap${String(port['id']).slice(0, 11)}`, active: port['status'] === 'ACTIVE',
        vnic_type: port['binding:vnic_type'] ?? 'normal', preserve_on_delete: preexisting,
      };
    });
  }

  /** Refreshes the info cache from Neutron (on `network-changed`, and after build). */
  async getInstanceNwInfo(ctx: RequestContext, instanceUuid: string, preexisting: Set<string>): Promise<NetworkInfoVif[]> {
    const ports = await this.listPorts(ctx, { device_id: instanceUuid }, true);
    return this.buildNetworkInfo(ctx, ports.map((p) => ({ port: p, preexisting: preexisting.has(p['id']) })));
  }

  /** deallocate_for_instance: delete the ports Nova made, unbind the ones it was given. */
  async deallocateForInstance(ctx: RequestContext, instanceUuid: string, preserve: Set<string>): Promise<void> {
    const ports = await this.listPorts(ctx, { device_id: instanceUuid }, true);
    await Promise.all(ports.map(async (p) => {
      if (preserve.has(p['id'])) {
        await this.session.put('network', `/v2.0/ports/${p['id']}`, {
          ctx, okStatuses: [404], body: { port: { device_id: '', device_owner: '', 'binding:host_id': null, 'binding:profile': {} } },
        });
      } else {
        await this.session.delete('network', `/v2.0/ports/${p['id']}`, { ctx, okStatuses: [404] });
      }
    }));
  }
}
