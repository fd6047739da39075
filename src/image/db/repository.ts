/**
 * The image repository: images with their properties, tags and locations, and image members,
 * in the `glance` database. Multi-row changes run in one transaction; status changes can be
 * compare-and-swap (`fromState`), as glance's `image_repo.save(image, from_state=...)`.
 * @module
 */
import { sql, type Selectable, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Database } from '../../common/db/connection.js';
import { runPrepared } from '../../common/db/prepared.js';
import { ApiError } from '../../common/errors.js';
import type { ImageStatus, MemberStatus, Visibility } from '../domain.js';
import type { GlanceDB, ImageMembersTable } from './schema.js';

export interface ImageLocation {
  url: string;
  metadata: Record<string, unknown>;
  status: string;
}

export interface Image {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  size: number | null;
  virtual_size: number | null;
  disk_format: string | null;
  container_format: string | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  owner: string | null;
  min_disk: number;
  min_ram: number;
  protected: boolean;
  os_hidden: boolean;
  created_at: Date;
  updated_at: Date;
  deleted: boolean;
  deleted_at: Date | null;
  properties: Record<string, string>;
  tags: string[];
  locations: ImageLocation[];
}

export interface ImageMember {
  image_id: string;
  member_id: string;
  status: MemberStatus;
  created_at: Date;
  updated_at: Date;
}

export type ColumnOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
export interface ColumnCondition {
  column: SortableColumn | 'owner' | 'checksum' | 'os_hash_value' | 'min_ram' | 'min_disk' | 'protected' | 'os_hidden' | 'visibility';
  op: ColumnOp;
  value: unknown;
}

export const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
export type SortableColumn = (typeof SORT_KEYS)[number];

export interface ListQuery {
  /** The caller's project (glance's `context.owner`). */
  projectId: string | null;
  isAdmin: boolean;
  conditions: ColumnCondition[];
  properties: Record<string, string>;
  tags: string[];
  /** 'all' or a member status, for shared images the caller is a member of. */
  memberStatus: MemberStatus | 'all';
  /** A visibility filter, or 'all'; undefined means glance's default community handling. */
  visibility?: Visibility | 'all';
  marker?: Image;
  limit: number;
  sortKeys: SortableColumn[];
  sortDirs: Array<'asc' | 'desc'>;
}

// ---- value conversions (one format on every dialect) --------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** UTC 'YYYY-MM-DD HH:MM:SS.mmm': sortable as text (SQLite), parsed as a timestamp elsewhere. */
export function dbTime(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}
function readTime(v: unknown): Date {
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}
const readBool = (v: unknown) => v === true || v === 1 || v === '1' || v === 't';
const readInt = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const b = (v: boolean) => v;

type ImageRow = GlanceDB['images'];

function fromRow(r: ImageRow): Image {
  return {
    id: r.id,
    name: r.name,
    status: r.status as ImageStatus,
    visibility: r.visibility as Visibility,
    size: readInt(r.size),
    virtual_size: readInt(r.virtual_size),
    disk_format: r.disk_format,
    container_format: r.container_format,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    owner: r.owner,
    min_disk: Number(r.min_disk),
    min_ram: Number(r.min_ram),
    protected: readBool(r.protected),
    os_hidden: readBool(r.os_hidden),
    created_at: readTime(r.created_at),
    updated_at: readTime(r.updated_at ?? r.created_at),
    deleted: readBool(r.deleted),
    deleted_at: r.deleted_at ? readTime(r.deleted_at) : null,
    properties: {},
    tags: [],
    locations: [],
  };
}

function toRow(i: Image): ImageRow {
  return {
    id: i.id,
    name: i.name,
    size: i.size,
    status: i.status,
    created_at: dbTime(i.created_at),
    updated_at: dbTime(i.updated_at),
    deleted_at: i.deleted_at ? dbTime(i.deleted_at) : null,
    deleted: b(i.deleted),
    disk_format: i.disk_format,
    container_format: i.container_format,
    checksum: i.checksum,
    owner: i.owner,
    min_disk: i.min_disk,
    min_ram: i.min_ram,
    protected: b(i.protected),
    virtual_size: i.virtual_size,
    visibility: i.visibility,
    os_hidden: b(i.os_hidden),
    os_hash_algo: i.os_hash_algo,
    os_hash_value: i.os_hash_value,
  };
}

/** What NULLs sort as, so ordering and marker paging agree on every dialect. */
const NULL_DEFAULT: Record<SortableColumn, string | number | null> = {
  name: '', status: null, container_format: '', disk_format: '', size: 0, id: null, created_at: null, updated_at: null,
};

type EB = ExpressionBuilder<GlanceDB, 'images'>;

function sortExpr(eb: EB, key: SortableColumn): Expression<unknown> {
  if (key === 'updated_at') return eb.fn.coalesce('images.updated_at', 'images.created_at');
  const d = NULL_DEFAULT[key];
  return d === null ? eb.ref(`images.${key}`) : eb.fn.coalesce(`images.${key}`, sql.lit(d));
}

function markerValue(m: Image, key: SortableColumn): unknown {
  if (key === 'created_at') return dbTime(m.created_at);
  if (key === 'updated_at') return dbTime(m.updated_at);
  const v = m[key];
  return v ?? NULL_DEFAULT[key];
}

export class ImageRepository {
  readonly db: Kysely<GlanceDB>;
  constructor(readonly database: Database<GlanceDB>) {
    this.db = database.db;
  }

  async create(image: Image): Promise<void> {
    await this.database.transaction(async (trx) => {
      await trx.insertInto('images').values(toRow(image)).execute();
      await this.writeChildren(trx, image);
    });
  }

  /** An image by id, or undefined; deleted images only with `showDeleted`. */
  async get(id: string, opts: { showDeleted?: boolean } = {}): Promise<Image | undefined> {
    if (id.length > 36) return undefined;
    // image show (every boot's GET /v2/images/{id}): compiled once
    const db = this.db as Kysely<any>;
    const row = (await runPrepared<ImageRow>(db, db, `glance.image.${opts.showDeleted ? 'any' : 'live'}`, [id], (s) => {
      const q = db.selectFrom('images').selectAll().where('id', '=', s[0]!);
      return opts.showDeleted ? q : q.where('deleted', '=', false);
    })).rows[0];
    if (!row) return undefined;
    const [img] = await this.hydrate([fromRow(row)]);
    return img;
  }

  /**
   * Writes the image back, only if its stored status still is `fromState` (by default the
   * status being written, i.e. unchanged since it was read): a concurrent upload, delete or
   * deactivation makes this a 409 instead of a torn record. A deleted image is a 404.
   */
  async save(image: Image, opts: { fromState?: ImageStatus } = {}): Promise<void> {
    image.updated_at = new Date();
    const fromState = opts.fromState ?? image.status;
    await this.database.transaction(async (trx) => {
      const { id: _id, created_at: _c, ...row } = toRow(image);
      const res = await trx
        .updateTable('images')
        .set(row)
        .where('id', '=', image.id)
        .where('deleted', '=', false)
        .where('status', '=', fromState)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) {
        const live = await trx.selectFrom('images').select('status').where('id', '=', image.id).where('deleted', '=', false).executeTakeFirst();
        throw live
          ? new ApiError(409, `Image ${image.id} could not be updated: its status changed from ${fromState} to ${live.status}.`, { type: 'Conflict' })
          : new ApiError(404, `No image found with ID ${image.id}`, { type: 'ImageNotFound' });
      }
      await trx.deleteFrom('image_properties').where('image_id', '=', image.id).execute();
      await trx.deleteFrom('image_tags').where('image_id', '=', image.id).execute();
      await trx.deleteFrom('image_locations').where('image_id', '=', image.id).execute();
      await this.writeChildren(trx, image);
    });
  }

  /** Soft delete, as glance: the row stays with `deleted` set; members go with it. */
  async markDeleted(image: Image, fromState?: ImageStatus): Promise<void> {
    const now = new Date();
    image.status = 'deleted';
    image.deleted = true;
    image.deleted_at = now;
    image.updated_at = now;
    await this.database.transaction(async (trx) => {
      let q = trx
        .updateTable('images')
        .set({ status: 'deleted', deleted: true, deleted_at: dbTime(now), updated_at: dbTime(now) })
        .where('id', '=', image.id)
        .where('deleted', '=', false);
      if (fromState) q = q.where('status', '=', fromState);
      const res = await q.executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new ApiError(404, `Failed to find image ${image.id} to delete`);
      for (const t of ['image_properties', 'image_tags', 'image_members', 'image_locations'] as const) {
        await trx.updateTable(t).set({ deleted: true, deleted_at: dbTime(now) }).where('image_id', '=', image.id).execute();
      }
    });
  }

  async list(q: ListQuery): Promise<Image[]> {
    let query = this.db.selectFrom('images').selectAll('images').where('images.deleted', '=', false).where('images.status', '!=', 'killed');

    for (const c of q.conditions) {
      const col = `images.${c.column}` as const;
      if (c.op === 'in') query = query.where(col, 'in', c.value as string[]);
      else query = query.where(col, c.op, c.value as never);
    }
    for (const [name, value] of Object.entries(q.properties)) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('image_properties')
            .select(sql.lit(1).as('one'))
            .whereRef('image_properties.image_id', '=', 'images.id')
            .where('image_properties.deleted', '=', false)
            .where('image_properties.name', '=', name)
            .where('image_properties.value', '=', value),
        ),
      );
    }
    for (const tag of q.tags) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('image_tags')
            .select(sql.lit(1).as('one'))
            .whereRef('image_tags.image_id', '=', 'images.id')
            .where('image_tags.deleted', '=', false)
            .where('image_tags.value', '=', tag),
        ),
      );
    }

    // glance/db/sqlalchemy/api.py `_select_images_query`: a regular user sees public and
    // community images, its own, and shared images it is a member of (with that member status).
    if (!q.isAdmin) {
      query = query.where((eb) => {
        const ors: Expression<SqlBool>[] = [eb('images.visibility', 'in', ['public', 'community'])];
        if (q.projectId !== null) {
          ors.push(eb('images.owner', '=', q.projectId));
          let members = eb
            .selectFrom('image_members')
            .select(sql.lit(1).as('one'))
            .whereRef('image_members.image_id', '=', 'images.id')
            .where('image_members.deleted', '=', false)
            .where('image_members.member', '=', q.projectId);
          if (q.memberStatus !== 'all') members = members.where('image_members.status', '=', q.memberStatus);
          ors.push(eb.and([eb('images.visibility', '=', 'shared'), eb.exists(members)]));
        }
        return eb.or(ors);
      });
    }
    if (q.visibility !== undefined) {
      if (q.visibility !== 'all') query = query.where('images.visibility', '=', q.visibility);
    } else if (q.projectId === null) {
      query = query.where('images.visibility', '!=', 'community');
    } else {
      const pid = q.projectId;
      query = query.where((eb) => eb.or([eb('images.owner', '=', pid), eb('images.visibility', '!=', 'community')]));
    }

    // Stable order: the requested keys, then created_at and id (glance `_image_get_all`).
    const keys = [...q.sortKeys];
    const dirs = [...q.sortDirs];
    const defaultDir = dirs.length === 1 ? dirs[0]! : 'desc';
    while (dirs.length < keys.length) dirs.push(defaultDir);
    for (const k of ['created_at', 'id'] as const) {
      if (!keys.includes(k)) {
        keys.push(k);
        dirs.push(defaultDir);
      }
    }

    if (q.marker) {
      const m = q.marker;
      query = query.where((eb) =>
        eb.or(
          keys.map((key, i) =>
            eb.and([
              ...keys.slice(0, i).map((k) => eb(sortExpr(eb, k), '=', markerValue(m, k))),
              eb(sortExpr(eb, key), dirs[i] === 'asc' ? '>' : '<', markerValue(m, key)),
            ]),
          ),
        ),
      );
    }
    for (const [i, key] of keys.entries()) query = query.orderBy((eb) => sortExpr(eb, key), dirs[i]);
    query = query.limit(q.limit);

    const rows = await query.execute();
    return this.hydrate(rows.map((r) => fromRow(r as ImageRow)));
  }

  /** Ids of live images in one of `statuses` (for recovery after a restart). */
  async idsWithStatus(statuses: ImageStatus[]): Promise<string[]> {
    const rows = await this.db.selectFrom('images').select('id').where('deleted', '=', false).where('status', 'in', statuses).execute();
    return rows.map((r) => r.id);
  }

  // ---- members ----------------------------------------------------------------------------------

  async listMembers(imageId: string): Promise<ImageMember[]> {
    const rows = await this.db
      .selectFrom('image_members')
      .selectAll()
      .where('image_id', '=', imageId)
      .where('deleted', '=', false)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(memberFromRow);
  }

  async getMember(imageId: string, memberId: string): Promise<ImageMember | undefined> {
    const row = await this.db
      .selectFrom('image_members')
      .selectAll()
      .where('image_id', '=', imageId)
      .where('member', '=', memberId)
      .where('deleted', '=', false)
      .executeTakeFirst();
    return row ? memberFromRow(row) : undefined;
  }

  /** Adds a member; 409 when the project already is one. */
  async addMember(imageId: string, memberId: string): Promise<ImageMember> {
    const now = new Date();
    return this.database.transaction(async (trx) => {
      const existing = await trx
        .selectFrom('image_members')
        .select('id')
        .where('image_id', '=', imageId)
        .where('member', '=', memberId)
        .where('deleted', '=', false)
        .executeTakeFirst();
      if (existing) {
        throw new ApiError(409, `Member ${memberId} is duplicated for image ${imageId}`, { type: 'Duplicate' });
      }
      await trx
        .insertInto('image_members')
        .values({ image_id: imageId, member: memberId, can_share: false, status: 'pending', created_at: dbTime(now), updated_at: dbTime(now), deleted: false, deleted_at: null })
        .execute();
      return { image_id: imageId, member_id: memberId, status: 'pending', created_at: now, updated_at: now };
    });
  }

  async updateMember(imageId: string, memberId: string, status: MemberStatus): Promise<void> {
    await this.db
      .updateTable('image_members')
      .set({ status, updated_at: dbTime(new Date()) })
      .where('image_id', '=', imageId)
      .where('member', '=', memberId)
      .where('deleted', '=', false)
      .execute();
  }

  async deleteMember(imageId: string, memberId: string): Promise<void> {
    await this.db.deleteFrom('image_members').where('image_id', '=', imageId).where('member', '=', memberId).execute();
  }

  // ---- internals --------------------------------------------------------------------------------

  private async writeChildren(trx: Transaction<GlanceDB>, image: Image): Promise<void> {
    const now = dbTime(new Date());
    const base = { created_at: now, updated_at: now, deleted: false, deleted_at: null };
    const props = Object.entries(image.properties);
    if (props.length) {
      await trx.insertInto('image_properties').values(props.map(([name, value]) => ({ ...base, image_id: image.id, name, value }))).execute();
    }
    if (image.tags.length) {
      await trx.insertInto('image_tags').values(image.tags.map((value) => ({ ...base, image_id: image.id, value }))).execute();
    }
    if (image.locations.length) {
      await trx
        .insertInto('image_locations')
        .values(image.locations.map((l) => ({ ...base, image_id: image.id, value: l.url, meta_data: JSON.stringify(l.metadata), status: l.status })))
        .execute();
    }
  }

  /** Loads properties, tags and locations for a batch of images in three queries. */
  /** hydrate of one image (a show): the same three reads, compiled once. */
  private async hydrateOne(img: Image): Promise<Image[]> {
    const db = this.db as Kysely<any>;
    const props = (await runPrepared<{ name: string; value: string | null }>(db, db, 'glance.image.props', [img.id], (s) =>
      db.selectFrom('image_properties').select(['image_id', 'name', 'value']).where('image_id', 'in', [s[0]!]).where('deleted', '=', false))).rows;
    const tags = (await runPrepared<{ value: string }>(db, db, 'glance.image.tags', [img.id], (s) =>
      db.selectFrom('image_tags').select(['image_id', 'value']).where('image_id', 'in', [s[0]!]).where('deleted', '=', false).orderBy('id'))).rows;
    const locs = (await runPrepared<{ value: string; meta_data: string | null; status: string }>(db, db, 'glance.image.locations', [img.id], (s) =>
      db.selectFrom('image_locations').select(['image_id', 'value', 'meta_data', 'status']).where('image_id', 'in', [s[0]!])
        .where('deleted', '=', false).orderBy('id'))).rows;
    for (const p of props) img.properties[p.name] = p.value ?? '';
    for (const t of tags) img.tags.push(t.value);
    for (const l of locs) img.locations.push({ url: l.value, metadata: l.meta_data ? (JSON.parse(l.meta_data) as Record<string, unknown>) : {}, status: l.status });
    return [img];
  }

  private async hydrate(images: Image[]): Promise<Image[]> {
    if (images.length === 0) return images;
    const byId = new Map(images.map((i) => [i.id, i]));
    const ids = [...byId.keys()];
    if (ids.length === 1) return this.hydrateOne(images[0]!);
    const [props, tags, locs] = await Promise.all([
      this.db.selectFrom('image_properties').select(['image_id', 'name', 'value']).where('image_id', 'in', ids).where('deleted', '=', false).execute(),
      this.db.selectFrom('image_tags').select(['image_id', 'value']).where('image_id', 'in', ids).where('deleted', '=', false).orderBy('id').execute(),
      this.db.selectFrom('image_locations').select(['image_id', 'value', 'meta_data', 'status']).where('image_id', 'in', ids).where('deleted', '=', false).orderBy('id').execute(),
    ]);
    for (const p of props) byId.get(p.image_id)!.properties[p.name] = p.value ?? '';
    for (const t of tags) byId.get(t.image_id)!.tags.push(t.value);
    for (const l of locs) {
      byId.get(l.image_id)!.locations.push({ url: l.value, metadata: l.meta_data ? (JSON.parse(l.meta_data) as Record<string, unknown>) : {}, status: l.status });
    }
    return images;
  }
}

function memberFromRow(r: Selectable<ImageMembersTable>): ImageMember {
  return {
    image_id: r.image_id,
    member_id: r.member,
    status: r.status as MemberStatus,
    created_at: readTime(r.created_at),
    updated_at: readTime(r.updated_at ?? r.created_at),
  };
}
