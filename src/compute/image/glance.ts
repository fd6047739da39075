/**
 * Nova's Glance client (nova/image/glance.py): reads image metadata with the user's token,
 * creates snapshot images, uploads their data.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import type { Session } from '../../common/http/client.js';
import type { ImageMeta } from '../objects/request-spec.js';

const CORE = new Set(['id', 'name', 'status', 'visibility', 'protected', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
  'virtual_size', 'min_ram', 'min_disk', 'disk_format', 'container_format', 'created_at', 'updated_at', 'tags', 'file', 'schema', 'self',
  'direct_url', 'locations', 'os_hidden', 'stores']);

/** Glance v2 image -> Nova's image meta (core fields + `properties`). */
export function toImageMeta(img: Record<string, any>): ImageMeta {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img)) if (!CORE.has(k)) properties[k] = v;
  return {
    id: img['id'], name: img['name'], status: img['status'], min_ram: img['min_ram'] ?? 0, min_disk: img['min_disk'] ?? 0,
    size: img['size'] ?? null, disk_format: img['disk_format'] ?? null, container_format: img['container_format'] ?? null, properties,
  };
}

export class GlanceAPI {
  constructor(private readonly session: Session) {}

  private opts(ctx: RequestContext) {
    return ctx.authToken ? { ctx, userToken: ctx.authToken } : { ctx };
  }

  /** The image, or null when it does not exist (or is not visible to the user). */
  async show(ctx: RequestContext, id: string): Promise<Record<string, any> | null> {
    const r = await this.session.get<any>('image', `/v2/images/${encodeURIComponent(id)}`, { ...this.opts(ctx), okStatuses: [404] });
    return r.status === 404 ? null : r.body;
  }

  async list(ctx: RequestContext, query: Record<string, string> = {}): Promise<Record<string, any>[]> {
    const r = await this.session.get<any>('image', '/v2/images', { ...this.opts(ctx), query });
    return r.body.images;
  }

  async create(ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, any>> {
    const r = await this.session.post<any>('image', '/v2/images', { ...this.opts(ctx), body });
    return r.body;
  }

  async upload(ctx: RequestContext, id: string, data: Buffer): Promise<void> {
    await this.session.put('image', `/v2/images/${id}/file`, { ...this.opts(ctx), rawBody: data, headers: { 'Content-Type': 'application/octet-stream' } });
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    await this.session.delete('image', `/v2/images/${id}`, { ...this.opts(ctx), okStatuses: [404] });
  }
}
