/**
 * Glance's JSON schema documents (`GET /v2/schemas/image`, `images`, `member`, `members`) and the
 * validation of image bodies against them, with jsonschema-style messages
 * ("Provided object does not match schema 'image': ...").
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_STATUSES, MEMBER_STATUSES, VISIBILITIES } from '../domain.js';
import { ApiError } from '../../common/errors.js';

const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

/** glance/api/v2/images.py `get_base_properties()`. */
export function imageBaseProperties(): Record<string, Record<string, unknown>> {
  return {
    id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
    status: { type: 'string', readOnly: true, description: 'Status of the image', enum: [...IMAGE_STATUSES] },
    visibility: { type: 'string', description: 'Scope of image accessibility', enum: [...VISIBILITIES] },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
    checksum: { type: ['null', 'string'], readOnly: true, description: 'md5 hash of image contents.', maxLength: 32 },
    os_hash_algo: {
      type: ['null', 'string'], readOnly: true, description: 'Algorithm to calculate the os_hash_value', maxLength: 64,
    },
    os_hash_value: {
      type: ['null', 'string'], readOnly: true,
      description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', maxLength: 128,
    },
    owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
    size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
    virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
    container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...CONTAINER_FORMATS] },
    disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
    created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
    updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
    tags: {
      type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 },
    },
    direct_url: { type: 'string', readOnly: true, description: 'URL to access the image file kept in external store' },
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
    self: { type: 'string', readOnly: true, description: 'An image self url' },
    file: { type: 'string', readOnly: true, description: 'An image file url' },
    stores: {
      type: 'string', readOnly: true,
      description: 'Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.',
    },
    schema: { type: 'string', readOnly: true, description: 'An image schema url' },
    locations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
          validation_data: {
            description: "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
            type: 'object', writeOnly: true, additionalProperties: false,
            properties: {
              checksum: { type: 'string', minLength: 32, maxLength: 32 },
              os_hash_algo: { type: 'string', maxLength: 64 },
              os_hash_value: { type: 'string', maxLength: 128 },
            },
            required: ['os_hash_algo', 'os_hash_value'],
          },
        },
        required: ['url', 'metadata'],
      },
      description: 'A set of URLs to access the image file kept in external store',
    },
  };
}

const IMAGE_LINKS = [
  { rel: 'self', href: '{self}' },
  { rel: 'enclosure', href: '{file}' },
  { rel: 'describedby', href: '{schema}' },
];

/** `GET /v2/schemas/image`: a PermissiveSchema, so extra properties must be strings. */
export function imageSchema(): Record<string, unknown> {
  return { name: 'image', properties: imageBaseProperties(), additionalProperties: { type: 'string' }, links: IMAGE_LINKS };
}

/** `GET /v2/schemas/images`. */
export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberProperties(): Record<string, unknown> {
  return {
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    image_id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
    status: { type: 'string', description: 'The status of this image member', enum: [...MEMBER_STATUSES] },
    schema: { readOnly: true, type: 'string' },
  };
}

/** `GET /v2/schemas/member` (glance serves the `minimal()` form). */
export function memberSchema(): Record<string, unknown> {
  return { name: 'member', properties: memberProperties() };
}

/** `GET /v2/schemas/members`. */
export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}

// ---- validation ---------------------------------------------------------------------------------

const ajv = new Ajv({ strict: false, allErrors: false });
let imageValidator: ValidateFunction | undefined;

function validatorFor(): ValidateFunction {
  if (!imageValidator) {
    const { name: _n, links: _l, ...schema } = imageSchema();
    imageValidator = ajv.compile({ type: 'object', ...schema });
  }
  return imageValidator;
}

/** A Python `repr()` of a JSON value, as jsonschema quotes it in its messages. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const PY_TYPES: Record<string, string> = { string: 'string', integer: 'integer', boolean: 'boolean', null: 'null', array: 'array', object: 'object', number: 'number' };

function jsonschemaMessage(err: ErrorObject, obj: unknown): string {
  const value = valueAt(obj, err.instancePath);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'enum':
      return `${pyRepr(value)} is not one of ${pyRepr(p['allowedValues'])}`;
    case 'type': {
      const t = p['type'];
      const types = Array.isArray(t) ? t : String(t).split(',');
      return types.length > 1
        ? `${pyRepr(value)} is not of type ${types.map((x) => `'${PY_TYPES[x] ?? x}'`).join(', ')}`
        : `${pyRepr(value)} is not of type '${PY_TYPES[types[0]] ?? types[0]}'`;
    }
    case 'maxLength':
      return `${pyRepr(value)} is too long`;
    case 'minLength':
      return `${pyRepr(value)} is too short`;
    case 'pattern':
      return `${pyRepr(value)} does not match '${String(p['pattern'])}'`;
    case 'required':
      return `'${String(p['missingProperty'])}' is a required property`;
    case 'additionalProperties':
      return `Additional properties are not allowed ('${String(p['additionalProperty'])}' was unexpected)`;
    default:
      return err.message ?? 'is invalid';
  }
}

/** Validates (part of) an image against the image schema; 400 with glance's wording on failure. */
export function validateImage(obj: Record<string, unknown>): void {
  const v = validatorFor();
  if (!v(obj)) {
    const err = v.errors![0]!;
    throw new ApiError(400, `Provided object does not match schema 'image': ${jsonschemaMessage(err, obj)}`);
  }
}
