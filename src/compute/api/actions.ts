/**
 * POST /servers/{id}/action (nova/api/openstack/compute/servers.py + the action extensions):
 * each action checks states like `check_instance_state`, records the instance action, moves
 * the task state with a compare-and-swap and casts to the host.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RequestContext } from '../../common/context.js';
import { badRequest } from '../../common/errors.js';
import { validate } from '../../common/http/validation.js';
import { imageIdFromRef, type ComputeApiFacade } from '../api.js';
import { InstanceAction } from '../objects/instance-action.js';
import { TaskState, VmState } from '../states.js';
import { compactIpv6 } from './access-ip.js';
import { baseUrl, boolParam, bookmarkUrl, mapErrors, mv, requireAdmin } from './common.js';
import type { ProxyAction } from './proxies.js';
import * as apiDb from '../db/api-api.js';
import * as cellApi from '../db/cell-api.js';
import type { Cell } from '../cells.js';
import type { Instance } from '../objects/instance.js';
import { lockV273, rebuild as rebuildSchema } from './schemas/servers.js';
import { serverAfterChange } from './servers.js';

type Handler = (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, body: any) => Promise<unknown>;

const { ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR, RESCUED } = VmState;

export function registerServerActions(app: FastifyInstance, compute: ComputeApiFacade, proxyActions: Map<string, ProxyAction> = new Map()): void {
  const simple = (action: string, method: string, vmStates: string[], newTask: string, cast: (rpc: any, inst: any, ctx: FastifyRequest['ctx']) => Promise<void>, o: { checkLock?: boolean } = {}): Handler =>
    async (req, reply) => {
      await mapErrors(action, req.params.id, () => compute.action(req.ctx, req.params.id, { action: method, method, vmStates, newTaskState: newTask, cast: (rpc, i) => cast(rpc, i, req.ctx), ...o }));
      reply.code(202);
      return null;
    };

  const handlers: Record<string, Handler> = {
    'os-stop': simple('stop', 'stop', [ACTIVE, ERROR], TaskState.POWERING_OFF, (rpc, i, ctx) => rpc.stopInstance(ctx, i)),
    'os-start': simple('start', 'start', [STOPPED], TaskState.POWERING_ON, (rpc, i, ctx) => rpc.startInstance(ctx, i)),
    pause: simple('pause', 'pause', [ACTIVE], TaskState.PAUSING, (rpc, i, ctx) => rpc.pauseInstance(ctx, i)),
    unpause: simple('unpause', 'unpause', [PAUSED], TaskState.UNPAUSING, (rpc, i, ctx) => rpc.unpauseInstance(ctx, i)),
    suspend: simple('suspend', 'suspend', [ACTIVE], TaskState.SUSPENDING, (rpc, i, ctx) => rpc.suspendInstance(ctx, i)),
    resume: simple('resume', 'resume', [SUSPENDED], TaskState.RESUMING, (rpc, i, ctx) => rpc.resumeInstance(ctx, i)),
    unrescue: simple('unrescue', 'unrescue', [RESCUED], TaskState.UNRESCUING, (rpc, i, ctx) => rpc.unrescueInstance(ctx, i)),

    reboot: async (req, reply, body) => {
      validate({ type: 'object', properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } }, required: ['type'], additionalProperties: false }, body);
      const hard = String(body.type).toUpperCase() === 'HARD';
      await mapErrors('reboot', req.params.id, () => compute.action(req.ctx, req.params.id, {
        action: 'reboot', method: 'reboot', vmStates: hard ? [ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR] : [ACTIVE],
        taskStates: hard
          ? [null, TaskState.REBOOTING, TaskState.REBOOT_PENDING, TaskState.REBOOT_STARTED, TaskState.REBOOTING_HARD, TaskState.RESUMING, TaskState.UNPAUSING, TaskState.PAUSING, TaskState.SUSPENDING]
          : [null],
        newTaskState: hard ? TaskState.REBOOTING_HARD : TaskState.REBOOTING,
        cast: (rpc, i) => rpc.rebootInstance(req.ctx, i, hard ? 'HARD' : 'SOFT'),
      }));
      reply.code(202);
      return null;
    },

    lock: async (req, reply, body) => {
      if (mv(req, '2.73')) validate(lockV273, body ?? null);
      const reason = mv(req, '2.73') && body && typeof body === 'object' ? (body.locked_reason ?? null) : null;
      await mapErrors('lock', req.params.id, () => compute.setLocked(req.ctx, req.params.id, true, reason));
      reply.code(202);
      return null;
    },
    unlock: async (req, reply) => {
      await mapErrors('unlock', req.params.id, () => compute.setLocked(req.ctx, req.params.id, false, null));
      reply.code(202);
      return null;
    },

    forceDelete: async (req, reply) => {
      await mapErrors('forceDelete', req.params.id, () => compute.delete(req.ctx, req.params.id, true));
      reply.code(202);
      return null;
    },

    rebuild: async (req, reply, body) => {
      validate(rebuildSchema({ description: mv(req, '2.19'), keyName: mv(req, '2.54'), userData: mv(req, '2.57'), trustedCerts: mv(req, '2.63'), hostname: mv(req, '2.90') }), body);
      const imageId = imageIdFromRef(body.imageRef);
      // 2.54: key_name replaces the key pair (null removes it); looked up among the caller's.
      let keyPair: { name: string | null; data: string | null } | null = null;
      if (mv(req, '2.54') && 'key_name' in body) {
        if (body.key_name === null) keyPair = { name: null, data: null };
        else {
          const kp = await apiDb.keypairGet(compute.api, req.ctx.userId ?? '', body.key_name);
          if (!kp) throw badRequest('Invalid key_name provided.', { type: 'KeypairNotFound' });
          keyPair = { name: kp['name'], data: kp['public_key'] };
        }
      }
      const setCerts = mv(req, '2.63') && 'trusted_image_certificates' in body;
      if (setCerts && body.trusted_image_certificates?.length) {
        const cur = await mapErrors('rebuild', req.params.id, () => compute.get(req.ctx, req.params.id));
        if (await isVolumeBacked(cur.instance, cur.cell)) {
          throw badRequest('Image signature certificate validation failed for certificate: None. Image certificate validation is not supported for volume-backed servers.', { type: 'CertificateValidationFailed' });
        }
      }
      if (compute.glance) {
        const img = await compute.glance.show(req.ctx, imageId);
        if (!img) throw badRequest('Cannot find image for rebuild');
        if (img['status'] !== 'active') throw badRequest(`Image ${imageId} is not active.`);
      }
      const pass = body.adminPass ?? randomPass();
      let orig = '';
      const inst = await mapErrors('rebuild', req.params.id, () => compute.action(req.ctx, req.params.id, {
        action: 'rebuild', method: 'rebuild', vmStates: [ACTIVE, STOPPED, ERROR], newTaskState: TaskState.REBUILDING,
        prepare: (i) => {
          orig = i.image_ref;
          i.image_ref = imageId;
          // servers.py attr_map + translate_attributes(REBUILD): only the keys given change.
          if (body.name !== undefined) i.display_name = body.name;
          if (body.metadata !== undefined) i.metadata = body.metadata;
          if (body.description !== undefined) i.display_description = body.description;
          if (body.accessIPv4 !== undefined) i.access_ip_v4 = body.accessIPv4;
          if (body.accessIPv6 !== undefined) i.access_ip_v6 = compactIpv6(body.accessIPv6);
          if (body['OS-DCF:diskConfig'] !== undefined) i.auto_disk_config = body['OS-DCF:diskConfig'] === 'AUTO';
          if (keyPair) { i.key_name = keyPair.name; i.key_data = keyPair.data; }
          if (mv(req, '2.57') && 'user_data' in body) i.user_data = body.user_data;
          if (mv(req, '2.90') && body.hostname !== undefined) i.hostname = body.hostname;
          if (setCerts) i.trusted_certs = body.trusted_image_certificates?.length ? { ids: [...body.trusted_image_certificates] } : null;
          i.progress = 0;
        },
        cast: (rpc, i) => rpc.rebuildInstance(req.ctx, i, { image_ref: imageId, orig_image_ref: orig, new_pass: pass, preserve_ephemeral: boolParam(body.preserve_ephemeral) ?? false }),
      }));
      reply.code(202);
      // servers.py _add_location: the rebuilt server's self link.
      reply.header('Location', `${baseUrl(req)}/servers/${inst.uuid}`);
      const loc = await compute.find({ readDeleted: 'no' }, inst.uuid);
      const server = await serverAfterChange(req, compute, inst, loc?.cell ?? null, { rebuild: true });
      if (mv(req, '2.54')) server['key_name'] = inst.key_name ?? null;
      if (mv(req, '2.57')) server['user_data'] = inst.user_data ?? null;
      return { server: { ...server, adminPass: pass } };
    },

    createImage: async (req, reply, body) => {
      validate({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, metadata: { type: 'object' } } }, body);
      const loc = await mapErrors('createImage', req.params.id, () => compute.get(req.ctx, req.params.id));
      const i0 = loc.instance;
      if (!compute.glance) throw badRequest('Image service is not available');
      // Check the state before creating anything in Glance.
      await mapErrors('createImage', req.params.id, async () => {
        const { checkInstanceState } = await import('../api.js');
        checkInstanceState(i0, 'snapshot', [ACTIVE, STOPPED, PAUSED, SUSPENDED], [null], false);
      });
      const base = i0.image_ref ? await compute.glance.show(req.ctx, i0.image_ref).catch(() => null) : null;
      const props: Record<string, unknown> = {
        name: body.name, container_format: base?.['container_format'] ?? 'bare', disk_format: base?.['disk_format'] ?? 'qcow2',
        visibility: 'private', min_ram: base?.['min_ram'] ?? 0, min_disk: Math.max(base?.['min_disk'] ?? 0, i0.root_gb ?? 0),
        instance_uuid: i0.uuid, image_type: 'snapshot', user_id: req.ctx.userId ?? '', base_image_ref: i0.image_ref ?? '',
        ...Object.fromEntries(Object.entries(body.metadata ?? {}).map(([k, v]) => [k, String(v)])),
      };
      const image = await compute.glance.create(req.ctx, props);
      try {
        await mapErrors('createImage', req.params.id, () => compute.action(req.ctx, req.params.id, {
          action: 'createImage', method: 'snapshot', vmStates: [ACTIVE, STOPPED, PAUSED, SUSPENDED], newTaskState: TaskState.IMAGE_SNAPSHOT, mustHaveLaunched: false,
          cast: (rpc, i) => rpc.snapshotInstance(req.ctx, i, image['id']),
        }));
      } catch (e) {
        await compute.glance.delete(req.ctx, image['id']).catch(() => undefined);
        throw e;
      }
      reply.code(202);
      if (mv(req, '2.45')) return { image_id: image['id'] };
      reply.header('Location', `${bookmarkUrl(req)}/images/${image['id']}`);
      return null;
    },

    rescue: async (req, reply, body) => {
      validate(rescueSchema, body ?? null);
      const pass = body?.adminPass ?? randomPass();
      // Volume-backed servers: from 2.87, and only on a host reporting COMPUTE_RESCUE_BFV.
      const cur = await mapErrors('rescue', req.params.id, () => compute.get(req.ctx, req.params.id));
      if (await isVolumeBacked(cur.instance, cur.cell)) {
        const why = !mv(req, '2.87') ? 'Cannot rescue a volume-backed instance'
          : !(await hostRescuesBfv(compute, cur.instance, cur.cell)) ? 'Host unable to rescue a volume-backed instance' : null;
        if (why) throw badRequest(`Instance ${cur.instance.uuid} cannot be rescued: ${why}`, { type: 'InstanceNotRescuable' });
      }
      await mapErrors('rescue', req.params.id, () => compute.action(req.ctx, req.params.id, {
        action: 'rescue', method: 'rescue', vmStates: [ACTIVE, STOPPED, ERROR], newTaskState: TaskState.RESCUING,
        cast: (rpc, i) => rpc.rescueInstance(req.ctx, i, pass, body?.rescue_image_ref ?? null),
      }));
      reply.code(200);
      return { adminPass: pass };
    },

    'os-resetState': async (req, reply, body) => {
      requireAdmin(req, 'os_compute_api:os-admin-actions:reset_state');
      validate({ type: 'object', required: ['state'], properties: { state: { type: 'string', enum: ['active', 'error'] } }, additionalProperties: false }, body);
      const loc = await mapErrors('os-resetState', req.params.id, () => compute.get(req.ctx, req.params.id));
      if (loc.cell) await InstanceAction.actionStart(loc.cell.backend, req.ctx, req.params.id, 'resetState');
      loc.instance.vm_state = body.state;
      loc.instance.task_state = null;
      await mapErrors('os-resetState', req.params.id, () => compute.saveInstance(req.ctx, loc));
      reply.code(202);
      return null;
    },
  };

  app.post<{ Params: { id: string } }>('/servers/:id/action', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) throw badRequest('Malformed request body');
    const name = Object.keys(body)[0]!;
    const proxied = proxyActions.get(name);
    if (proxied) {
      await mapErrors(name, req.params.id, () => proxied(req, (body as Record<string, unknown>)[name]));
      reply.code(202);
      return null;
    }
    const h = handlers[name];
    if (!h) throw badRequest(`There is no such action: ${name}`);
    return h(req, reply, (body as Record<string, unknown>)[name]);
  });
}

function randomPass(): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let s = '';
  for (let i = 0; i < 12; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

const rescueSchema = {
  type: ['object', 'null'],
  properties: { adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } },
  additionalProperties: false,
};

/** Whether the compute node provider of the instance has the COMPUTE_RESCUE_BFV trait. */
async function hostRescuesBfv(compute: ComputeApiFacade, inst: Instance, cell: Cell | null): Promise<boolean> {
  if (!cell || !inst.host || !compute.placement) return false;
  const cn = await cell.db.db.selectFrom('compute_nodes').select('uuid').where('host', '=', inst.host)
    .where('hypervisor_hostname', '=', inst.node ?? inst.host).where('deleted', '=', 0).executeTakeFirst();
  if (!cn?.['uuid']) return false;
  return (await compute.placement.getProviderTraits(RequestContext.admin(), cn['uuid'])).includes('COMPUTE_RESCUE_BFV');
}

/** compute_utils.is_volume_backed_instance: no image, or the boot disk is a volume. */
export async function isVolumeBacked(inst: Instance, cell: Cell | null): Promise<boolean> {
  if (!inst.image_ref) return true;
  if (!cell) return false;
  const bdms = await cellApi.bdmList(cell.db, inst.uuid);
  return bdms.some((b) => Number(b['boot_index']) === 0 && b['destination_type'] === 'volume');
}
