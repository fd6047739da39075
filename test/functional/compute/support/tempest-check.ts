/**
 * Checks an API answer against one of Tempest's compute response schemas (status code and
 * body), with the formats Tempest's own validator knows. Each test folder keeps the schemas it
 * dumped from Tempest's source (tempest/lib/api_schema/response/compute/v2_*) beside its tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

export interface TempestEntry { status_code: number[]; response_body?: unknown }

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('iso8601-date-time', (s: string) => !Number.isNaN(Date.parse(s)));
ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
ajv.addFormat('uuid', (s: string) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s));
ajv.addFormat('ipv4', (s: string) => isIP(s) === 4);
ajv.addFormat('ipv6', (s: string) => isIP(s) === 6);
ajv.addFormat('uri', (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
ajv.addFormat('base64', (s: string) => /^[A-Za-z0-9+/=\s]*$/.test(s));
ajv.addFormat('email', (s: string) => /^[^@\s]+@[^@\s]+$/.test(s));
const compiled = new Map<TempestEntry, ValidateFunction>();

/** Fails the test unless `res` has one of the entry's status codes and a body its schema accepts. */
export function assertTempestEntry(label: string, entry: TempestEntry | undefined, res: { status: number; body: unknown }): void {
  assert.ok(entry, `no Tempest schema ${label}`);
  assert.ok(entry.status_code.includes(res.status), `${label}: status ${res.status} not in ${entry.status_code.join(',')}: ${JSON.stringify(res.body)}`);
  if (!entry.response_body) return;
  let fn = compiled.get(entry);
  if (!fn) compiled.set(entry, (fn = ajv.compile(entry.response_body as object)));
  if (!fn(res.body)) assert.fail(`${label} does not validate: ${ajv.errorsText(fn.errors)}\n${JSON.stringify(res.body).slice(0, 3000)}`);
}

/**
 * `assertTempest(key, res)` over a folder's flat `tempest-schemas.json` (keys
 * `v2_xx/module.name`, as support/dump-tempest-schemas.py writes them).
 */
export function flatSchemaChecker(jsonFile: string): (key: string, res: { status: number; body: unknown }) => void {
  const schemas = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, TempestEntry>;
  return (key, res) => assertTempestEntry(key, schemas[key], res);
}
