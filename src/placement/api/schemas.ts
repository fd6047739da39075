/**
 * Request schemas of placement (placement/schemas/*), per microversion.
 * @module
 */
const MAX_INT = 0x7fffffff;
const SQL_SP_FLOAT_MAX = 3.40282e38;
export const UUID_PATTERN = '^[0-9a-fA-F-]{36}$';
export const RC_PATTERN = '^[A-Z0-9_]+$';
export const CUSTOM_RC_PATTERN = '^CUSTOM_[A-Z0-9_]+$';
const GROUP_PAT_1_33 = '^[a-zA-Z0-9_-]{1,64}$';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

type V = { atLeast(v: string): boolean; toString(): string };
/** Schemas built per microversion are built once per version (Ajv caches compiled schemas by object). */
function perVersion(build: (v: V) => Record<string, unknown>): (v: V) => Record<string, unknown> {
  const cache = new Map<string, Record<string, unknown>>();
  return (v) => {
    const k = v.toString();
    let s = cache.get(k);
    if (!s) cache.set(k, (s = build(v)));
    return s;
  };
}

export const POST_RP_V1_0 = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 200 }, uuid: { type: 'string', format: 'uuid' } },
  required: ['name'],
  additionalProperties: false,
};
const parentProp = { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };
export const POST_RP_V1_14 = { ...clone(POST_RP_V1_0), properties: { ...POST_RP_V1_0.properties, parent_provider_uuid: parentProp } };
export const PUT_RP_V1_0 = { ...clone(POST_RP_V1_0), properties: { name: { type: 'string', maxLength: 200 } } };
export const PUT_RP_V1_14 = { ...clone(PUT_RP_V1_0), properties: { name: { type: 'string', maxLength: 200 }, parent_provider_uuid: parentProp } };

const GET_RPS_1_0_PROPS: Record<string, unknown> = { name: { type: 'string' }, uuid: { type: 'string', format: 'uuid' } };
export const getRpsSchema = perVersion((v: V): Record<string, unknown> => {
  const props: Record<string, unknown> = { ...GET_RPS_1_0_PROPS };
  if (v.atLeast('1.3')) props['member_of'] = { type: 'string' };
  if (v.atLeast('1.4')) props['resources'] = { type: 'string' };
  if (v.atLeast('1.14')) props['in_tree'] = { type: 'string', format: 'uuid' };
  if (v.atLeast('1.18')) props['required'] = { type: 'string' };
  return { type: 'object', properties: props, additionalProperties: false };
});

const INVENTORY_PROPS = {
  resource_provider_generation: { type: 'integer' },
  total: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  reserved: { type: 'integer', maximum: MAX_INT, minimum: 0 },
  min_unit: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  max_unit: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  step_size: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  allocation_ratio: { type: 'number', maximum: SQL_SP_FLOAT_MAX },
};
export const BASE_INVENTORY = { type: 'object', properties: INVENTORY_PROPS, required: ['total', 'resource_provider_generation'], additionalProperties: false };
export const POST_INVENTORY = {
  type: 'object', properties: { ...INVENTORY_PROPS, resource_class: { type: 'string', pattern: RC_PATTERN } },
  required: ['total', 'resource_class'], additionalProperties: false,
};
const PUT_INVENTORY_RECORD = { type: 'object', properties: INVENTORY_PROPS, required: ['total'], additionalProperties: false };
export const PUT_INVENTORIES = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: { type: 'object', patternProperties: { [RC_PATTERN]: PUT_INVENTORY_RECORD } },
  },
  required: ['resource_provider_generation', 'inventories'],
  additionalProperties: false,
};

const AGG_LIST = { type: 'array', items: { type: 'string', format: 'uuid' }, uniqueItems: true };
export const PUT_AGGREGATES_V1_1 = AGG_LIST;
export const PUT_AGGREGATES_V1_19 = {
  type: 'object',
  properties: { aggregates: AGG_LIST, resource_provider_generation: { type: 'integer' } },
  required: ['aggregates', 'resource_provider_generation'],
  additionalProperties: false,
};

const TRAIT = { type: 'string', minLength: 1, maxLength: 255 };
export const CUSTOM_TRAIT = { ...TRAIT, pattern: '^CUSTOM_[A-Z0-9_]+$' };
export const SET_TRAITS_FOR_RP = {
  type: 'object',
  properties: { traits: { type: 'array', items: TRAIT }, resource_provider_generation: { type: 'integer' } },
  required: ['traits', 'resource_provider_generation'],
  additionalProperties: false,
};
export const LIST_TRAIT = { type: 'object', properties: { name: { type: 'string' }, associated: { type: 'string' } }, additionalProperties: false };

export const POST_RC = {
  type: 'object', properties: { name: { type: 'string', pattern: CUSTOM_RC_PATTERN, maxLength: 255 } },
  required: ['name'], additionalProperties: false,
};

// --- allocations ---
const RESOURCES = {
  type: 'object', minProperties: 1,
  patternProperties: { [RC_PATTERN]: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
};
export const ALLOCATION_V1_0 = {
  type: 'object',
  properties: {
    allocations: {
      type: 'array', minItems: 1,
      items: {
        type: 'object',
        properties: {
          resource_provider: {
            type: 'object', properties: { uuid: { type: 'string', format: 'uuid' } },
            additionalProperties: false, required: ['uuid'],
          },
          resources: RESOURCES,
        },
        required: ['resource_provider', 'resources'],
        additionalProperties: false,
      },
    },
  },
  required: ['allocations'],
  additionalProperties: false,
};
const EXT_ID = { type: 'string', minLength: 1, maxLength: 255 };
export const ALLOCATION_V1_8 = {
  ...clone(ALLOCATION_V1_0),
  properties: { ...clone(ALLOCATION_V1_0.properties), project_id: EXT_ID, user_id: EXT_ID },
  required: ['allocations', 'project_id', 'user_id'],
};
export const ALLOCATION_V1_12 = {
  type: 'object',
  properties: {
    allocations: {
      type: 'object', minProperties: 1,
      patternProperties: {
        [UUID_PATTERN]: {
          type: 'object',
          properties: { generation: { type: 'integer' }, resources: RESOURCES },
          required: ['resources'],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    project_id: EXT_ID,
    user_id: EXT_ID,
  },
  additionalProperties: false,
  required: ['allocations', 'project_id', 'user_id'],
};
const DELETABLE = clone(ALLOCATION_V1_12);
(DELETABLE.properties.allocations as { minProperties: number }).minProperties = 0;
export const POST_ALLOCATIONS_V1_13 = { type: 'object', minProperties: 1, additionalProperties: false, patternProperties: { [UUID_PATTERN]: DELETABLE } };
export const ALLOCATION_V1_28 = {
  ...clone(DELETABLE),
  properties: { ...clone(DELETABLE.properties), consumer_generation: { type: ['integer', 'null'] } },
  required: [...DELETABLE.required, 'consumer_generation'],
};
export const POST_ALLOCATIONS_V1_28 = { ...clone(POST_ALLOCATIONS_V1_13), patternProperties: { [UUID_PATTERN]: ALLOCATION_V1_28 } };
const MAPPINGS = {
  type: 'object', minProperties: 1,
  patternProperties: { [GROUP_PAT_1_33]: { type: 'array', minItems: 1, items: { type: 'string', format: 'uuid' } } },
};
export const ALLOCATION_V1_34 = { ...clone(ALLOCATION_V1_28), properties: { ...clone(ALLOCATION_V1_28.properties), mappings: MAPPINGS } };
export const POST_ALLOCATIONS_V1_34 = { ...clone(POST_ALLOCATIONS_V1_13), patternProperties: { [UUID_PATTERN]: ALLOCATION_V1_34 } };
export const ALLOCATION_V1_38 = {
  ...clone(ALLOCATION_V1_34),
  properties: { ...clone(ALLOCATION_V1_34.properties), consumer_type: { type: 'string', pattern: RC_PATTERN, minLength: 1, maxLength: 255 } },
  required: [...ALLOCATION_V1_34.required, 'consumer_type'],
};
export const POST_ALLOCATIONS_V1_38 = { ...clone(POST_ALLOCATIONS_V1_13), patternProperties: { [UUID_PATTERN]: ALLOCATION_V1_38 } };

export function putAllocationSchema(v: { atLeast(v: string): boolean }): Record<string, unknown> {
  if (v.atLeast('1.38')) return ALLOCATION_V1_38;
  if (v.atLeast('1.34')) return ALLOCATION_V1_34;
  if (v.atLeast('1.28')) return ALLOCATION_V1_28;
  if (v.atLeast('1.12')) return ALLOCATION_V1_12;
  if (v.atLeast('1.8')) return ALLOCATION_V1_8;
  return ALLOCATION_V1_0;
}

export function postAllocationsSchema(v: { atLeast(v: string): boolean }): Record<string, unknown> {
  if (v.atLeast('1.38')) return POST_ALLOCATIONS_V1_38;
  if (v.atLeast('1.34')) return POST_ALLOCATIONS_V1_34;
  if (v.atLeast('1.28')) return POST_ALLOCATIONS_V1_28;
  return POST_ALLOCATIONS_V1_13;
}

export const reshaperSchema = perVersion((v: V): Record<string, unknown> => {
  const allocs = clone(v.atLeast('1.38') ? POST_ALLOCATIONS_V1_38 : v.atLeast('1.34') ? POST_ALLOCATIONS_V1_34 : POST_ALLOCATIONS_V1_28) as Record<string, unknown>;
  allocs['minProperties'] = 0;
  return {
    type: 'object',
    properties: {
      inventories: { type: 'object', patternProperties: { [UUID_PATTERN]: PUT_INVENTORIES }, minProperties: 1, additionalProperties: false },
      allocations: allocs,
    },
    required: ['inventories', 'allocations'],
    additionalProperties: false,
  };
});

export const getUsagesSchema = perVersion((v: V): Record<string, unknown> => {
  const props: Record<string, unknown> = { project_id: EXT_ID, user_id: EXT_ID };
  if (v.atLeast('1.38')) props['consumer_type'] = { type: 'string', pattern: '^[A-Z0-9_]+$|^all|^unknown$', minLength: 1, maxLength: 255 };
  return { type: 'object', properties: props, required: ['project_id'], additionalProperties: false };
});

/** GET /allocation_candidates query schema by microversion. */
export const candidatesSchema = perVersion((v: V): Record<string, unknown> => {
  if (!v.atLeast('1.25')) {
    const props: Record<string, unknown> = { resources: { type: 'string' } };
    if (v.atLeast('1.16')) props['limit'] = { type: ['integer', 'string'], pattern: '^[1-9][0-9]*$', minimum: 1, minLength: 1 };
    if (v.atLeast('1.17')) props['required'] = { type: 'string' };
    if (v.atLeast('1.21')) props['member_of'] = { type: 'string' };
    return { type: 'object', properties: props, required: ['resources'], additionalProperties: false };
  }
  const props: Record<string, unknown> = {
    limit: { type: ['integer', 'string'], pattern: '^[1-9][0-9]*$', minimum: 1, minLength: 1 },
    group_policy: { type: 'string', enum: ['none', 'isolate'] },
  };
  if (v.atLeast('1.35')) props['root_required'] = { type: 'string' };
  if (v.atLeast('1.36')) props['same_subtree'] = { type: 'string' };
  const group = v.atLeast('1.33') ? '[a-zA-Z0-9_-]{1,64}' : '[1-9][0-9]*';
  const prefixes = v.atLeast('1.31') ? 'resources|required|member_of|in_tree' : 'resources|required|member_of';
  return {
    type: 'object', properties: props,
    patternProperties: { [`^(${prefixes})(${group})?$`]: { type: 'string' } },
    additionalProperties: false,
  };
});
