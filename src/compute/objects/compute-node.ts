/**
 * ComputeNode and Service (nova/objects/compute_node.py, service.py). nova-compute creates and
 * updates its own rows through the cell conductor; discover_hosts and the API read them directly.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import * as hostApi from '../db/host-api.js';
import { NovaObject, registerObject, type FieldKind, type ObjectBackend } from './base.js';
import { cellOf, registerRemotable } from './backend.js';

export class ComputeNode extends NovaObject {
  static override objName = 'ComputeNode';
  static override VERSION = '1.19';
  static override fields: Record<string, FieldKind> = {
    id: 'int', uuid: 'string', service_id: 'int', host: 'string', hypervisor_hostname: 'string', vcpus: 'int', memory_mb: 'int',
    local_gb: 'int', vcpus_used: 'int', memory_mb_used: 'int', local_gb_used: 'int', hypervisor_type: 'string',
    hypervisor_version: 'int', cpu_info: 'string', disk_available_least: 'int', free_ram_mb: 'int', free_disk_gb: 'int',
    current_workload: 'int', running_vms: 'int', host_ip: 'string', cpu_allocation_ratio: 'float',
    ram_allocation_ratio: 'float', disk_allocation_ratio: 'float', mapped: 'int', created_at: 'datetime', updated_at: 'datetime',
  };
  declare id: number; declare uuid: string; declare service_id: number | null; declare host: string; declare hypervisor_hostname: string;
  declare vcpus: number; declare memory_mb: number; declare local_gb: number; declare vcpus_used: number; declare memory_mb_used: number;
  declare local_gb_used: number; declare hypervisor_type: string; declare hypervisor_version: number; declare cpu_info: string;
  declare disk_available_least: number; declare free_ram_mb: number; declare free_disk_gb: number; declare current_workload: number;
  declare running_vms: number; declare host_ip: string | null; declare cpu_allocation_ratio: number; declare ram_allocation_ratio: number;
  declare disk_allocation_ratio: number; declare mapped: number;

  /** Inserts or updates this node by (host, hypervisor_hostname). */
  async save(ctx: RequestContext): Promise<void> {
    if (await this.remote(ctx, 'save', {})) return;
    const row = await hostApi.computeNodeUpsert(cellOf(this.backend), this.toDict());
    this.update(row);
    this.resetChanges();
  }

  static async getByHostAndNode(backend: ObjectBackend, ctx: RequestContext, host: string, nodename: string): Promise<ComputeNode | null> {
    if (backend.remote) return (await backend.objectClassAction(ctx, 'ComputeNode', 'get_by_host_and_nodename', { host, nodename })) as ComputeNode | null;
    const row = await hostApi.computeNodeGet(cellOf(backend), host, nodename);
    if (!row) return null;
    const n = new ComputeNode().update(row);
    n.backend = backend;
    n.resetChanges();
    return n;
  }
}
registerObject(ComputeNode);
registerRemotable('ComputeNode', {
  methods: { save: 'save' },
  classMethods: { get_by_host_and_nodename: (b, ctx, a) => ComputeNode.getByHostAndNode(b, ctx, a['host'], a['nodename']) },
});

export class ServiceRecord extends NovaObject {
  static override objName = 'Service';
  // Version 1.22: Added uuid (Stein keeps 1.22+)
  static override VERSION = '1.22';
  static override fields: Record<string, FieldKind> = {
    id: 'int', uuid: 'string', host: 'string', binary: 'string', topic: 'string', report_count: 'int', disabled: 'bool',
    disabled_reason: 'string', last_seen_up: 'datetime', forced_down: 'bool', version: 'int', created_at: 'datetime', updated_at: 'datetime',
  };
  declare id: number; declare uuid: string; declare host: string; declare binary: string; declare topic: string | null;
  declare report_count: number; declare disabled: boolean; declare disabled_reason: string | null;
}
registerObject(ServiceRecord);

/** The heartbeat of a cell service (servicegroup DB driver): upsert the row and bump report_count. */
export async function serviceHeartbeat(backend: ObjectBackend, ctx: RequestContext, binary: string, host: string, topic: string | null): Promise<void> {
  if (backend.remote) {
    await backend.objectClassAction(ctx, 'Service', 'report_state', { binary, host, topic });
    return;
  }
  await hostApi.serviceReport(cellOf(backend), binary, host, topic);
}
registerRemotable('Service', {
  classMethods: { report_state: async (b, _ctx, a) => { await hostApi.serviceReport(cellOf(b), a['binary'], a['host'], a['topic']); return null; } },
});
