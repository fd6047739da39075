/**
 * Response views (`cinder/api/v3/views/*.py` and the attribute extensions): what a volume,
 * snapshot, volume type or attachment looks like on the wire at a microversion.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import type { AttachmentRow, SnapshotRow, VolumeRow, VolumeTypeRow } from '../db/api.js';
import { links } from './common.js';

/** Everything a volume view needs besides the row. */
export interface VolumeExtras {
  metadata: Record<string, string>;
  adminMetadata: Record<string, string>;
  glanceMetadata: Record<string, string>;
  attachments: AttachmentRow[];
  typeName: string | null;
}

export function atLeast(req: FastifyRequest, v: string): boolean {
  return !!req.microversion && req.microversion.matches(v);
}

/** The 'readonly' and 'attached_mode' admin keys are shown in the metadata (`add_visible_admin_metadata`). */
function visibleMetadata(x: VolumeExtras): Record<string, string> {
  const out = { ...x.metadata };
  for (const k of ['readonly', 'attached_mode']) if (x.adminMetadata[k] !== undefined) out[k] = x.adminMetadata[k]!;
  return out;
}

function attachmentsView(req: FastifyRequest, x: VolumeExtras): Record<string, unknown>[] {
  const privileged = req.ctx.isAdmin || req.ctx.roles.includes('service');
  return x.attachments.filter((a) => a.attach_status === 'attached').map((a) => ({
    id: a.volume_id, attachment_id: a.id, volume_id: a.volume_id, server_id: a.instance_uuid,
    host_name: privileged ? a.attached_host : null, device: a.mountpoint, attached_at: a.attach_time,
  }));
}

/** `legacy_detail` + `detail`: the body of create, update, and (with `extended`) show/detail. */
export function volumeView(req: FastifyRequest, v: VolumeRow, x: VolumeExtras, extended: boolean): Record<string, unknown> {
  const isAdmin = req.ctx.isAdmin;
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: v.created_at,
    updated_at: v.updated_at,
    name: v.display_name,
    description: v.display_description,
    volume_type: x.typeName ?? v.volume_type_id,
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: visibleMetadata(x),
    links: links(req, v.project_id, 'volumes', v.id),
    user_id: v.user_id,
    bootable: v.bootable ? 'true' : 'false',
    encrypted: false,
    replication_status: v.replication_status,
    consistencygroup_id: null,
    multiattach: !!v.multiattach,
    attachments: attachmentsView(req, x),
  };
  if (isAdmin) out['migration_status'] = v.migration_status;
  if (atLeast(req, '3.13')) out['group_id'] = null;
  if (isAdmin && atLeast(req, '3.21')) out['provider_id'] = null;
  if (extended) {
    out['os-vol-tenant-attr:tenant_id'] = v.project_id;
    if (isAdmin) {
      out['os-vol-host-attr:host'] = v.host;
      out['os-vol-mig-status-attr:migstat'] = v.migration_status;
      out['os-vol-mig-status-attr:name_id'] = null;
    }
    if (Object.keys(x.glanceMetadata).length) out['volume_image_metadata'] = { ...x.glanceMetadata };
  }
  return out;
}

export function volumeSummary(req: FastifyRequest, v: VolumeRow): Record<string, unknown> {
  return { id: v.id, name: v.display_name, links: links(req, v.project_id, 'volumes', v.id) };
}

export function snapshotView(req: FastifyRequest, s: SnapshotRow, metadata: Record<string, string>, extended: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    name: s.display_name,
    description: s.display_description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.volume_size,
    metadata,
  };
  if (atLeast(req, '3.14')) out['group_snapshot_id'] = null;
  if (atLeast(req, '3.41')) out['user_id'] = s.user_id;
  if (extended) {
    out['os-extended-snapshot-attributes:progress'] = s.progress ?? (s.status === 'available' ? '100%' : '0%');
    out['os-extended-snapshot-attributes:project_id'] = s.project_id;
  }
  return out;
}

/** Extra specs a non-admin may read (Cinder's user-visible keys). */
const USER_VISIBLE_SPECS = new Set(['multiattach', 'RESKEY:availability_zones', 'replication_enabled']);

export function typeView(req: FastifyRequest, t: VolumeTypeRow, specs: Record<string, string>, opts: { withAccess?: boolean; withQos?: boolean } = {}): Record<string, unknown> {
  const visible = req.ctx.isAdmin ? specs : Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_SPECS.has(k)));
  const out: Record<string, unknown> = {
    id: t.id, name: t.name, description: t.description, is_public: !!t.is_public, extra_specs: visible,
  };
  if (opts.withAccess !== false) out['os-volume-type-access:is_public'] = !!t.is_public;
  if (opts.withQos !== false && req.ctx.isAdmin) out['qos_specs_id'] = null;
  return out;
}

export function attachmentView(a: AttachmentRow, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
  if (detail) {
    out['attached_at'] = a.attach_time ?? '';
    out['detached_at'] = a.detach_time ?? '';
    out['attach_mode'] = a.attach_mode;
    out['connection_info'] = a.connection_info ? JSON.parse(a.connection_info) : null;
  }
  return out;
}
