/**
 * Request validation with Ajv (JSON Schema 2020-12), the way Nova validates with
 * jsonschema's Draft202012Validator: its custom formats, minimum/maximum that accept numeric
 * strings, schemas chosen by microversion, and error messages worded like jsonschema's
 * ("Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'").
 * @module
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { ApiError } from '../errors.js';
import type { APIVersion } from './microversion.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
  opts?: unknown,
) => Ajv2020;

export type JsonSchema = Record<string, unknown> | boolean;

/** One schema and the microversion range it applies to (Nova's `@validation.schema(s, min, max)`). */
export interface VersionedSchema {
  schema: JsonSchema;
  min?: string;
  max?: string;
}

/** How messages are worded: Nova/Cinder/Placement (jsonschema via Nova) or Keystone. */
export type ValidationMessageStyle = 'nova' | 'keystone';

export interface ValidateOptions {
  messageStyle?: ValidationMessageStyle;
}

// ---------------------------------------------------------------------------------------------
// Formats

/** Python's unicodedata "printable" as Nova defines it, limited to the BMP as Nova's ranges are. */
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}]$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
function isPrintable(ch: string, allowSpace: boolean): boolean {
  if ((ch.codePointAt(0) ?? 0) > 0xffff) return false;
  if (!PRINTABLE.test(ch)) return false;
  return allowSpace || !SPACE_SEPARATOR.test(ch);
}

function validNameChars(s: string, exclude: string): boolean {
  for (const ch of s) if (exclude.includes(ch) || !isPrintable(ch, true)) return false;
  return true;
}

/** Nova's `valid_name_regex`: printable, not starting or ending with whitespace. */
function nameFormat(exclude = ''): (s: string) => boolean {
  return (s) => {
    if (!validNameChars(s, exclude)) return false;
    const chars = [...s];
    if (chars.length === 0) return true;
    return isPrintable(chars[0]!, false) && isPrintable(chars[chars.length - 1]!, false);
  };
}

/** Nova's leading/trailing-spaces variant: printable with at least one non-space character. */
function nameWithSpacesFormat(exclude = ''): (s: string) => boolean {
  return (s) => validNameChars(s, exclude) && [...s].some((ch) => isPrintable(ch, false));
}

/** oslo's `is_uuid_like`: any spelling Python's uuid.UUID accepts. */
export function isUuidLike(s: string): boolean {
  const hex = s.trim().toLowerCase().replace(/^urn:uuid:/, '').replace(/^\{(.*)\}$/, '$1').replace(/-/g, '');
  return /^[0-9a-f]{32}$/.test(hex);
}

function isCidr(s: string): boolean {
  if (/\s/.test(s) || !s.includes('/')) return false;
  const [addr, len, ...rest] = s.split('/');
  if (rest.length || !addr || !len || !/^\d+$/.test(len)) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(s) && s.replace(/\s/g, '').length % 4 === 0;
}

function isRegex(s: string): boolean {
  if (!s) return false;
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** oslo's parse_isotime is lenient: date, optional time, optional zone. */
function isIsoTime(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

const NAME_REASONS: Record<string, string> = {
  name: 'printable characters. Can not start or end with whitespace.',
  name_with_leading_trailing_spaces: 'printable characters with at least one non space character',
  az_name: 'printable characters except :.Can not start or end with whitespace.',
  az_name_with_leading_trailing_spaces: 'printable characters except :, with at least one non space character',
};

// ---------------------------------------------------------------------------------------------
// The Ajv instance

function numberFromString(x: unknown): number | null {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x.trim() !== '' && !Number.isNaN(Number(x))) return Number(x);
  return null;
}

function makeAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: false,
    verbose: true,
  });
  addFormats(ajv);
  ajv.addFormat('uuid', { type: 'string', validate: isUuidLike });
  ajv.addFormat('name', { type: 'string', validate: nameFormat() });
  ajv.addFormat('name_with_leading_trailing_spaces', { type: 'string', validate: nameWithSpacesFormat() });
  ajv.addFormat('az_name', { type: 'string', validate: nameFormat(':') });
  ajv.addFormat('az_name_with_leading_trailing_spaces', { type: 'string', validate: nameWithSpacesFormat(':') });
  ajv.addFormat('cidr', { type: 'string', validate: isCidr });
  ajv.addFormat('base64', { type: 'string', validate: isBase64 });
  ajv.addFormat('regex', { type: 'string', validate: isRegex });
  ajv.addFormat('date-time', { type: 'string', validate: isIsoTime });
  ajv.addFormat('ipv4', { type: 'string', validate: (s: string) => isIP(s) === 4 });
  ajv.addFormat('ipv6', { type: 'string', validate: (s: string) => isIP(s) === 6 });
  ajv.addFormat('mac_address', { type: 'string', validate: (s: string) => /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(s) });

  // Nova compares numeric strings ('10') against minimum/maximum, as numbers.
  for (const [keyword, ok] of [
    ['minimum', (v: number, lim: number) => v >= lim],
    ['maximum', (v: number, lim: number) => v <= lim],
  ] as const) {
    ajv.removeKeyword(keyword);
    ajv.addKeyword({
      keyword,
      schemaType: 'number',
      errors: true,
      validate: function check(limit: number, data: unknown): boolean {
        const n = numberFromString(data);
        if (n === null || ok(n, limit)) return true;
        (check as unknown as { errors: Partial<ErrorObject>[] }).errors = [
          { keyword, params: { limit, comparison: keyword === 'minimum' ? '>=' : '<=', value: n } },
        ];
        return false;
      },
    });
  }
  return ajv;
}

/** The shared Ajv instance (services may add formats to it before compiling). */
export const ajv = makeAjv();

const compiled = new WeakMap<object, ValidateFunction>();
const compiledBool = new Map<boolean, ValidateFunction>();

export function compileSchema(schema: JsonSchema): ValidateFunction {
  if (typeof schema === 'boolean') {
    let v = compiledBool.get(schema);
    if (!v) compiledBool.set(schema, (v = ajv.compile(schema)));
    return v;
  }
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Messages in jsonschema's words

/** Python's repr() of a JSON value, which jsonschema's messages embed. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(quote === "'" ? /'/g : /"/g, quote === "'" ? "\\'" : '\\"');
    return `${quote}${body}${quote}`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

interface Described {
  /** The jsonschema message. */
  message: string;
  /** Path segments to the instance jsonschema blames (`ex.path`). */
  path: string[];
  value: unknown;
  /** Set for Nova's name formats: the whole detail, without the "Invalid input" prefix. */
  standalone?: boolean;
}

function pathOf(instancePath: string): string[] {
  if (!instancePath) return [];
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(e: ErrorObject): Described {
  const path = pathOf(e.instancePath);
  const data = e.data;
  const p = e.params as Record<string, unknown>;
  const r = pyRepr(data);
  const ps = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'required':
      return { message: `${pyRepr(p['missingProperty'])} is a required property`, path, value: data };
    case 'type': {
      const types = Array.isArray(e.schema) ? (e.schema as string[]) : [String(e.schema)];
      return { message: `${r} is not of type ${types.map((t) => pyRepr(t)).join(', ')}`, path, value: data };
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const props = Object.keys((ps?.['properties'] as object) ?? {});
      const patterns = Object.keys((ps?.['patternProperties'] as object) ?? {}).map((x) => new RegExp(x, 'u'));
      const extras = Object.keys((data as object) ?? {}).filter((k) => !props.includes(k) && !patterns.some((re) => re.test(k)));
      const list = (extras.length ? extras : [String(p['additionalProperty'] ?? p['unevaluatedProperty'])]).map((x) => pyRepr(x));
      const verb = list.length === 1 ? 'was' : 'were';
      const head = e.keyword === 'additionalProperties' ? 'Additional properties are not allowed' : 'Unevaluated properties are not allowed';
      return { message: `${head} (${list.join(', ')} ${verb} unexpected)`, path, value: data };
    }
    case 'enum':
      return { message: `${r} is not one of ${pyRepr(p['allowedValues'] ?? e.schema)}`, path, value: data };
    case 'const':
      return { message: `${pyRepr(p['allowedValue'])} was expected`, path, value: data };
    case 'minLength':
    case 'minItems':
      return { message: `${r} is too short`, path, value: data };
    case 'maxLength':
    case 'maxItems':
      return { message: `${r} is too long`, path, value: data };
    case 'pattern':
      return { message: `${r} does not match ${pyRepr(p['pattern'])}`, path, value: data };
    case 'format': {
      const fmt = String(p['format']);
      if (fmt in NAME_REASONS) {
        return { message: `An invalid 'name' value was provided. The name must be: ${NAME_REASONS[fmt]}`, path, value: data, standalone: true };
      }
      return { message: `${r} is not a ${pyRepr(fmt)}`, path, value: data };
    }
    case 'minimum':
      return { message: `${pyRepr(p['value'] ?? data)} is less than the minimum of ${pyRepr(p['limit'])}`, path, value: data };
    case 'maximum':
      return { message: `${pyRepr(p['value'] ?? data)} is greater than the maximum of ${pyRepr(p['limit'])}`, path, value: data };
    case 'exclusiveMinimum':
      return { message: `${r} is less than or equal to the minimum of ${pyRepr(p['limit'])}`, path, value: data };
    case 'exclusiveMaximum':
      return { message: `${r} is greater than or equal to the maximum of ${pyRepr(p['limit'])}`, path, value: data };
    case 'multipleOf':
      return { message: `${r} is not a multiple of ${pyRepr(p['multipleOf'])}`, path, value: data };
    case 'oneOf':
      return {
        message: Array.isArray(p['passingSchemas']) ? `${r} is valid under each of ${(p['passingSchemas'] as number[]).join(', ')}` : `${r} is not valid under any of the given schemas`,
        path,
        value: data,
      };
    case 'anyOf':
      return { message: `${r} is not valid under any of the given schemas`, path, value: data };
    case 'not':
      return { message: `${r} should not be valid under ${pyRepr(e.schema)}`, path, value: data };
    case 'uniqueItems':
      return { message: `${r} has non-unique elements`, path, value: data };
    case 'minProperties':
      return { message: `${r} does not have enough properties`, path, value: data };
    case 'maxProperties':
      return { message: `${r} has too many properties`, path, value: data };
    case 'dependentRequired':
    case 'dependencies':
      return { message: `${pyRepr(p['missingProperty'])} is a dependency of ${pyRepr(p['property'])}`, path, value: data };
    case 'false schema':
      return { message: `False schema does not allow ${r}`, path, value: data };
    default:
      return { message: `${r} ${e.message ?? 'is invalid'}`, path, value: data };
  }
}

/** The error jsonschema would raise first: the outermost failing keyword (a oneOf, not its branches). */
function pickError(errors: ErrorObject[]): ErrorObject {
  const candidates = errors.filter((e) => e.keyword !== 'if');
  const pool = candidates.length ? candidates : errors;
  return pool.reduce((best, e) => (e.schemaPath.split('/').length < best.schemaPath.split('/').length ? e : best), pool[0]!);
}

export type ValidationTarget = 'body' | 'query';

/** The 400 message for a failed validation, worded like the service's upstream validator. */
export function validationMessage(errors: ErrorObject[], target: ValidationTarget, style: ValidationMessageStyle = 'nova'): string {
  const d = describe(pickError(errors));
  if (d.standalone) return d.message;
  if (style === 'keystone') {
    return d.path.length ? `Invalid input for field '${d.path.join('/')}': ${d.message}` : d.message;
  }
  if (d.path.length === 0) return d.message;
  if (target === 'query') return `Invalid input for query parameters ${d.path[0]}. Value: ${pyRepr(d.value)}. ${d.message}`;
  return `Invalid input for field/attribute ${d.path[d.path.length - 1]}. Value: ${pyRepr(d.value)}. ${d.message}`;
}

/** Validates `data`; throws ApiError(400) worded like upstream. */
export function validate(schema: JsonSchema, data: unknown, target: ValidationTarget = 'body', opts: ValidateOptions = {}): void {
  const fn = compileSchema(schema);
  if (fn(data)) return;
  throw new ApiError(400, validationMessage(fn.errors ?? [], target, opts.messageStyle), { type: 'ValidationError' });
}

/** The schema for a version: the entry whose [min, max] holds it (no version: the first entry). */
export function schemaFor(schemas: VersionedSchema[] | JsonSchema, version: APIVersion | null): JsonSchema | null {
  if (!Array.isArray(schemas)) return schemas;
  for (const s of schemas) {
    if (!version || version.matches(s.min ?? null, s.max ?? null)) return s.schema;
  }
  return null;
}

/**
 * Validates the request body against the schema for the request's microversion and returns
 * it. A missing body is validated as null (`None is not of type 'object'`, as Nova says).
 * When no schema covers the version, the body passes unchecked, as with Nova's decorators.
 */
export function validateBody<T = unknown>(req: FastifyRequest, schemas: VersionedSchema[] | JsonSchema, opts: ValidateOptions = {}): T {
  const body = req.body === undefined ? null : req.body;
  const schema = schemaFor(schemas, req.microversion ?? null);
  if (schema !== null) validate(schema, body, 'body', opts);
  return body as T;
}

/**
 * Validates query parameters the way Nova sees them (`parse_qs`: every value a list) and
 * returns that dict of lists.
 */
export function validateQuery(req: FastifyRequest, schemas: VersionedSchema[] | JsonSchema, opts: ValidateOptions = {}): Record<string, string[]> {
  const q = queryLists(req.query);
  const schema = schemaFor(schemas, req.microversion ?? null);
  if (schema !== null) validate(schema, q, 'query', opts);
  return q;
}

export function queryLists(query: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (query && typeof query === 'object') {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    }
  }
  return out;
}
