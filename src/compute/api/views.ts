/**
 * View builders (nova/api/openstack/compute/views/servers.py, flavors.py): the server and
 * flavor documents, per microversion and per role.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { hostId } from '../api.js';
import type { Instance } from '../objects/instance.js';
import { PROGRESS_STATUSES, statusFromState } from '../states.js';
import { baseUrl, bookmarkUrl, mv } from './common.js';

function links(req: FastifyRequest, kind: string, id: string) {
  return [
    { rel: 'self', href: `${baseUrl(req)}/${kind}/${id}` },
    { rel: 'bookmark', href: `${bookmarkUrl(req)}/${kind}/${id}` },
  ];
}

/**
 * What the server views read: an Instance, or a listed record with the same fields
 * (db/instance-list.ts), so lists build their documents without Instance objects.
 */
export type ServerSource = Pick<Instance, 'uuid' | 'display_name' | 'vm_state' | 'task_state' | 'project_id' | 'user_id' | 'host' | 'node'
  | 'image_ref' | 'created_at' | 'updated_at' | 'access_ip_v4' | 'access_ip_v6' | 'auto_disk_config' | 'availability_zone' | 'config_drive'
  | 'key_name' | 'launched_at' | 'terminated_at' | 'power_state' | 'progress' | 'id' | 'reservation_id' | 'launch_index' | 'hostname'
  | 'root_device_name' | 'user_data' | 'locked' | 'display_description' | 'metadata' | 'system_metadata' | 'tags' | 'trusted_certs'
  | 'fault' | 'info_cache'> & { flavor: Pick<Instance['flavor'], 'vcpus' | 'memory_mb' | 'root_gb' | 'ephemeral_gb' | 'swap' | 'name' | 'extra_specs' | 'flavorid'> | null };

function iso(s: string | null | undefined): string | null {
  if (!s) return null;
  return s.replace(/\.\d+Z$/, 'Z');
}

/** `launched_at` style: `2019-01-01T00:00:00.000000`. */
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
function usg(s: string | null | undefined): string | null {
  if (!s) return null;
  // What the database holds (toISOString's form) needs no Date round trip.
  if (ISO_MS_Z.test(s)) return `${s.slice(0, 23)}000`;
  const d = new Date(s);
  return d.toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
}

export function addresses(inst: Pick<ServerSource, 'info_cache'>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const vif of inst.info_cache?.network_info ?? []) {
    const label = vif.network.label;
    if (!out[label]) out[label] = [];
    for (const sn of vif.network.subnets) {
      for (const ip of sn.ips) {
        out[label]!.push({ version: ip.version, addr: ip.address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': vif.address });
        for (const f of ip.floating_ips ?? []) out[label]!.push({ version: 4, addr: f.address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': vif.address });
      }
    }
  }
  return out;
}

export function serverBasic(req: FastifyRequest, inst: Pick<ServerSource, 'uuid' | 'display_name'>): Record<string, unknown> {
  return { id: inst.uuid, name: inst.display_name, links: links(req, 'servers', inst.uuid) };
}

export interface ServerViewOptions {
  securityGroups?: { name: string }[];
  hostStatus?: string;
  volumes?: { id: string; delete_on_termination: boolean }[];
  /** 2.71: the server groups the server belongs to (show, update and rebuild only, not detail). */
  serverGroups?: string[];
}

/** 2.63: the trusted certificate ids the server was booted or rebuilt with. */
export function trustedCerts(inst: Pick<ServerSource, 'trusted_certs'>): string[] | null {
  return inst.trusted_certs?.ids?.length ? inst.trusted_certs.ids : null;
}

/** What serverDetail asks of the request, worked out once per request (a list asks for every server). */
interface DetailFlags {
  admin: boolean; bookmark: string;
  v2_3: boolean; v2_9: boolean; v2_16: boolean; v2_19: boolean; v2_26: boolean; v2_63: boolean; v2_71: boolean; v2_73: boolean; v2_90: boolean;
}
const detailFlagsCache = new WeakMap<FastifyRequest, DetailFlags>();
function detailFlags(req: FastifyRequest): DetailFlags {
  let f = detailFlagsCache.get(req);
  if (!f) {
    f = {
      admin: req.ctx.isAdmin, bookmark: bookmarkUrl(req),
      v2_3: mv(req, '2.3'), v2_9: mv(req, '2.9'), v2_16: mv(req, '2.16'), v2_19: mv(req, '2.19'), v2_26: mv(req, '2.26'),
      v2_63: mv(req, '2.63'), v2_71: mv(req, '2.71'), v2_73: mv(req, '2.73'), v2_90: mv(req, '2.90'),
    };
    detailFlagsCache.set(req, f);
  }
  return f;
}

export function serverDetail(req: FastifyRequest, inst: ServerSource, o: ServerViewOptions = {}): Record<string, unknown> {
  const v = detailFlags(req);
  const admin = v.admin;
  const status = statusFromState(inst.vm_state, inst.task_state ?? null);
  const s: Record<string, unknown> = {
    id: inst.uuid,
    name: inst.display_name,
    status,
    tenant_id: inst.project_id,
    user_id: inst.user_id,
    metadata: inst.metadata ?? {},
    hostId: hostId(inst.project_id, inst.host ?? null),
    image: inst.image_ref ? { id: inst.image_ref, links: [{ rel: 'bookmark', href: `${v.bookmark}/images/${inst.image_ref}` }] } : '',
    flavor: flavorInServer(req, inst),
    created: iso(inst.created_at),
    updated: iso(inst.updated_at ?? inst.created_at),
    addresses: addresses(inst),
    accessIPv4: inst.access_ip_v4 ?? '',
    accessIPv6: inst.access_ip_v6 ?? '',
    links: links(req, 'servers', inst.uuid),
    'OS-DCF:diskConfig': inst.auto_disk_config ? 'AUTO' : 'MANUAL',
    'OS-EXT-AZ:availability_zone': inst.availability_zone ?? '',
    config_drive: inst.config_drive ?? '',
    key_name: inst.key_name ?? null,
    'OS-SRV-USG:launched_at': usg(inst.launched_at),
    'OS-SRV-USG:terminated_at': usg(inst.terminated_at),
    'OS-EXT-STS:task_state': inst.task_state ?? null,
    'OS-EXT-STS:vm_state': inst.vm_state,
    'OS-EXT-STS:power_state': inst.power_state ?? 0,
    'os-extended-volumes:volumes_attached': o.volumes?.length ? o.volumes.map((x) => (v.v2_3 ? x : { id: x.id })) : [],
  };
  if (o.securityGroups) s['security_groups'] = o.securityGroups;
  if (PROGRESS_STATUSES.has(status)) s['progress'] = inst.progress ?? 0;
  if (admin) {
    s['OS-EXT-SRV-ATTR:host'] = inst.host ?? null;
    s['OS-EXT-SRV-ATTR:hypervisor_hostname'] = inst.node ?? null;
    s['OS-EXT-SRV-ATTR:instance_name'] = inst.id ? `instance-${inst.id.toString(16).padStart(8, '0')}` : '';
    if (v.v2_3) {
      Object.assign(s, {
        'OS-EXT-SRV-ATTR:reservation_id': inst.reservation_id, 'OS-EXT-SRV-ATTR:launch_index': inst.launch_index ?? 0,
        'OS-EXT-SRV-ATTR:hostname': inst.hostname, 'OS-EXT-SRV-ATTR:kernel_id': '', 'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': inst.root_device_name ?? null, 'OS-EXT-SRV-ATTR:user_data': inst.user_data ?? null,
      });
    }
    if (v.v2_16) s['host_status'] = o.hostStatus ?? (inst.host ? 'UP' : '');
  }
  if (v.v2_9) s['locked'] = Boolean(inst.locked);
  if (v.v2_19) s['description'] = inst.display_description ?? null;
  if (v.v2_26) s['tags'] = inst.tags ?? [];
  if (v.v2_63) s['trusted_image_certificates'] = trustedCerts(inst);
  if (o.serverGroups && v.v2_71) s['server_groups'] = o.serverGroups;
  if (v.v2_73) s['locked_reason'] = inst.system_metadata?.['locked_reason'] ?? null;
  // 2.90 shows the hostname to everyone (admins have it among the extended attributes).
  if (v.v2_90 && !admin) s['OS-EXT-SRV-ATTR:hostname'] = inst.hostname;
  if ((status === 'ERROR' || status === 'DELETED') && inst.fault) {
    const f: Record<string, unknown> = { code: inst.fault.code, created: iso(inst.fault.created), message: inst.fault.message };
    if (admin || inst.fault.code !== 500) f['details'] = inst.fault.details;
    s['fault'] = f;
  }
  return s;
}

/** 2.69: what the API database tells of a server whose cell does not answer. */
export interface DownCellServer {
  uuid: string; project_id: string; created_at: string;
  /** From the request spec, for GET /servers/{id} only. */
  spec?: { flavor: Instance['flavor'] | null; image_ref: string; availability_zone: string | null; user_id: string | null };
  serverGroups?: string[];
}

/** The minimal construct of a server in a down cell (`_show_from_down_cell`, index's basic view). */
export function serverFromDownCell(req: FastifyRequest, d: DownCellServer, detail: boolean): Record<string, unknown> {
  if (!detail) return { id: d.uuid, status: 'UNKNOWN', links: links(req, 'servers', d.uuid) };
  const s: Record<string, unknown> = { id: d.uuid, status: 'UNKNOWN', tenant_id: d.project_id, created: iso(d.created_at), links: links(req, 'servers', d.uuid) };
  if (d.spec) {
    s['image'] = d.spec.image_ref ? { id: d.spec.image_ref, links: [{ rel: 'bookmark', href: `${bookmarkUrl(req)}/images/${d.spec.image_ref}` }] } : '';
    s['flavor'] = flavorInServer(req, { flavor: d.spec.flavor });
    s['OS-EXT-AZ:availability_zone'] = d.spec.availability_zone || 'UNKNOWN';
    s['OS-EXT-STS:power_state'] = 0;
    s['user_id'] = d.spec.user_id || 'UNKNOWN';
    if (d.serverGroups && mv(req, '2.71')) s['server_groups'] = d.serverGroups;
  }
  return s;
}

function flavorInServer(req: FastifyRequest, inst: Pick<ServerSource, 'flavor'>): Record<string, unknown> {
  const f = inst.flavor;
  if (!f) return {};
  if (mv(req, '2.47')) {
    const out: Record<string, unknown> = { vcpus: f.vcpus, ram: f.memory_mb, disk: f.root_gb, ephemeral: f.ephemeral_gb ?? 0, swap: f.swap ?? 0, original_name: f.name };
    out['extra_specs'] = f.extra_specs ?? {};
    return out;
  }
  return { id: f.flavorid, links: [{ rel: 'bookmark', href: `${bookmarkUrl(req)}/flavors/${f.flavorid}` }] };
}

export function flavorView(req: FastifyRequest, f: Record<string, any>, detail: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { id: f['flavorid'], name: f['name'], links: links(req, 'flavors', f['flavorid']) };
  if (mv(req, '2.55')) base['description'] = f['description'] ?? null;
  if (!detail) return base;
  return {
    ...base,
    ram: f['memory_mb'], disk: f['root_gb'], vcpus: f['vcpus'], swap: f['swap'] ? f['swap'] : '',
    'OS-FLV-EXT-DATA:ephemeral': f['ephemeral_gb'] ?? 0, 'OS-FLV-DISABLED:disabled': Boolean(f['disabled']),
    'os-flavor-access:is_public': Boolean(f['is_public']), rxtx_factor: f['rxtx_factor'] ?? 1.0,
    ...(mv(req, '2.61') ? { extra_specs: f['extra_specs'] ?? {} } : {}),
  };
}

/** The reduced document of rebuild and update responses (nova's show(..., show_*=False)). */
export function serverReduced(req: FastifyRequest, inst: Instance): Record<string, unknown> {
  const s = serverDetail(req, inst);
  for (const k of Object.keys(s)) {
    if (k.startsWith('OS-EXT-') || k.startsWith('OS-SRV-USG') || k === 'config_drive' || k === 'key_name' || k === 'security_groups'
      || k === 'os-extended-volumes:volumes_attached' || k === 'host_status') delete s[k];
  }
  const addrs = s['addresses'] as Record<string, { version: number; addr: string }[]>;
  s['addresses'] = Object.fromEntries(Object.entries(addrs).map(([n, l]) => [n, l.map((a) => ({ version: a.version, addr: a.addr }))]));
  return s;
}
