/**
 * Roles, implied roles and role assignments (Keystone's assignment backend), and the
 * effective-role computation every token and `GET /v3/role_assignments?effective` relies on:
 * group memberships expanded, implied roles followed (admin => member => reader).
 * @module
 */
import type { Kysely } from 'kysely';
import type { Tx } from '../util.js';
import type { AssignmentType, KeystoneDB } from '../db/schema.js';
import { NULL_DOMAIN_ID } from '../db/schema.js';
import { conflictError, forbiddenError, isDuplicate, newId, notFoundError, parseExtra } from '../util.js';

export interface Role {
  id: string;
  name: string;
  domain_id: string | null;
  description: string | null;
  options: Record<string, unknown>;
}

/** One assignment, as `GET /v3/role_assignments` reports it before rendering. */
export interface Assignment {
  role_id: string;
  user_id?: string;
  group_id?: string;
  project_id?: string;
  domain_id?: string;
  system?: string;
  inherited: boolean;
  /** Set for effective assignments obtained through a group. */
  indirect?: { group_id?: string; role_id?: string };
}

export interface AssignmentFilter {
  user_id?: string;
  group_id?: string;
  project_id?: string;
  domain_id?: string;
  system?: boolean;
  role_id?: string;
  effective?: boolean;
  /** With project_id: that project and every project below it (`include_subtree`). */
  project_ids?: string[];
}

export class AssignmentManager {
  /** Runs one transaction; the service points it at Database.transaction (journey spans). */
  tx: Tx = (fn) => this.db.transaction().execute(fn);

  /** Implied-role closure, cached until a role or inference changes. */
  private impliedCache: Map<string, string[]> | undefined;

  constructor(
    private readonly db: Kysely<KeystoneDB>,
    private readonly groupIdsForUser: (userId: string) => Promise<string[]>,
    /** Parent projects of a project, for grants inherited down a project tree. */
    private readonly projectAncestors: (projectId: string) => Promise<string[]> = async () => [],
  ) {}

  /** Domain-specific roles only ever imply global ones; they never appear as effective roles. */
  private async globalOnly(ids: string[]): Promise<string[]> {
    if (!ids.length) return ids;
    const rows = await this.db.selectFrom('role').select('id').where('id', 'in', ids).where('domain_id', '=', NULL_DOMAIN_ID).execute();
    const ok = new Set(rows.map((r) => r.id));
    return ids.filter((i) => ok.has(i));
  }

  // ---- roles

  private toRole(r: { id: string; name: string; domain_id: string; description: string | null; extra: string }): Role {
    const extra = parseExtra(r.extra);
    return {
      id: r.id,
      name: r.name,
      domain_id: r.domain_id === NULL_DOMAIN_ID ? null : r.domain_id,
      description: r.description ?? null,
      options: (extra['options'] as Record<string, unknown>) ?? {},
    };
  }

  async getRole(id: string): Promise<Role> {
    const r = await this.db.selectFrom('role').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('role', id);
    return this.toRole(r);
  }

  async findRoleByName(name: string, domainId: string | null = null): Promise<Role | undefined> {
    const r = await this.db.selectFrom('role').selectAll().where('name', '=', name).where('domain_id', '=', domainId ?? NULL_DOMAIN_ID).executeTakeFirst();
    return r ? this.toRole(r) : undefined;
  }

  async listRoles(f: { name?: string; domain_id?: string | null } = {}): Promise<Role[]> {
    let q = this.db.selectFrom('role').selectAll();
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    q = q.where('domain_id', '=', f.domain_id ?? NULL_DOMAIN_ID);
    return (await q.orderBy('name').execute()).map((r) => this.toRole(r));
  }

  async rolesByIds(ids: string[]): Promise<Map<string, Role>> {
    if (!ids.length) return new Map();
    const rows = await this.db.selectFrom('role').selectAll().where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((r) => [r.id, this.toRole(r)]));
  }

  async createRole(r: { id?: string; name: string; domain_id?: string | null; description?: string | null; options?: Record<string, unknown> }): Promise<Role> {
    const id = r.id ?? newId();
    try {
      await this.db
        .insertInto('role')
        .values({ id, name: r.name, domain_id: r.domain_id ?? NULL_DOMAIN_ID, description: r.description ?? null, extra: JSON.stringify(r.options ? { options: r.options } : {}) })
        .execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('role', `Duplicate entry found with name ${r.name}.`);
      throw e;
    }
    this.impliedCache = undefined;
    return this.getRole(id);
  }

  async updateRole(id: string, patch: { name?: string; description?: string | null; options?: Record<string, unknown> }): Promise<Role> {
    await this.getRole(id);
    const set: Record<string, unknown> = {};
    if (patch.name !== undefined) set['name'] = patch.name;
    if (patch.description !== undefined) set['description'] = patch.description;
    if (patch.options !== undefined) set['extra'] = JSON.stringify({ options: patch.options });
    try {
      if (Object.keys(set).length) await this.db.updateTable('role').set(set).where('id', '=', id).execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('role', `Duplicate entry found with name ${patch.name}.`);
      throw e;
    }
    return this.getRole(id);
  }

  async deleteRole(id: string): Promise<void> {
    await this.getRole(id);
    await this.tx(async (trx) => {
      await trx.deleteFrom('assignment').where('role_id', '=', id).execute();
      await trx.deleteFrom('system_assignment').where('role_id', '=', id).execute();
      await trx.deleteFrom('implied_role').where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)])).execute();
      await trx.deleteFrom('application_credential_role').where('role_id', '=', id).execute();
      await trx.deleteFrom('role').where('id', '=', id).execute();
    });
    this.impliedCache = undefined;
  }

  // ---- implied roles

  async createImpliedRole(prior: string, implied: string): Promise<void> {
    const p = await this.getRole(prior);
    const i = await this.getRole(implied);
    if (p.domain_id === null && i.domain_id !== null) {
      throw forbiddenError(`Implied role ${implied} is domain-specific; a global role cannot imply it.`);
    }
    try {
      await this.db.insertInto('implied_role').values({ prior_role_id: prior, implied_role_id: implied }).execute();
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
    this.impliedCache = undefined;
  }

  async deleteImpliedRole(prior: string, implied: string): Promise<void> {
    const r = await this.db.deleteFrom('implied_role').where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFoundError('implied role', `${prior} implies ${implied}`);
    this.impliedCache = undefined;
  }

  async getImpliedRole(prior: string, implied: string): Promise<boolean> {
    return !!(await this.db.selectFrom('implied_role').selectAll().where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst());
  }

  async listImpliedRoles(prior?: string): Promise<{ prior_role_id: string; implied_role_id: string }[]> {
    let q = this.db.selectFrom('implied_role').selectAll();
    if (prior) q = q.where('prior_role_id', '=', prior);
    return q.execute();
  }

  /** role id -> every role it implies, transitively (cycles tolerated). */
  private async impliedClosure(): Promise<Map<string, string[]>> {
    if (this.impliedCache) return this.impliedCache;
    const rows = await this.db.selectFrom('implied_role').selectAll().execute();
    const direct = new Map<string, string[]>();
    for (const r of rows) direct.set(r.prior_role_id, [...(direct.get(r.prior_role_id) ?? []), r.implied_role_id]);
    const closure = new Map<string, string[]>();
    for (const start of direct.keys()) {
      const seen = new Set<string>();
      const stack = [...(direct.get(start) ?? [])];
      while (stack.length) {
        const r = stack.pop()!;
        if (seen.has(r) || r === start) continue;
        seen.add(r);
        stack.push(...(direct.get(r) ?? []));
      }
      closure.set(start, [...seen]);
    }
    this.impliedCache = closure;
    return closure;
  }

  /** Adds implied roles to a set of role ids (Keystone's `_expand_roles` for tokens). */
  async expandImplied(roleIds: string[]): Promise<string[]> {
    const closure = await this.impliedClosure();
    const out = new Set(roleIds);
    for (const r of roleIds) for (const i of closure.get(r) ?? []) out.add(i);
    return [...out];
  }

  // ---- grants

  private typeFor(actor: 'user' | 'group', target: 'project' | 'domain'): AssignmentType {
    return `${actor === 'user' ? 'User' : 'Group'}${target === 'project' ? 'Project' : 'Domain'}` as AssignmentType;
  }

  async createGrant(g: { roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: boolean; inherited?: boolean }): Promise<void> {
    const actor = g.userId ?? g.groupId!;
    const inherited = g.inherited ? 1 : 0;
    try {
      if (g.system) {
        await this.db.insertInto('system_assignment').values({ type: g.userId ? 'UserSystem' : 'GroupSystem', actor_id: actor, target_id: 'system', role_id: g.roleId, inherited }).execute();
      } else {
        const type = this.typeFor(g.userId ? 'user' : 'group', g.projectId ? 'project' : 'domain');
        await this.db.insertInto('assignment').values({ type, actor_id: actor, target_id: (g.projectId ?? g.domainId)!, role_id: g.roleId, inherited }).execute();
      }
    } catch (e) {
      if (!isDuplicate(e)) throw e; // granting twice is fine, as in Keystone
    }
  }

  async checkGrant(g: { roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: boolean; inherited?: boolean }): Promise<boolean> {
    const actor = g.userId ?? g.groupId!;
    const inherited = g.inherited ? 1 : 0;
    if (g.system) {
      return !!(await this.db.selectFrom('system_assignment').select('role_id').where('actor_id', '=', actor).where('role_id', '=', g.roleId).where('inherited', '=', inherited).executeTakeFirst());
    }
    return !!(await this.db
      .selectFrom('assignment')
      .select('role_id')
      .where('actor_id', '=', actor)
      .where('target_id', '=', (g.projectId ?? g.domainId)!)
      .where('role_id', '=', g.roleId)
      .where('inherited', '=', inherited)
      .executeTakeFirst());
  }

  async deleteGrant(g: { roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: boolean; inherited?: boolean }): Promise<void> {
    const actor = g.userId ?? g.groupId!;
    const inherited = g.inherited ? 1 : 0;
    const r = g.system
      ? await this.db.deleteFrom('system_assignment').where('actor_id', '=', actor).where('role_id', '=', g.roleId).where('inherited', '=', inherited).executeTakeFirst()
      : await this.db
          .deleteFrom('assignment')
          .where('actor_id', '=', actor)
          .where('target_id', '=', (g.projectId ?? g.domainId)!)
          .where('role_id', '=', g.roleId)
          .where('inherited', '=', inherited)
          .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFoundError('role assignment', g.roleId);
  }

  /** Role ids directly granted on one target (for GET .../roles). */
  async listGrantRoleIds(g: { userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: boolean; inherited?: boolean }): Promise<string[]> {
    const actor = g.userId ?? g.groupId!;
    const inherited = g.inherited ? 1 : 0;
    if (g.system) {
      const rows = await this.db.selectFrom('system_assignment').select('role_id').where('actor_id', '=', actor).where('inherited', '=', inherited).execute();
      return rows.map((r) => r.role_id);
    }
    const rows = await this.db
      .selectFrom('assignment')
      .select('role_id')
      .where('actor_id', '=', actor)
      .where('target_id', '=', (g.projectId ?? g.domainId)!)
      .where('inherited', '=', inherited)
      .execute();
    return rows.map((r) => r.role_id);
  }

  // ---- listing and effective roles

  /** Direct assignments matching a filter (no group expansion, no implied roles). */
  async listDirect(f: Omit<AssignmentFilter, 'effective'> & { actorIds?: string[] }): Promise<Assignment[]> {
    const out: Assignment[] = [];
    const actors = f.actorIds ?? (f.user_id ? [f.user_id] : f.group_id ? [f.group_id] : undefined);
    if (actors && actors.length === 0) return out;
    if (!f.project_id && !f.domain_id) {
      let q = this.db.selectFrom('system_assignment').selectAll();
      if (actors) q = q.where('actor_id', 'in', actors);
      if (f.role_id) q = q.where('role_id', '=', f.role_id);
      for (const r of await q.execute()) {
        out.push({ role_id: r.role_id, [r.type === 'UserSystem' ? 'user_id' : 'group_id']: r.actor_id, system: 'all', inherited: r.inherited === 1 });
      }
    }
    if (!f.system) {
      let q = this.db.selectFrom('assignment').selectAll();
      if (actors) q = q.where('actor_id', 'in', actors);
      if (f.role_id) q = q.where('role_id', '=', f.role_id);
      if (f.project_id) q = q.where('target_id', '=', f.project_id).where('type', 'in', ['UserProject', 'GroupProject']);
      if (f.domain_id) q = q.where('target_id', '=', f.domain_id).where('type', 'in', ['UserDomain', 'GroupDomain']);
      for (const r of await q.execute()) {
        const a: Assignment = { role_id: r.role_id, inherited: r.inherited === 1 };
        if (r.type.startsWith('User')) a.user_id = r.actor_id;
        else a.group_id = r.actor_id;
        if (r.type.endsWith('Project')) a.project_id = r.target_id;
        else a.domain_id = r.target_id;
        out.push(a);
      }
    }
    return out.filter((a) => (f.user_id && !f.actorIds ? a.user_id === f.user_id : true) && (f.group_id ? a.group_id === f.group_id : true));
  }

  /**
   * `effective=true`: group assignments become one per member user, implied roles are added,
   * inherited domain grants apply to the domain's projects.
   */
  async listEffective(
    f: AssignmentFilter,
    deps: {
      usersInGroup(groupId: string): Promise<string[]>;
      projectsInDomain(domainId: string): Promise<string[]>;
      domainOfProject(projectId: string): Promise<string | undefined>;
      descendants(projectId: string): Promise<string[]>;
    },
  ): Promise<Assignment[]> {
    const actorIds = f.user_id ? [f.user_id, ...(await this.groupIdsForUser(f.user_id))] : f.group_id ? [f.group_id] : undefined;
    // targets are filtered after expansion: inherited domain grants land on projects
    const direct = await this.listDirect({ actorIds, system: f.system });
    // expand groups into their members
    const expanded: Assignment[] = [];
    for (const a of direct) {
      if (a.group_id) {
        const members = f.user_id ? [f.user_id] : await deps.usersInGroup(a.group_id);
        for (const u of members) expanded.push({ ...a, group_id: undefined, user_id: u, indirect: { group_id: a.group_id } });
      } else expanded.push(a);
    }
    // inherited domain grants apply to every project of the domain, not the domain itself
    const scoped: Assignment[] = [];
    for (const a of expanded) {
      if (a.inherited && a.project_id) {
        for (const p of await deps.descendants(a.project_id)) {
          if (f.project_id && !f.project_ids && p !== f.project_id) continue;
          scoped.push({ ...a, project_id: p, inherited: false, indirect: { ...(a.indirect ?? {}) } });
        }
      } else if (a.inherited && a.domain_id) {
        for (const p of await deps.projectsInDomain(a.domain_id)) {
          if (f.project_id && !f.project_ids && p !== f.project_id) continue;
          scoped.push({ ...a, domain_id: undefined, project_id: p, inherited: false, indirect: { ...(a.indirect ?? {}) } });
        }
      } else if (!a.inherited) scoped.push(a);
    }
    const projects = f.project_ids ? new Set(f.project_ids) : f.project_id ? new Set([f.project_id]) : undefined;
    const filtered = scoped.filter(
      (a) => (!projects || (a.project_id !== undefined && projects.has(a.project_id))) && (!f.domain_id || a.domain_id === f.domain_id) && (!f.system || a.system),
    );
    // implied roles
    const closure = await this.impliedClosure();
    const out: Assignment[] = [];
    for (const a of filtered) {
      out.push(a);
      for (const implied of closure.get(a.role_id) ?? []) out.push({ ...a, role_id: implied, indirect: { ...(a.indirect ?? {}), role_id: a.role_id } });
    }
    const global = new Set(await this.globalOnly([...new Set(out.map((a) => a.role_id))]));
    const effective = out.filter((a) => global.has(a.role_id));
    const res = f.role_id ? effective.filter((a) => a.role_id === f.role_id) : effective;
    // one entry per (actor, target, role, path), as Keystone dedups
    const seen = new Set<string>();
    return res.filter((a) => {
      const k = JSON.stringify([a.user_id, a.group_id, a.project_id, a.domain_id, a.system, a.role_id, a.indirect?.group_id, a.indirect?.role_id]);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  /** Effective role ids of a user on a target (project, domain or system), implied roles included. */
  async effectiveRoleIds(userId: string, target: { projectId?: string; domainId?: string; system?: boolean; projectDomainId?: string }): Promise<string[]> {
    const actors = [userId, ...(await this.groupIdsForUser(userId))];
    let rows: { role_id: string }[] = [];
    if (target.system) {
      rows = await this.db.selectFrom('system_assignment').select('role_id').where('actor_id', 'in', actors).execute();
    } else if (target.projectId) {
      rows = await this.db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors).where('target_id', '=', target.projectId).where('inherited', '=', 0).execute();
      // grants inherited from the domain and from parent projects
      const above = [...(target.projectDomainId ? [target.projectDomainId] : []), ...(await this.projectAncestors(target.projectId))];
      if (above.length) {
        const inh = await this.db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors).where('target_id', 'in', above).where('inherited', '=', 1).execute();
        rows = rows.concat(inh);
      }
    } else if (target.domainId) {
      rows = await this.db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors).where('target_id', '=', target.domainId).where('inherited', '=', 0).execute();
    }
    return this.globalOnly(await this.expandImplied([...new Set(rows.map((r) => r.role_id))]));
  }

  /** Project ids where the user (directly or through groups) has any role. */
  async projectIdsForUser(userId: string): Promise<string[]> {
    const actors = [userId, ...(await this.groupIdsForUser(userId))];
    const rows = await this.db.selectFrom('assignment').select(['target_id', 'type', 'inherited']).where('actor_id', 'in', actors).execute();
    return [...new Set(rows.filter((r) => r.type.endsWith('Project')).map((r) => r.target_id))];
  }

  /** Domain ids where the user has a role, and domains whose projects inherit a role. */
  async domainIdsForUser(userId: string): Promise<{ direct: string[]; inherited: string[] }> {
    const actors = [userId, ...(await this.groupIdsForUser(userId))];
    const rows = await this.db.selectFrom('assignment').select(['target_id', 'type', 'inherited']).where('actor_id', 'in', actors).execute();
    const doms = rows.filter((r) => r.type.endsWith('Domain'));
    return {
      direct: [...new Set(doms.filter((r) => r.inherited === 0).map((r) => r.target_id))],
      inherited: [...new Set(doms.filter((r) => r.inherited === 1).map((r) => r.target_id))],
    };
  }

  async hasSystemRole(userId: string): Promise<boolean> {
    return (await this.effectiveRoleIds(userId, { system: true })).length > 0;
  }
}
