/**
 * Regions, services and endpoints (Keystone's catalog backend), and the catalog a token carries.
 * @module
 */
import type { Kysely } from 'kysely';
import type { KeystoneDB } from '../db/schema.js';
import type { CatalogEntry } from '../../common/context.js';
import { bool, conflictError, isDuplicate, newId, notFoundError, parseExtra, validationError } from '../util.js';

export interface Region {
  id: string;
  description: string;
  parent_region_id: string | null;
}
export interface Service {
  id: string;
  type: string;
  name: string;
  description?: string;
  enabled: boolean;
  [extra: string]: unknown;
}
export interface Endpoint {
  id: string;
  interface: string;
  service_id: string;
  url: string;
  enabled: boolean;
  region_id: string | null;
  region: string | null;
}

export const INTERFACES = ['public', 'internal', 'admin'];

export class CatalogManager {
  private catalogCache: CatalogEntry[] | undefined;

  constructor(private readonly db: Kysely<KeystoneDB>) {}

  private changed(): void {
    this.catalogCache = undefined;
  }

  // ---- regions

  async getRegion(id: string): Promise<Region> {
    const r = await this.db.selectFrom('region').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('region', id);
    return { id: r.id, description: r.description, parent_region_id: r.parent_region_id };
  }

  async listRegions(f: { parent_region_id?: string } = {}): Promise<Region[]> {
    let q = this.db.selectFrom('region').selectAll();
    if (f.parent_region_id !== undefined) q = q.where('parent_region_id', '=', f.parent_region_id);
    return (await q.orderBy('id').execute()).map((r) => ({ id: r.id, description: r.description, parent_region_id: r.parent_region_id }));
  }

  async createRegion(r: { id?: string; description?: string; parent_region_id?: string | null }): Promise<Region> {
    const id = r.id ?? newId();
    if (r.parent_region_id) {
      await this.getRegion(r.parent_region_id).catch(() => {
        throw validationError(`Could not find region: ${r.parent_region_id}.`);
      });
    }
    try {
      await this.db.insertInto('region').values({ id, description: r.description ?? '', parent_region_id: r.parent_region_id ?? null, extra: '{}' }).execute();
    } catch (e) {
      if (isDuplicate(e)) throw conflictError('region', `Duplicate ID, ${id}.`);
      throw e;
    }
    this.changed();
    return this.getRegion(id);
  }

  async updateRegion(id: string, patch: { description?: string; parent_region_id?: string | null }): Promise<Region> {
    await this.getRegion(id);
    const set: Record<string, unknown> = {};
    if (patch.description !== undefined) set['description'] = patch.description;
    if (patch.parent_region_id !== undefined) set['parent_region_id'] = patch.parent_region_id;
    if (Object.keys(set).length) await this.db.updateTable('region').set(set).where('id', '=', id).execute();
    this.changed();
    return this.getRegion(id);
  }

  async deleteRegion(id: string): Promise<void> {
    await this.getRegion(id);
    await this.db.updateTable('endpoint').set({ region_id: null }).where('region_id', '=', id).execute();
    await this.db.deleteFrom('region').where('id', '=', id).execute();
    this.changed();
  }

  // ---- services

  private toService(r: { id: string; type: string; enabled: number; extra: string }): Service {
    const extra = parseExtra(r.extra);
    return { ...extra, id: r.id, type: r.type, name: String(extra['name'] ?? ''), enabled: bool(r.enabled) };
  }

  async getService(id: string): Promise<Service> {
    const r = await this.db.selectFrom('service').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('service', id);
    return this.toService(r);
  }

  async listServices(f: { type?: string; name?: string } = {}): Promise<Service[]> {
    let q = this.db.selectFrom('service').selectAll();
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    let out = (await q.execute()).map((r) => this.toService(r));
    if (f.name !== undefined) out = out.filter((s) => s.name === f.name);
    return out;
  }

  async createService(s: { type: string; name?: string; description?: string; enabled?: boolean }): Promise<Service> {
    const id = newId();
    const extra: Record<string, unknown> = { name: s.name ?? '' };
    if (s.description !== undefined) extra['description'] = s.description;
    await this.db.insertInto('service').values({ id, type: s.type, enabled: s.enabled === false ? 0 : 1, extra: JSON.stringify(extra) }).execute();
    this.changed();
    return this.getService(id);
  }

  async updateService(id: string, patch: { type?: string; name?: string; description?: string; enabled?: boolean }): Promise<Service> {
    const cur = await this.getService(id);
    const { id: _i, type: _t, enabled: _e, ...extra } = cur;
    if (patch.name !== undefined) extra.name = patch.name;
    if (patch.description !== undefined) extra['description'] = patch.description;
    await this.db
      .updateTable('service')
      .set({ type: patch.type ?? cur.type, enabled: patch.enabled === undefined ? (cur.enabled ? 1 : 0) : patch.enabled ? 1 : 0, extra: JSON.stringify(extra) })
      .where('id', '=', id)
      .execute();
    this.changed();
    return this.getService(id);
  }

  async deleteService(id: string): Promise<void> {
    await this.getService(id);
    await this.db.deleteFrom('endpoint').where('service_id', '=', id).execute();
    await this.db.deleteFrom('service').where('id', '=', id).execute();
    this.changed();
  }

  // ---- endpoints

  private toEndpoint(r: { id: string; interface: string; service_id: string; url: string; enabled: number; region_id: string | null }): Endpoint {
    return { id: r.id, interface: r.interface, service_id: r.service_id, url: r.url, enabled: bool(r.enabled), region_id: r.region_id, region: r.region_id };
  }

  async getEndpoint(id: string): Promise<Endpoint> {
    const r = await this.db.selectFrom('endpoint').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFoundError('endpoint', id);
    return this.toEndpoint(r);
  }

  async listEndpoints(f: { interface?: string; service_id?: string; region_id?: string } = {}): Promise<Endpoint[]> {
    let q = this.db.selectFrom('endpoint').selectAll();
    if (f.interface !== undefined) q = q.where('interface', '=', f.interface);
    if (f.service_id !== undefined) q = q.where('service_id', '=', f.service_id);
    if (f.region_id !== undefined) q = q.where('region_id', '=', f.region_id);
    return (await q.execute()).map((r) => this.toEndpoint(r));
  }

  async createEndpoint(e: { interface: string; service_id: string; url: string; enabled?: boolean; region_id?: string | null }): Promise<Endpoint> {
    await this.getService(e.service_id).catch(() => {
      throw validationError(`Could not find service: ${e.service_id}.`);
    });
    if (e.region_id) {
      await this.getRegion(e.region_id).catch(() => {
        throw validationError(`Could not find region: ${e.region_id}.`);
      });
    }
    const id = newId();
    await this.db
      .insertInto('endpoint')
      .values({ id, interface: e.interface, service_id: e.service_id, url: e.url, enabled: e.enabled === false ? 0 : 1, region_id: e.region_id ?? null, extra: '{}' })
      .execute();
    this.changed();
    return this.getEndpoint(id);
  }

  async updateEndpoint(id: string, patch: { interface?: string; service_id?: string; url?: string; enabled?: boolean; region_id?: string | null }): Promise<Endpoint> {
    await this.getEndpoint(id);
    const set: Record<string, unknown> = {};
    if (patch.interface !== undefined) set['interface'] = patch.interface;
    if (patch.service_id !== undefined) set['service_id'] = (await this.getService(patch.service_id)).id;
    if (patch.url !== undefined) set['url'] = patch.url;
    if (patch.enabled !== undefined) set['enabled'] = patch.enabled ? 1 : 0;
    if (patch.region_id !== undefined) set['region_id'] = patch.region_id;
    if (Object.keys(set).length) await this.db.updateTable('endpoint').set(set).where('id', '=', id).execute();
    this.changed();
    return this.getEndpoint(id);
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.getEndpoint(id);
    await this.db.deleteFrom('endpoint').where('id', '=', id).execute();
    this.changed();
  }

  /** The token catalog: enabled services with their enabled endpoints. */
  async catalog(): Promise<CatalogEntry[]> {
    if (this.catalogCache) return this.catalogCache;
    const services = (await this.listServices()).filter((s) => s.enabled);
    const endpoints = (await this.listEndpoints()).filter((e) => e.enabled);
    const out: CatalogEntry[] = services.map((s) => ({
      endpoints: endpoints
        .filter((e) => e.service_id === s.id)
        .map((e) => ({ id: e.id, interface: e.interface, region: e.region_id ?? '', region_id: e.region_id ?? '', url: e.url })),
      id: s.id,
      type: s.type,
      name: s.name,
    }));
    this.catalogCache = out;
    return out;
  }
}
