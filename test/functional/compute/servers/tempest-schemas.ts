/**
 * Tempest's compute response schemas for /servers (tempest-schemas.json, generated from
 * openstack/tempest by tempest-schemas.py), checked the way Tempest's servers_client does:
 * the status code is one of the schema's, the body validates (Draft 4, its formats).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

interface Entry { status_code: number[]; response_body?: Record<string, unknown> }
interface Range { min: string; max: string; module: string; schemas: Record<string, Entry> }
const data = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'tempest-schemas.json'), 'utf8')) as
  { versions: Range[] } & Record<string, Entry>;

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('iso8601-date-time', (s: string) => !Number.isNaN(Date.parse(s)));
ajv.addFormat('uuid', (s: string) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s));
ajv.addFormat('ipv4', (s: string) => isIP(s) === 4);
ajv.addFormat('ipv6', (s: string) => isIP(s) === 6);
ajv.addFormat('uri', (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
ajv.addFormat('base64', (s: string) => /^[A-Za-z0-9+/=\s]*$/.test(s));
const compiled = new Map<Entry, ValidateFunction>();

const num = (v: string) => Number(v.split('.')[1]);

/** The schema `name` (get_server, list_servers_detail, update_server, rebuild_server...) for a microversion. */
export function tempestSchema(name: string, version: string): Entry {
  if (!version.startsWith('2.') || num(version) < 47) throw new Error('only 2.47 and above are stored');
  const r = data.versions.find((x) => num(x.min) <= num(version) && num(version) <= num(x.max));
  if (!r) throw new Error(`no Tempest schema range for ${version}`);
  const e = r.schemas[name] ?? data[name];
  if (!e) throw new Error(`no Tempest schema ${name}`);
  return e;
}

/** Asserts a response validates against Tempest's schema `name` at `version`. */
export function assertTempest(name: string, version: string, res: { status: number; body: unknown }): void {
  const e = tempestSchema(name, version);
  assert.ok(e.status_code.includes(res.status), `${name}@${version}: status ${res.status} not in ${e.status_code}: ${JSON.stringify(res.body)}`);
  if (!e.response_body) return;
  let fn = compiled.get(e);
  if (!fn) compiled.set(e, (fn = ajv.compile(e.response_body)));
  if (!fn(res.body)) assert.fail(`${name}@${version} does not validate: ${ajv.errorsText(fn.errors)}\n${JSON.stringify(res.body).slice(0, 3000)}`);
}
