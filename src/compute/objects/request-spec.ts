/**
 * RequestSpec and Selection (nova/objects/request_spec.py, selection.py): what the scheduler
 * is asked, and what it answers (chosen host first, then same-cell alternates).
 * @module
 */
import { NovaObject, registerObject, type FieldKind } from './base.js';
import type { Flavor } from './flavor.js';

export interface ImageMeta {
  id: string;
  name?: string;
  status?: string;
  min_ram?: number;
  min_disk?: number;
  size?: number | null;
  disk_format?: string | null;
  container_format?: string | null;
  properties: Record<string, unknown>;
}

export class RequestSpec extends NovaObject {
  static override objName = 'RequestSpec';
  // Version 1.11: Added is_bfv (Rocky); Stein adds network_metadata/requested_resources in later minors.
  static override VERSION = '1.11';
  static override fields: Record<string, FieldKind> = {
    id: 'int', image: 'dict', project_id: 'string', user_id: 'string', availability_zone: 'string', flavor: 'object:Flavor',
    num_instances: 'int', ignore_hosts: 'list', force_hosts: 'list', force_nodes: 'list', retry: 'dict', limits: 'dict',
    instance_group: 'dict', scheduler_hints: 'dict', instance_uuid: 'string', security_groups: 'list', is_bfv: 'bool',
    requested_destination: 'dict',
  };
  declare id: number; declare image: ImageMeta | null; declare project_id: string; declare user_id: string;
  declare availability_zone: string | null; declare flavor: Flavor; declare num_instances: number;
  declare ignore_hosts: string[] | null; declare force_hosts: string[] | null; declare force_nodes: string[] | null;
  declare retry: { num_attempts: number; hosts: [string, string][] } | null; declare limits: Record<string, unknown> | null;
  declare instance_group: { uuid: string; name: string; policy: string; rules?: Record<string, unknown>; members: string[]; hosts?: string[] } | null;
  declare scheduler_hints: Record<string, string[]>; declare instance_uuid: string; declare security_groups: string[];
  declare is_bfv: boolean; declare requested_destination: Record<string, unknown> | null;

  /** Single scheduler hint value (`same_host`, `group`, ...). */
  hint(name: string): string[] | null {
    const v = this.scheduler_hints?.[name];
    if (v === undefined || v === null) return null;
    return Array.isArray(v) ? v.map(String) : [String(v)];
  }
}
registerObject(RequestSpec);

export class Selection extends NovaObject {
  static override objName = 'Selection';
  // Version 1.1: Added availability_zone field.
  static override VERSION = '1.1';
  static override fields: Record<string, FieldKind> = {
    compute_node_uuid: 'string', service_host: 'string', nodename: 'string', cell_uuid: 'string', limits: 'dict',
    allocation_request: 'string', allocation_request_version: 'string', availability_zone: 'string',
  };
  declare compute_node_uuid: string; declare service_host: string; declare nodename: string; declare cell_uuid: string;
  declare limits: Record<string, unknown> | null; declare allocation_request: string | null;
  declare allocation_request_version: string | null; declare availability_zone: string | null;
}
registerObject(Selection);
