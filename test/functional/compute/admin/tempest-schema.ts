/**
 * Tempest's compute response schemas of the admin resources (tempest-schemas.json, generated
 * from openstack/tempest by tempest-schemas.py), picked the way Tempest's service clients do:
 * the newest microversion directory at or below the request's version that has the module.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

interface Entry { status_code: number[]; response_body?: Record<string, unknown> }
const data = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'tempest-schemas.json'), 'utf8')) as
  { modules: Record<string, Record<string, Record<string, Entry>>> };

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('iso8601-date-time', (s: string) => !Number.isNaN(Date.parse(s)));
ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
ajv.addFormat('uuid', (s: string) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s));
ajv.addFormat('ipv4', (s: string) => isIP(s) === 4);
ajv.addFormat('ipv6', (s: string) => isIP(s) === 6);
ajv.addFormat('uri', (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
const compiled = new Map<Entry, ValidateFunction>();
const num = (v: string) => Number(v.split('.')[1]);

/** Tempest's schema `module.name` for microversion `version` ('2.1' .. '2.92'). */
export function tempestSchema(module: string, name: string, version: string): Entry {
  const dirs = data.modules[module];
  if (!dirs) throw new Error(`no Tempest module ${module}`);
  const dir = Object.keys(dirs).filter((d) => num(d) <= num(version) && dirs[d]![name]).sort((a, b) => num(b) - num(a))[0];
  if (!dir) throw new Error(`no Tempest schema ${module}.${name} at ${version}`);
  return dirs[dir]![name]!;
}

/** Asserts status and body validate against Tempest's `module.name` at `version`. */
export function assertTempest(module: string, name: string, version: string, res: { status: number; body: unknown }): void {
  const e = tempestSchema(module, name, version);
  assert.ok(e.status_code.includes(res.status), `${module}.${name}@${version}: status ${res.status} not in ${e.status_code}: ${JSON.stringify(res.body)}`);
  if (!e.response_body) return;
  let fn = compiled.get(e);
  if (!fn) compiled.set(e, (fn = ajv.compile(e.response_body)));
  if (!fn(res.body)) assert.fail(`${module}.${name}@${version} does not validate: ${ajv.errorsText(fn.errors)}\n${JSON.stringify(res.body).slice(0, 3000)}`);
}
