/**
 * Tempest's compute response schemas for /servers (tempest-schemas.json, generated from
 * openstack/tempest by tempest-schemas.py), checked the way Tempest's servers_client does:
 * the status code is one of the schema's, the body validates (Draft 4, its formats).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTempestEntry, type TempestEntry } from '../support/tempest-check.js';

interface Range { min: string; max: string; module: string; schemas: Record<string, TempestEntry> }
const data = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'tempest-schemas.json'), 'utf8')) as
  { versions: Range[] } & Record<string, TempestEntry>;
const num = (v: string) => Number(v.split('.')[1]);

export function tempestSchema(name: string, version: string): TempestEntry {
  if (!version.startsWith('2.') || num(version) < 47) throw new Error('only 2.47 and above are stored');
  const r = data.versions.find((x) => num(x.min) <= num(version) && num(version) <= num(x.max));
  if (!r) throw new Error(`no Tempest schema range for ${version}`);
  const e = r.schemas[name] ?? data[name];
  if (!e) throw new Error(`no Tempest schema ${name}`);
  return e;
}

export function assertTempest(name: string, version: string, res: { status: number; body: unknown }): void {
  assertTempestEntry(`${name}@${version}`, tempestSchema(name, version), res);
}
