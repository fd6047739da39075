/**
 * Security groups and rules (neutron/db/securitygroups_db.py): the per-project `default`
 * group with its four rules, rule validation with Neutron's error types, duplicate detection,
 * and the agent-facing notifications when rules or members change.
 * @module
 */
import type { Transaction } from 'kysely';
import type { RequestContext } from '../../common/context.js';
import * as X from '../common/exceptions.js';
import { IP_PROTOCOL_MAP, PORT_PROTOCOL_NUMBERS } from '../common/constants.js';
import { parseCidr, formatCidr } from '../common/ipaddr.js';
import { isSet, type Body, type Dict, type ListResult, type NeutronPlugin, applyFilters } from './core.js';
import { b, emptyList, fromJson, i, isDuplicateKey, now, paginate, applyTagFilters, uuid, type ListOptions } from './dbutil.js';
import { Q } from '../db/queries.js';

const SG_COLS: Record<string, string> = {
  id: 'id', name: 'name', project_id: 'project_id', tenant_id: 'project_id', description: 'description', stateful: 'stateful',
  revision_number: 'revision_number', created_at: 'created_at', updated_at: 'updated_at',
};
const RULE_COLS: Record<string, string> = {
  id: 'id', security_group_id: 'security_group_id', remote_group_id: 'remote_group_id', direction: 'direction', ethertype: 'ethertype',
  protocol: 'protocol', port_range_min: 'port_range_min', port_range_max: 'port_range_max', remote_ip_prefix: 'remote_ip_prefix',
  project_id: 'project_id', tenant_id: 'project_id', description: 'description', revision_number: 'revision_number',
  created_at: 'created_at', updated_at: 'updated_at',
};

export class SecurityGroups {
  constructor(private readonly p: NeutronPlugin) {
    p.ensureDefaultSecurityGroup = (ctx, projectId) => this.ensureDefault(ctx, projectId);
  }

  private get db() {
    return this.p.db;
  }

  /** Creates the project's `default` group once, whoever asks first (the PK on default_security_group decides). */
  async ensureDefault(_ctx: RequestContext, projectId: string): Promise<string | null> {
    if (!projectId) return null;
    const existing = await Q.defaultSecurityGroup.first(this.db, projectId);
    if (existing) return existing.security_group_id;
    const id = uuid();
    try {
      await this.p.database.transaction(async (trx: Transaction<any>) => {
        await trx.insertInto('default_security_group').values({ project_id: projectId, security_group_id: id }).execute();
        await this.insertGroup(trx, id, projectId, 'default', 'Default security group', true);
        for (const ethertype of ['IPv4', 'IPv6']) {
          await this.insertRule(trx, { security_group_id: id, project_id: projectId, direction: 'ingress', ethertype, remote_group_id: id });
        }
      });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const row = await this.db.selectFrom('default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirstOrThrow();
    return row.security_group_id;
  }

  private async insertGroup(trx: Transaction<any>, id: string, projectId: string, name: string, description: string, stateful: boolean): Promise<void> {
    const ts = now();
    await trx.insertInto('securitygroups').values({ id, project_id: projectId, name, description, stateful: i(stateful), revision_number: 1, created_at: ts, updated_at: ts }).execute();
    for (const ethertype of ['IPv4', 'IPv6']) {
      await this.insertRule(trx, { security_group_id: id, project_id: projectId, direction: 'egress', ethertype });
    }
  }

  private async insertRule(trx: Transaction<any>, r: Dict): Promise<string> {
    const id = r['id'] ?? uuid();
    const ts = now();
    await trx.insertInto('securitygrouprules').values({
      id, project_id: r['project_id'], security_group_id: r['security_group_id'], remote_group_id: r['remote_group_id'] ?? null,
      direction: r['direction'], ethertype: r['ethertype'], protocol: r['protocol'] ?? null, port_range_min: r['port_range_min'] ?? null,
      port_range_max: r['port_range_max'] ?? null, remote_ip_prefix: r['remote_ip_prefix'] ?? null, description: r['description'] ?? '',
      revision_number: 0, created_at: ts, updated_at: ts,
    }).execute();
    return id;
  }

  ruleDict(r: Dict, defaultSgIds: Set<string> = new Set()): Dict {
    const prefix = r.remote_ip_prefix ?? null;
    const c = prefix ? parseCidr(prefix) : null;
    return {
      id: r.id, project_id: r.project_id ?? '', tenant_id: r.project_id ?? '', security_group_id: r.security_group_id,
      ethertype: r.ethertype, direction: r.direction, protocol: r.protocol ?? null,
      port_range_min: r.port_range_min === null || r.port_range_min === undefined ? null : Number(r.port_range_min),
      port_range_max: r.port_range_max === null || r.port_range_max === undefined ? null : Number(r.port_range_max),
      remote_ip_prefix: prefix, remote_address_group_id: null, normalized_cidr: c ? formatCidr(c) : null,
      remote_group_id: r.remote_group_id ?? null, description: r.description ?? '',
      belongs_to_default_sg: defaultSgIds.has(r.security_group_id),
      created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
    };
  }

  private async defaultIds(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.selectFrom('default_security_group').select('security_group_id').where('security_group_id', 'in', ids).execute();
    return new Set(rows.map((r: any) => r.security_group_id));
  }

  /** Group dicts; rules and tags are read only when `fields` (if given) keeps them. */
  private async groupDicts(rows: Dict[], fields: string[] | null = null): Promise<Dict[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const withRules = !fields || fields.includes('security_group_rules');
    const rules = withRules ? await this.db.selectFrom('securitygrouprules').selectAll().where('security_group_id', 'in', ids).orderBy('created_at').execute() : [];
    const defaults = withRules ? await this.defaultIds(ids) : new Set<string>();
    const tags = !fields || fields.includes('tags') ? await this.p.loadTags('security_groups', ids) : new Map<string, string[]>();
    return rows.map((r) => ({
      id: r.id, name: r.name, project_id: r.project_id ?? '', tenant_id: r.project_id ?? '', description: r.description,
      stateful: b(r.stateful), shared: false,
      security_group_rules: rules.filter((x: any) => x.security_group_id === r.id).map((x: any) => this.ruleDict(x, defaults)),
      tags: tags.get(r.id) ?? [], created_at: r.created_at, updated_at: r.updated_at, revision_number: Number(r.revision_number),
    }));
  }

  private visible(q: any, ctx: RequestContext, table = 'securitygroups'): any {
    return ctx.isAdmin ? q : q.where(`${table}.project_id`, '=', ctx.projectId ?? '');
  }

  async getRow(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.visible(this.db.selectFrom('securitygroups').selectAll().where('id', '=', id), ctx).executeTakeFirst();
    if (!row) throw X.SecurityGroupNotFound(id);
    return row;
  }

  async get(ctx: RequestContext, id: string): Promise<Dict> {
    return (await this.groupDicts([await this.getRow(ctx, id)]))[0]!;
  }

  async list(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    // Neutron makes sure the caller's project has its default group before listing
    if (ctx.projectId) await this.ensureDefault(ctx, ctx.projectId);
    let q = this.visible(this.db.selectFrom('securitygroups').selectAll('securitygroups'), ctx);
    q = applyFilters(q, 'securitygroups', opts.filters, SG_COLS);
    q = applyTagFilters(q, this.db, 'security_groups', 'securitygroups.id', opts.tagFilters);
    const { rows, more } = await paginate(this.db, 'securitygroups', q, opts, (k) => SG_COLS[k] ?? null);
    return { items: await this.groupDicts(rows, opts.fields ?? null), more };
  }

  async create(ctx: RequestContext, body: Body): Promise<Dict> {
    const projectId = this.p.projectOf(ctx, body);
    if (body['name'] === 'default') {
      await this.ensureDefault(ctx, projectId);
      throw X.SecurityGroupDefaultAlreadyExists();
    }
    await this.ensureDefault(ctx, projectId);
    const id = uuid();
    await this.p.tx(async (trx) => {
      await this.p.checkQuota(trx, projectId, 'security_group');
      await this.insertGroup(trx, id, projectId, body['name'] ?? '', body['description'] ?? '', body['stateful'] ?? true);
    });
    return this.get(ctx.elevated(), id);
  }

  async update(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'update_security_group');
    const isDefault = (await this.defaultIds([id])).has(id);
    if (isDefault && isSet(body['name']) && body['name'] !== 'default') throw X.SecurityGroupCannotUpdateDefault();
    if (!isDefault && body['name'] === 'default') throw X.SecurityGroupDefaultAlreadyExists();
    if (isSet(body['stateful']) && !!body['stateful'] !== b(row.stateful)) {
      const used = await this.db.selectFrom('securitygroupportbindings').select('port_id').where('security_group_id', '=', id).executeTakeFirst();
      if (used) throw X.SecurityGroupInUse(id);
    }
    const upd: Dict = { updated_at: now(), revision_number: Number(row.revision_number) + 1 };
    for (const k of ['name', 'description']) if (isSet(body[k])) upd[k] = body[k];
    if (isSet(body['stateful'])) upd['stateful'] = i(body['stateful']);
    await this.db.updateTable('securitygroups').set(upd).where('id', '=', id).execute();
    return this.get(ctx.elevated(), id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.getRow(ctx, id);
    this.p.checkOwner(ctx, row, 'delete_security_group');
    const isDefault = (await this.defaultIds([id])).has(id);
    if (isDefault && !ctx.isAdmin) throw X.SecurityGroupCannotRemoveDefault();
    await this.p.tx(async (trx) => {
      const used = await trx.selectFrom('securitygroupportbindings').select('port_id').where('security_group_id', '=', id).executeTakeFirst();
      if (used) throw X.SecurityGroupInUse(id);
      const remote = await trx.selectFrom('securitygrouprules').select('id').where('remote_group_id', '=', id).where('security_group_id', '!=', id).executeTakeFirst();
      if (remote) throw X.SecurityGroupInUse(id, 'in use by a rule of another group');
      await trx.deleteFrom('securitygrouprules').where('security_group_id', '=', id).execute();
      await trx.deleteFrom('default_security_group').where('security_group_id', '=', id).execute();
      await trx.deleteFrom('tags').where('resource_type', '=', 'security_groups').where('resource_id', '=', id).execute();
      await trx.deleteFrom('securitygroups').where('id', '=', id).execute();
    });
  }

  // ------------------------------------------------------------------ rules

  /** neutron's rule converters and _validate_security_group_rule, in its order. */
  normalizeRule(body: Body): Dict {
    const r: Dict = { ...body };
    // ethertype, case-insensitive
    const et = String(r['ethertype'] ?? 'IPv4');
    const etNorm = et.toLowerCase() === 'ipv4' ? 'IPv4' : et.toLowerCase() === 'ipv6' ? 'IPv6' : null;
    if (!etNorm) throw X.SecurityGroupRuleInvalidEtherType(et);
    r['ethertype'] = etNorm;
    // protocol by name or number
    const proto = r['protocol'];
    if (proto === null || proto === undefined || proto === '') r['protocol'] = null;
    else {
      const s = String(proto).toLowerCase();
      const names = Object.keys(IP_PROTOCOL_MAP).filter((n) => n !== 'ip');
      if (/^\d+$/.test(s)) {
        const n = Number(s);
        if (n < 0 || n > 255) throw X.SecurityGroupRuleInvalidProtocol(String(proto), `[${names.map((x) => `'${x}'`).join(', ')}, None]`);
        r['protocol'] = String(n);
      } else if (s === 'any') {
        r['protocol'] = null;
      } else if (s in IP_PROTOCOL_MAP) {
        r['protocol'] = s;
      } else {
        throw X.SecurityGroupRuleInvalidProtocol(String(proto), `[${names.map((x) => `'${x}'`).join(', ')}, None]`);
      }
    }
    for (const k of ['port_range_min', 'port_range_max']) {
      const v = r[k];
      if (v === null || v === undefined) { r[k] = null; continue; }
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw X.SecurityGroupInvalidPortValue(v);
      r[k] = n;
    }
    if (r['remote_ip_prefix'] !== null && r['remote_ip_prefix'] !== undefined) {
      const c = typeof r['remote_ip_prefix'] === 'string' ? parseCidr(r['remote_ip_prefix']) : null;
      if (!c) throw X.InvalidCIDR(String(r['remote_ip_prefix']));
      r['remote_ip_prefix'] = String(r['remote_ip_prefix']).includes('/') ? r['remote_ip_prefix'] : formatCidr({ ...c, network: c.ip });
    } else {
      r['remote_ip_prefix'] = null;
    }
    return r;
  }

  private validatePorts(r: Dict): void {
    const min = r['port_range_min'];
    const max = r['port_range_max'];
    if (min === null && max === null) return;
    if (!r['protocol']) throw X.SecurityGroupProtocolRequiredWithPorts();
    const proto = /^\d+$/.test(r['protocol']) ? Number(r['protocol']) : IP_PROTOCOL_MAP[r['protocol']]!;
    if (PORT_PROTOCOL_NUMBERS.includes(proto)) {
      if (min === 0 || max === 0) throw X.SecurityGroupInvalidPortValue(0);
      if (min !== null && max !== null && min <= max) return;
      throw X.SecurityGroupInvalidPortRange();
    }
    if (proto === 1 || proto === 58) {
      for (const [attr, field] of [['port_range_min', 'type'], ['port_range_max', 'code']] as const) {
        if (r[attr] !== null && (r[attr] < 0 || r[attr] > 255)) throw X.SecurityGroupInvalidIcmpValue(field, attr, r[attr]);
      }
      if (min === null && max !== null) throw X.SecurityGroupMissingIcmpType(max);
      return;
    }
    throw X.SecurityGroupInvalidProtocolForPort(r['protocol']);
  }

  private async validateRule(ctx: RequestContext, r: Dict): Promise<Dict> {
    const sg = await this.getRow(ctx, r['security_group_id']);
    if (r['remote_ip_prefix'] && r['remote_group_id']) throw X.SecurityGroupMultipleRemoteEntites();
    if (r['remote_group_id']) {
      const remote = await this.db.selectFrom('securitygroups').select('id').where('id', '=', String(r['remote_group_id'])).executeTakeFirst();
      if (!remote) throw X.SecurityGroupNotFound(String(r['remote_group_id']));
    }
    this.validatePorts(r);
    if (r['remote_ip_prefix']) {
      const c = parseCidr(r['remote_ip_prefix'])!;
      if ((c.version === 4) !== (r['ethertype'] === 'IPv4')) throw X.SecurityGroupRuleParameterConflict(r['ethertype'], r['remote_ip_prefix']);
    }
    if (r['ethertype'] === 'IPv4' && ['ipv6-icmp', 'icmpv6', 'ipv6-encap', 'ipv6-frag', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '58'].includes(r['protocol'] ?? '')) {
      throw X.SecurityGroupEthertypeConflictWithProtocol(r['ethertype'], r['protocol']);
    }
    return sg;
  }

  private sameRule(a: Dict, b2: Dict): boolean {
    const norm = (x: Dict) => {
      const c = x['remote_ip_prefix'] ? parseCidr(x['remote_ip_prefix']) : null;
      return [x['direction'], x['ethertype'], x['protocol'] ?? null, x['port_range_min'] ?? null, x['port_range_max'] ?? null,
        c ? formatCidr(c) : null, x['remote_group_id'] ?? null].map((v) => (v === null ? '' : String(v))).join('|');
    };
    return norm(a) === norm(b2);
  }

  async createRules(ctx: RequestContext, bodies: Body[]): Promise<Dict[]> {
    const rules: Dict[] = [];
    for (const body of bodies) {
      const r = this.normalizeRule(body);
      const sg = await this.validateRule(ctx, r);
      r['project_id'] = isSet(body['project_id']) && body['project_id'] ? body['project_id'] : isSet(body['tenant_id']) && body['tenant_id'] ? body['tenant_id'] : sg.project_id;
      if (!ctx.isAdmin && sg.project_id !== ctx.projectId) throw X.PolicyNotAuthorized('create_security_group_rule');
      for (const prev of rules) if (prev['security_group_id'] === r['security_group_id'] && this.sameRule(prev, r)) throw X.DuplicateSecurityGroupRuleInPost();
      rules.push(r);
    }
    const ids: string[] = [];
    await this.p.tx(async (trx) => {
      ids.length = 0;
      for (const r of rules) {
        await this.p.checkQuota(trx, r['project_id'], 'security_group_rule');
        const existing = await trx.selectFrom('securitygrouprules').selectAll().where('security_group_id', '=', r['security_group_id']).execute();
        for (const e of existing) if (this.sameRule(e, r)) throw X.SecurityGroupRuleExists(e.id);
        ids.push(await this.insertRule(trx, r));
        await trx.updateTable('securitygroups').set((eb: any) => ({ revision_number: eb('revision_number', '+', 1), updated_at: now() }))
          .where('id', '=', r['security_group_id']).execute();
      }
    });
    const rows = await this.db.selectFrom('securitygrouprules').selectAll().where('id', 'in', ids).execute();
    const defaults = await this.defaultIds(rows.map((r: any) => r.security_group_id));
    const out = ids.map((id) => this.ruleDict(rows.find((r: any) => r.id === id)!, defaults));
    await this.p.callbacks.publish(ctx, 'security_group.rules_changed', { ids: [...new Set(rules.map((r) => r['security_group_id'] as string))] });
    return out;
  }

  async getRule(ctx: RequestContext, id: string): Promise<Dict> {
    const row = await this.visible(this.db.selectFrom('securitygrouprules').selectAll().where('id', '=', id), ctx, 'securitygrouprules').executeTakeFirst();
    if (!row) throw X.SecurityGroupRuleNotFound(id);
    return this.ruleDict(row, await this.defaultIds([row.security_group_id]));
  }

  async listRules(ctx: RequestContext, opts: ListOptions = emptyList()): Promise<ListResult> {
    let q = this.visible(this.db.selectFrom('securitygrouprules').selectAll('securitygrouprules'), ctx, 'securitygrouprules');
    q = applyFilters(q, 'securitygrouprules', opts.filters, RULE_COLS);
    const { rows, more } = await paginate(this.db, 'securitygrouprules', q, opts, (k) => RULE_COLS[k] ?? null);
    const defaults = await this.defaultIds([...new Set(rows.map((r) => r.security_group_id as string))]);
    return { items: rows.map((r) => this.ruleDict(r, defaults)), more };
  }

  async updateRule(ctx: RequestContext, id: string, body: Body): Promise<Dict> {
    const rule = await this.getRule(ctx, id);
    this.p.checkOwner(ctx, rule, 'update_security_group_rule');
    if (isSet(body['description'])) {
      await this.db.updateTable('securitygrouprules').set({ description: body['description'], updated_at: now(), revision_number: rule['revision_number'] + 1 }).where('id', '=', id).execute();
    }
    return this.getRule(ctx, id);
  }

  async deleteRule(ctx: RequestContext, id: string): Promise<void> {
    const rule = await this.getRule(ctx, id);
    this.p.checkOwner(ctx, rule, 'delete_security_group_rule');
    await this.db.deleteFrom('securitygrouprules').where('id', '=', id).execute();
    await this.db.updateTable('securitygroups').set((eb: any) => ({ revision_number: eb('revision_number', '+', 1), updated_at: now() }))
      .where('id', '=', rule['security_group_id']).execute();
    await this.p.callbacks.publish(ctx, 'security_group.rules_changed', { ids: [rule['security_group_id']] });
  }

  /** What an L2 agent needs to program a port's firewall (security_group_info_for_devices). */
  async infoForPorts(portIds: string[]): Promise<Dict> {
    // one device in one group (a newly wired port) is the usual call: the same queries, compiled once
    const ports = portIds.length === 1 ? await Q.sgPortOfOne.rows(this.db, portIds[0])
      : portIds.length ? await this.db.selectFrom('ports').select(['id', 'security_groups', 'fixed_ips', 'mac_address']).where('id', 'in', portIds).execute() : [];
    const sgIds = [...new Set(ports.flatMap((p: any) => fromJson<string[]>(p.security_groups, [])))];
    const rules = sgIds.length === 1 ? await Q.sgRulesOfOne.rows(this.db, sgIds[0])
      : sgIds.length ? await this.db.selectFrom('securitygrouprules').selectAll().where('security_group_id', 'in', sgIds).execute() : [];
    const members: Dict = {};
    for (const sg of sgIds) members[sg] = { IPv4: [], IPv6: [] };
    const bound = sgIds.length === 1 ? await Q.sgMembersOfOne.rows(this.db, sgIds[0])
      : sgIds.length ? await this.db.selectFrom('securitygroupportbindings').innerJoin('ipallocations', 'ipallocations.port_id', 'securitygroupportbindings.port_id')
        .select(['securitygroupportbindings.security_group_id as sg', 'ipallocations.ip_address as ip']).where('securitygroupportbindings.security_group_id', 'in', sgIds).execute() : [];
    for (const m of bound) members[m.sg]![m.ip.includes(':') ? 'IPv6' : 'IPv4'].push(m.ip);
    const security_groups: Dict = {};
    for (const sg of sgIds) security_groups[sg] = rules.filter((r: any) => r.security_group_id === sg).map((r: any) => this.ruleDict(r));
    const devices: Dict = {};
    for (const p of ports) devices[p.id] = { security_groups: fromJson(p.security_groups, []), fixed_ips: fromJson<Dict[]>(p.fixed_ips, []).map((f) => f['ip_address']), mac_address: p.mac_address };
    return { devices, security_groups, sg_member_ips: members };
  }
}
