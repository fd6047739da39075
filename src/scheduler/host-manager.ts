/**
 * HostManager (nova/scheduler/host_manager.py): builds HostStates for the providers Placement
 * returned, from every cell's compute nodes and services, the API DB's aggregates and an
 * instance-info cache that computes keep current with fanout casts.
 * @module
 */
import type { Compilable, Kysely } from 'kysely';
import type { Database } from '../common/db/connection.js';
import { runPrepared } from '../common/db/prepared.js';
import { isServiceUp } from '../common/service.js';
import type { Cell, CellRegistry } from '../compute/cells.js';
import type { AggregateInfo, HostState } from './host-state.js';
import type { ProviderSummary } from './client/report.js';

/**
 * A query on a list of ids, compiled once per list length (every request asks about the same few
 * hosts); long lists go through Kysely as they come.
 */
function listQuery(db: Kysely<any>, name: string, list: string[], build: (ids: string[]) => Compilable & { execute(): Promise<Record<string, any>[]> }): Promise<Record<string, any>[]> {
  if (list.length > 32) return build(list).execute();
  return runPrepared(db, db, `scheduler:${name}:${list.length}`, list, (slots) => build([...slots])).then((r) => r.rows);
}

export class HostManager {
  /** host -> instance uuids, read per request (and nudged by fanout updates in between). */
  private instanceInfo = new Map<string, Set<string>>();
  private aggregates: AggregateInfo[] | null = null;

  constructor(private readonly cells: CellRegistry, private readonly api: Database, private readonly serviceDownTimeSec = 60) {}

  async hostStatesForProviders(summaries: Record<string, ProviderSummary>): Promise<HostState[]> {
    const uuids = Object.keys(summaries);
    if (uuids.length === 0) return [];
    const aggs = await this.loadAggregates();
    const states: HostState[] = [];
    const cells = await this.cells.computeCells();
    await Promise.all(cells.map(async (cell) => {
      const db = cell.db.db;
      const nodes = await listQuery(db, 'nodes', uuids, (ids) => db.selectFrom('compute_nodes').selectAll().where('uuid', 'in', ids).where('deleted', '=', 0));
      if (nodes.length === 0) return;
      const hosts = nodes.map((n) => n['host'] as string);
      // [filter_scheduler]track_instance_changes=False (cells v2: computes cannot reach the API-level
      // bus), so the hosts' instances are read from the cell DB for every request.
      const insts = await listQuery(db, 'instances', hosts, (hs) => db.selectFrom('instances').select(['host', 'uuid']).where('deleted', '=', 0).where('host', 'in', hs));
      for (const h of new Set(hosts)) this.instanceInfo.set(h, new Set());
      for (const r of insts) this.addInstance(r['host'], r['uuid']);
      const services = await listQuery(db, 'services', hosts, (hs) =>
        db.selectFrom('services').selectAll().where('binary', '=', 'nova-compute').where('deleted', '=', 0).where('host', 'in', hs));
      for (const n of nodes) states.push(this.toState(cell, n, services.find((s) => s['host'] === n['host']), summaries[n['uuid']]!, aggs));
    }));
    // Keep Placement's order so equal weights resolve the same way every time.
    const order = new Map(uuids.map((u, i) => [u, i]));
    return states.sort((a, b) => order.get(a.uuid)! - order.get(b.uuid)!);
  }

  private toState(cell: Cell, n: Record<string, any>, svc: Record<string, any> | undefined, sum: ProviderSummary, aggs: AggregateInfo[]): HostState {
    const r = sum.resources;
    const ramRatio = Number(n['ram_allocation_ratio'] ?? 1.5), cpuRatio = Number(n['cpu_allocation_ratio'] ?? 16), diskRatio = Number(n['disk_allocation_ratio'] ?? 1);
    const memCap = r['MEMORY_MB']?.capacity ?? Number(n['memory_mb']) * ramRatio;
    const memUsed = r['MEMORY_MB']?.used ?? Number(n['memory_mb_used'] ?? 0);
    const diskCap = r['DISK_GB']?.capacity ?? Number(n['local_gb']) * diskRatio;
    const diskUsed = r['DISK_GB']?.used ?? Number(n['local_gb_used'] ?? 0);
    const host = n['host'] as string;
    return {
      host, nodename: n['hypervisor_hostname'], uuid: n['uuid'], cellUuid: cell.uuid, hypervisorType: n['hypervisor_type'] ?? 'fake',
      vcpusTotal: Number(n['vcpus']), vcpusUsed: r['VCPU']?.used ?? Number(n['vcpus_used'] ?? 0),
      totalUsableRamMb: Number(n['memory_mb']), freeRamMb: memCap - memUsed, freeDiskMb: (diskCap - diskUsed) * 1024,
      cpuAllocationRatio: cpuRatio, ramAllocationRatio: ramRatio, diskAllocationRatio: diskRatio,
      aggregates: aggs.filter((a) => a.hosts.includes(host)),
      instances: new Set(this.instanceInfo.get(host) ?? []),
      serviceUp: svc ? !svc['forced_down'] && isServiceUp(svc['last_seen_up'] ?? svc['updated_at'] ?? svc['created_at'], this.serviceDownTimeSec) : false,
      serviceDisabled: svc ? Boolean(svc['disabled']) : true,
      numInstances: (this.instanceInfo.get(host) ?? new Set()).size,
    };
  }

  private async loadAggregates(): Promise<AggregateInfo[]> {
    if (this.aggregates) return this.aggregates;
    const [aggs, hosts, meta] = await Promise.all([
      this.api.db.selectFrom('aggregates').selectAll().execute(),
      this.api.db.selectFrom('aggregate_hosts').selectAll().execute(),
      this.api.db.selectFrom('aggregate_metadata').selectAll().execute(),
    ]);
    this.aggregates = aggs.map((a) => ({
      id: a['id'], name: a['name'],
      hosts: hosts.filter((h) => h['aggregate_id'] === a['id']).map((h) => h['host']),
      metadata: Object.fromEntries(meta.filter((m) => m['aggregate_id'] === a['id']).map((m) => [m['key'], m['value']])),
    }));
    return this.aggregates;
  }

  addInstance(host: string, uuid: string): void {
    if (!this.instanceInfo.has(host)) this.instanceInfo.set(host, new Set());
    this.instanceInfo.get(host)!.add(uuid);
  }

  // ---- fanout updates from computes and nova-api ----
  updateInstanceInfo(host: string, uuids: string[]): void {
    for (const u of uuids) this.addInstance(host, u);
  }
  deleteInstanceInfo(host: string, uuid: string): void {
    this.instanceInfo.get(host)?.delete(uuid);
  }
  syncInstanceInfo(host: string, uuids: string[]): void {
    this.instanceInfo.set(host, new Set(uuids));
  }
  /** Aggregates changed (update_aggregates / delete_aggregate fanout): reload on next use. */
  invalidateAggregates(): void {
    this.aggregates = null;
  }
}
