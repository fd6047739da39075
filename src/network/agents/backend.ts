/**
 * What an agent's reconcile loop drives: a dataplane backend. `noop` keeps the desired state in
 * memory and touches nothing on the host; a `linux` backend (bridges, namespaces, dnsmasq,
 * nftables) implements the same interface later, so the control-plane flow does not change.
 * @module
 */
export type Dict = Record<string, any>;

export interface L2Backend {
  /** Wire a port (tap into its network's bridge, firewall from its groups). */
  plugPort(details: Dict): Promise<void>;
  unplugPort(portId: string): Promise<void>;
  applyFirewall(info: Dict): Promise<void>;
  /** Ports currently wired. */
  ports(): string[];
}

export interface DhcpBackend {
  /** Serve DHCP for a network (dnsmasq hosts from its ports). */
  enable(network: Dict): Promise<void>;
  disable(networkId: string): Promise<void>;
  networks(): string[];
}

export interface L3Backend {
  /** Converge a router (namespace, qr-/qg- devices, SNAT, floating IP DNAT). */
  process(router: Dict): Promise<void>;
  remove(routerId: string): Promise<void>;
  routers(): string[];
}

export class NoopL2Backend implements L2Backend {
  readonly wired = new Map<string, Dict>();
  firewall: Dict = {};
  async plugPort(details: Dict): Promise<void> {
    this.wired.set(details['port_id'] ?? details['device'], details);
  }
  async unplugPort(portId: string): Promise<void> {
    this.wired.delete(portId);
    delete this.firewall['devices']?.[portId];
  }
  /** Merges the filters of the devices in `info` (the agent asks for some devices at a time). */
  async applyFirewall(info: Dict): Promise<void> {
    const fw = this.firewall;
    for (const k of ['devices', 'security_groups', 'sg_member_ips']) fw[k] = { ...(fw[k] ?? {}), ...(info[k] ?? {}) };
  }
  ports(): string[] {
    return [...this.wired.keys()];
  }
}

export class NoopDhcpBackend implements DhcpBackend {
  readonly served = new Map<string, Dict>();
  async enable(network: Dict): Promise<void> {
    this.served.set(network['id'], network);
  }
  async disable(networkId: string): Promise<void> {
    this.served.delete(networkId);
  }
  networks(): string[] {
    return [...this.served.keys()];
  }
}

export class NoopL3Backend implements L3Backend {
  readonly configured = new Map<string, Dict>();
  async process(router: Dict): Promise<void> {
    this.configured.set(router['id'], router);
  }
  async remove(routerId: string): Promise<void> {
    this.configured.delete(routerId);
  }
  routers(): string[] {
    return [...this.configured.keys()];
  }
}
