/**
 * Flavor extra spec validation of 2.86 (nova/api/validation/extra_specs/validators.py): a
 * known name's value must fit its rule; an unknown name in a namespace Nova knows (hw:, os:,
 * trait*:, resources*: ...) is refused; names outside those namespaces pass. The rules come from
 * extra-specs.json (generated from upstream by extra-specs.py); the `trait` and `resources`
 * namespaces are built from Placement's standard traits and resource classes.
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest } from '../../common/errors.js';
import { STANDARD_RESOURCE_CLASSES } from '../../placement/db/standard-resource-classes.js';
import { STANDARD_TRAITS } from '../../placement/db/standard-traits.js';

interface ValueRule { type: 'int' | 'str' | 'bool'; enum?: (string | number)[]; pattern?: string; min?: number; max?: number }
interface Validator { name: string; nameRe: RegExp; value: ValueRule; valueRe?: RegExp }

/** Python's `re` spelling of named groups and fullmatch, in JavaScript. */
const fullmatch = (pyRegex: string) => new RegExp(`^(?:${pyRegex.replace(/\(\?P</g, '(?<')})$`, 'u');

const GROUP = '([a-zA-Z0-9_-]{1,64})?';
function load(): { validators: Map<string, Validator>; namespaces: RegExp[] } {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'extra-specs.json');
  const raw = (JSON.parse(readFileSync(file, 'utf8')) as { validators: { name: string; name_regex: string; value: ValueRule }[] }).validators;
  const entries = raw.map((v) => ({ name: v.name, nameRegex: v.name_regex, value: v.value }));
  const required = { type: 'str' as const, enum: ['required', 'forbidden'] };
  for (const t of STANDARD_TRAITS) entries.push({ name: `trait{group}:${t}`, nameRegex: `trait(?P<group>${GROUP}):${t}`, value: required });
  entries.push({ name: 'trait{group}:CUSTOM_{trait}', nameRegex: `trait(?P<group>${GROUP}):CUSTOM_(?P<trait>[A-Z0-9_]+)`, value: required });
  for (const rc of STANDARD_RESOURCE_CLASSES) entries.push({ name: `resources{group}:${rc}`, nameRegex: `resources(?P<group>${GROUP}):${rc}`, value: { type: 'int' } });
  entries.push({ name: 'resources{group}:CUSTOM_{resource}', nameRegex: `resources(?P<group>${GROUP}):CUSTOM_(?P<resource>[A-Z0-9_]+)`, value: { type: 'int' } });
  const validators = new Map<string, Validator>();
  const namespaces = new Map<string, RegExp>();
  for (const e of entries) {
    validators.set(e.name, { name: e.name, nameRe: fullmatch(e.nameRegex), value: e.value, ...(e.value.type === 'str' && e.value.pattern ? { valueRe: fullmatch(e.value.pattern) } : {}) });
    if (e.nameRegex.includes(':')) {
      const ns = e.nameRegex.split(':', 1)[0]!;
      if (!namespaces.has(ns)) namespaces.set(ns, fullmatch(ns));
    }
  }
  return { validators, namespaces: [...namespaces.values()] };
}
let cache: ReturnType<typeof load> | null = null;

const invalid = (msg: string) => badRequest(`Validation failed; ${msg}`, { type: 'ValidationError' });
const TRUE = ['1', 't', 'true', 'on', 'y', 'yes'], FALSE = ['0', 'f', 'false', 'off', 'n', 'no'];

function checkValue(v: Validator, value: string): void {
  const rule = v.value;
  if (rule.type === 'int') {
    if (!/^\s*[-+]?\d+\s*$/.test(value)) throw invalid(`'${value}' is not a valid integer value.`);
    const n = Number(value);
    if (rule.max !== undefined && rule.max < n) throw invalid(`'${value}' is greater than the max value of '${rule.max}'.`);
    if (rule.min !== undefined && rule.min > n) throw invalid(`'${value}' is less than the min value of '${rule.min}'.`);
  } else if (rule.type === 'bool') {
    if (!TRUE.includes(value.trim().toLowerCase()) && !FALSE.includes(value.trim().toLowerCase())) throw invalid(`'${value}' is not a valid boolean-like value.`);
  } else if (rule.pattern !== undefined) {
    if (!v.valueRe!.test(value)) throw invalid(`'${value}' is not of the format '${rule.pattern}'.`);
  } else if (rule.enum && !rule.enum.map(String).includes(value)) {
    throw invalid(`'${value}' is not one of: ${rule.enum.join(', ')}.`);
  }
}

/** validators.validate(name, value): raises Nova's 400 ValidationError. */
export function validateExtraSpec(name: string, value: unknown): void {
  cache ??= load();
  const str = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
  const exact = cache.validators.get(name);
  if (exact && exact.nameRe.test(name)) return checkValue(exact, str);
  for (const v of cache.validators.values()) if (v.nameRe.test(name)) return checkValue(v, str);
  if (!name.includes(':')) return;
  const ns = name.split(':', 1)[0]!;
  if (!cache.namespaces.some((re) => re.test(ns))) return;
  throw invalid(`extra spec '${name}' does not appear to be a valid extra spec.`);
}
