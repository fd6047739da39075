/**
 * OS-EP-FILTER: endpoint groups (filters over interface, service and region) and their
 * association with projects, plus direct project-endpoint associations. A project with any
 * association sees only those endpoints in its token catalog; others see everything
 * (`[endpoint_filter] return_all_endpoints_if_no_filter = true`).
 * @module
 */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import type { Endpoint } from './catalog.js';
import { isDuplicate, newId, notFoundError, parseExtra } from '../util.js';

export interface EndpointGroup {
  id: string;
  name: string;
  description: string | null;
  filters: { interface?: string; service_id?: string; region_id?: string };
}

export const FILTER_KEYS = ['interface', 'service_id', 'region_id'];

export function matches(e: Endpoint, f: EndpointGroup['filters']): boolean {
  return (!f.interface || e.interface === f.interface) && (!f.service_id || e.service_id === f.service_id) && (!f.region_id || e.region_id === f.region_id);
}

export class EndpointFilterManager {
  /** Bumped on every change so catalog caches know to recompute. */
  generation = 0;

  constructor(private readonly db: Kysely<KeystoneDB>) {}

  private view(r: { id: string; name: string; description: string | null; filters: string }): EndpointGroup {
    return { id: r.id, name: r.name, description: r.description, filters: parseExtra(r.filters) as EndpointGroup['filters'] };
  }

  async create(g: Omit<EndpointGroup, 'id'>): Promise<EndpointGroup> {
    const id = newId();
    await this.db.insertInto('endpoint_group').values({ id, name: g.name, description: g.description ?? null, filters: JSON.stringify(g.filters) }).execute();
    this.generation++;
    return this.get(id);
  }

  async get(id: string): Promise<EndpointGroup> {
    const r = await this.db.selectFrom('endpoint_group').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('endpoint group', id);
    return this.view(r);
  }

  async list(name?: string): Promise<EndpointGroup[]> {
    let q = this.db.selectFrom('endpoint_group').selectAll();
    if (name) q = q.where('name', '=', name);
    return (await q.execute()).map((r) => this.view(r));
  }

  async update(id: string, patch: Partial<Omit<EndpointGroup, 'id'>>): Promise<EndpointGroup> {
    const cur = await this.get(id);
    await this.db
      .updateTable('endpoint_group')
      .set({ name: patch.name ?? cur.name, description: patch.description === undefined ? cur.description : patch.description, filters: JSON.stringify(patch.filters ?? cur.filters) })
      .where('id', '=', id)
      .execute();
    this.generation++;
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.deleteFrom('project_endpoint_group').where('endpoint_group_id', '=', id).execute();
    await this.db.deleteFrom('endpoint_group').where('id', '=', id).execute();
    this.generation++;
  }

  async associateGroup(groupId: string, projectId: string): Promise<void> {
    try {
      await this.db.insertInto('project_endpoint_group').values({ endpoint_group_id: groupId, project_id: projectId }).execute();
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
    this.generation++;
  }

  async dissociateGroup(groupId: string, projectId: string): Promise<void> {
    const r = await this.db.deleteFrom('project_endpoint_group').where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFoundError('endpoint group association', `${groupId}, ${projectId}`);
    this.generation++;
  }

  async isGroupAssociated(groupId: string, projectId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('project_endpoint_group').select('project_id').where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).executeTakeFirst());
  }

  async projectsOfGroup(groupId: string): Promise<string[]> {
    return (await this.db.selectFrom('project_endpoint_group').select('project_id').where('endpoint_group_id', '=', groupId).execute()).map((r) => r.project_id);
  }

  async groupsOfProject(projectId: string): Promise<EndpointGroup[]> {
    const ids = (await this.db.selectFrom('project_endpoint_group').select('endpoint_group_id').where('project_id', '=', projectId).execute()).map((r) => r.endpoint_group_id);
    return ids.length ? (await this.db.selectFrom('endpoint_group').selectAll().where('id', 'in', ids).execute()).map((r) => this.view(r)) : [];
  }

  async associateEndpoint(endpointId: string, projectId: string): Promise<void> {
    try {
      await this.db.insertInto('project_endpoint').values({ endpoint_id: endpointId, project_id: projectId }).execute();
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
    this.generation++;
  }

  async dissociateEndpoint(endpointId: string, projectId: string): Promise<void> {
    const r = await this.db.deleteFrom('project_endpoint').where('endpoint_id', '=', endpointId).where('project_id', '=', projectId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFoundError('endpoint association', `${endpointId}, ${projectId}`);
    this.generation++;
  }

  async endpointIdsOfProject(projectId: string): Promise<string[]> {
    return (await this.db.selectFrom('project_endpoint').select('endpoint_id').where('project_id', '=', projectId).execute()).map((r) => r.endpoint_id);
  }

  async projectsOfEndpoint(endpointId: string): Promise<string[]> {
    return (await this.db.selectFrom('project_endpoint').select('project_id').where('endpoint_id', '=', endpointId).execute()).map((r) => r.project_id);
  }

  /** Endpoint ids a project is limited to, or undefined when it has no filter at all. */
  async allowedEndpoints(projectId: string, all: Endpoint[]): Promise<Set<string> | undefined> {
    const direct = await this.endpointIdsOfProject(projectId);
    const groups = await this.groupsOfProject(projectId);
    if (direct.length === 0 && groups.length === 0) return undefined;
    const out = new Set(direct);
    for (const g of groups) for (const e of all) if (matches(e, g.filters)) out.add(e.id);
    return out;
  }
}
