/**
 * /v3/{project_id}/os-volume-transfer: hand a volume (and its snapshots) to another project.
 * The giver gets a one-time `auth_key`; only its salted hash is stored (`cinder/transfer/api.py`).
 * Volume `available -> awaiting-transfer -> available` (new owner) or back on delete.
 * @module
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import type { CinderAPI } from '../api.js';
import { nowIso } from '../db/api.js';
import { checkQuota, quotaSet } from '../quota.js';
import { invalidVolume, links, volumeNotFound } from './common.js';

const P = '/v3/:project_id/os-volume-transfer';
type Params = { project_id: string; id: string };

interface TransferRow {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  source_project_id: string;
  destination_project_id: string | null;
  accepted: number;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

const hashKey = (salt: string, key: string) => createHash('sha256').update(`${salt}${key}`).digest('hex');

const createSchema = {
  type: 'object',
  properties: {
    transfer: {
      type: 'object',
      properties: { volume_id: { type: 'string', format: 'uuid' }, name: { type: ['string', 'null'], maxLength: 255 } },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['transfer'],
  additionalProperties: false,
};
const acceptSchema = {
  type: 'object',
  properties: {
    accept: { type: 'object', properties: { auth_key: { type: 'string', minLength: 1 } }, required: ['auth_key'], additionalProperties: false },
  },
  required: ['accept'],
  additionalProperties: false,
};

export function registerTransferRoutes(app: FastifyInstance, api: CinderAPI): void {
  const view = (req: FastifyRequest, t: TransferRow, detail: boolean) => ({
    id: t.id, ...(detail ? { created_at: t.created_at } : {}), name: t.display_name, volume_id: t.volume_id,
    links: links(req, t.source_project_id, 'os-volume-transfer', t.id),
  });
  const notFound = (id: string) => new ApiError(404, `Transfer ${id} could not be found.`, { type: 'TransferNotFound' });
  const get = async (req: FastifyRequest, id: string, anyProject = false): Promise<TransferRow> => {
    const t = await api.db.db.selectFrom('transfers').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() as TransferRow | undefined;
    if (!t || (!anyProject && !req.ctx.isAdmin && t.source_project_id !== req.ctx.projectId)) throw notFound(id);
    return t;
  };
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    let q = api.db.db.selectFrom('transfers').selectAll().where('deleted', '=', 0);
    if (!req.ctx.isAdmin) q = q.where('source_project_id', '=', req.ctx.projectId ?? '');
    const rows = await q.orderBy('created_at', 'desc').execute() as TransferRow[];
    return { transfers: rows.map((t) => view(req, t, detail)) };
  };
  app.get(P, list(false));
  app.get(`${P}/detail`, list(true));
  app.get(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>) => ({ transfer: view(req, await get(req, req.params.id), true) }));

  app.post(P, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const b = validateBody<{ transfer: { volume_id: string; name?: string | null } }>(req, createSchema).transfer;
    const v = await api.getVolume(req.ctx, b.volume_id);
    const authKey = randomBytes(8).toString('hex');
    const salt = randomBytes(8).toString('hex');
    const t: TransferRow = {
      id: randomUUID(), volume_id: v.id, display_name: b.name ?? null, salt, crypt_hash: hashKey(salt, authKey), source_project_id: v.project_id,
      destination_project_id: null, accepted: 0, created_at: nowIso(), updated_at: null, deleted: 0,
    };
    await api.db.database.transaction(async (trx) => {
      const ok = await api.db.updateVolume(v.id, { status: 'awaiting-transfer' }, ['available'], trx as any);
      if (!ok) throw invalidVolume(`Status of volume ${v.id} must be available, but current status is: ${v.status}.`);
      await trx.insertInto('transfers').values(t).execute();
    });
    reply.code(202);
    return { transfer: { ...view(req, t, true), auth_key: authKey } };
  });

  app.delete(`${P}/:id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const t = await get(req, req.params.id);
    await api.db.database.transaction(async (trx) => {
      await trx.updateTable('transfers').set({ deleted: 1, updated_at: nowIso() }).where('id', '=', t.id).execute();
      await api.db.updateVolume(t.volume_id, { status: 'available' }, ['awaiting-transfer'], trx as any);
    });
    return reply.code(202).send();
  });

  app.post(`${P}/:id/accept`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const t = await get(req, req.params.id, true);
    const key = validateBody<{ accept: { auth_key: string } }>(req, acceptSchema).accept.auth_key;
    const want = Buffer.from(t.crypt_hash);
    const got = Buffer.from(hashKey(t.salt, key));
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw new ApiError(400, `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`, { type: 'InvalidAuthKey' });
    }
    const v = await api.db.getVolume(t.volume_id);
    if (!v) throw volumeNotFound(t.volume_id);
    const to = req.ctx.projectId ?? '';
    const snaps = await api.db.listSnapshots(null, v.id);
    await api.db.database.transaction(async (trx) => {
      const limits = quotaSet(await api.db.effectiveQuotas(to, trx as any), []);
      checkQuota(limits, await api.db.usage(to, trx as any), { volumes: 1, gigabytes: v.size + snaps.reduce((n, s) => n + s.volume_size, 0), size: v.size });
      const ok = await api.db.updateVolume(v.id, { status: 'available', project_id: to, user_id: req.ctx.userId }, ['awaiting-transfer'], trx as any);
      if (!ok) throw invalidVolume(`Status of volume ${v.id} must be awaiting-transfer, but current status is: ${v.status}.`);
      await trx.updateTable('snapshots').set({ project_id: to, user_id: req.ctx.userId, updated_at: nowIso() }).where('volume_id', '=', v.id).where('deleted', '=', 0).execute();
      await trx.updateTable('transfers').set({ deleted: 1, accepted: 1, destination_project_id: to, updated_at: nowIso() }).where('id', '=', t.id).execute();
    });
    reply.code(202);
    return { transfer: { id: t.id, name: t.display_name, volume_id: t.volume_id, links: links(req, to, 'os-volume-transfer', t.id) } };
  });
}
