/**
 * Tempest's compute response schemas (tempest/lib/api_schema/response/compute/v2_*, dumped to
 * tempest-schemas.json by dump-tempest-schemas.py) as assertions: status code and body, with
 * the formats Tempest's validator checks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTempestEntry, type TempestEntry } from '../support/tempest-check.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = JSON.parse(readFileSync(path.join(here, 'tempest-schemas.json'), 'utf8')) as Record<string, TempestEntry>;

export function assertTempest(key: string, r: { status: number; body: unknown }): void {
  assertTempestEntry(key, schemas[key], r);
}
