/**
 * Domains and projects (Keystone's resource backend): one `project` table, domains being the
 * rows with `is_domain = 1`.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Tx } from '../util.js';
import type { KeystoneDB, ProjectTable } from '../db/schema.js';
import { ROOT_DOMAIN_ID } from '../db/schema.js';
import { bool, conflictError, forbiddenError, isDuplicate, newId, notFoundError, parseExtra, validationError } from '../util.js';

export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  tags: string[];
  options: Record<string, unknown>;
}

export interface Project {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: boolean;
  parent_id: string | null;
  is_domain: boolean;
  tags: string[];
  options: Record<string, unknown>;
  [extra: string]: unknown;
}

export const DEFAULT_DOMAIN_ID = 'default';

export interface ProjectFilter {
  domain_id?: string;
  name?: string;
  enabled?: boolean;
  parent_id?: string;
  ids?: string[];
  tags?: string[];
  tags_any?: string[];
  not_tags?: string[];
  not_tags_any?: string[];
  is_domain?: boolean;
}

/** Ancestors first-parent-first, stopping at the domain. */
export type ProjectChain = string[];

export class ResourceManager {
  /** Runs one transaction; the service points it at Database.transaction (journey spans). */
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  constructor(private readonly db: Kysely<KeystoneDB>) {}

  private async tagsOf(ids: string[]): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    if (ids.length === 0) return m;
    const rows = await this.db.selectFrom('project_tag').selectAll().where('project_id', 'in', ids).execute();
    for (const r of rows) m.set(r.project_id, [...(m.get(r.project_id) ?? []), r.name]);
    return m;
  }

  private toProject(r: ProjectTable, tags: string[]): Project {
    const extra = parseExtra(r.extra);
    return {
      ...extra,
      id: r.id,
      name: r.name,
      domain_id: bool(r.is_domain) ? (null as unknown as string) : r.domain_id,
      description: r.description ?? '',
      enabled: bool(r.enabled),
      parent_id: r.parent_id,
      is_domain: bool(r.is_domain),
      tags,
      options: {},
    };
  }

  private toDomain(r: ProjectTable, tags: string[]): Domain {
    return { id: r.id, name: r.name, description: r.description ?? '', enabled: bool(r.enabled), tags, options: {} };
  }

  // ---- domains

  async getDomain(id: string): Promise<Domain> {
    const r = await this.db.selectFrom('project').selectAll().where('id', '=', id).where('is_domain', '=', 1).executeTakeFirst();
    if (!r) throw notFoundError('domain', id);
    return this.toDomain(r, (await this.tagsOf([id])).get(id) ?? []);
  }

  async findDomain(id: string): Promise<Domain | undefined> {
    try {
      return await this.getDomain(id);
    } catch {
      return undefined;
    }
  }

  async getDomainByName(name: string): Promise<Domain> {
    const r = await this.db.selectFrom('project').selectAll().where('name', '=', name).where('is_domain', '=', 1).executeTakeFirst();
    if (!r) throw notFoundError('domain', name);
    return this.toDomain(r, []);
  }

  async listDomains(f: { name?: string; enabled?: boolean } = {}): Promise<Domain[]> {
    let q = this.db.selectFrom('project').selectAll().where('is_domain', '=', 1);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
    const rows = await q.orderBy('name').execute();
    const tags = await this.tagsOf(rows.map((r) => r.id));
    return rows.map((r) => this.toDomain(r, tags.get(r.id) ?? []));
  }

  async createDomain(d: { id?: string; name: string; description?: string; enabled?: boolean; tags?: string[] }): Promise<Domain> {
    const id = d.id ?? newId();
    try {
      await this.tx(async (trx) => {
        await trx
          .insertInto('project')
          .values({ id, name: d.name, domain_id: ROOT_DOMAIN_ID, description: d.description ?? '', enabled: d.enabled === false ? 0 : 1, extra: '{}', parent_id: null, is_domain: 1 })
          .execute();
        for (const t of new Set(d.tags ?? [])) await trx.insertInto('project_tag').values({ project_id: id, name: t }).execute();
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('domain', `Duplicate entry found with name ${d.name}.`);
      throw e;
    }
    return this.getDomain(id);
  }

  async updateDomain(id: string, patch: { name?: string; description?: string; enabled?: boolean; tags?: string[] }): Promise<Domain> {
    await this.getDomain(id);
    const set: Partial<ProjectTable> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    try {
      await this.tx(async (trx) => {
        if (Object.keys(set).length) await trx.updateTable('project').set(set).where('id', '=', id).execute();
        if (patch.tags) await this.replaceTags(trx, id, patch.tags);
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('domain', `Duplicate entry found with name ${patch.name}.`);
      throw e;
    }
    return this.getDomain(id);
  }

  async deleteDomain(id: string): Promise<void> {
    const d = await this.getDomain(id);
    if (d.enabled) throw forbiddenError('Cannot delete a domain that is enabled, please disable it first.');
    // Keystone deletes everything the domain owns: its projects here, users and groups by the caller
    await this.tx(async (trx) => {
      const projects = (await trx.selectFrom('project').select('id').where('domain_id', '=', id).execute()).map((r) => r.id);
      const all = [...projects, id];
      await trx.deleteFrom('project_tag').where('project_id', 'in', all).execute();
      await trx.deleteFrom('assignment').where('target_id', 'in', all).execute();
      await trx.deleteFrom('project').where('id', 'in', all).execute();
      await trx.deleteFrom('whitelisted_config').where('domain_id', '=', id).execute();
      await trx.deleteFrom('sensitive_config').where('domain_id', '=', id).execute();
    });
  }

  // ---- projects

  /** A project, or a domain seen through the projects API (`is_domain: true`). */
  async getProject(id: string): Promise<Project> {
    const r = await this.db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('project', id);
    return this.toProject(r, (await this.tagsOf([id])).get(id) ?? []);
  }

  async findProject(id: string): Promise<Project | undefined> {
    const r = await this.db.selectFrom('project').selectAll().where('id', '=', id).where('is_domain', '=', 0).executeTakeFirst();
    return r ? this.toProject(r, []) : undefined;
  }

  async getProjectByName(name: string, domainId: string): Promise<Project> {
    const r = await this.db
      .selectFrom('project')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId)
      .where('is_domain', '=', 0)
      .executeTakeFirst();
    if (!r) throw notFoundError('project', name);
    return this.toProject(r, (await this.tagsOf([r.id])).get(r.id) ?? []);
  }

  async listProjects(f: ProjectFilter = {}): Promise<Project[]> {
    let q = this.db.selectFrom('project').selectAll().where('is_domain', '=', f.is_domain ? 1 : 0);
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
    if (f.parent_id !== undefined) q = q.where('parent_id', '=', f.parent_id);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      q = q.where('id', 'in', f.ids);
    }
    const rows = await q.orderBy('name').execute();
    const tags = await this.tagsOf(rows.map((r) => r.id));
    let out = rows.map((r) => this.toProject(r, tags.get(r.id) ?? []));
    if (f.tags) out = out.filter((p) => f.tags!.every((t) => p.tags.includes(t)));
    if (f.tags_any) out = out.filter((p) => f.tags_any!.some((t) => p.tags.includes(t)));
    if (f.not_tags) out = out.filter((p) => !f.not_tags!.every((t) => p.tags.includes(t)));
    if (f.not_tags_any) out = out.filter((p) => !f.not_tags_any!.some((t) => p.tags.includes(t)));
    return out;
  }

  async createProject(p: {
    id?: string;
    name: string;
    domain_id?: string;
    parent_id?: string | null;
    description?: string;
    enabled?: boolean;
    tags?: string[];
    extra?: Record<string, unknown>;
  }): Promise<Project> {
    let domainId = p.domain_id;
    let parentId = p.parent_id ?? null;
    if (parentId) {
      const parent = await this.findProject(parentId);
      if (!parent) throw validationError(`Could not find parent project: ${parentId}.`);
      if (domainId && domainId !== parent.domain_id) throw validationError('Cannot create project, the parent is in a different domain.');
      domainId = parent.domain_id;
    }
    domainId ??= DEFAULT_DOMAIN_ID;
    if (!(await this.findDomain(domainId))) throw notFoundError('domain', domainId);
    if (!parentId) parentId = domainId;
    const id = p.id ?? newId();
    try {
      await this.tx(async (trx) => {
        await trx
          .insertInto('project')
          .values({
            id,
            name: p.name,
            domain_id: domainId!,
            description: p.description ?? '',
            enabled: p.enabled === false ? 0 : 1,
            extra: JSON.stringify(p.extra ?? {}),
            parent_id: parentId,
            is_domain: 0,
          })
          .execute();
        for (const t of new Set(p.tags ?? [])) await trx.insertInto('project_tag').values({ project_id: id, name: t }).execute();
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('project', `Duplicate entry found with name ${p.name} at domain ID ${domainId}.`);
      throw e;
    }
    return this.getProject(id);
  }

  async updateProject(
    id: string,
    patch: { name?: string; description?: string; enabled?: boolean; tags?: string[]; extra?: Record<string, unknown> },
  ): Promise<Project> {
    const cur = await this.getProject(id);
    const set: Partial<ProjectTable> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    if (patch.extra) {
      const { id: _i, name: _n, domain_id: _d, description: _de, enabled: _e, parent_id: _p, is_domain: _id, tags: _t, options: _o, ...oldExtra } = cur;
      set.extra = JSON.stringify({ ...oldExtra, ...patch.extra });
    }
    try {
      await this.tx(async (trx) => {
        if (Object.keys(set).length) await trx.updateTable('project').set(set).where('id', '=', id).execute();
        if (patch.tags) await this.replaceTags(trx, id, patch.tags);
      });
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('project', `Duplicate entry found with name ${patch.name} at domain ID ${cur.domain_id}.`);
      throw e;
    }
    return this.getProject(id);
  }

  async deleteProject(id: string): Promise<void> {
    const p = await this.getProject(id);
    if (p.is_domain) return this.deleteDomain(id);
    const child = await this.db.selectFrom('project').select('id').where('parent_id', '=', id).where('is_domain', '=', 0).executeTakeFirst();
    if (child) throw validationError(`Cannot delete project ${id}: it has child projects.`);
    await this.tx(async (trx) => {
      await trx.deleteFrom('project_tag').where('project_id', '=', id).execute();
      await trx.deleteFrom('assignment').where('target_id', '=', id).execute();
      await trx.deleteFrom('project').where('id', '=', id).execute();
    });
  }

  /** Parent projects of a project, nearest first (not the domain). */
  async ancestors(id: string): Promise<string[]> {
    const out: string[] = [];
    let cur = await this.findProject(id);
    while (cur?.parent_id && cur.parent_id !== cur.domain_id && !out.includes(cur.parent_id)) {
      out.push(cur.parent_id);
      cur = await this.findProject(cur.parent_id);
    }
    return out;
  }

  /** Every project below a project. */
  async descendants(id: string): Promise<string[]> {
    const out: string[] = [];
    const stack = [id];
    while (stack.length) {
      const rows = await this.db.selectFrom('project').select('id').where('parent_id', '=', stack.pop()!).where('is_domain', '=', 0).execute();
      for (const r of rows) {
        if (out.includes(r.id)) continue;
        out.push(r.id);
        stack.push(r.id);
      }
    }
    return out;
  }

  /** Tags: list, check, add, remove (PUT /projects/{id}/tags/{tag} etc.). */
  async addTag(id: string, tag: string): Promise<void> {
    const p = await this.getProject(id);
    if (!p.tags.includes(tag)) await this.db.insertInto('project_tag').values({ project_id: id, name: tag }).execute();
  }

  async removeTag(id: string, tag: string): Promise<void> {
    const p = await this.getProject(id);
    if (!p.tags.includes(tag)) throw notFoundError('project tag', tag);
    await this.db.deleteFrom('project_tag').where('project_id', '=', id).where('name', '=', tag).execute();
  }

  async setTags(id: string, tags: string[]): Promise<string[]> {
    await this.getProject(id);
    await this.tx((trx) => this.replaceTags(trx, id, tags));
    return (await this.getProject(id)).tags;
  }

  private async replaceTags(trx: Kysely<KeystoneDB>, id: string, tags: string[]): Promise<void> {
    await trx.deleteFrom('project_tag').where('project_id', '=', id).execute();
    for (const t of new Set(tags)) await trx.insertInto('project_tag').values({ project_id: id, name: t }).execute();
  }
}
