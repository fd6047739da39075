/**
 * The smaller Cinder resources: version documents, volume types and extra specs, availability
 * zones, /extensions, limits, quota sets and services.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { isServiceUp } from '../../common/service.js';
import { validateBody } from '../../common/http/validation.js';
import type { CinderAPI } from '../api.js';
import { nowIso } from '../db/api.js';
import { quotaSet } from '../quota.js';
import {
  badRequest, baseUrl, collectionLinks, invalidInput, isTrue, links, pagingOf, paginate, policyForbidden, queryOf, strictBool, typeNotFound,
} from './common.js';
import { atLeast, typeView } from './views.js';
import { userMessage, type MessageRow } from '../messages.js';

const P = '/v3/:project_id';
export const MIN_VERSION = '3.0';
export const MAX_VERSION = '3.44';
type Params = { project_id: string; id: string; key: string; tenant_id: string };

function versionDoc(req: FastifyRequest): Record<string, unknown> {
  return {
    id: 'v3.0', status: 'CURRENT', version: MAX_VERSION, min_version: MIN_VERSION, updated: '2023-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${baseUrl(req)}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

const EXTENSIONS: [string, string, string][] = [
  ['AdminActions', 'os-admin-actions', 'Enable admin actions.'],
  ['AvailabilityZones', 'os-availability-zone', 'Describe Availability Zones.'],
  ['ExtendedServices', 'os-extended-services', 'Extended services support.'],
  ['Capabilities', 'capabilities', 'Capabilities support.'],
  ['SchedulerStats', 'scheduler-stats', 'Scheduler stats support.'],
  ['Hosts', 'os-hosts', 'Admin-only host administration.'],
  ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes', 'Extended SnapshotAttributes support.'],
  ['Quotas', 'os-quota-sets', 'Quota management support.'],
  ['Services', 'os-services', 'Services support.'],
  ['SnapshotActions', 'os-snapshot-actions', 'Enable snapshot manager actions.'],
  ['TypesExtraSpecs', 'os-types-extra-specs', 'Type extra specs support.'],
  ['TypesManage', 'os-types-manage', 'Types manage support.'],
  ['UsedLimits', 'os-used-limits', 'Provide data on limited resources that are being used.'],
  ['VolumeActions', 'os-volume-actions', 'Enable volume actions.'],
  ['VolumeHostAttribute', 'os-vol-host-attr', 'Expose host as an attribute of a volume.'],
  ['VolumeImageMetadata', 'os-vol-image-meta', 'Show image metadata associated with the volume.'],
  ['VolumeMigStatusAttribute', 'os-vol-mig-status-attr', 'Expose migration_status as an attribute of a volume.'],
  ['VolumeTenantAttribute', 'os-vol-tenant-attr', 'Expose the internal project_id as an attribute of a volume.'],
  ['VolumeTypeAccess', 'os-volume-type-access', 'Volume type access support.'],
  ['VolumeTransfer', 'os-volume-transfer', 'Volume transfer management support.'],
  ['QuotaClasses', 'os-quota-class-sets', 'Quota classes management support.'],
];

const typeCreateSchema = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        'os-volume-type-access:is_public': { type: ['boolean', 'string'] },
        extra_specs: { type: 'object', additionalProperties: { type: 'string', maxLength: 255 } },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
};
const typeUpdateSchema = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        is_public: { type: ['boolean', 'string'] },
      },
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
};

/** Module-level so Ajv compiles it once (it compiles once per schema object). */
const extraSpecsSchema = {
  type: 'object',
  properties: {
    extra_specs: {
      type: 'object',
      patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'number', 'boolean'] } },
      additionalProperties: false,
    },
  },
  required: ['extra_specs'],
  additionalProperties: false,
};

export function registerMiscRoutes(app: FastifyInstance, api: CinderAPI): void {
  app.get('/', { config: { public: true } }, async (req, reply) => reply.code(300).send({ versions: [versionDoc(req)] }));
  app.get('/v3', { config: { public: true } }, async (req) => ({ versions: [versionDoc(req)] }));

  app.get(`${P}/extensions`, async () => ({
    extensions: EXTENSIONS.map(([name, alias, description]) => ({ alias, description, links: [], name, updated: '2013-08-08T00:00:00+00:00' })),
  }));

  app.get(`${P}/os-availability-zone`, async () => ({
    availabilityZoneInfo: (await api.availabilityZones()).map((z) => ({ zoneName: z.name, zoneState: { available: z.available } })),
  }));

  // ---- limits and quotas
  app.get(`${P}/limits`, async (req: FastifyRequest<{ Params: Params }>) => {
    const project = req.ctx.projectId ?? '';
    const q = quotaSet(await api.db.effectiveQuotas(project), []);
    const u = await api.db.usage(project);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: q['volumes'], maxTotalSnapshots: q['snapshots'], maxTotalVolumeGigabytes: q['gigabytes'],
          maxTotalBackups: q['backups'], maxTotalBackupGigabytes: q['backup_gigabytes'],
          totalVolumesUsed: u.volumes, totalGigabytesUsed: u.gigabytes, totalSnapshotsUsed: u.snapshots,
          totalBackupsUsed: 0, totalBackupGigabytesUsed: 0,
        },
      },
    };
  });

  const typeNames = async () => (await api.db.listTypes()).map((t) => t.name);
  app.get(`${P}/os-quota-sets/:tenant_id/defaults`, async (req: FastifyRequest<{ Params: Params }>) => ({
    quota_set: { id: req.params.tenant_id, ...quotaSet(await api.db.projectQuotas('__class__default'), await typeNames()) },
  }));
  app.get(`${P}/os-quota-sets/:tenant_id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const target = req.params.tenant_id;
    if (!req.ctx.isAdmin && req.ctx.projectId !== target) throw policyForbidden('volume_extension:quotas:show');
    const q = quotaSet(await api.db.effectiveQuotas(target), await typeNames());
    if (!isTrue(queryOf(req)['usage'] ?? 'false')) return { quota_set: { id: target, ...q } };
    const u = await api.db.usage(target);
    const used: Record<string, number> = { volumes: u.volumes, gigabytes: u.gigabytes, snapshots: u.snapshots };
    const out: Record<string, unknown> = { id: target };
    for (const [k, limit] of Object.entries(q)) out[k] = { limit, in_use: used[k] ?? 0, reserved: 0, allocated: 0 };
    return { quota_set: out };
  });
  app.put(`${P}/os-quota-sets/:tenant_id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:quotas:update');
    const body = req.body as { quota_set?: Record<string, unknown> } | null;
    if (!body?.quota_set || typeof body.quota_set !== 'object') throw badRequest("Missing required element 'quota_set' in request body.");
    const known = quotaSet({}, await typeNames());
    for (const [k, v] of Object.entries(body.quota_set)) {
      if (k === 'tenant_id' || k === 'id') continue;
      if (!(k in known)) throw badRequest(`Bad key(s) in quota set: ${k}`);
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw invalidInput(`Quota limit ${v} for ${k} must be -1 or greater.`);
      await api.db.setQuota(req.params.tenant_id, k, n);
    }
    const q = quotaSet(await api.db.effectiveQuotas(req.params.tenant_id), await typeNames());
    return { quota_set: q };
  });
  app.delete(`${P}/os-quota-sets/:tenant_id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:quotas:delete');
    await api.db.deleteQuotas(req.params.tenant_id);
    return reply.code(200).send();
  });

  // ---- services
  app.get(`${P}/os-services`, async (req) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:services:index');
    const q = queryOf(req);
    // `host=h` matches h, h@backend and h@backend#pool, as Cinder's host filter does.
    const hostMatch = (h: string) => !q['host'] || h === q['host'] || h.startsWith(`${q['host']}@`) || h.startsWith(`${q['host']}#`);
    const rows = (await api.db.listServices()).filter((s) => hostMatch(s.host) && (!q['binary'] || s.binary === q['binary']));
    return {
      services: rows.map((s) => ({
        binary: s.binary, host: s.host, zone: s.availability_zone, status: s.disabled ? 'disabled' : 'enabled',
        state: isServiceUp(s.updated_at ? new Date(s.updated_at + 'Z') : new Date(s.created_at + 'Z')) ? 'up' : 'down',
        updated_at: s.updated_at, disabled_reason: s.disabled_reason, frozen: false,
        ...(s.binary === 'cinder-volume' ? { replication_status: 'disabled', active_backend_id: null } : {}),
        ...(req.microversion?.matches('3.7') ? { cluster: null } : {}),
      })),
    };
  });

  // ---- user messages (3.3; sorting, paging and filters 3.5)
  const needs = (req: FastifyRequest, v: string, what: string) => {
    if (!atLeast(req, v)) throw new ApiError(404, `${what} could not be found.`);
  };
  const messageView = (req: FastifyRequest, m: MessageRow) => {
    const out: Record<string, unknown> = {
      id: m.id, event_id: m.event_id, user_message: userMessage(m), message_level: m.message_level, created_at: m.created_at,
      guaranteed_until: m.expires_at, request_id: m.request_id, links: links(req, m.project_id, 'messages', m.id),
    };
    if (m.resource_type) out['resource_type'] = m.resource_type;
    if (m.resource_uuid) out['resource_uuid'] = m.resource_uuid;
    return out;
  };
  const getMessage = async (req: FastifyRequest, id: string): Promise<MessageRow> => {
    const m = await api.db.db.selectFrom('messages').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() as MessageRow | undefined;
    if (!m || (!req.ctx.isAdmin && m.project_id !== req.ctx.projectId)) throw new ApiError(404, `Message ${id} could not be found.`, { type: 'MessageNotFound' });
    return m;
  };
  app.get(`${P}/messages`, async (req: FastifyRequest<{ Params: Params }>) => {
    needs(req, '3.3', 'Resource');
    const q = queryOf(req);
    const paging = atLeast(req, '3.5')
      ? pagingOf(q, new Set(['id', 'created_at', 'event_id', 'message_level', 'resource_type', 'resource_uuid', 'request_id']))
      : { limit: null, offset: 0, marker: null, sort: [{ key: 'created_at', dir: 'desc' as const }, { key: 'id', dir: 'desc' as const }] };
    let rows = await api.db.db.selectFrom('messages').selectAll().where('deleted', '=', 0)
      .$if(!req.ctx.isAdmin, (qb) => qb.where('project_id', '=', req.ctx.projectId ?? '')).execute() as MessageRow[];
    if (atLeast(req, '3.5')) {
      for (const k of ['event_id', 'message_level', 'resource_type', 'resource_uuid', 'request_id'] as const) {
        if (q[k] !== undefined) rows = rows.filter((m) => m[k] === q[k]);
      }
    }
    const { page, limit } = paginate(rows, paging, (m) => new ApiError(404, `Marker ${m} could not be found.`, { type: 'MarkerNotFound' }));
    const body: Record<string, unknown> = { messages: page.map((m) => messageView(req, m)) };
    const next = collectionLinks(req, req.params.project_id, 'messages', page, limit);
    if (next && paging.limit !== null) body['messages_links'] = next;
    return body;
  });
  app.get(`${P}/messages/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    needs(req, '3.3', 'Resource');
    return { message: messageView(req, await getMessage(req, req.params.id)) };
  });
  app.delete(`${P}/messages/:id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    needs(req, '3.3', 'Resource');
    const m = await getMessage(req, req.params.id);
    await api.db.db.updateTable('messages').set({ deleted: 1 }).where('id', '=', m.id).execute();
    return reply.code(204).send();
  });

  // ---- resource filters (3.33): the filters each list accepts (`resource_filters.json`)
  app.get(`${P}/resource_filters`, async (req) => {
    needs(req, '3.33', 'Resource');
    const all: Record<string, string[]> = {
      volume: ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at'],
      snapshot: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'],
      message: ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'],
      attachment: ['volume_id', 'status', 'instance_id', 'attach_status'],
      pool: ['name', 'volume_type'],
      volume_type: ['is_public'],
    };
    const want = queryOf(req)['resource'];
    const entries = Object.entries(all).filter(([r]) => !want || r === want);
    return { resource_filters: entries.map(([resource, filters]) => ({ resource, filters })) };
  });

  // ---- scheduler stats and backend capabilities (admin)
  app.get(`${P}/scheduler-stats/get_pools`, async (req) => {
    if (!req.ctx.isAdmin) throw policyForbidden('scheduler_extension:scheduler_stats:get_pools');
    const q = queryOf(req);
    const pools = await api.scheduler.getPools(req.ctx, q['name'] ? { name: q['name'] } : null);
    return { pools: isTrue(q['detail'] ?? 'false') ? pools : pools.map((p) => ({ name: p['name'] })) };
  });
  app.get(`${P}/capabilities/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:capabilities');
    const svc = (await api.db.listServices()).find((s) => s.host === req.params.id && s.binary === 'cinder-volume');
    if (!svc) throw new ApiError(404, `Service ${req.params.id} could not be found.`, { type: 'ServiceNotFound' });
    try {
      return await api.volumeRpc.getCapabilities(req.ctx, svc.host);
    } catch {
      throw new ApiError(503, `Timeout while requesting capabilities from backend ${svc.host}.`);
    }
  });

  // ---- os-hosts (deprecated upstream, still listed): a summary of the service hosts
  const hostUp = (s: { updated_at: string | null; created_at: string }) => isServiceUp(new Date(`${s.updated_at ?? s.created_at}Z`));
  app.get(`${P}/os-hosts`, async (req) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:hosts');
    const zone = queryOf(req)['zone'];
    const rows = (await api.db.listServices()).filter((s) => !s.disabled && (!zone || s.availability_zone === zone));
    return {
      hosts: rows.map((s) => ({
        host_name: s.host, service: s.topic, zone: s.availability_zone, 'service-status': hostUp(s) ? 'available' : 'unavailable',
        'service-state': s.disabled ? 'disabled' : 'enabled', 'last-update': s.updated_at,
      })),
    };
  });
  app.get(`${P}/os-hosts/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:hosts');
    const host = req.params.id;
    const svc = (await api.db.listServices()).find((s) => s.host === host && s.binary === 'cinder-volume');
    if (!svc) throw new ApiError(404, `Host ${host} could not be found.`, { type: 'HostNotFound' });
    const vols = (await api.db.listVolumes(null)).filter((v) => v.host?.split('#')[0] === host);
    const byProject = new Map<string, { n: number; gb: number }>();
    for (const v of vols) {
      const e = byProject.get(v.project_id) ?? { n: 0, gb: 0 };
      e.n++;
      e.gb += v.size;
      byProject.set(v.project_id, e);
    }
    const res = (project: string, n: number, gb: number) => ({
      resource: { host, project, volume_count: String(n), total_volume_gb: String(gb), snapshot_count: '0', total_snapshot_gb: '0' },
    });
    return {
      host: [res('(total)', vols.length, vols.reduce((a, v) => a + v.size, 0)), ...[...byProject].map(([p, e]) => res(p, e.n, e.gb))],
    };
  });

  // PUT /os-services/{enable,disable,disable-log-reason,freeze,thaw}
  app.put(`${P}/os-services/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:services:update');
    const action = req.params.id;
    const b = (req.body ?? {}) as Record<string, unknown>;
    const host = typeof b['host'] === 'string' ? b['host'] : undefined;
    const services = await api.db.listServices();
    if (action === 'freeze' || action === 'thaw') {
      if (!host || !services.some((s) => s.host === host && s.binary === 'cinder-volume')) throw invalidInput(`Invalid host: ${host}`);
      return {};
    }
    if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw new ApiError(404, `Unknown action`);
    if (!host) throw badRequest('Missing required element \'host\' in request body.');
    const binary = (b['binary'] ?? b['service']) as string | undefined;
    if (!binary) throw badRequest('Missing required element \'binary\' in request body.');
    const reason = b['disabled_reason'];
    if (action === 'disable-log-reason' && (typeof reason !== 'string' || !reason.trim() || reason.length > 255)) {
      throw badRequest('Disabled reason contains invalid characters or is too long');
    }
    const svc = services.find((s) => s.host === host && s.binary === binary);
    if (!svc) throw new ApiError(404, `Service ${binary} on host ${host} could not be found.`, { type: 'ServiceNotFound' });
    const disabled = action !== 'enable';
    await api.db.db.updateTable('services').set({ disabled: disabled ? 1 : 0, disabled_reason: action === 'disable-log-reason' ? reason as string : null })
      .where('host', '=', host).where('binary', '=', binary).execute();
    return {
      host, binary, status: disabled ? 'disabled' : 'enabled', disabled,
      ...(action === 'disable-log-reason' ? { disabled_reason: reason } : {}),
    };
  });

  // quota classes: only the `default` class exists, and it is the defaults
  app.get(`${P}/os-quota-class-sets/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:quota_classes');
    return { quota_class_set: { id: req.params.id, ...quotaSet(await api.db.projectQuotas(`__class__${req.params.id}`), await typeNames()) } };
  });
  app.put(`${P}/os-quota-class-sets/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    if (!req.ctx.isAdmin) throw policyForbidden('volume_extension:quota_classes');
    const body = req.body as { quota_class_set?: Record<string, unknown> } | null;
    if (!body?.quota_class_set || typeof body.quota_class_set !== 'object') throw badRequest("Missing required element 'quota_class_set' in request body.");
    const known = quotaSet({}, await typeNames());
    for (const [k, v] of Object.entries(body.quota_class_set)) {
      if (!(k in known)) continue;
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw invalidInput(`Quota limit ${v} for ${k} must be -1 or greater.`);
      await api.db.setQuota(`__class__${req.params.id}`, k, n);
    }
    return { quota_class_set: quotaSet(await api.db.projectQuotas(`__class__${req.params.id}`), await typeNames()) };
  });

  // ---- volume types
  const specs = (id: string) => api.db.getMeta('volume_type_extra_specs', id);
  const adminOnly = (req: FastifyRequest, action: string) => {
    if (!req.ctx.isAdmin) throw policyForbidden(action);
  };
  const getType = async (req: FastifyRequest, id: string) => {
    const t = id === 'default' ? await api.defaultType() : await api.db.getType(id);
    if (!t) throw id === 'default' ? new ApiError(404, 'Default volume type can not be found.', { type: 'VolumeTypeNotFound' }) : typeNotFound(id);
    if (!t.is_public && !req.ctx.isAdmin && !(await api.db.typeProjects(t.id)).includes(req.ctx.projectId ?? '')) throw typeNotFound(id);
    return t;
  };

  app.get(`${P}/types`, async (req) => {
    const q = queryOf(req);
    let types = await api.db.listTypes();
    const pub = q['is_public'] !== undefined && q['is_public'].toLowerCase() !== 'none' ? strictBool(q['is_public']) : undefined;
    if (!req.ctx.isAdmin) {
      const mine: typeof types = [];
      for (const t of types) if (t.is_public || (await api.db.typeProjects(t.id)).includes(req.ctx.projectId ?? '')) mine.push(t);
      types = mine;
    } else if (pub !== undefined) {
      types = types.filter((t) => !!t.is_public === pub);
    }
    const metas = await api.db.getMetaMany('volume_type_extra_specs', types.map((t) => t.id));
    return { volume_types: types.map((t) => typeView(req, t, metas.get(t.id) ?? {})) };
  });
  app.get(`${P}/types/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    const t = await getType(req, req.params.id);
    return { volume_type: typeView(req, t, await specs(t.id)) };
  });
  app.post(`${P}/types`, async (req) => {
    adminOnly(req, 'volume_extension:types_manage');
    const b = validateBody<{ volume_type: Record<string, any> }>(req, typeCreateSchema).volume_type;
    const name = String(b['name']).trim();
    if (!name) throw invalidInput('Volume type name can not be empty.');
    if (await api.db.getTypeByName(name)) throw new ApiError(409, `Volume Type ${name} already exists.`, { type: 'VolumeTypeExists' });
    const isPublic = b['os-volume-type-access:is_public'] === undefined ? true : strictBool(b['os-volume-type-access:is_public']);
    if (isPublic === undefined) throw invalidInput(`Invalid value '${b['os-volume-type-access:is_public']}' for is_public. Accepted values: True or False.`);
    const row = { id: randomUUID(), name, description: b['description'] ?? null, is_public: isPublic ? 1 : 0, created_at: nowIso(), updated_at: null, deleted: 0 };
    await api.db.database.transaction(async (trx) => {
      await trx.insertInto('volume_types').values(row).execute();
      await api.db.setMeta('volume_type_extra_specs', row.id, b['extra_specs'] ?? {}, true, trx as any);
    });
    return { volume_type: typeView(req, row, await specs(row.id), { withQos: false }) };
  });
  app.put(`${P}/types/:id`, async (req: FastifyRequest<{ Params: Params }>) => {
    adminOnly(req, 'volume_extension:types_manage');
    const t = await getType(req, req.params.id);
    const b = validateBody<{ volume_type: Record<string, any> }>(req, typeUpdateSchema).volume_type;
    if (b['name'] === undefined && b['description'] === undefined && b['is_public'] === undefined) {
      throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    }
    const values: Record<string, unknown> = { updated_at: nowIso() };
    if (b['name'] !== undefined && b['name'] !== null) {
      const other = await api.db.getTypeByName(b['name']);
      if (other && other.id !== t.id) throw new ApiError(409, `Volume Type ${b['name']} already exists.`, { type: 'VolumeTypeExists' });
      values['name'] = b['name'];
    }
    if (b['description'] !== undefined) values['description'] = b['description'];
    if (b['is_public'] !== undefined) {
      const p = strictBool(b['is_public']);
      if (p === undefined) throw invalidInput(`Invalid value '${b['is_public']}' for is_public. Accepted values: True or False.`);
      values['is_public'] = p ? 1 : 0;
    }
    await api.db.db.updateTable('volume_types').set(values).where('id', '=', t.id).execute();
    const row = (await api.db.getType(t.id))!;
    return { volume_type: typeView(req, row, await specs(t.id), { withAccess: false, withQos: false }) };
  });
  app.delete(`${P}/types/:id`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    adminOnly(req, 'volume_extension:types_manage');
    const t = await getType(req, req.params.id);
    const inUse = await api.db.db.selectFrom('volumes').select('id').where('volume_type_id', '=', t.id).where('deleted', '=', 0).executeTakeFirst();
    if (inUse) throw new ApiError(400, `Volume Type ${t.id} deletion is not allowed with volumes present with the type.`, { type: 'VolumeTypeInUse' });
    if (t.name === '__DEFAULT__' || t.name === api.defaultTypeName) throw badRequest('Target volume type is the default type and cannot be deleted.');
    await api.db.db.updateTable('volume_types').set({ deleted: 1, updated_at: nowIso() }).where('id', '=', t.id).execute();
    return reply.code(202).send();
  });

  // type access (os-volume-type-access)
  app.get(`${P}/types/:id/os-volume-type-access`, async (req: FastifyRequest<{ Params: Params }>) => {
    adminOnly(req, 'volume_extension:volume_type_access');
    const t = await getType(req, req.params.id);
    if (t.is_public) throw new ApiError(404, `Volume type access not found for ${t.id}.`, { type: 'VolumeTypeAccessNotFound' });
    return { volume_type_access: (await api.db.typeProjects(t.id)).map((p) => ({ volume_type_id: t.id, project_id: p })) };
  });
  app.post(`${P}/types/:id/action`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    adminOnly(req, 'volume_extension:volume_type_access:addProjectAccess');
    const t = await getType(req, req.params.id);
    const b = (req.body ?? {}) as Record<string, { project?: string } | undefined>;
    const [action, arg] = Object.entries(b)[0] ?? ['', undefined];
    if (action !== 'addProjectAccess' && action !== 'removeProjectAccess') throw badRequest(`There is no such action: ${action}`);
    if (!arg?.project) throw badRequest('Missing required element \'project\' in request body.');
    if (t.is_public) throw invalidInput('Invalid volume type: Type access modification is not applicable to public volume type.');
    const has = (await api.db.typeProjects(t.id)).includes(arg.project);
    if (action === 'addProjectAccess') {
      if (has) throw new ApiError(409, `Volume type access for ${t.id} / ${arg.project} combination already exists.`, { type: 'VolumeTypeAccessExists' });
      await api.db.db.insertInto('volume_type_projects').values({ volume_type_id: t.id, project_id: arg.project }).execute();
    } else {
      if (!has) throw new ApiError(404, `Volume type access not found for ${t.id} / ${arg.project} combination.`, { type: 'VolumeTypeAccessNotFound' });
      await api.db.db.deleteFrom('volume_type_projects').where('volume_type_id', '=', t.id).where('project_id', '=', arg.project).execute();
    }
    return reply.code(202).send();
  });

  // extra specs
  app.get(`${P}/types/:id/extra_specs`, async (req: FastifyRequest<{ Params: Params }>) => {
    const t = await getType(req, req.params.id);
    return { extra_specs: typeView(req, t, await specs(t.id))['extra_specs'] };
  });
  app.post(`${P}/types/:id/extra_specs`, async (req: FastifyRequest<{ Params: Params }>) => {
    adminOnly(req, 'volume_extension:types_extra_specs:create');
    const t = await getType(req, req.params.id);
    const b = validateBody<{ extra_specs: Record<string, unknown> }>(req, extraSpecsSchema);
    const spec = Object.fromEntries(Object.entries(b.extra_specs).map(([k, v]) => [k, String(v)]));
    await api.db.setMeta('volume_type_extra_specs', t.id, spec, false);
    return { extra_specs: spec };
  });
  app.get(`${P}/types/:id/extra_specs/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    const t = await getType(req, req.params.id);
    const s = (typeView(req, t, await specs(t.id))['extra_specs'] ?? {}) as Record<string, string>;
    if (!(req.params.key in s)) throw new ApiError(404, `Volume Type ${t.id} has no extra specs with key ${req.params.key}.`, { type: 'VolumeTypeExtraSpecsNotFound' });
    return { [req.params.key]: s[req.params.key] };
  });
  app.put(`${P}/types/:id/extra_specs/:key`, async (req: FastifyRequest<{ Params: Params }>) => {
    adminOnly(req, 'volume_extension:types_extra_specs:update');
    const t = await getType(req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!(req.params.key in b)) throw badRequest('Request body and URI mismatch');
    if (Object.keys(b).length > 1) throw badRequest('Request body contains too many items');
    await api.db.setMeta('volume_type_extra_specs', t.id, { [req.params.key]: String(b[req.params.key]) }, false);
    return { [req.params.key]: String(b[req.params.key]) };
  });
  app.delete(`${P}/types/:id/extra_specs/:key`, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    adminOnly(req, 'volume_extension:types_extra_specs:delete');
    const t = await getType(req, req.params.id);
    if (!(await api.db.deleteMetaKey('volume_type_extra_specs', t.id, req.params.key))) {
      throw new ApiError(404, `Volume Type ${t.id} has no extra specs with key ${req.params.key}.`, { type: 'VolumeTypeExtraSpecsNotFound' });
    }
    return reply.code(202).send();
  });
}
