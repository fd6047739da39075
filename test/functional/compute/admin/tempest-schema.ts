/**
 * Tempest's compute response schemas of the admin resources (tempest-schemas.json, generated
 * from openstack/tempest by tempest-schemas.py), picked the way Tempest's service clients do:
 * the newest microversion directory at or below the request's version that has the module.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTempestEntry, type TempestEntry } from '../support/tempest-check.js';

const data = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'tempest-schemas.json'), 'utf8')) as
  { modules: Record<string, Record<string, Record<string, TempestEntry>>> };
const num = (v: string) => Number(v.split('.')[1]);

export function tempestSchema(module: string, name: string, version: string): TempestEntry {
  const dirs = data.modules[module];
  if (!dirs) throw new Error(`no Tempest module ${module}`);
  const dir = Object.keys(dirs).filter((d) => num(d) <= num(version) && dirs[d]![name]).sort((a, b) => num(b) - num(a))[0];
  if (!dir) throw new Error(`no Tempest schema ${module}.${name} at ${version}`);
  return dirs[dir]![name]!;
}

export function assertTempest(module: string, name: string, version: string, res: { status: number; body: unknown }): void {
  assertTempestEntry(`${module}.${name}@${version}`, tempestSchema(module, name, version), res);
}
