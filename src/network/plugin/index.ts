/**
 * The whole Neutron server-side model in one object: the core plugin plus the service plugins
 * wired to it (security groups, L3, subnet pools, quotas, tags, RBAC, agents).
 * @module
 */
import type { Database } from '../../common/db/connection.js';
import type { NeutronConfig } from './config.js';
import { NeutronPlugin } from './core.js';
import { SecurityGroups } from './securitygroups.js';
import { L3 } from './l3.js';
import { SubnetPools } from './subnetpools.js';
import { Agents, Quotas, Rbac, Tags } from './misc.js';

export class NeutronCore {
  readonly core: NeutronPlugin;
  readonly securityGroups: SecurityGroups;
  readonly l3: L3;
  readonly subnetPools: SubnetPools;
  readonly quotas: Quotas;
  readonly tags: Tags;
  readonly rbac: Rbac;
  readonly agents: Agents;

  constructor(database: Database, cfg: Partial<NeutronConfig> = {}) {
    this.core = new NeutronPlugin(database, cfg);
    this.securityGroups = new SecurityGroups(this.core);
    this.l3 = new L3(this.core);
    this.subnetPools = new SubnetPools(this.core);
    this.quotas = new Quotas(this.core);
    this.rbac = new Rbac(this.core);
    this.agents = new Agents(this.core);
    this.tags = new Tags(this.core, {
      networks: (c, id) => this.core.getNetwork(c, id),
      subnets: (c, id) => this.core.getSubnet(c, id),
      ports: (c, id) => this.core.getPort(c, id),
      routers: (c, id) => this.l3.get(c, id),
      floatingips: (c, id) => this.l3.getFip(c, id),
      security_groups: (c, id) => this.securityGroups.get(c, id),
      subnetpools: (c, id) => this.subnetPools.get(c, id),
    });
  }
}

export { NeutronPlugin } from './core.js';
export type { NeutronConfig } from './config.js';
