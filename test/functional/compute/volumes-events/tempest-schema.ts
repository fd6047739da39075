/**
 * Tempest's compute response schemas (tempest/lib/api_schema/response/compute/v2_*, dumped to
 * tempest-schemas.json by support/dump-tempest-schemas.py from tempest-schemas.spec.json) as assertions: status code and body, with
 * the formats Tempest's validator checks.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flatSchemaChecker } from '../support/tempest-check.js';

export const assertTempest = flatSchemaChecker(path.join(path.dirname(fileURLToPath(import.meta.url)), 'tempest-schemas.json'));
