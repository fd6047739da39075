/**
 * Nova's Cinder client (nova/volume/cinder.py): volumes and the attachments API (3.44) with
 * the user's token when the request carries one (the service token rides along), Nova's own
 * service token otherwise. URLs are built for the instance's project, as Nova's
 * `/v3/{project_id}` catalog template is.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { RemoteHttpError, type Session } from '../../common/http/client.js';

/** The attachments API with `os-complete` (Queens). */
export const ATTACHMENT_MICROVERSION = '3.44';

export class CinderAPI {
  constructor(private readonly session: Session, private readonly opts: { pollIntervalMs?: number } = {}) {}

  private async base(projectId: string): Promise<string> {
    const ep = await this.session.endpointFor('volumev3');
    return `${ep.replace(/\/v3(\/.*)?$/, '')}/v3/${projectId}`;
  }

  private ro(ctx: RequestContext, extra: Record<string, unknown> = {}) {
    return { ...(ctx.authToken ? { ctx, userToken: ctx.authToken } : { ctx }), microversion: ATTACHMENT_MICROVERSION, microversionService: 'volume', ...extra };
  }

  private project(ctx: RequestContext, projectId?: string | null): string {
    const p = projectId ?? ctx.projectId;
    if (!p) throw new Error('a project is needed to talk to Cinder');
    return p;
  }

  /** The volume, or null when Cinder says 404. */
  async get(ctx: RequestContext, volumeId: string, projectId?: string | null): Promise<Record<string, any> | null> {
    const r = await this.session.get<any>(await this.base(this.project(ctx, projectId)), `/volumes/${encodeURIComponent(volumeId)}`, this.ro(ctx, { okStatuses: [404] }));
    return r.status === 404 ? null : r.body.volume;
  }

  /** Volume types the caller can see (nova's `get_all_volume_types`). */
  async volumeTypes(ctx: RequestContext): Promise<{ id: string; name: string }[]> {
    const r = await this.session.get<any>(await this.base(this.project(ctx)), '/types', this.ro(ctx));
    return r.body.volume_types ?? [];
  }

  async create(ctx: RequestContext, projectId: string, v: { size: number; name?: string; imageRef?: string | null; availability_zone?: string | null; volume_type?: string | null; snapshot_id?: string | null }): Promise<Record<string, any>> {
    const body: Record<string, unknown> = { size: v.size, name: v.name ?? '' };
    if (v.imageRef) body['imageRef'] = v.imageRef;
    if (v.availability_zone) body['availability_zone'] = v.availability_zone;
    if (v.volume_type) body['volume_type'] = v.volume_type;
    if (v.snapshot_id) body['snapshot_id'] = v.snapshot_id;
    const r = await this.session.post<any>(await this.base(projectId), '/volumes', this.ro(ctx, { body: { volume: body } }));
    return r.body.volume;
  }

  async delete(ctx: RequestContext, projectId: string, volumeId: string): Promise<void> {
    await this.session.delete(await this.base(projectId), `/volumes/${volumeId}`, this.ro(ctx, { okStatuses: [404] }));
  }

  /** Polls until the volume leaves `creating`/`downloading` (nova's `_await_block_device_map_created`). */
  async waitUntilCreated(ctx: RequestContext, projectId: string, volumeId: string, attempts = 120): Promise<Record<string, any>> {
    for (let i = 0; i < attempts; i++) {
      const v = await this.get(ctx, volumeId, projectId);
      if (!v) throw new Error(`Volume ${volumeId} could not be found.`);
      if (v['status'] === 'available') return v;
      if (v['status'] !== 'creating' && v['status'] !== 'downloading') {
        throw new Error(`Volume ${volumeId} did not finish being created even after we waited ${i} attempts. And its status is ${v['status']}.`);
      }
      await new Promise((r) => setTimeout(r, this.opts.pollIntervalMs ?? 250));
    }
    throw new Error(`Volume ${volumeId} did not finish being created even after we waited ${attempts} attempts.`);
  }

  /** POST /attachments: without a connector the volume becomes `reserved`. */
  async attachmentCreate(ctx: RequestContext, projectId: string, volumeId: string, instanceUuid: string, connector: Record<string, unknown> | null = null): Promise<Record<string, any>> {
    const attachment: Record<string, unknown> = { volume_uuid: volumeId, instance_uuid: instanceUuid };
    if (connector) attachment['connector'] = connector;
    const r = await this.session.post<any>(await this.base(projectId), '/attachments', this.ro(ctx, { body: { attachment } }));
    return r.body.attachment;
  }

  /** PUT /attachments/{id} with the host's connector: `attaching`, returns connection_info. */
  async attachmentUpdate(ctx: RequestContext, projectId: string, attachmentId: string, connector: Record<string, unknown>): Promise<Record<string, any>> {
    const r = await this.session.put<any>(await this.base(projectId), `/attachments/${attachmentId}`, this.ro(ctx, { body: { attachment: { connector } } }));
    return r.body.attachment;
  }

  /** os-complete: the volume goes `in-use`. */
  async attachmentComplete(ctx: RequestContext, projectId: string, attachmentId: string): Promise<void> {
    await this.session.post(await this.base(projectId), `/attachments/${attachmentId}/action`, this.ro(ctx, { body: { 'os-complete': null } }));
  }

  /** DELETE /attachments/{id}: `available` again when it was the last one. A missing attachment is fine. */
  async attachmentDelete(ctx: RequestContext, projectId: string, attachmentId: string): Promise<void> {
    await this.session.delete(await this.base(projectId), `/attachments/${attachmentId}`, this.ro(ctx, { okStatuses: [404] }));
  }

  private async action(ctx: RequestContext, projectId: string, volumeId: string, body: Record<string, unknown>): Promise<void> {
    await this.session.post(await this.base(projectId), `/volumes/${volumeId}/action`, this.ro(ctx, { body }));
  }
  /** `in-use` -> `detaching`. */
  async beginDetaching(ctx: RequestContext, projectId: string, volumeId: string): Promise<void> {
    await this.action(ctx, projectId, volumeId, { 'os-begin_detaching': {} });
  }
  /** `detaching` -> `in-use` (the detach did not happen). */
  async rollDetaching(ctx: RequestContext, projectId: string, volumeId: string): Promise<void> {
    await this.action(ctx, projectId, volumeId, { 'os-roll_detaching': {} });
  }
}

/** Cinder's answer as a status + message, for turning into Nova's faults. */
export function cinderError(e: unknown): { status: number; message: string } | null {
  return e instanceof RemoteHttpError ? { status: e.status, message: e.message } : null;
}
