/**
 * The image service's facade (glance's ImagesController, ImageDataController,
 * ImageMembersController, tags and actions without the HTTP): every operation takes the
 * caller's RequestContext, checks glance's policies and the status machine, and talks to the
 * repository and the store. REST handlers and `stratus up` both go through here.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import type { RequestContext } from '../common/context.js';
import { ApiError } from '../common/errors.js';
import { getLogger } from '../common/log.js';
import {
  IMAGE_SIZE_CAP, IMPORT_METHODS, PROPERTY_QUOTA, TAG_QUOTA, VISIBILITIES, transition,
  type ImageStatus, type Visibility,
} from './domain.js';
import type { Image, ImageRepository, ListQuery } from './db/repository.js';
import { FilesystemStore, type StoredImage } from './store/filesystem.js';
import { withSpan } from '../common/journey/span.js';
import { ImagePolicy, imageTarget } from './policy.js';
import { RESERVED_NAMESPACE, RESERVED_PROPERTIES, type ImageChange } from './api/patch.js';
import { validateImage } from './api/schemas.js';
import { ImageMemberAPI } from './members.js';
import { parseRange, virtualSize, type DownloadRange } from './data-format.js';


const log = getLogger('glance-api');

/** Attributes of the image itself (`hasattr(image, name)` in glance); the rest are properties. */
const IMAGE_ATTRIBUTES = [
  'name', 'visibility', 'protected', 'os_hidden', 'min_disk', 'min_ram', 'owner', 'disk_format', 'container_format',
  'tags', 'locations', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'status', 'id',
  'created_at', 'updated_at',
];
const DISALLOWED_ON_CREATE = ['direct_url', 'self', 'file', 'schema', 'stores'];
const READONLY_ON_CREATE = ['created_at', 'updated_at', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size'];

export interface Download {
  image: Image;
  /** undefined when the image has no data (glance answers 204). */
  stream?: Readable;
  range?: DownloadRange;
  length: number;
}

export interface ImageAPIOptions {
  repo: ImageRepository;
  store: FilesystemStore;
  /** Where glance-direct imports stage their data (`node_staging_uri`). */
  stagingDir: string;
  policy?: ImagePolicy;
  sizeCap?: number;
}

export class ImageAPI {
  readonly repo: ImageRepository;
  readonly store: FilesystemStore;
  readonly policy: ImagePolicy;
  private readonly stagingDir: string;
  private readonly sizeCap: number;
  /** Imports in flight, so close() can wait for them. */
  private readonly tasks = new Set<Promise<void>>();

  /** The members API (`/v2/images/{id}/members`). */
  readonly members: ImageMemberAPI;

  constructor(o: ImageAPIOptions) {
    this.members = new ImageMemberAPI(this);
    this.repo = o.repo;
    this.store = o.store;
    this.stagingDir = o.stagingDir;
    this.policy = o.policy ?? new ImagePolicy();
    this.sizeCap = o.sizeCap ?? IMAGE_SIZE_CAP;
  }

  /**
   * After a restart nothing is writing any more: an upload caught in `saving` goes back to
   * `queued` (the store never kept its partial file), an import caught in `importing` runs
   * again from its staged data, or goes back to `queued` when that is gone.
   */
  async recoverInterrupted(): Promise<void> {
    for (const id of await this.repo.idsWithStatus(['saving', 'importing'])) {
      const image = await this.repo.get(id);
      if (!image) continue;
      const staged = image.status === 'importing' && (await stat(this.stagingPath(id)).then(() => true, () => false));
      if (staged) this.track(this.runImport(image));
      else await this.restore(image);
    }
  }

  private track(p: Promise<void>): void {
    const task = p.finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
  }

  // ---- images -----------------------------------------------------------------------------------

  async create(ctx: RequestContext, body: unknown): Promise<Image> {
    if (body === undefined) throw new ApiError(400, 'Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      validateImage(body as Record<string, unknown>);
    }
    const input = { ...(body as Record<string, unknown>) };
    for (const k of DISALLOWED_ON_CREATE) if (k in input) throw new ApiError(403, `Attribute '${k}' is read-only.`);
    validateImage(input);
    for (const k of READONLY_ON_CREATE) if (k in input) throw new ApiError(403, `Attribute '${k}' is read-only.`);

    const tags = (input['tags'] as string[] | undefined) ?? [];
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(input)) {
      if (IMAGE_ATTRIBUTES.includes(k) || k === 'tags') continue;
      if (k.length > 255) throw new ApiError(400, 'Custom property should not be greater than 255 characters.');
      if (RESERVED_PROPERTIES.includes(k) || k.startsWith(RESERVED_NAMESPACE)) throw new ApiError(403, `Attribute '${k}' is reserved.`);
      properties[k] = v as string;
    }
    if ('locations' in input) throw new ApiError(403, "Attribute 'locations' is reserved.");

    const owner = 'owner' in input ? (input['owner'] as string | null) : ctx.projectId;
    const visibility = (input['visibility'] as Visibility | undefined) ?? 'shared';
    const target = { project_id: owner, owner, visibility };
    if (!this.policy.allowed('add_image', ctx, target)) {
      if (owner !== ctx.projectId) throw new ApiError(403, `You are not permitted to create images owned by '${owner}'`);
      throw new ApiError(403, 'You are not authorized to complete add_image action.');
    }
    this.policy.enforceVisibility(ctx, visibility, target);

    const minDisk = (input['min_disk'] as number | undefined) ?? 0;
    const minRam = (input['min_ram'] as number | undefined) ?? 0;
    for (const [param, v] of [['min_disk', minDisk], ['min_ram', minRam]] as const) {
      if (v < 0) throw new ApiError(400, `Invalid value '${v}' for parameter '${param}': Cannot be a negative value.`);
    }
    const id = (input['id'] as string | undefined) ?? randomUUID();
    if (await this.repo.get(id, { showDeleted: true })) throw new ApiError(409, `Image with identifier ${id} already exists!`);

    const now = new Date();
    const image: Image = {
      id,
      name: (input['name'] as string | null | undefined) ?? null,
      status: 'queued',
      visibility,
      size: null,
      virtual_size: null,
      disk_format: (input['disk_format'] as string | null | undefined) ?? null,
      container_format: (input['container_format'] as string | null | undefined) ?? null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      owner,
      min_disk: minDisk,
      min_ram: minRam,
      protected: (input['protected'] as boolean | undefined) ?? false,
      os_hidden: (input['os_hidden'] as boolean | undefined) ?? false,
      created_at: now,
      updated_at: now,
      deleted: false,
      deleted_at: null,
      properties,
      tags: [...new Set(tags)],
      locations: [],
    };
    checkQuotas(image);
    await this.repo.create(image);
    return image;
  }

  /** An image the caller may see; anything else is glance's 404. */
  async get(ctx: RequestContext, id: string): Promise<Image> {
    const image = await this.repo.get(id);
    if (!image || !(await this.visible(ctx, image))) throw new ApiError(404, `No image found with ID ${id}`, { type: 'ImageNotFound' });
    return image;
  }

  async show(ctx: RequestContext, id: string): Promise<Image> {
    const image = await this.get(ctx, id);
    this.policy.enforce('get_image', ctx, image);
    return image;
  }

  async list(ctx: RequestContext, q: Omit<ListQuery, 'projectId' | 'isAdmin' | 'marker'> & { marker?: string }): Promise<{ images: Image[]; nextMarker?: string }> {
    if (!this.policy.allowed('get_images', ctx, { project_id: ctx.projectId })) {
      throw new ApiError(403, 'You are not authorized to complete get_images action.');
    }
    let marker: Image | undefined;
    if (q.marker !== undefined) {
      marker = await this.repo.get(q.marker);
      if (!marker || !(await this.visible(ctx, marker))) throw new ApiError(400, `No image found with ID ${q.marker}`);
    }
    const rows = await this.repo.list({ ...q, marker, projectId: ctx.projectId, isAdmin: ctx.isAdmin });
    const images = rows.filter((i) => this.policy.allowed('get_image', ctx, imageTarget(ctx, i)));
    return { images, ...(images.length > 0 && rows.length === q.limit ? { nextMarker: images[images.length - 1]!.id } : {}) };
  }

  async update(ctx: RequestContext, id: string, changes: ImageChange[]): Promise<Image> {
    const image = await this.get(ctx, id);
    for (const change of changes) {
      const root = change.path[0]!;
      if (root === 'visibility') this.policy.enforceVisibility(ctx, change.value, imageTarget(ctx, image));
      this.policy.enforce('modify_image', ctx, image);
      if (change.op === 'remove') this.removeProperty(image, root);
      else this.setProperty(ctx, image, change, root);
    }
    checkQuotas(image);
    if (changes.length) await this.repo.save(image);
    return image;
  }

  private setProperty(ctx: RequestContext, image: Image, change: ImageChange, root: string): void {
    const value = change.value;
    if (root === 'locations') {
      if (change.op === 'replace' && Array.isArray(value) && value.length === 0) throw new ApiError(403, 'Cannot set locations to empty list.');
      const verb = change.op === 'add' ? 'add' : 'update';
      throw new ApiError(403, `It's not allowed to ${verb} locations if locations are invisible.`);
    }
    if (root === 'owner' && change.op === 'replace' && !ctx.isAdmin) throw new ApiError(403, "Owner can't be updated by non admin.");
    const isAttribute = IMAGE_ATTRIBUTES.includes(root);
    if (change.op === 'add' && change.draft === 4 && (isAttribute || root in image.properties)) {
      throw new ApiError(409, `Property ${root} already present.`);
    }
    if (!isAttribute) {
      if (change.op === 'replace' && !(root in image.properties)) throw new ApiError(409, `Property ${root} does not exist.`);
      image.properties[root] = value as string;
      return;
    }
    switch (root) {
      case 'container_format':
      case 'disk_format':
        if (!['queued', 'importing'].includes(image.status)) {
          throw new ApiError(403, `Attribute ${root} can be only replaced for a queued image.`);
        }
        image[root] = value as string | null;
        return;
      case 'min_disk':
      case 'min_ram':
        if ((value as number) < 0) throw new ApiError(400, `Invalid value '${String(value)}' for parameter '${root}': Cannot be a negative value.`);
        image[root] = value as number;
        return;
      case 'tags':
        image.tags = [...new Set(value as string[])];
        return;
      case 'name':
      case 'owner':
        image[root] = value as string | null;
        return;
      case 'visibility':
        if (!(VISIBILITIES as readonly string[]).includes(value as string)) {
          throw new ApiError(400, 'Visibility must be one of "community", "public", "private", or "shared"');
        }
        image.visibility = value as Visibility;
        return;
      case 'protected':
      case 'os_hidden':
        image[root] = value as boolean;
        return;
      default:
        throw new ApiError(403, `Attribute '${root}' is read-only.`);
    }
  }

  private removeProperty(image: Image, root: string): void {
    if (root === 'locations') throw new ApiError(403, "It's not allowed to remove locations if locations are invisible.");
    if (IMAGE_ATTRIBUTES.includes(root)) throw new ApiError(403, `Property ${root} may not be removed.`);
    if (!(root in image.properties)) throw new ApiError(409, `Property ${root} does not exist.`);
    delete image.properties[root];
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const image = await this.repo.get(id);
    if (!image || !(await this.visible(ctx, image))) throw new ApiError(404, `Failed to find image ${id} to delete`);
    this.policy.enforce('delete_image', ctx, image);
    if (image.protected) throw new ApiError(403, `Image ${id} is protected and cannot be deleted.`, { type: 'ProtectedImageDelete' });
    const from = image.status;
    transition(image, 'deleted');
    await this.repo.markDeleted(image, from);
    for (const loc of image.locations) await this.store.delete(loc.url).catch(() => undefined);
    await rm(this.stagingPath(id), { force: true });
  }

  // ---- data -------------------------------------------------------------------------------------

  /** `PUT /v2/images/{id}/file`: queued -> saving -> active, data streamed into the store. */
  async upload(ctx: RequestContext, id: string, data: Readable, size?: number): Promise<Image> {
    const image = await this.get(ctx, id);
    this.policy.enforce('upload_image', ctx, image);
    if (size !== undefined && size > this.sizeCap) {
      throw new ApiError(413, `The incoming image is too large: ${size} exceeds the image size cap of ${this.sizeCap} bytes`);
    }
    const from = image.status;
    transition(image, 'saving');
    await this.repo.save(image, { fromState: from });
    let stored;
    try {
      stored = await this.storeData('store.add', this.store, id, data);
    } catch (e) {
      await this.restore(image);
      throw e;
    }
    return this.activate(image, stored, 'saving');
  }

  private async activate(image: Image, stored: StoredImage, from: ImageStatus): Promise<Image> {
    image.size = stored.size;
    image.virtual_size = virtualSize(image.disk_format, stored.size, stored.head);
    image.checksum = stored.checksum;
    image.os_hash_algo = stored.hashAlgo;
    image.os_hash_value = stored.hashValue;
    image.locations = [{ url: stored.url, metadata: {}, status: 'active' }];
    transition(image, 'active');
    try {
      await this.repo.save(image, { fromState: from });
    } catch {
      // Deleted (or changed) while we were writing: glance answers 410 and drops the data.
      await this.store.delete(stored.url);
      throw new ApiError(410, `Image ${image.id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`);
    }
    return image;
  }

  /** Back to queued after a failed upload, so it can be retried (glance `_restore`). */
  private async restore(image: Image): Promise<void> {
    try {
      const from = image.status;
      transition(image, 'queued');
      await this.repo.save(image, { fromState: from });
    } catch (e) {
      log.warn({ err: e }, `Unable to restore image ${image.id}`);
    }
  }

  async download(ctx: RequestContext, id: string, rangeHeader?: string, contentRangeHeader?: string): Promise<Download> {
    const image = await this.get(ctx, id);
    if (image.status === 'deactivated' && !ctx.isAdmin) {
      throw new ApiError(403, 'The requested image has been deactivated. Image data download is forbidden.');
    }
    this.policy.enforce('download_image', ctx, image);
    const loc = image.locations[0];
    if (!loc || image.size === null || !(await this.store.exists(loc.url))) return { image, length: 0 };
    const range = parseRange(image.size, rangeHeader, contentRangeHeader);
    if (range) return { image, range, length: range.end - range.start + 1, stream: this.store.open(loc.url, range) };
    return { image, length: image.size, stream: this.store.open(loc.url) };
  }

  // ---- interoperable import ---------------------------------------------------------------------

  stagingPath(id: string): string {
    return path.join(this.stagingDir, id);
  }

  /** `PUT /v2/images/{id}/stage`: queued -> uploading, data kept in the staging area. */
  async stage(ctx: RequestContext, id: string, data: Readable): Promise<void> {
    const image = await this.get(ctx, id);
    this.policy.enforce('modify_image', ctx, image);
    const from = image.status;
    transition(image, 'uploading');
    await this.repo.save(image, { fromState: from });
    await mkdir(this.stagingDir, { recursive: true });
    try {
      const staged = await this.storeData('store.stage', new FilesystemStore(this.stagingDir), id, data);
      image.size = staged.size;
      await this.repo.save(image, { fromState: 'uploading' });
    } catch (e) {
      await rm(this.stagingPath(id), { force: true });
      await this.restore(image);
      throw e;
    }
  }

  /** `POST /v2/images/{id}/import` (glance-direct): uploading -> importing -> active, in the background. */
  async importImage(ctx: RequestContext, id: string, body: unknown): Promise<void> {
    if (body === undefined || body === null || typeof body !== 'object') throw new ApiError(400, 'Body expected in request.');
    const b = body as Record<string, unknown>;
    const method = b['method'] as Record<string, unknown> | undefined;
    if (!method || typeof method !== 'object') throw new ApiError(400, "Import request requires a 'method' field.");
    if (!('name' in method)) throw new ApiError(400, "Import request requires a 'name' field.");
    const name = method['name'];
    if (!(IMPORT_METHODS as readonly unknown[]).includes(name)) throw new ApiError(400, `Unknown import method name '${String(name)}'.`);
    for (const k of ['all_stores_must_succeed', 'all_stores']) {
      if (k in b && typeof b[k] !== 'boolean') throw new ApiError(400, `'${k}' must be boolean value only`);
    }
    const image = await this.get(ctx, id);
    this.policy.enforce('modify_image', ctx, image);
    if (image.status === 'active') throw new ApiError(409, 'Image with status active cannot be target for import');
    if (image.status !== 'uploading') throw new ApiError(409, "Image needs to be staged before 'glance-direct' method can be used");
    if (!image.container_format) throw new ApiError(409, "'container_format' needs to be set before import");
    if (!image.disk_format) throw new ApiError(409, "'disk_format' needs to be set before import");
    transition(image, 'importing');
    await this.repo.save(image, { fromState: 'uploading' });
    this.track(this.runImport(image));
  }

  private async runImport(image: Image): Promise<void> {
    const staged = this.stagingPath(image.id);
    try {
      const stored = await this.storeData('store.import', this.store, image.id, createReadStream(staged));
      await this.activate(image, stored, 'importing');
    } catch (e) {
      log.error({ err: e }, `Import of image ${image.id} failed`);
      await this.restore(image);
    } finally {
      await rm(staged, { force: true });
    }
  }

  // ---- actions and tags -------------------------------------------------------------------------

  async deactivate(ctx: RequestContext, id: string): Promise<void> {
    const image = await this.get(ctx, id);
    this.policy.enforce('deactivate', ctx, image);
    if (image.status === 'deactivated') return;
    if (image.status !== 'active') throw new ApiError(403, `Not allowed to deactivate image in status '${image.status}'`);
    transition(image, 'deactivated');
    await this.repo.save(image, { fromState: 'active' });
  }

  async reactivate(ctx: RequestContext, id: string): Promise<void> {
    const image = await this.get(ctx, id);
    this.policy.enforce('reactivate', ctx, image);
    if (image.status === 'active') return;
    if (image.status !== 'deactivated') throw new ApiError(403, `Not allowed to reactivate image in status '${image.status}'`);
    transition(image, 'active');
    await this.repo.save(image, { fromState: 'deactivated' });
  }

  async addTag(ctx: RequestContext, id: string, tag: string): Promise<void> {
    validateImage({ tags: [tag] });
    const image = await this.lookup(ctx, id);
    if (!this.policy.allowed('modify_image', ctx, imageTarget(ctx, image))) throw new ApiError(403, `Not allowed to update tags for image ${id}.`);
    if (!image.tags.includes(tag)) image.tags.push(tag);
    if (image.tags.length > TAG_QUOTA) {
      throw new ApiError(413, `Image tag limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image tags. Attempted: ${image.tags.length}, Maximum: ${TAG_QUOTA}:`);
    }
    await this.repo.save(image);
  }

  async deleteTag(ctx: RequestContext, id: string, tag: string): Promise<void> {
    const image = await this.lookup(ctx, id);
    if (!this.policy.allowed('modify_image', ctx, imageTarget(ctx, image))) throw new ApiError(403, `Not allowed to delete tags for image ${id}.`);
    if (!image.tags.includes(tag)) throw new ApiError(404, 'The resource could not be found.');
    image.tags = image.tags.filter((t) => t !== tag);
    await this.repo.save(image);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Streams data into a store as one journey hop (size and hashes as attributes). */
  private storeData(name: string, store: FilesystemStore, id: string, data: Readable): Promise<StoredImage> {
    return withSpan({ kind: 'internal', name, service: 'glance-api', attributes: { image_id: id } }, async (span) => {
      const stored = await store.add(id, data, { maxSize: this.sizeCap });
      span.attributes['size'] = stored.size;
      span.attributes['checksum'] = stored.checksum;
      return stored;
    });
  }

  /** glance's `_lookup_image`: 404 "Image <id> not found." */
  async lookup(ctx: RequestContext, id: string): Promise<Image> {
    const image = await this.repo.get(id);
    if (!image || !(await this.visible(ctx, image))) throw new ApiError(404, `Image ${id} not found.`);
    return image;
  }

  /** glance/db/utils.py `is_image_visible`. */
  async visible(ctx: RequestContext, image: Image): Promise<boolean> {
    if (ctx.isAdmin || image.owner === null) return true;
    if (image.visibility === 'public' || image.visibility === 'community') return true;
    if (ctx.projectId === null) return false;
    if (ctx.projectId === image.owner) return true;
    if (image.visibility === 'shared') return (await this.repo.getMember(image.id, ctx.projectId)) !== undefined;
    return false;
  }
}

/** glance's property and tag quotas (413, as `LimitExceeded`). */
function checkQuotas(image: Image): void {
  const props = Object.keys(image.properties).length;
  if (props > PROPERTY_QUOTA) {
    throw new ApiError(413, `The limit has been exceeded on the number of allowed image properties. Attempted: ${props}, Maximum: ${PROPERTY_QUOTA}`);
  }
  if (image.tags.length > TAG_QUOTA) {
    throw new ApiError(413, `The limit has been exceeded on the number of allowed image tags. Attempted: ${image.tags.length}, Maximum: ${TAG_QUOTA}`);
  }
}
