/**
 * Response bodies: glance's `_format_image` and `_format_image_member` views.
 * @module
 */
import type { Image, ImageMember } from '../db/repository.js';

/** glance's `timeutils.isotime`: seconds precision, `Z`. */
export function isotime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** Properties glance keeps for itself and never shows. */
const HIDDEN_PROPERTIES = ['os_glance_stage_host', 'os_glance_hash_op_host'];

export function imageView(image: Image): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image.properties)) if (!HIDDEN_PROPERTIES.includes(k)) view[k] = v ?? '';
  Object.assign(view, {
    name: image.name,
    disk_format: image.disk_format,
    container_format: image.container_format,
    visibility: image.visibility,
    size: image.size,
    virtual_size: image.virtual_size,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.min_ram,
    min_disk: image.min_disk,
    owner: image.owner,
    os_hidden: image.os_hidden,
    os_hash_algo: image.os_hash_algo,
    os_hash_value: image.os_hash_value,
    id: image.id,
    created_at: isotime(image.created_at),
    updated_at: isotime(image.updated_at),
    tags: [...image.tags],
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  });
  return view;
}

export function memberView(m: ImageMember): Record<string, unknown> {
  return {
    member_id: m.member_id,
    image_id: m.image_id,
    status: m.status,
    created_at: isotime(m.created_at),
    updated_at: isotime(m.updated_at),
    schema: '/v2/schemas/member',
  };
}
