/**
 * Subnet pools (neutron/ipam/subnet_alloc.py): prefix lists, prefix-length bounds, and carving
 * a subnet's CIDR out of the pool for `subnetpool_id` / `use_default_subnetpool` requests.
 * @module
 */
import type { Transaction } from 'kysely';
import type { RequestContext } from '../../common/context.js';
import * as X from '../common/exceptions.js';
import { cidrFirst, cidrLast, cidrsOverlap, formatCidr, parseCidr, type Cidr } from '../common/ipaddr.js';
import { isSet, type Body, type Dict, type ListResult, type NeutronPlugin, applyFilters } from './core.js';
import { b, emptyList, fromJson, i, now, paginate, applyTagFilters, toJson, uuid, type ListOptions } from './dbutil.js';

const COLS: Record<string, string> = {
  id: 'id', name: 'name', ip_version: 'ip_version', default_prefixlen: 'default_prefixlen', min_prefixlen: 'min_prefixlen',
  max_prefixlen: 'max_prefixlen', shared: 'shared', is_default: 'is_default', default_quota: 'default_quota',
  address_scope_id: 'address_scope_id', project_id: 'project_id', tenant_id: 'project_id', description: 'description',
  revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at',
};

/** Merges adjacent/overlapping prefixes (netaddr.cidr_merge). */
function compact(prefixes: Cidr[]): Cidr[] {
  const sorted = [...prefixes].sort((a, b2) => (a.network < b2.network ? -1 : a.network > b2.network ? 1 : a.prefixlen - b2.prefixlen));
  const out: Cidr[] = [];
  for (const c of sorted) {
    if (out.some((o) => cidrFirst(o) <= cidrFirst(c) && cidrLast(c) <= cidrLast(o))) continue;
    out.push(c);
  }
  return out;
}

export class SubnetPools {
  constructor(private readonly p: NeutronPlugin) {
    p.allocateFromSubnetPool = (trx, ctx, body) => this.allocate(trx, ctx, body);
  }

  private get db() {
    return this.p.db;
  }

  private dict(r: Dict, tags: string[] = []): Dict {
    return {
      id: r.id, name: r.name, tenant_id: r.project_id ?? '', project_id: r.project_id ?? '', prefixes: fromJson(r.prefixes, []),
      default_quota: r.default_quota ?? null, ip_version: Number(r.ip_version), default_prefixlen: Number(r.default_prefixlen),
      min_prefixlen: Number(r.min_prefixlen), max_prefixlen: Number(r.max_prefixlen), is_default: b(r.is_default), shared: b(r.shared),
      address_scope_id: r.address_scope_id ?? null, description: r.description, tags,
      created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
    };
  }

  private visible(q: any, ctx: RequestContext): any {
    if (ctx.isAdmin) return q;
    return q.where((eb: any) => eb.or([eb('subnetpools.project_id', '=', ctx.projectId ?? ''), eb('subnetpools.shared', '=', 1)]));
  }

  async getRow(ctx: RequestContext, id: string, trx?: Transaction<any>): Promise<Dict> {
    const row = await this.visible((trx ?? this.db).selectFrom('subnetpools').selectAll().where('id', '=', id), ctx).executeTakeFirst();
    if (!row) throw X.SubnetPoolNotFound(id);
    return row;
  }

  async get(ctx: RequestContext, id: string): Promise<Dict> {
    return this.dict(await this.getRow(ctx, id), (await this.p.loadTags('subnetpools', [id])).get(id));
  }

  async list(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.visible(this.db.selectFrom('subnetpools').selectAll('subnetpools'), ctx);
    q = applyFilters(q, 'subnetpools', opts.filters, COLS);
    q = applyTagFilters(q, this.db, 'subnetpools', 'subnetpools.id', opts.tagFilters);
    const { rows, more } = await paginate(this.db, 'subnetpools', q, opts, (k) => COLS[k] ?? null);
    const tags = await this.p.loadTags('subnetpools', rows.map((r) => r.id));
    return { items: rows.map((r) => this.dict(r, tags.get(r.id))), more };
  }

  private bounds(version: number, body: Body, cur?: Dict): { min: number; max: number; dflt: number } {
    const maxBits = version === 4 ? 32 : 128;
    const min = isSet(body['min_prefixlen']) ? body['min_prefixlen'] : cur ? Number(cur.min_prefixlen) : version === 4 ? 8 : 64;
    const max = isSet(body['max_prefixlen']) ? body['max_prefixlen'] : cur ? Number(cur.max_prefixlen) : maxBits;
    const dflt = isSet(body['default_prefixlen']) ? body['default_prefixlen'] : cur ? Number(cur.default_prefixlen) : min;
    if (max > maxBits) throw X.IllegalSubnetPoolPrefixBounds('max_prefixlen', max, 'ip_version_max', maxBits);
    if (min < 0 || min > max) throw X.IllegalSubnetPoolPrefixBounds('min_prefixlen', min, 'max_prefixlen', max);
    if (dflt < min) throw X.IllegalSubnetPoolPrefixBounds('default_prefixlen', dflt, 'min_prefixlen', min);
    if (dflt > max) throw X.IllegalSubnetPoolPrefixBounds('default_prefixlen', dflt, 'max_prefixlen', max);
    return { min, max, dflt };
  }

  private readPrefixes(list: string[]): { version: 4 | 6; prefixes: Cidr[] } {
    if (!list.length) throw X.EmptySubnetPoolPrefixList();
    const cidrs = list.map((s) => parseCidr(s)!);
    const version = cidrs[0]!.version;
    if (cidrs.some((c) => c.version !== version)) throw X.PrefixVersionMismatch();
    return { version, prefixes: compact(cidrs) };
  }

  async create(ctx: RequestContext, body: Body): Promise<Dict> {
    const projectId = this.p.projectOf(ctx, body);
    const { version, prefixes } = this.readPrefixes(body['prefixes']);
    const { min, max, dflt } = this.bounds(version, body);
    const id = uuid();
    const ts = now();
    await this.p.tx(async (trx) => {
      await this.p.checkQuota(trx, projectId, 'subnetpool');
      if (body['is_default']) {
        const other = await trx.selectFrom('subnetpools').select('id').where('is_default', '=', 1).where('ip_version', '=', version).executeTakeFirst();
        if (other) throw X.InvalidInput(`A default subnetpool for this IP family has already been set. Only one default may exist per IP family`);
      }
      await trx.insertInto('subnetpools').values({
        id, project_id: projectId, name: body['name'], ip_version: version, default_prefixlen: dflt, min_prefixlen: min, max_prefixlen: max,
        shared: i(body['shared']), is_default: i(body['is_default']), default_quota: isSet(body['default_quota']) ? body['default_quota'] : null,
        address_scope_id: isSet(body['address_scope_id']) ? body['address_scope_id'] : null, prefixes: toJson(prefixes.map(formatCidr)),
        description: body['description'] ?? '', revision_number: 1, created_at: ts, updated_at: ts,
      }).execute();
    });
    return this.get(ctx.elevated(), id);
  }

  async update(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'update_subnetpool');
    const version = Number(row.ip_version);
    const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    for (const k of ['name', 'description', 'default_quota', 'address_scope_id']) if (isSet(body[k])) upd[k] = body[k];
    if (isSet(body['is_default'])) upd['is_default'] = i(body['is_default']);
    const { min, max, dflt } = this.bounds(version, body, row);
    Object.assign(upd, { min_prefixlen: min, max_prefixlen: max, default_prefixlen: dflt });
    if (isSet(body['prefixes'])) {
      const { version: v, prefixes } = this.readPrefixes(body['prefixes']);
      if (v !== version) throw X.PrefixVersionMismatch();
      const old = fromJson<string[]>(row.prefixes, []).map((s) => parseCidr(s)!);
      for (const o of old) {
        if (!prefixes.some((n) => cidrFirst(n) <= cidrFirst(o) && cidrLast(o) <= cidrLast(n))) {
          throw X.IllegalSubnetPoolPrefixUpdate(`Existing prefixes must be a subset of the new prefixes`);
        }
      }
      upd['prefixes'] = toJson(prefixes.map(formatCidr));
    }
    await this.db.updateTable('subnetpools').set(upd).where('id', '=', id).execute();
    return this.get(ctx.elevated(), id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'delete_subnetpool');
    const used = await this.db.selectFrom('subnets').select('id').where('subnetpool_id', '=', id).executeTakeFirst();
    if (used) throw X.SubnetPoolInUse(id, 'Subnet pool has existing allocations');
    await this.db.deleteFrom('tags').where('resource_type', '=', 'subnetpools').where('resource_id', '=', id).execute();
    await this.db.deleteFrom('subnetpools').where('id', '=', id).execute();
  }

  /** Picks the pool and a free CIDR of the requested (or default) prefix length. */
  async allocate(trx: Transaction<any>, ctx: RequestContext, body: Body): Promise<{ cidr: string; subnetpool_id: string }> {
    const version: number = body['ip_version'];
    let pool: Dict | undefined;
    if (isSet(body['subnetpool_id']) && body['subnetpool_id']) {
      pool = await this.getRow(ctx, body['subnetpool_id'], trx);
    } else {
      pool = await trx.selectFrom('subnetpools').selectAll().where('is_default', '=', 1).where('ip_version', '=', version).executeTakeFirst();
      if (!pool) throw X.BadRequest('subnets', `No default subnetpool found for IPv${version}`);
    }
    if (Number(pool.ip_version) !== version) throw X.InvalidInput(`ip_version '${version}' does not match the subnetpool's`);
    const prefixes = fromJson<string[]>(pool.prefixes, []).map((s) => parseCidr(s)!);
    const taken = (await trx.selectFrom('subnets').select('cidr').where('subnetpool_id', '=', pool.id).execute()).map((r: any) => parseCidr(r.cidr)!);
    if (isSet(body['cidr']) && body['cidr']) {
      const want = parseCidr(body['cidr'])!;
      if (want.prefixlen > Number(pool.max_prefixlen)) throw X.MaxPrefixSubnetAllocationError(want.prefixlen, Number(pool.max_prefixlen));
      if (want.prefixlen < Number(pool.min_prefixlen)) throw X.MinPrefixSubnetAllocationError(want.prefixlen, Number(pool.min_prefixlen));
      const inside = prefixes.some((p) => cidrFirst(p) <= cidrFirst(want) && cidrLast(want) <= cidrLast(p));
      if (!inside || taken.some((t) => cidrsOverlap(t, want))) {
        throw X.SubnetAllocationError('Cannot allocate requested subnet from the available set of prefixes');
      }
      return { cidr: formatCidr(want), subnetpool_id: pool.id };
    }
    const prefixlen: number = isSet(body['prefixlen']) ? body['prefixlen'] : Number(pool.default_prefixlen);
    if (prefixlen > Number(pool.max_prefixlen)) throw X.MaxPrefixSubnetAllocationError(prefixlen, Number(pool.max_prefixlen));
    if (prefixlen < Number(pool.min_prefixlen)) throw X.MinPrefixSubnetAllocationError(prefixlen, Number(pool.min_prefixlen));
    const bits = version === 4 ? 32 : 128;
    const step = 1n << BigInt(bits - prefixlen);
    for (const p of prefixes) {
      if (p.prefixlen > prefixlen) continue;
      for (let net = cidrFirst(p); net + step - 1n <= cidrLast(p); net += step) {
        const cand: Cidr = { version: p.version, network: net, ip: net, prefixlen };
        const clash = taken.find((t) => cidrsOverlap(t, cand));
        if (!clash) return { cidr: formatCidr(cand), subnetpool_id: pool.id };
        // jump past the clashing allocation
        if (cidrLast(clash) > net + step - 1n) net = ((cidrLast(clash) + 1n) / step) * step - step;
      }
    }
    throw X.SubnetAllocationError(`Insufficient prefix space to allocate subnet size /${prefixlen}`);
  }
}
