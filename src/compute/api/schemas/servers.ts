/**
 * JSON schemas of the servers API (nova/api/openstack/compute/schemas/servers.py), per microversion.
 * @module
 */
const name = { type: 'string', minLength: 1, maxLength: 255, format: 'name' };
const uuid = { type: 'string', format: 'uuid' };
const metadata = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
const networkItem = {
  type: 'object',
  properties: {
    fixed_ip: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
    port: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] },
    uuid: { type: 'string' },
    tag: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' },
  },
  additionalProperties: false,
};
function bdmV2(volumeType: boolean) {
  return {
    type: 'object',
    properties: {
      source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
      uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
      image_id: uuid, destination_type: { type: 'string', enum: ['local', 'volume'] },
      guest_format: { type: 'string', maxLength: 255 }, device_type: { type: 'string', maxLength: 255 },
      disk_bus: { type: 'string', maxLength: 255 }, boot_index: { type: ['integer', 'string', 'null'] },
      volume_size: { type: ['integer', 'string', 'null'] }, device_name: { type: 'string' }, delete_on_termination: { type: ['boolean', 'string'] },
      no_device: {}, connection_info: { type: 'string' }, snapshot_id: uuid, volume_id: uuid, tag: { type: 'string', maxLength: 60 },
      // 2.67: the Cinder volume type of a volume Nova creates (parameter_types.volume_type).
      ...(volumeType ? { volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 } } : {}),
    },
    additionalProperties: false,
  };
}
const hints = {
  type: 'object',
  properties: {
    group: uuid,
    different_host: { oneOf: [uuid, { type: 'array', items: uuid }] },
    same_host: { oneOf: [uuid, { type: 'array', items: uuid }] },
    query: { type: ['string', 'object'] },
    target_cell: { type: 'string' },
    different_cell: { type: ['string', 'array'] },
    build_near_host_ip: { type: 'string' },
    cidr: { type: 'string' },
  },
  additionalProperties: true,
};

/** What a create request may carry, by microversion (create, create_v219 ... create_v290 upstream). */
interface CreateVersion {
  networksRequired: boolean; tags: boolean; description: boolean; personality: boolean;
  trustedCerts: boolean; volumeType: boolean; requestedDestination: boolean; hostname: boolean;
}

/** parameter_types.trusted_certs: nullable list of 1..50 unique non-empty ids. */
export const trustedCerts = { type: ['array', 'null'], minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1 } };
/** parameter_types.hostname (2.90): an RFC 952 label. */
export const hostname = { type: 'string', pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$', minLength: 2, maxLength: 63 };
/** parameter_types.fqdn (2.74 host / hypervisor_hostname). */
const fqdn = { type: 'string', pattern: '^[a-zA-Z0-9-._]*$', minLength: 1, maxLength: 255 };
const personality = { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, contents: { type: 'string', format: 'base64' } }, additionalProperties: false } };

function serverProps(v: CreateVersion) {
  const props: Record<string, unknown> = {
    name, imageRef: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'string', maxLength: 0 }, { type: 'string', pattern: '^https?://' }] },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' }, metadata, availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
    key_name: { type: 'string', minLength: 1, maxLength: 255 }, user_data: { type: 'string', format: 'base64', maxLength: 65535 },
    min_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 }, max_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    return_reservation_id: { type: ['boolean', 'string'] }, config_drive: { type: ['boolean', 'string'] },
    security_groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] }, accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' }, block_device_mapping_v2: { type: 'array', items: bdmV2(v.volumeType) },
    block_device_mapping: { type: 'array' },
    networks: v.networksRequired
      ? { oneOf: [{ type: 'array', items: networkItem }, { type: 'string', enum: ['none', 'auto'] }] }
      : { type: 'array', items: networkItem },
  };
  if (v.personality) props['personality'] = personality;
  if (v.description) props['description'] = { type: ['string', 'null'], maxLength: 255 };
  if (v.tags) props['tags'] = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' }, maxItems: 50 };
  if (v.trustedCerts) props['trusted_image_certificates'] = trustedCerts;
  if (v.requestedDestination) { props['host'] = fqdn; props['hypervisor_hostname'] = fqdn; }
  if (v.hostname) props['hostname'] = hostname;
  return props;
}

function createSchema(v: CreateVersion) {
  return {
    type: 'object',
    properties: {
      server: {
        type: 'object', properties: serverProps(v),
        required: v.networksRequired ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'],
        additionalProperties: false,
      },
      'os:scheduler_hints': hints, 'OS-SCH-HNT:scheduler_hints': hints,
    },
    required: ['server'],
    additionalProperties: false,
  };
}

const v237: CreateVersion = { networksRequired: true, tags: false, description: true, personality: true, trustedCerts: false, volumeType: false, requestedDestination: false, hostname: false };
const v252 = { ...v237, tags: true };
const v257 = { ...v252, personality: false };
const v263 = { ...v257, trustedCerts: true };
const v267 = { ...v263, volumeType: true };
const v274 = { ...v267, requestedDestination: true };
const v290 = { ...v274, hostname: true };

export const create = [
  { schema: createSchema({ ...v237, networksRequired: false, description: false }), max: '2.18' },
  { schema: createSchema({ ...v237, networksRequired: false }), min: '2.19', max: '2.36' },
  { schema: createSchema(v237), min: '2.37', max: '2.51' },
  { schema: createSchema(v252), min: '2.52', max: '2.56' },
  { schema: createSchema(v257), min: '2.57', max: '2.62' },
  { schema: createSchema(v263), min: '2.63', max: '2.66' },
  { schema: createSchema(v267), min: '2.67', max: '2.73' },
  { schema: createSchema(v274), min: '2.74', max: '2.89' },
  { schema: createSchema(v290), min: '2.90' },
];

function updateSchema(v: { description: boolean; hostname: boolean }) {
  const props: Record<string, unknown> = {
    name, accessIPv4: { type: 'string', format: 'ipv4' }, accessIPv6: { type: 'string', format: 'ipv6' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
  };
  if (v.description) props['description'] = { type: ['string', 'null'], maxLength: 255 };
  if (v.hostname) props['hostname'] = hostname;
  return { type: 'object', required: ['server'], additionalProperties: false, properties: { server: { type: 'object', additionalProperties: false, properties: props } } };
}

export const update = [
  { schema: updateSchema({ description: false, hostname: false }), max: '2.18' },
  { schema: updateSchema({ description: true, hostname: false }), min: '2.19', max: '2.89' },
  { schema: updateSchema({ description: true, hostname: true }), min: '2.90' },
];

/** What a rebuild may carry, by microversion (rebuild, rebuild_v219 ... rebuild_v290 upstream). */
export interface RebuildVersion { description: boolean; keyName: boolean; userData: boolean; trustedCerts: boolean; hostname: boolean }

/** The `rebuild` action's body (the object under `rebuild`). */
export function rebuild(v: RebuildVersion): Record<string, unknown> {
  const boolean = {
    type: ['boolean', 'string'],
    enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'],
  };
  const props: Record<string, unknown> = {
    name, imageRef: uuid, adminPass: { type: 'string' }, metadata, preserve_ephemeral: boolean,
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string', format: 'ipv4' }, accessIPv6: { type: 'string', format: 'ipv6' },
  };
  // 2.57 removed personality and added a nullable user_data.
  if (v.userData) props['user_data'] = { type: ['string', 'null'], format: 'base64', maxLength: 65535 };
  else props['personality'] = personality;
  if (v.description) props['description'] = { type: ['string', 'null'], maxLength: 255 };
  if (v.keyName) props['key_name'] = { oneOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] };
  if (v.trustedCerts) props['trusted_image_certificates'] = trustedCerts;
  if (v.hostname) props['hostname'] = hostname;
  return { type: 'object', required: ['imageRef'], additionalProperties: false, properties: props };
}

/** lock (2.73: an optional locked_reason; before, anything). */
export const lockV273 = {
  type: ['object', 'null'],
  properties: { locked_reason: { type: 'string', minLength: 1, maxLength: 255 } },
  additionalProperties: false,
};

// ---- GET /servers and /servers/detail query parameters (index_query ... index_query_v275) ----

const multi = (items: Record<string, unknown>) => ({ type: 'array', items });
const param = multi({ type: 'string' });
const regexParam = multi({ type: 'string', format: 'regex' });

/** Sort keys nova accepts but ignores (SERVER_LIST_IGNORE_SORT_KEY); 2.73 takes `locked` out. */
export const IGNORED_SORT_KEYS = ['architecture', 'cell_name', 'cleaned', 'default_ephemeral_device', 'default_swap_device', 'deleted', 'deleted_at',
  'disable_terminate', 'ephemeral_gb', 'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb', 'os_type',
  'reservation_id', 'root_gb', 'shutdown_terminate', 'user_data', 'vcpus', 'vm_mode'];
export const IGNORED_SORT_KEYS_V273 = IGNORED_SORT_KEYS.filter((k) => k !== 'locked');
const SORT_KEYS = ['access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'created_at',
  'display_description', 'display_name', 'host', 'hostname', 'image_ref', 'instance_type_id', 'kernel_id', 'key_name',
  'launch_index', 'launched_at', 'locked_by', 'node', 'power_state', 'progress', 'project_id', 'ramdisk_id', 'root_device_name',
  'task_state', 'terminated_at', 'updated_at', 'user_id', 'uuid', 'vm_state'];

/** Filters on tables joined to instances: a 400 ("Invalid filter field") whatever the version. */
export const JOINED_TABLE_QUERY_PARAMS = ['block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices'];

function indexQuery(v: { tags: boolean; changesBefore: boolean; locked: boolean; strict: boolean }) {
  const sortKeys = v.strict ? SORT_KEYS.concat('locked') : v.locked ? SORT_KEYS.concat(['locked'], IGNORED_SORT_KEYS_V273) : SORT_KEYS.concat(IGNORED_SORT_KEYS);
  const props: Record<string, unknown> = {
    user_id: param, project_id: param, tenant_id: param, launch_index: param, image_ref: param, image: param,
    kernel_id: regexParam, ramdisk_id: regexParam, hostname: regexParam, key_name: regexParam, power_state: regexParam,
    vm_state: param, task_state: param, host: param, node: regexParam, flavor: regexParam, reservation_id: regexParam,
    launched_at: regexParam, terminated_at: regexParam, availability_zone: regexParam, name: regexParam, display_name: regexParam,
    description: regexParam, display_description: regexParam, locked_by: regexParam, uuid: param, root_device_name: regexParam,
    config_drive: regexParam, access_ip_v4: regexParam, access_ip_v6: regexParam, auto_disk_config: regexParam, progress: regexParam,
    sort_key: multi({ type: 'string', enum: sortKeys }), sort_dir: param, all_tenants: param, soft_deleted: param, deleted: param,
    status: param, 'changes-since': multi({ type: 'string', format: 'date-time' }), ip: regexParam, ip6: regexParam, created_at: regexParam,
    limit: multi({ type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 }), marker: param,
    ...Object.fromEntries(JOINED_TABLE_QUERY_PARAMS.map((k) => [k, param])),
  };
  if (v.tags) Object.assign(props, { tags: regexParam, 'tags-any': regexParam, 'not-tags': regexParam, 'not-tags-any': regexParam });
  if (v.changesBefore) props['changes-before'] = multi({ type: 'string', format: 'date-time' });
  if (v.locked) props['locked'] = param;
  // Up to 2.74 unknown parameters are stripped later; 2.75 makes them a 400.
  return { type: 'object', properties: props, additionalProperties: !v.strict, patternProperties: { '^_': param } };
}

export const index = [
  { schema: indexQuery({ tags: false, changesBefore: false, locked: false, strict: false }), max: '2.25' },
  { schema: indexQuery({ tags: true, changesBefore: false, locked: false, strict: false }), min: '2.26', max: '2.65' },
  { schema: indexQuery({ tags: true, changesBefore: true, locked: false, strict: false }), min: '2.66', max: '2.72' },
  { schema: indexQuery({ tags: true, changesBefore: true, locked: true, strict: false }), min: '2.73', max: '2.74' },
  { schema: indexQuery({ tags: true, changesBefore: true, locked: true, strict: true }), min: '2.75' },
];
