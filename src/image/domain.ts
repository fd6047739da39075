/**
 * Glance's image vocabulary: formats, statuses and the status machine
 * (glance/domain/__init__.py `Image.valid_state_targets`), as plain data and pure functions.
 * @module
 */
import { ApiError } from '../common/errors.js';

/** glance/common/config.py `[image_format] container_formats` defaults. */
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
/** glance/common/config.py `[image_format] disk_formats` defaults. */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;

export const IMAGE_STATUSES = [
  'queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated',
] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const VISIBILITIES = ['community', 'public', 'private', 'shared'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export const HASH_ALGO = 'sha512';

/** glance's `image_size_cap` default: 1 TiB. */
export const IMAGE_SIZE_CAP = 1099511627776;

/** `limit_param_default` and `api_limit_max`. */
export const LIMIT_DEFAULT = 25;
export const LIMIT_MAX = 1000;

/** `image_property_quota`, `image_tag_quota`, `image_member_quota` defaults. */
export const PROPERTY_QUOTA = 128;
export const TAG_QUOTA = 128;
export const MEMBER_QUOTA = 128;

/** Import methods this Glance offers (`enabled_import_methods`). */
export const IMPORT_METHODS = ['glance-direct', 'copy-image'] as const;

const VALID_TARGETS: Record<ImageStatus, readonly ImageStatus[]> = {
  queued: ['saving', 'uploading', 'importing', 'active', 'deleted'],
  saving: ['active', 'killed', 'deleted', 'queued'],
  uploading: ['importing', 'queued', 'deleted'],
  importing: ['active', 'deleted', 'queued'],
  active: ['pending_delete', 'deleted', 'deactivated'],
  killed: ['deleted'],
  pending_delete: ['deleted', 'active'],
  deleted: [],
  deactivated: ['active', 'deleted'],
};

/** The image fields the status machine looks at. */
export interface StatusSubject {
  status: ImageStatus;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
}

/**
 * Moves an image to `next` the way glance's `Image.status` setter does: an invalid move is a
 * 409 (InvalidImageStatusTransition), saving data needs both formats (400), queued clears size.
 */
export function transition(image: StatusSubject, next: ImageStatus): void {
  if (!VALID_TARGETS[image.status].includes(next)) {
    throw new ApiError(409, `Image status transition from ${image.status} to ${next} is not allowed`, {
      type: 'InvalidImageStatusTransition',
    });
  }
  if ((image.status === 'queued' || image.status === 'uploading') && ['saving', 'active', 'importing'].includes(next)) {
    const missing = (['disk_format', 'container_format'] as const).filter((k) => !image[k]);
    if (missing.length === 1) throw new ApiError(400, `Property ${missing[0]} must be set prior to saving data.`);
    if (missing.length > 1) throw new ApiError(400, `Properties ${missing.join(', ')} must be set prior to saving data.`);
  }
  if (next === 'queued') {
    image.size = null;
    image.virtual_size = null;
  }
  image.status = next;
}

export function isImageStatus(s: string): s is ImageStatus {
  return (IMAGE_STATUSES as readonly string[]).includes(s);
}
