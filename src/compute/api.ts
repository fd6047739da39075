/**
 * The compute API facade (nova/compute/api.py) the REST controllers call: validates a boot
 * against Glance, Neutron and the quotas, writes the build records, casts to the
 * super-conductor; finds servers across cells; moves task states with compare-and-swap before
 * casting actions to the instance's host on its cell's bus.
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../common/context.js';
import type { Database } from '../common/db/connection.js';
import { ApiError, badRequest, conflict, notFound } from '../common/errors.js';
import { getLogger } from '../common/log.js';
import { isServiceUp } from '../common/service.js';
import type { ComputeTaskAPI } from '../conductor/rpcapi.js';
import type { SchedulerReportClient } from '../scheduler/client/report.js';
import type { Cell, CellRegistry } from './cells.js';
import * as apiDb from './db/api-api.js';
import * as cellApi from './db/cell-api.js';
import * as hostApi from './db/host-api.js';
import { InstanceInvalidState, UnexpectedTaskStateError } from './exception.js';
import type { GlanceAPI } from './image/glance.js';
import { toImageMeta } from './image/glance.js';
import type { NeutronAPI, RequestedNetwork } from './network/neutron.js';
import { fromPrimitive } from './objects/base.js';
import { Flavor } from './objects/flavor.js';
import { Instance } from './objects/instance.js';
import { InstanceAction } from './objects/instance-action.js';
import { RequestSpec, type ImageMeta } from './objects/request-spec.js';
import { checkDeltas, countUsage, projectLimits } from './quota.js';
import type { ComputeAPI } from './rpcapi.js';
import type { ExternalEvent } from './rpcapi.js';
import { PowerState, TaskState, VmState } from './states.js';

const log = getLogger('nova-api');

export interface CreateServerRequest {
  name: string;
  description?: string | null;
  imageRef?: string;
  flavorRef: string;
  min_count?: number;
  max_count?: number;
  return_reservation_id?: boolean;
  key_name?: string | null;
  metadata?: Record<string, string>;
  user_data?: string | null;
  networks?: RequestedNetwork[] | 'auto' | 'none' | null;
  availability_zone?: string | null;
  security_groups?: string[];
  config_drive?: boolean;
  adminPass?: string | null;
  disk_config?: string;
  accessIPv4?: string | null;
  accessIPv6?: string | null;
  block_device_mapping_v2?: Record<string, unknown>[];
  scheduler_hints?: Record<string, unknown>;
  tags?: string[];
  /** 2.63: certificate ids for image signature validation (not for volume-backed servers). */
  trusted_certs?: string[] | null;
  /** 2.74: a destination the scheduler must pick (filters still run). */
  requested_host?: string | null;
  requested_hypervisor_hostname?: string | null;
  /** 2.90: the hostname, instead of one made from the display name. */
  hostname?: string | null;
  /** The request's microversion is >= 2.60 (multiattach volumes may be named); unset: not checked. */
  supports_multiattach?: boolean;
}

/** A server found through its mapping: in a cell, or still only a build request. */
export interface Located {
  instance: Instance;
  cell: Cell | null;
}

export class ComputeApiFacade {
  /** Volume part of a local delete (compute/volume/local-delete.ts); set when Nova has a Cinder. */
  localDeleteVolumes: ((ctx: RequestContext, inst: Instance, cell: Cell) => Promise<void>) | null = null;
  /** Boot-time checks of the volumes a request names (compute/volume/boot-check.ts). */
  checkBootVolumes: ((ctx: RequestContext, bdms: Record<string, unknown>[], supportsMultiattach?: boolean) => Promise<void>) | null = null;

  constructor(
    readonly api: Database,
    readonly cells: CellRegistry,
    readonly computeTasks: ComputeTaskAPI,
    readonly computeRpcFor: (cell: Cell) => Promise<ComputeAPI>,
    readonly glance: GlanceAPI | null,
    readonly neutron: NeutronAPI | null,
    readonly placement: SchedulerReportClient | null,
  ) {}

  // ------------------------------------------------------------------ create

  async create(ctx: RequestContext, req: CreateServerRequest): Promise<{ instances: Instance[]; reservationId: string; adminPass: string }> {
    const flavorRow = await apiDb.flavorGetByFlavorId(this.api, flavorIdFromRef(req.flavorRef));
    if (!flavorRow || (flavorRow['disabled'] && !ctx.isAdmin)) throw badRequest('Flavor could not be found.', { type: 'FlavorNotFound' });
    const flavor = new Flavor().update(flavorRow);
    const bdms = req.block_device_mapping_v2 ?? [];
    const bootFromVolume = bdms.some((b) => Number(b['boot_index']) === 0 && b['destination_type'] === 'volume');
    let image: ImageMeta = { id: '', properties: {} };
    const imageRef = req.imageRef ? imageIdFromRef(req.imageRef) : (bdms.find((b) => Number(b['boot_index']) === 0 && b['source_type'] === 'image')?.['uuid'] as string | undefined);
    if (imageRef) image = await this.checkImage(ctx, imageRef, flavor, bootFromVolume);
    else if (!bootFromVolume) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.', { type: 'InvalidBDMBootSequence' });
    if (bootFromVolume && req.trusted_certs?.length) {
      throw badRequest('Image signature certificate validation failed for certificate: None. Image certificate validation is not supported when booting from volume', { type: 'CertificateValidationFailed' });
    }
    const requestedBdms = bootBdms(bdms, bootFromVolume ? null : rootBdm(image.id, flavor));
    await this.checkBootVolumes?.(ctx, requestedBdms, req.supports_multiattach);

    let keyData: string | null = null;
    if (req.key_name) {
      const kp = await apiDb.keypairGet(this.api, ctx.userId!, req.key_name);
      if (!kp) throw badRequest('Invalid key_name provided.', { type: 'KeypairNotFound' });
      keyData = kp['public_key'];
    }
    const minCount = req.min_count ?? 1;
    const maxCount = req.max_count ?? minCount;
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    if (req.hostname && maxCount > 1) throw badRequest('Unable to allocate a single hostname to multiple instances', { type: 'AmbiguousHostnameForMultipleInstances' });
    if (req.requested_host || req.requested_hypervisor_hostname) await this.validateHostOrNode(req.requested_host ?? null, req.requested_hypervisor_hostname ?? null);

    const requested = await this.validateNetworks(ctx, req.networks ?? null, maxCount);
    const securityGroups = req.security_groups?.length ? [...new Set(req.security_groups)] : ['default'];
    if (this.neutron && requested.length) await this.neutron.securityGroupIds(ctx, ctx.projectId!, securityGroups);

    // Quota: count every cell, compare with API-DB limits.
    const limits = await projectLimits(this.api, ctx.projectId!);
    const usage = await countUsage(this.cells, ctx.projectId!);
    let count = maxCount;
    const fits = (n: number) => {
      try { checkDeltas(limits, usage, { instances: n, cores: n * flavor.vcpus, ram: n * flavor.memory_mb }); return true; } catch { return false; }
    };
    while (count > minCount && !fits(count)) count--;
    checkDeltas(limits, usage, { instances: count, cores: count * flavor.vcpus, ram: count * flavor.memory_mb });
    if (req.metadata && Object.keys(req.metadata).length > limits['metadata_items']!) {
      throw new ApiError(403, 'Quota exceeded for metadata_items: Requested ' + Object.keys(req.metadata).length + ', but already used 0 of ' + limits['metadata_items'] + ' metadata_items', { type: 'OverQuota' });
    }

    const group = await this.serverGroupFromHints(req.scheduler_hints ?? {});
    const reservationId = `r-${randomBytes(4).toString('hex').replace(/[^a-z0-9]/g, '').slice(0, 8).padEnd(8, '0')}`;
    const adminPass = req.adminPass ?? generatePassword();
    const now = new Date().toISOString();
    const instances: Instance[] = [];
    const specs: RequestSpec[] = [];
    const records: apiDb.BuildRecords[] = [];
    for (let i = 0; i < count; i++) {
      const uuid = randomUUID();
      const displayName = count > 1 ? `${req.name}-${i + 1}` : req.name;
      const inst = new Instance();
      inst.update({
        uuid, user_id: ctx.userId, project_id: ctx.projectId, image_ref: bootFromVolume ? '' : image.id, hostname: req.hostname || sanitizeHostname(displayName, uuid),
        launch_index: i, key_name: req.key_name ?? null, key_data: keyData, power_state: PowerState.NOSTATE, vm_state: VmState.BUILDING,
        task_state: TaskState.SCHEDULING, memory_mb: flavor.memory_mb, vcpus: flavor.vcpus, root_gb: flavor.root_gb,
        ephemeral_gb: flavor.ephemeral_gb, host: null, node: null, instance_type_id: flavor.id, user_data: req.user_data ?? null,
        reservation_id: reservationId, launched_at: null, terminated_at: null, availability_zone: req.availability_zone ?? null,
        display_name: displayName, display_description: req.description ?? null, launched_on: null, locked: false, locked_by: null,
        config_drive: req.config_drive ? 'True' : '', access_ip_v4: req.accessIPv4 ?? null, access_ip_v6: req.accessIPv6 ?? null,
        auto_disk_config: req.disk_config === 'AUTO', progress: 0, root_device_name: null, created_at: now, updated_at: null,
        deleted_at: null, deleted: false,
      });
      inst.flavor = flavor;
      inst.metadata = { ...(req.metadata ?? {}) };
      inst.system_metadata = { image_base_image_ref: image.id, image_min_ram: String(image.min_ram ?? 0), image_min_disk: String(image.min_disk ?? 0), network_allocated: 'False' };
      inst.trusted_certs = req.trusted_certs?.length ? { ids: [...req.trusted_certs] } : null;
      inst.info_cache = { network_info: [] };
      inst.tags = [...new Set(req.tags ?? [])];
      inst.fault = null;
      const spec = new RequestSpec();
      spec.update({
        image, project_id: ctx.projectId, user_id: ctx.userId, availability_zone: req.availability_zone ?? null, num_instances: count,
        ignore_hosts: null, force_hosts: null, force_nodes: null, retry: null, limits: null, instance_group: group,
        scheduler_hints: normalizeHints(req.scheduler_hints ?? {}), instance_uuid: uuid, security_groups: securityGroups, is_bfv: bootFromVolume,
        requested_destination: req.requested_host || req.requested_hypervisor_hostname
          ? { host: req.requested_host ?? null, node: req.requested_hypervisor_hostname ?? null } : null,
      });
      spec.flavor = flavor;
      if (req.availability_zone?.includes(':')) {
        // "az:host[:node]" pins the host (admin only in nova's policy).
        const [az, host, node] = req.availability_zone.split(':');
        inst.availability_zone = az || null;
        spec.availability_zone = az || null;
        if (host) spec.force_hosts = [host];
        if (node) spec.force_nodes = [node];
      }
      instances.push(inst);
      specs.push(spec);
      records.push({
        instance_uuid: uuid, project_id: ctx.projectId!, user_id: ctx.userId!, spec: spec.toPrimitive(), instance: inst.toDict(),
        block_device_mappings: requestedBdms, tags: inst.tags,
      });
    }
    await apiDb.buildRecordsCreate(this.api, records);
    if (group) {
      const g = await this.api.db.selectFrom('instance_groups').select('id').where('uuid', '=', group.uuid).executeTakeFirst();
      if (g) await this.api.db.insertInto('instance_group_member').values(instances.map((i) => ({ instance_uuid: i.uuid, group_id: g['id'], created_at: now }))).execute();
    }
    await this.computeTasks.scheduleAndBuildInstances(ctx, {
      build_requests: instances.map((i) => ({ instance_uuid: i.uuid, instance: i })),
      request_specs: specs, image, admin_password: adminPass, injected_files: [], requested_networks: requested,
      block_device_mapping: instances.map(() => requestedBdms), tags: req.tags ?? [],
    });
    return { instances, reservationId, adminPass };
  }

  /** _validate_host_or_node: the host must have a host mapping, the node a compute node. */
  private async validateHostOrNode(host: string | null, node: string | null): Promise<void> {
    if (host) {
      const hm = await apiDb.hostMappingGet(this.api, host);
      if (!hm) throw badRequest(`Compute host ${host} could not be found.`, { type: 'ComputeHostNotFound' });
      if (node) {
        const cell = await this.cells.byId(hm['cell_id']);
        const cn = await cell.db.db.selectFrom('compute_nodes').select('id').where('host', '=', host).where('hypervisor_hostname', '=', node).where('deleted', '=', 0).executeTakeFirst();
        if (!cn) throw badRequest(`Compute host ${host} could not be found.`, { type: 'ComputeHostNotFound' });
      }
      return;
    }
    if (node) {
      for (const cell of await this.cells.computeCells()) {
        const cn = await cell.db.db.selectFrom('compute_nodes').select('id').where('hypervisor_hostname', '=', node).where('deleted', '=', 0).executeTakeFirst().catch(() => undefined);
        if (cn) return;
      }
      throw badRequest(`Compute host ${node} could not be found.`, { type: 'ComputeHostNotFound' });
    }
  }

  private async checkImage(ctx: RequestContext, imageId: string, flavor: Flavor, bfv: boolean): Promise<ImageMeta> {
    if (!this.glance) return { id: imageId, properties: {} };
    const img = await this.glance.show(ctx, imageId);
    if (!img) throw badRequest(`Image ${imageId} could not be found.`, { type: 'ImageNotFound' });
    if (img['status'] !== 'active') throw badRequest(`Image ${imageId} is not active.`, { type: 'ImageNotActive' });
    const meta = toImageMeta(img);
    if ((meta.min_ram ?? 0) > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.", { type: 'FlavorMemoryTooSmall' });
    if (!bfv && flavor.root_gb > 0) {
      if ((meta.min_disk ?? 0) > flavor.root_gb) throw badRequest("Flavor's disk is too small for requested image.", { type: 'FlavorDiskSmallerThanMinDisk' });
      if (meta.size && meta.size > flavor.root_gb * 1024 ** 3) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, image is ${meta.size} bytes.`, { type: 'FlavorDiskSmallerThanImage' });
    }
    return meta;
  }

  /** validate_networks + the 'auto'/'none'/unspecified rules (nova/network/neutron.py). */
  private async validateNetworks(ctx: RequestContext, nets: CreateServerRequest['networks'], maxCount: number): Promise<RequestedNetwork[]> {
    if (nets === 'none' || !this.neutron) return [];
    if (nets === null || nets === undefined || nets === 'auto' || nets.length === 0) {
      const [own, shared] = await Promise.all([
        this.neutron.listNetworks(ctx, { tenant_id: ctx.projectId!, shared: 'false' }),
        this.neutron.listNetworks(ctx, { shared: 'true' }),
      ]);
      const all = [...own, ...shared.filter((s) => !own.some((o) => o['id'] === s['id']))].filter((n) => !n['router:external']);
      if (all.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.', { type: 'NetworkAmbiguous' });
      if (all.length === 0) {
        if (nets === 'auto') throw badRequest('Unable to automatically allocate a network for project ' + ctx.projectId, { type: 'UnableToAutoAllocateNetwork' });
        return [];
      }
      return [{ network_id: all[0]!['id'] }];
    }
    const out: RequestedNetwork[] = [];
    for (const n of nets) {
      if (n.port_id) {
        if (maxCount > 1) throw badRequest('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.', { type: 'MultiplePortsNotApplicable' });
        const port = await this.neutron.getPort(ctx, n.port_id);
        if (!port) throw badRequest(`Port id ${n.port_id} could not be found.`, { type: 'PortNotFound' });
        if (port['device_id']) throw conflict(`Port ${n.port_id} is still in use.`, { type: 'PortInUse' });
        out.push({ port_id: n.port_id, network_id: port['network_id'], tag: n.tag ?? null });
        continue;
      }
      const net = n.network_id ? await this.neutron.getNetwork(ctx, n.network_id) : null;
      if (!net) throw badRequest(`Network ${n.network_id} could not be found.`, { type: 'NetworkNotFound' });
      if (n.fixed_ip && maxCount > 1) throw badRequest('max_count cannot be greater than 1 if an fixed_ip is specified.');
      out.push({ network_id: n.network_id!, fixed_ip: n.fixed_ip ?? null, tag: n.tag ?? null });
    }
    return out;
  }

  private async serverGroupFromHints(hints: Record<string, unknown>): Promise<RequestSpec['instance_group']> {
    const g = hints['group'];
    if (!g) return null;
    const uuid = Array.isArray(g) ? String(g[0]) : String(g);
    const row = await this.api.db.selectFrom('instance_groups').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    if (!row) throw badRequest(`Instance group ${uuid} could not be found.`, { type: 'InstanceGroupNotFound' });
    const pol = await this.api.db.selectFrom('instance_group_policy').selectAll().where('group_id', '=', row['id']).executeTakeFirst();
    const members = (await this.api.db.selectFrom('instance_group_member').select('instance_uuid').where('group_id', '=', row['id']).execute()).map((m) => m['instance_uuid'] as string);
    const hosts: string[] = [];
    for (const m of members) {
      const loc = await this.find(RequestContextAdmin, m).catch(() => null);
      if (loc?.instance.host) hosts.push(loc.instance.host);
    }
    return { uuid, name: row['name'], policy: pol?.['policy'] ?? 'anti-affinity', rules: pol?.['rules'] ? JSON.parse(pol['rules']) : {}, members, hosts };
  }

  // ------------------------------------------------------------------ read

  /** One server by uuid, wherever it is (cell or build request); 404 otherwise. */
  async get(ctx: RequestContext, uuid: string): Promise<Located> {
    const loc = await this.find(ctx, uuid);
    if (!loc) throw notFound(`Instance ${uuid} could not be found.`, { type: 'InstanceNotFound' });
    if (!ctx.isAdmin && loc.instance.project_id !== ctx.projectId) throw notFound(`Instance ${uuid} could not be found.`, { type: 'InstanceNotFound' });
    return loc;
  }

  async find(ctx: { readDeleted?: string }, uuid: string): Promise<Located | null> {
    const m = await apiDb.instanceMappingGet(this.api, uuid);
    if (!m) return null;
    if (m['cell_id'] === null || m['cell_id'] === undefined) {
      const br = await apiDb.buildRequestGet(this.api, uuid);
      if (!br) return null;
      return { instance: buildRequestInstance(br), cell: null };
    }
    const cell = await this.cells.byId(m['cell_id']);
    try {
      const full = await cellApi.instanceGetByUuid(cell.db, uuid, ctx.readDeleted === 'yes' ? 'yes' : 'no');
      return { instance: Instance.fromFull(full, cell.backend), cell };
    } catch {
      return null;
    }
  }

  /** Build requests of the project (not yet in any cell), as BUILD instances. */
  async buildRequestInstances(projectId: string | null): Promise<Instance[]> {
    const rows = await apiDb.buildRequestList(this.api, projectId ?? undefined);
    return rows.map(buildRequestInstance);
  }

  // ------------------------------------------------------------------ delete

  async delete(ctx: RequestContext, uuid: string, force = false): Promise<void> {
    const loc = await this.get(ctx, uuid);
    const inst = loc.instance;
    if (!loc.cell) {
      // Still a build request: deleting it is the delete; the conductor notices and cleans up.
      if (await apiDb.buildRequestDestroy(this.api, uuid)) {
        await apiDb.instanceMappingQueueForDelete(this.api, uuid);
        await this.placement?.deleteAllocationForInstance(ctx, uuid).catch(() => undefined);
        return;
      }
      const again = await this.find(ctx, uuid);
      if (!again?.cell) return;
      return this.delete(ctx, uuid, force);
    }
    this.checkLocked(ctx, inst);
    const cell = loc.cell;
    await InstanceAction.actionStart(cell.backend, ctx, uuid, force ? 'forceDelete' : 'delete');
    const expected = deletableTaskStates(inst.task_state);
    inst.task_state = TaskState.DELETING;
    try {
      await inst.save(ctx, force ? {} : { expected_task_state: expected });
    } catch (e) {
      if (e instanceof UnexpectedTaskStateError) return; // already being deleted
      throw e;
    }
    await apiDb.instanceMappingQueueForDelete(this.api, uuid);
    if (!cell.isCell0 && inst.host && (await this.isComputeUp(cell, inst.host))) {
      const rpc = await this.computeRpcFor(cell);
      await rpc.terminateInstance(ctx, inst, []);
      return;
    }
    await this.localDelete(ctx, inst, cell);
  }

  /** _local_delete: nobody on a host to do it, so the API cleans up and destroys the record. */
  private async localDelete(ctx: RequestContext, inst: Instance, cell: Cell): Promise<void> {
    await this.localDeleteVolumes?.(ctx, inst, cell).catch((e) => log.warn({ err: e }, 'local delete: volume cleanup failed'));
    if (this.neutron && inst.networkInfo.length) {
      const preserve = new Set(inst.networkInfo.filter((v) => v.preserve_on_delete).map((v) => v.id));
      await this.neutron.deallocateForInstance(ctx, inst.uuid, preserve).catch((e) => log.warn({ err: e }, 'local delete: network cleanup failed'));
    }
    inst.vm_state = VmState.DELETED;
    inst.task_state = null;
    inst.terminated_at = new Date().toISOString();
    await inst.save(ctx);
    await inst.destroy(ctx);
    await this.placement?.deleteAllocationForInstance(ctx, inst.uuid).catch(() => undefined);
    void cell;
  }

  private async isComputeUp(cell: Cell, host: string): Promise<boolean> {
    const svc = await hostApi.serviceGetByHostBinary(cell.db, host, 'nova-compute');
    if (!svc || svc['forced_down']) return false;
    return isServiceUp(svc['last_seen_up'] ?? svc['updated_at'] ?? svc['created_at']);
  }

  checkLocked(ctx: RequestContext, inst: Instance): void {
    if (inst.locked && !ctx.isAdmin) throw conflict(`Instance ${inst.uuid} is locked`, { type: 'InstanceIsLocked' });
  }

  // ------------------------------------------------------------------ actions

  /** check_instance_state + record the action + CAS the task state + cast to the host. */
  async action(ctx: RequestContext, uuid: string, o: {
    action: string; method: string; vmStates: string[] | null; taskStates?: (string | null)[] | null; mustHaveLaunched?: boolean;
    newTaskState: string | null; cast: (rpc: ComputeAPI, inst: Instance) => Promise<void>; checkLock?: boolean; prepare?: (inst: Instance) => void;
  }): Promise<Instance> {
    const loc = await this.get(ctx, uuid);
    const inst = loc.instance;
    if (!loc.cell || loc.cell.isCell0) {
      throw new InstanceInvalidState(`Instance ${uuid} in vm_state ${inst.vm_state}. Cannot ${o.method} while the instance is in this state.`, { attr: 'vm_state', state: inst.vm_state, instance_uuid: uuid, method: o.method });
    }
    if (o.checkLock !== false) this.checkLocked(ctx, inst);
    checkInstanceState(inst, o.method, o.vmStates, o.taskStates === undefined ? [null] : o.taskStates, o.mustHaveLaunched ?? true);
    await InstanceAction.actionStart(loc.cell.backend, ctx, uuid, o.action);
    const expected = inst.task_state;
    inst.task_state = o.newTaskState;
    o.prepare?.(inst);
    await inst.save(ctx, { expected_task_state: expected });
    const rpc = await this.computeRpcFor(loc.cell);
    await o.cast(rpc, inst);
    return inst;
  }

  /** Lock/unlock: API-only state (instance.locked, locked_by owner|admin). */
  async setLocked(ctx: RequestContext, uuid: string, locked: boolean, reason: string | null): Promise<void> {
    const loc = await this.get(ctx, uuid);
    if (!loc.cell) throw new InstanceInvalidState(`Instance ${uuid} in vm_state building. Cannot ${locked ? 'lock' : 'unlock'} while the instance is in this state.`, { attr: 'vm_state', state: 'building', method: locked ? 'lock' : 'unlock' });
    const inst = loc.instance;
    if (!locked && inst.locked && inst.locked_by === 'admin' && !ctx.isAdmin) {
      throw new ApiError(403, `Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`, { type: 'PolicyNotAuthorized' });
    }
    await InstanceAction.actionStart(loc.cell.backend, ctx, uuid, locked ? 'lock' : 'unlock');
    inst.locked = locked;
    inst.locked_by = locked ? (ctx.isAdmin && ctx.projectId !== inst.project_id ? 'admin' : 'owner') : null;
    const sys = { ...inst.system_metadata };
    if (locked && reason) sys['locked_reason'] = reason;
    else delete sys['locked_reason'];
    inst.system_metadata = sys;
    await inst.save(ctx);
  }

  async update(ctx: RequestContext, uuid: string, changes: { display_name?: string; display_description?: string | null; access_ip_v4?: string | null; access_ip_v6?: string | null; hostname?: string }): Promise<Located> {
    const loc = await this.get(ctx, uuid);
    if (!loc.cell) throw conflict(`Instance ${uuid} is not ready yet.`);
    loc.instance.update(changes);
    await loc.instance.save(ctx);
    return loc;
  }

  async saveInstance(ctx: RequestContext, loc: Located): Promise<void> {
    if (!loc.cell) throw conflict(`Cannot update instance ${loc.instance.uuid} while it is being scheduled.`);
    await loc.instance.save(ctx);
  }

  // ------------------------------------------------------------------ external events

  /** os-server-external-events: per-event codes, then one cast per host with its events. */
  async externalInstanceEvent(ctx: RequestContext, events: ExternalEvent[]): Promise<{ event: ExternalEvent & { code: number; server_uuid: string }; }[]> {
    const results: { event: ExternalEvent & { code: number; server_uuid: string } }[] = [];
    const byHost = new Map<string, { cell: Cell; instances: Map<string, Instance>; events: ExternalEvent[] }>();
    for (const ev of events) {
      const out = { ...ev, server_uuid: ev.instance_uuid, code: 200 };
      const loc = await this.find({ readDeleted: 'no' }, ev.instance_uuid).catch(() => null);
      if (!loc) out.code = 404;
      else if (EVENT_TAG_REQUIRED.includes(ev.name) && ev.tag === null) out.code = 400;
      else if (!loc.cell || loc.cell.isCell0 || !loc.instance.host) out.code = 422;
      else {
        // The compute's extend_volume records its event under this action (nova's EXTEND_VOLUME).
        if (ev.name === 'volume-extended') await InstanceAction.actionStart(loc.cell.backend, ctx, loc.instance.uuid, 'extend_volume').catch(() => undefined);
        // power-update (2.76): a start or stop done outside Nova; any other tag is skipped.
        if (ev.name === 'power-update') {
          const action = ev.tag === 'POWER_ON' ? 'start' : ev.tag === 'POWER_OFF' ? 'stop' : null;
          if (!action) {
            log.warn({ instance: ev.instance_uuid, tag: ev.tag }, 'Invalid power state; skipping the power-update event');
            results.push({ event: out });
            continue;
          }
          await InstanceAction.actionStart(loc.cell.backend, ctx, loc.instance.uuid, action).catch(() => undefined);
        }
        const key = `${loc.cell.uuid}|${loc.instance.host}`;
        if (!byHost.has(key)) byHost.set(key, { cell: loc.cell, instances: new Map(), events: [] });
        const g = byHost.get(key)!;
        g.instances.set(loc.instance.uuid, loc.instance);
        g.events.push(ev);
      }
      results.push({ event: out });
    }
    for (const [key, g] of byHost) {
      const host = key.split('|')[1]!;
      const rpc = await this.computeRpcFor(g.cell);
      await rpc.externalInstanceEvent(ctx, host, [...g.instances.values()], g.events);
    }
    return results;
  }
}

/** External events that mean nothing without a tag (the volume, the power state, the ARQ). */
const EVENT_TAG_REQUIRED = ['volume-extended', 'power-update', 'accelerator-request-bound'];

const RequestContextAdmin = { readDeleted: 'no' };

/** nova.compute.api.check_instance_state. */
export function checkInstanceState(inst: Instance, method: string, vmStates: string[] | null, taskStates: (string | null)[] | null, mustHaveLaunched: boolean): void {
  if (vmStates && !vmStates.includes(inst.vm_state)) {
    throw new InstanceInvalidState(`Instance ${inst.uuid} in vm_state ${inst.vm_state}. Cannot ${method} while the instance is in this state.`, { attr: 'vm_state', state: inst.vm_state, instance_uuid: inst.uuid, method });
  }
  if (taskStates && !taskStates.includes(inst.task_state ?? null)) {
    throw new InstanceInvalidState(`Instance ${inst.uuid} in task_state ${inst.task_state}. Cannot ${method} while the instance is in this state.`, { attr: 'task_state', state: inst.task_state, instance_uuid: inst.uuid, method });
  }
  if (mustHaveLaunched && !inst.launched_at) {
    throw new InstanceInvalidState(`Instance ${inst.uuid} in launched_at None. Cannot ${method} while the instance is in this state.`, { attr: 'launched_at', state: 'None', instance_uuid: inst.uuid, method });
  }
}

function deletableTaskStates(current: string | null): (string | null)[] {
  // Any task but a delete already in flight can be overridden by delete.
  return current === TaskState.DELETING ? ['\u0000never'] : [current];
}

function buildRequestInstance(br: Record<string, any>): Instance {
  const data = JSON.parse(br['instance'] ?? '{}');
  const inst = new Instance();
  inst.update(data);
  if (data.flavor) inst.flavor = new Flavor().update(data.flavor);
  inst.info_cache = { network_info: [] };
  inst.tags = JSON.parse(br['tags'] ?? '[]');
  inst.metadata = data.metadata ?? {};
  inst.system_metadata = data.system_metadata ?? {};
  inst.fault = null;
  inst.resetChanges();
  return inst;
}

export function flavorIdFromRef(ref: string): string {
  const s = String(ref);
  return s.includes('/') ? s.replace(/\/+$/, '').split('/').pop()! : s;
}
export function imageIdFromRef(ref: string): string {
  return flavorIdFromRef(ref);
}

/** nova.utils.sanitize_hostname. */
export function sanitizeHostname(name: string, uuid: string): string {
  let h = name.toLowerCase().replace(/[ _]/g, '-').replace(/[^\w.-]+/g, '').replace(/[^a-z0-9.-]/g, '');
  h = h.replace(/^[.-]+|[.-]+$/g, '').slice(0, 63).replace(/[.-]+$/g, '');
  return h || `server-${uuid}`;
}

function generatePassword(len = 12): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const b = randomBytes(len);
  return [...b].map((x) => chars[x % chars.length]).join('');
}

function normalizeHints(h: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
  return out;
}

/**
 * block_device_mapping_v2 of a boot request as BDM records (BlockDeviceDict.from_api): `uuid`
 * becomes image_id / volume_id / snapshot_id by source type; an image root disk (`root`) goes
 * first unless the boot disk is a volume.
 */
function bootBdms(requested: Record<string, unknown>[], root: Record<string, unknown>[] | null): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [...(root ?? [])];
  for (const b of requested) {
    const source = String(b['source_type'] ?? 'volume');
    const dest = String(b['destination_type'] ?? (source === 'volume' ? 'volume' : 'local'));
    const bootIndex = b['boot_index'] === undefined || b['boot_index'] === null ? null : Number(b['boot_index']);
    if (root?.length && bootIndex === 0 && source === 'image' && dest === 'local') continue; // the image root disk already made
    const size = b['volume_size'] === undefined || b['volume_size'] === null || b['volume_size'] === '' ? null : Number(b['volume_size']);
    if (dest === 'volume' && ['image', 'blank'].includes(source) && !size) {
      throw badRequest(`Block Device Mapping is Invalid: Images with destination_type 'volume' need to have a non-zero size specified`, { type: 'InvalidBDM' });
    }
    const uuid = (b['uuid'] as string | undefined) ?? null;
    out.push({
      source_type: source, destination_type: dest, boot_index: bootIndex !== null && bootIndex < 0 ? null : bootIndex,
      image_id: source === 'image' ? uuid ?? b['image_id'] ?? null : null,
      volume_id: source === 'volume' ? uuid ?? b['volume_id'] ?? null : null,
      snapshot_id: source === 'snapshot' ? uuid ?? b['snapshot_id'] ?? null : null,
      volume_size: size, device_name: b['device_name'] ?? null, device_type: b['device_type'] ?? 'disk', disk_bus: b['disk_bus'] ?? null,
      guest_format: b['guest_format'] ?? null, tag: b['tag'] ?? null, volume_type: b['volume_type'] ?? null,
      delete_on_termination: ['true', '1', 'yes', 'on', 't', 'y'].includes(String(b['delete_on_termination'] ?? false).toLowerCase()),
      no_device: Boolean(b['no_device']),
    });
  }
  return out;
}

function rootBdm(imageId: string, flavor: Flavor): Record<string, unknown>[] {
  if (!imageId) return [];
  return [{ source_type: 'image', destination_type: 'local', boot_index: 0, image_id: imageId, delete_on_termination: true, volume_size: flavor.root_gb, device_type: 'disk' }];
}

/** hostId: sha224(project_id + host), '' without a host (nova.api.openstack.compute.views.servers). */
const hostIds = new Map<string, string>();
export function hostId(projectId: string, host: string | null): string {
  if (!host) return '';
  const k = `${projectId}${host}`;
  let h = hostIds.get(k);
  if (!h) {
    h = createHash('sha224').update(k).digest('hex');
    if (hostIds.size > 10_000) hostIds.clear();
    hostIds.set(k, h);
  }
  return h;
}

export { fromPrimitive };
