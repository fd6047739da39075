/**
 * /servers/{id}/os-volume_attachments (nova/api/openstack/compute/volumes.py
 * `VolumeAttachmentController`, nova/compute/api.py `attach_volume` / `detach_volume`):
 * attach 200 with the attachment, list, show, detach 202; openstack-flows §3. Also fills
 * `os-extended-volumes:volumes_attached` of the server views from the cell's BDMs.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../common/context.js';
import { ApiError, badRequest, notFound } from '../../common/errors.js';
import { validateBody, validateQuery } from '../../common/http/validation.js';
import { checkInstanceState, type ComputeApiFacade, type Located } from '../api.js';
import { BlockDeviceMapping, VolumeBDMNotFound } from '../objects/block-device.js';
import { InstanceAction } from '../objects/instance-action.js';
import { VmState } from '../states.js';
import { cinderError, type CinderAPI } from '../volume/cinder.js';
import { rowsForUuids } from '../db/instance-list.js';
import { mapErrors, mv, requireAdmin } from './common.js';

/** vm_states an attach or detach accepts (check_instance_state in nova/compute/api.py). */
const VOLUME_VM_STATES = [VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED, VmState.RESIZED, VmState.SOFT_DELETED, VmState.SHELVED, VmState.SHELVED_OFFLOADED];

const volumeId = { type: 'string', format: 'uuid' };
const device = { type: ['string', 'null'], pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' };
const tag = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
/** parameter_types.boolean */
const boolean = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
};
const attachSchema = (extra: Record<string, unknown>, withDevice = true) => ({
  type: 'object',
  properties: {
    volumeAttachment: {
      type: 'object', properties: { volumeId, ...(withDevice ? { device } : {}), ...extra }, required: ['volumeId'], additionalProperties: false,
    },
  },
  required: ['volumeAttachment'], additionalProperties: false,
});
export const ATTACH_SCHEMAS = [
  { schema: attachSchema({}), max: '2.48' },
  { schema: attachSchema({ tag }), min: '2.49', max: '2.78' },
  { schema: attachSchema({ tag, delete_on_termination: boolean }), min: '2.79' },
];
/** PUT: below 2.85 only the swap's volumeId; from 2.85 the GET fields may be echoed back. */
export const UPDATE_SCHEMAS = [
  { schema: attachSchema({}, false), max: '2.84' },
  { schema: attachSchema({ tag, delete_on_termination: boolean, serverId: { type: 'string', format: 'uuid' }, id: { type: 'string', format: 'uuid' } }), min: '2.85' },
];
const indexQueryProps = { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, offset: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } } };
const INDEX_QUERY = [
  { schema: { type: 'object', properties: indexQueryProps, additionalProperties: true }, max: '2.74' },
  { schema: { type: 'object', properties: indexQueryProps, additionalProperties: false }, min: '2.75' },
];
const TRUE_STRINGS = ['true', '1', 'on', 'yes'];
/** oslo's bool_from_string(strict) over a value the schema already restricted. */
const toBool = (v: boolean | string): boolean => (typeof v === 'boolean' ? v : TRUE_STRINGS.includes(v.toLowerCase()));

/**
 * _translate_attachment_detail_view (list and show): `device` only when known (a volume
 * attached while shelved-offloaded has none yet); 2.70 `tag`; 2.79 `delete_on_termination`;
 * 2.89 `attachment_id` and `bdm_uuid` instead of `id`.
 */
export function attachmentView(req: FastifyRequest, bdm: BlockDeviceMapping): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!mv(req, '2.89')) out['id'] = bdm.volume_id;
  out['volumeId'] = bdm.volume_id;
  out['serverId'] = bdm.instance_uuid;
  if (bdm.device_name) out['device'] = bdm.device_name;
  if (mv(req, '2.70')) out['tag'] = bdm.tag ?? null;
  if (mv(req, '2.79')) out['delete_on_termination'] = Boolean(bdm.delete_on_termination);
  if (mv(req, '2.89')) {
    out['attachment_id'] = bdm.attachment_id;
    out['bdm_uuid'] = bdm.uuid;
  }
  return out;
}

/** The attach answer: always `device` (null when not known yet); never the 2.89 fields (as upstream). */
function createdView(req: FastifyRequest, serverId: string, bdm: BlockDeviceMapping, requested: { tag: string | null; delete_on_termination: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = { id: bdm.volume_id, serverId, volumeId: bdm.volume_id, device: bdm.device_name ?? null };
  if (mv(req, '2.70')) out['tag'] = requested.tag;
  if (mv(req, '2.79')) out['delete_on_termination'] = requested.delete_on_termination;
  return out;
}

export class VolumeAttachmentsApi {
  constructor(private readonly compute: ComputeApiFacade, private readonly cinder: CinderAPI) {}

  private async located(ctx: RequestContext, serverId: string): Promise<Located & { cell: NonNullable<Located['cell']> }> {
    const loc = await this.compute.get(ctx, serverId);
    if (!loc.cell) throw new ApiError(409, `Cannot 'attach_volume' instance ${serverId} while it is in vm_state building`, { type: 'InstanceInvalidState' });
    return loc as Located & { cell: NonNullable<Located['cell']> };
  }

  async list(ctx: RequestContext, serverId: string): Promise<BlockDeviceMapping[]> {
    const loc = await this.compute.get(ctx, serverId);
    if (!loc.cell) return [];
    return (await BlockDeviceMapping.listByInstance(loc.cell.backend, ctx, serverId)).filter((b) => b.volume_id);
  }

  async show(ctx: RequestContext, serverId: string, volId: string): Promise<BlockDeviceMapping> {
    const loc = await this.compute.get(ctx, serverId);
    if (!loc.cell) throw notFound(`volume_id not found: ${volId}`);
    try {
      return await BlockDeviceMapping.getByVolumeAndInstance(loc.cell.backend, ctx, volId, serverId);
    } catch (e) {
      if (e instanceof VolumeBDMNotFound) throw notFound(`volume_id not found: ${volId}`);
      throw e;
    }
  }

  /** nova.compute.api.API.attach_volume (the new-style flow with Cinder 3.44 attachments). */
  async attach(ctx: RequestContext, serverId: string, a: { volumeId: string; device?: string | null; tag?: string | null; delete_on_termination?: boolean; supportsMultiattach?: boolean }): Promise<BlockDeviceMapping> {
    const loc = await this.located(ctx, serverId);
    const inst = loc.instance;
    this.compute.checkLocked(ctx, inst);
    checkInstanceState(inst, 'attach_volume', VOLUME_VM_STATES, [null], true);
    const volume = await this.cinder.get(ctx, a.volumeId, inst.project_id);
    if (!volume) throw notFound(`Volume ${a.volumeId} could not be found.`, { type: 'VolumeNotFound' });
    const multiattach = Boolean(volume['multiattach']);
    await this.checkNotAttached(ctx, loc.cell, inst.uuid, a.volumeId, multiattach);
    if (inst.vm_state === VmState.SHELVED_OFFLOADED) {
      // No compute to ask whether it can tag devices or share volumes until the unshelve.
      if (a.tag) throw badRequest('Tagged volume attachment is not supported for shelved-offloaded instances.', { type: 'VolumeTaggedAttachToShelvedNotSupported' });
      if (multiattach) throw badRequest('Attaching multiattach volumes is not supported for shelved-offloaded instances.', { type: 'MultiattachToShelvedNotSupported' });
    }
    // check_attach_and_reserve_volume
    if (multiattach && !a.supportsMultiattach) throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.', { type: 'MultiattachNotSupportedOldMicroversion' });
    const usable = multiattach ? ['available', 'in-use'] : ['available'];
    if (!usable.includes(String(volume['status']))) {
      throw badRequest(`Invalid volume: volume '${a.volumeId}' status must be 'available'. Currently in '${volume['status']}'`, { type: 'InvalidVolume' });
    }
    if (inst.vm_state === VmState.SHELVED_OFFLOADED) return this.attachShelvedOffloaded(ctx, loc, a);

    const rpc = await this.compute.computeRpcFor(loc.cell);
    const bdm = (await rpc.reserveBlockDeviceName(ctx, inst, {
      device: a.device ?? null, volume_id: a.volumeId, disk_bus: null, device_type: null, tag: a.tag ?? null, multiattach,
      delete_on_termination: a.delete_on_termination ?? false,
    })) as BlockDeviceMapping;
    bdm.backend = loc.cell.backend;
    try {
      const att = await this.cinder.attachmentCreate(ctx, inst.project_id, a.volumeId, inst.uuid);
      bdm.attachment_id = att['id'];
      await bdm.save(ctx);
    } catch (e) {
      await bdm.destroy(ctx).catch(() => undefined);
      throw cinderFault(e);
    }
    await InstanceAction.actionStart(loc.cell.backend, ctx, inst.uuid, 'attach_volume');
    await rpc.attachVolume(ctx, inst, bdm);
    return bdm;
  }

  /**
   * _check_volume_already_attached: never twice on one server; a volume that is not
   * multiattach on no other server either (Cinder would let an admin's reset through).
   */
  private async checkNotAttached(ctx: RequestContext, cell: NonNullable<Located['cell']>, instanceUuid: string, volId: string, multiattach: boolean): Promise<void> {
    void ctx;
    const rows = await cell.db.db.selectFrom('block_device_mapping').select(['instance_uuid'])
      .where('volume_id', '=', volId).where('deleted', '=', 0).orderBy('id').execute();
    if (!rows.length) return;
    if (!multiattach) {
      throw badRequest(`Invalid volume: volume ${volId} is already attached to instances: ${rows.map((r) => r['instance_uuid']).join(' ')}`, { type: 'InvalidVolume' });
    }
    if (rows.some((r) => r['instance_uuid'] === instanceUuid)) throw badRequest(`Invalid volume: volume ${volId} already attached`, { type: 'InvalidVolume' });
  }

  /** PUT with the attached volume's own id (2.85): only delete_on_termination may change. */
  async update(ctx: RequestContext, serverId: string, volId: string, att: Record<string, unknown>): Promise<void> {
    const loc = await this.compute.get(ctx, serverId);
    const bdm = loc.cell ? await BlockDeviceMapping.getByVolumeAndInstance(loc.cell.backend, ctx, volId, serverId).catch(() => null) : null;
    if (!bdm) throw notFound(`No volume Block Device Mapping with id ${volId}.`, { type: 'VolumeBDMNotFound' });
    if ('id' in att && att['id'] !== volId) throw badRequest('The id property is not mutable');
    if ('serverId' in att && att['serverId'] !== serverId) throw badRequest('The serverId property is not mutable');
    if ('device' in att && att['device'] !== bdm.device_name) throw badRequest('The device property is not mutable');
    if ('tag' in att && att['tag'] !== bdm.tag) throw badRequest('The tag property is not mutable');
    if ('delete_on_termination' in att) bdm.delete_on_termination = toBool(att['delete_on_termination'] as boolean | string);
    await bdm.save(ctx);
  }

  /**
   * The swap (a different volumeId): Nova only does it when Cinder asks, as part of migrating
   * the old volume. Stratus's Cinder does not migrate in-use volumes, so the volume is never
   * in migration and the answer is Nova's 409 for that case.
   */
  async swap(ctx: RequestContext, serverId: string, oldVolId: string): Promise<never> {
    const loc = await this.compute.get(ctx, serverId);
    const old = await this.cinder.get(ctx, oldVolId, loc.instance.project_id);
    if (!old) throw notFound(`Volume ${oldVolId} could not be found.`, { type: 'VolumeNotFound' });
    throw new ApiError(409, `volume ${oldVolId} is not migrating; this API should only be called by Cinder`);
  }

  /** No host to do it: the BDM is made here and the attachment completed without a connector. */
  private async attachShelvedOffloaded(ctx: RequestContext, loc: Located & { cell: NonNullable<Located['cell']> }, a: { volumeId: string; device?: string | null; tag?: string | null; delete_on_termination?: boolean }): Promise<BlockDeviceMapping> {
    const inst = loc.instance;
    const bdm = new BlockDeviceMapping();
    bdm.backend = loc.cell.backend;
    bdm.update({
      instance_uuid: inst.uuid, source_type: 'volume', destination_type: 'volume', volume_id: a.volumeId, device_name: null, boot_index: null,
      device_type: 'disk', disk_bus: null, delete_on_termination: a.delete_on_termination ?? false, tag: a.tag ?? null, no_device: false,
    });
    await InstanceAction.actionStart(loc.cell.backend, ctx, inst.uuid, 'attach_volume');
    await bdm.create(ctx);
    try {
      const att = await this.cinder.attachmentCreate(ctx, inst.project_id, a.volumeId, inst.uuid);
      bdm.attachment_id = att['id'];
      await bdm.save(ctx);
      await this.cinder.attachmentComplete(ctx, inst.project_id, att['id']);
    } catch (e) {
      if (bdm.attachment_id) await this.cinder.attachmentDelete(ctx, inst.project_id, bdm.attachment_id).catch(() => undefined);
      await bdm.destroy(ctx).catch(() => undefined);
      throw cinderFault(e);
    }
    return bdm;
  }

  /** nova.compute.api.API.detach_volume. */
  async detach(ctx: RequestContext, serverId: string, volId: string): Promise<void> {
    const loc = await this.located(ctx, serverId);
    const inst = loc.instance;
    this.compute.checkLocked(ctx, inst);
    const volume = await this.cinder.get(ctx, volId, inst.project_id);
    if (!volume) throw notFound(`Volume ${volId} could not be found.`, { type: 'VolumeNotFound' });
    const bdm = await BlockDeviceMapping.getByVolumeAndInstance(loc.cell.backend, ctx, volId, inst.uuid).catch(() => null);
    if (!bdm) throw notFound(`Instance ${inst.uuid} is not attached to volume ${volId}`);
    if (bdm.isRoot) throw badRequest('Cannot detach a root device volume');
    checkInstanceState(inst, 'detach_volume', VOLUME_VM_STATES, [null], true);
    if (inst.vm_state === VmState.SHELVED_OFFLOADED) {
      await InstanceAction.actionStart(loc.cell.backend, ctx, inst.uuid, 'detach_volume');
      if (bdm.attachment_id) await this.cinder.attachmentDelete(ctx, inst.project_id, bdm.attachment_id).catch((e) => { throw cinderFault(e); });
      await bdm.destroy(ctx);
      return;
    }
    try {
      await this.cinder.beginDetaching(ctx, inst.project_id, volId);
    } catch (e) {
      throw cinderFault(e);
    }
    const attachmentId = bdm.attachment_id
      ?? ((volume['attachments'] ?? []) as { server_id: string; attachment_id: string }[]).find((x) => x.server_id === inst.uuid)?.attachment_id ?? null;
    await InstanceAction.actionStart(loc.cell.backend, ctx, inst.uuid, 'detach_volume');
    const rpc = await this.compute.computeRpcFor(loc.cell);
    await rpc.detachVolume(ctx, inst, volId, attachmentId);
  }

  /** `os-extended-volumes:volumes_attached` for servers of any cell: uuid -> volumes. */
  volumesAttached(uuids: string[]): Promise<Map<string, AttachedVolume[]>> {
    return volumesAttached(this.compute, uuids);
  }
}

export interface AttachedVolume { id: string; delete_on_termination: boolean }

/** `os-extended-volumes:volumes_attached` for servers of any cell: uuid -> volumes (one query per cell and 1,000 servers). */
export async function volumesAttached(compute: ComputeApiFacade, uuids: string[]): Promise<Map<string, AttachedVolume[]>> {
  const out = new Map<string, AttachedVolume[]>();
  if (!uuids.length) return out;
  for (const cell of await compute.cells.all()) {
    for (let i = 0; i < uuids.length; i += 1000) {
      const rows = await rowsForUuids(cell.db.db, 'block_device_mapping', ['instance_uuid', 'volume_id', 'delete_on_termination'], 'instance_uuid',
        uuids.slice(i, i + 1000), { notDeleted: true, notNull: 'volume_id', orderById: 'asc' });
      for (const r of rows) {
        let l = out.get(r['instance_uuid']);
        if (!l) out.set(r['instance_uuid'], (l = []));
        l.push({ id: r['volume_id'], delete_on_termination: Boolean(r['delete_on_termination']) });
      }
    }
  }
  return out;
}

/** Cinder's refusal becomes Nova's (400 for a volume in the wrong state, 404 when gone). */
function cinderFault(e: unknown): unknown {
  const c = cinderError(e);
  if (!c) return e;
  if (c.status === 404) return notFound(c.message, { type: 'VolumeNotFound' });
  if (c.status === 400 || c.status === 409) return badRequest(`Invalid volume: ${c.message}`, { type: 'InvalidVolume' });
  return new ApiError(c.status >= 500 ? 500 : c.status, c.message);
}

export function registerVolumeAttachments(app: FastifyInstance, compute: ComputeApiFacade, cinder: CinderAPI): void {
  const api = new VolumeAttachmentsApi(compute, cinder);
  const P = '/servers/:server_id/os-volume_attachments';
  type Params = { server_id: string; id: string };

  app.get(P, async (req: FastifyRequest<{ Params: Params }>) => {
    const q = validateQuery(req, INDEX_QUERY);
    let all = await mapErrors('index', req.params.server_id, () => api.list(req.ctx, req.params.server_id));
    const offset = q['offset'] ? Number(q['offset'].at(-1)) : 0;
    const limit = q['limit'] ? Number(q['limit'].at(-1)) : all.length;
    all = all.slice(offset, offset + limit);
    // 2.89 needs the attachment id: a mapping still being made is left out.
    if (mv(req, '2.89')) all = all.filter((b) => b.attachment_id);
    return { volumeAttachments: all.map((b) => attachmentView(req, b)) };
  });

  app.get(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const bdm = await mapErrors('show', req.params.server_id, () => api.show(req.ctx, req.params.server_id, req.params.id));
    if (mv(req, '2.89') && !bdm.attachment_id) throw notFound(`Instance ${req.params.server_id} is not attached to volume ${req.params.id}`);
    return { volumeAttachment: attachmentView(req, bdm) };
  });

  app.post(P, async (req: FastifyRequest<{ Params: Params }>) => {
    const body = validateBody<{ volumeAttachment: { volumeId: string; device?: string | null; tag?: string; delete_on_termination?: boolean | string } }>(req, ATTACH_SCHEMAS);
    const v = body.volumeAttachment;
    const serverId = req.params.server_id;
    const loc = await mapErrors('attach_volume', serverId, () => compute.get(req.ctx, serverId));
    // Shelved servers take volumes from 2.20 on (_check_request_version).
    if (!mv(req, '2.20') && (loc.instance.vm_state === VmState.SHELVED || loc.instance.vm_state === VmState.SHELVED_OFFLOADED)) {
      throw new ApiError(409, `Cannot 'attach_volume' instance ${serverId} while it is in vm_state ${loc.instance.vm_state}`, { type: 'InstanceInvalidState' });
    }
    const dot = v.delete_on_termination === undefined ? false : toBool(v.delete_on_termination);
    const t = v.tag ?? null;
    const bdm = await mapErrors('attach_volume', serverId, () => api.attach(req.ctx, serverId, {
      volumeId: v.volumeId, device: v.device ?? null, tag: t, delete_on_termination: dot, supportsMultiattach: mv(req, '2.60'),
    }));
    return { volumeAttachment: createdView(req, serverId, bdm, { tag: t, delete_on_termination: dot }) };
  });

  // 2.85: PUT with the same volumeId updates the attachment; a different one is Cinder's swap.
  app.put(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const body = validateBody<{ volumeAttachment: Record<string, unknown> & { volumeId: string } }>(req, UPDATE_SCHEMAS);
    const serverId = req.params.server_id;
    const att = body.volumeAttachment;
    const loc = await mapErrors('swap_volume', serverId, () => compute.get(req.ctx, serverId));
    const onlySwap = !mv(req, '2.85');
    const swapping = onlySwap || att.volumeId !== req.params.id;
    if (swapping) requireAdmin(req, 'os_compute_api:os-volumes-attachments:swap');
    else if (!req.ctx.isAdmin && req.ctx.projectId !== loc.instance.project_id) requireAdmin(req, 'os_compute_api:os-volumes-attachments:update');
    if (!onlySwap) await mapErrors('update', serverId, () => api.update(req.ctx, serverId, req.params.id, att));
    if (swapping) await mapErrors('swap_volume', serverId, () => api.swap(req.ctx, serverId, req.params.id));
    reply.code(202);
    return reply.send();
  });

  app.delete(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    await mapErrors('detach_volume', req.params.server_id, () => api.detach(req.ctx, req.params.server_id, req.params.id));
    return reply.code(202).send();
  });

  // The server view of GET /servers/{id} leaves volumes_attached empty; fill it from the BDMs
  // (one query per cell). GET /servers/detail reads them itself (servers.ts, volumesAttached).
  app.addHook('preSerialization', async (req: FastifyRequest, _reply, payload: unknown) => {
    if (req.method !== 'GET') return payload;
    const url = req.routeOptions.url ?? '';
    if (!url.endsWith('/servers/:id')) return payload;
    const p = payload as { server?: Record<string, unknown>; servers?: Record<string, unknown>[] } | null;
    const servers = p?.server ? [p.server] : p?.servers ?? [];
    const withKey = servers.filter((s) => 'os-extended-volumes:volumes_attached' in s);
    if (!withKey.length) return payload;
    const vols = await api.volumesAttached(withKey.map((s) => String(s['id'])));
    for (const s of withKey) {
      const list = vols.get(String(s['id'])) ?? [];
      s['os-extended-volumes:volumes_attached'] = list.map((v) => (mv(req, '2.3') ? v : { id: v.id }));
    }
    return payload;
  });
}
