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
const bdmV2 = {
  type: 'object',
  properties: {
    source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
    uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
    image_id: uuid, destination_type: { type: 'string', enum: ['local', 'volume'] },
    guest_format: { type: 'string', maxLength: 255 }, device_type: { type: 'string', maxLength: 255 },
    disk_bus: { type: 'string', maxLength: 255 }, boot_index: { type: ['integer', 'string', 'null'] },
    volume_size: { type: ['integer', 'string', 'null'] }, device_name: { type: 'string' }, delete_on_termination: { type: ['boolean', 'string'] },
    no_device: {}, connection_info: { type: 'string' }, snapshot_id: uuid, volume_id: uuid, tag: { type: 'string', maxLength: 60 },
    volume_type: { type: ['string', 'null'] },
  },
  additionalProperties: false,
};
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

function serverProps(v: { networksRequired: boolean; tags: boolean; description: boolean }) {
  const props: Record<string, unknown> = {
    name, imageRef: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'string', maxLength: 0 }, { type: 'string', pattern: '^https?://' }] },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' }, metadata, availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
    key_name: { type: 'string', minLength: 1, maxLength: 255 }, user_data: { type: 'string', format: 'base64', maxLength: 65535 },
    min_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 }, max_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    return_reservation_id: { type: ['boolean', 'string'] }, config_drive: { type: ['boolean', 'string'] },
    security_groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] }, accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' }, personality: { type: 'array' }, block_device_mapping_v2: { type: 'array', items: bdmV2 },
    block_device_mapping: { type: 'array' },
    networks: v.networksRequired
      ? { oneOf: [{ type: 'array', items: networkItem }, { type: 'string', enum: ['none', 'auto'] }] }
      : { type: 'array', items: networkItem },
  };
  if (v.description) props['description'] = { type: ['string', 'null'], maxLength: 255 };
  if (v.tags) props['tags'] = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' }, maxItems: 50 };
  return props;
}

function createSchema(v: { networksRequired: boolean; tags: boolean; description: boolean }) {
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

export const create = [
  { schema: createSchema({ networksRequired: false, tags: false, description: false }), max: '2.18' },
  { schema: createSchema({ networksRequired: false, tags: false, description: true }), min: '2.19', max: '2.36' },
  { schema: createSchema({ networksRequired: true, tags: false, description: true }), min: '2.37', max: '2.51' },
  { schema: createSchema({ networksRequired: true, tags: true, description: true }), min: '2.52' },
];

export const update = [
  {
    schema: {
      type: 'object', required: ['server'], additionalProperties: false,
      properties: { server: { type: 'object', additionalProperties: false, properties: { name, accessIPv4: { type: 'string', format: 'ipv4' }, accessIPv6: { type: 'string', format: 'ipv6' }, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } } } },
    },
    max: '2.18',
  },
  {
    schema: {
      type: 'object', required: ['server'], additionalProperties: false,
      properties: { server: { type: 'object', additionalProperties: false, properties: { name, description: { type: ['string', 'null'], maxLength: 255 }, accessIPv4: { type: 'string', format: 'ipv4' }, accessIPv6: { type: 'string', format: 'ipv6' }, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } } } },
    },
    min: '2.19',
  },
];

/** The `rebuild` action's body (the object under `rebuild`); `description` from 2.19. */
export function rebuild(withDescription: boolean): Record<string, unknown> {
  const boolean = {
    type: ['boolean', 'string'],
    enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'],
  };
  return {
    type: 'object', required: ['imageRef'], additionalProperties: false,
    properties: {
      name, imageRef: uuid, adminPass: { type: 'string' }, metadata, preserve_ephemeral: boolean,
      'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
      accessIPv4: { type: 'string', format: 'ipv4' }, accessIPv6: { type: 'string', format: 'ipv6' },
      personality: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, contents: { type: 'string', format: 'base64' } }, additionalProperties: false } },
      ...(withDescription ? { description: { type: ['string', 'null'], maxLength: 255 } } : {}),
    },
  };
}
