/**
 * Tempest's compute response schemas (tempest/lib/api_schema/response/compute/v2_*, dumped to
 * tempest-schemas.json by dump-tempest-schemas.py) as assertions: status code and body, with
 * the formats Tempest's validator checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = JSON.parse(readFileSync(path.join(here, 'tempest-schemas.json'), 'utf8')) as Record<string, { status_code: number[]; response_body?: unknown }>;
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
addFormats(ajv);
// Tempest's iso8601-date-time: what iso8601.parse_date accepts.
ajv.addFormat('iso8601-date-time', /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/);
const compiled = new Map<string, ValidateFunction>();

/** Asserts `r` matches Tempest's schema `key`, e.g. 'v2_80/migrations.list_migrations'. */
export function assertTempest(key: string, r: { status: number; body: unknown }): void {
  const s = schemas[key];
  assert.ok(s, `no Tempest schema ${key}`);
  assert.ok(s.status_code.includes(r.status), `${key}: status ${r.status} not in ${s.status_code.join(',')}: ${JSON.stringify(r.body)}`);
  if (!s.response_body) return;
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(s.response_body as object)));
  assert.ok(v(r.body), `${key}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(r.body)}`);
}
