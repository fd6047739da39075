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
import { mapErrors, mv } from './common.js';

/** vm_states an attach or detach accepts (check_instance_state in nova/compute/api.py). */
const VOLUME_VM_STATES = [VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED, VmState.RESIZED, VmState.SOFT_DELETED, VmState.SHELVED, VmState.SHELVED_OFFLOADED];

const volumeId = { type: 'string', format: 'uuid' };
const device = { type: ['string', 'null'], pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' };
const tag = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
const attachSchema = (extra: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    volumeAttachment: {
      type: 'object', properties: { volumeId, device, ...extra }, required: ['volumeId'], additionalProperties: false,
    },
  },
  required: ['volumeAttachment'], additionalProperties: false,
});
export const ATTACH_SCHEMAS = [
  { schema: attachSchema({}), max: '2.48' },
  { schema: attachSchema({ tag }), min: '2.49', max: '2.78' },
  { schema: attachSchema({ tag, delete_on_termination: { type: ['boolean', 'string'] } }), min: '2.79' },
];
const indexQuery = {
  type: 'object',
  properties: { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } }, offset: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } } },
  additionalProperties: true,
};

/** One attachment as Nova shows it: the volume id is the attachment's id. */
export function attachmentView(req: FastifyRequest, bdm: BlockDeviceMapping): Record<string, unknown> {
  const out: Record<string, unknown> = { id: bdm.volume_id, serverId: bdm.instance_uuid, volumeId: bdm.volume_id, device: bdm.device_name };
  if (mv(req, '2.70')) out['tag'] = bdm.tag ?? null;
  if (mv(req, '2.79')) out['delete_on_termination'] = Boolean(bdm.delete_on_termination);
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
  async attach(ctx: RequestContext, serverId: string, a: { volumeId: string; device?: string | null; tag?: string | null; delete_on_termination?: boolean }): Promise<BlockDeviceMapping> {
    const loc = await this.located(ctx, serverId);
    const inst = loc.instance;
    this.compute.checkLocked(ctx, inst);
    checkInstanceState(inst, 'attach_volume', VOLUME_VM_STATES, [null], true);
    const volume = await this.cinder.get(ctx, a.volumeId, inst.project_id);
    if (!volume) throw notFound(`Volume ${a.volumeId} could not be found.`, { type: 'VolumeNotFound' });
    if (volume['multiattach']) throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.', { type: 'MultiattachNotSupportedOldMicroversion' });
    const existing = await BlockDeviceMapping.getByVolumeAndInstance(loc.cell.backend, ctx, a.volumeId, inst.uuid).catch(() => null);
    if (existing) throw badRequest(`Invalid volume: volume ${a.volumeId} already attached`, { type: 'InvalidVolume' });
    if (volume['status'] !== 'available') {
      throw badRequest(`Invalid volume: volume '${a.volumeId}' status must be 'available'. Currently in '${volume['status']}'`, { type: 'InvalidVolume' });
    }
    if (inst.vm_state === VmState.SHELVED_OFFLOADED) return this.attachShelvedOffloaded(ctx, loc, a);

    const rpc = await this.compute.computeRpcFor(loc.cell);
    const bdm = (await rpc.reserveBlockDeviceName(ctx, inst, {
      device: a.device ?? null, volume_id: a.volumeId, disk_bus: null, device_type: null, tag: a.tag ?? null, multiattach: false,
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
  async volumesAttached(uuids: string[]): Promise<Map<string, { id: string; delete_on_termination: boolean }[]>> {
    const out = new Map<string, { id: string; delete_on_termination: boolean }[]>();
    if (!uuids.length) return out;
    for (const cell of await this.compute.cells.all()) {
      for (let i = 0; i < uuids.length; i += 500) {
        const rows = await cell.db.db.selectFrom('block_device_mapping').select(['instance_uuid', 'volume_id', 'delete_on_termination'])
          .where('instance_uuid', 'in', uuids.slice(i, i + 500)).where('deleted', '=', 0).where('volume_id', 'is not', null).orderBy('id').execute();
        for (const r of rows) {
          if (!out.has(r['instance_uuid'])) out.set(r['instance_uuid'], []);
          out.get(r['instance_uuid'])!.push({ id: r['volume_id'], delete_on_termination: Boolean(r['delete_on_termination']) });
        }
      }
    }
    return out;
  }
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
    const q = validateQuery(req, indexQuery);
    const all = await mapErrors('index', req.params.server_id, () => api.list(req.ctx, req.params.server_id));
    const offset = q['offset'] ? Number(q['offset'].at(-1)) : 0;
    const limit = q['limit'] ? Number(q['limit'].at(-1)) : all.length;
    return { volumeAttachments: all.slice(offset, offset + limit).map((b) => attachmentView(req, b)) };
  });

  app.get(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const bdm = await mapErrors('show', req.params.server_id, () => api.show(req.ctx, req.params.server_id, req.params.id));
    return { volumeAttachment: attachmentView(req, bdm) };
  });

  app.post(P, async (req: FastifyRequest<{ Params: Params }>) => {
    const body = validateBody<{ volumeAttachment: { volumeId: string; device?: string | null; tag?: string; delete_on_termination?: boolean | string } }>(req, ATTACH_SCHEMAS);
    const v = body.volumeAttachment;
    const dot = v.delete_on_termination === undefined ? undefined : ['true', '1', 'yes', 'on', 't', 'y'].includes(String(v.delete_on_termination).toLowerCase());
    const bdm = await mapErrors('attach_volume', req.params.server_id, () => api.attach(req.ctx, req.params.server_id, {
      volumeId: v.volumeId, device: v.device ?? null, tag: v.tag ?? null, ...(dot !== undefined ? { delete_on_termination: dot } : {}),
    }));
    return { volumeAttachment: attachmentView(req, bdm) };
  });

  // Swapping volumes (os-volume_attachments PUT) is an admin move Stratus does not do.
  app.put(`${P}/:id`, async () => {
    throw new ApiError(404, 'The resource could not be found.');
  });

  app.delete(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    await mapErrors('detach_volume', req.params.server_id, () => api.detach(req.ctx, req.params.server_id, req.params.id));
    return reply.code(202).send();
  });

  // The server views leave volumes_attached empty; fill it from the BDMs (one query per cell).
  app.addHook('preSerialization', async (req: FastifyRequest, _reply, payload: unknown) => {
    if (req.method !== 'GET') return payload;
    const url = req.routeOptions.url ?? '';
    if (!url.endsWith('/servers/:id') && !url.endsWith('/servers/detail')) return payload;
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
