/**
 * Glance's JSON-patch dialects for `PATCH /v2/images/{id}`: draft 4
 * (`application/openstack-images-v2.0-json-patch`, `{"replace": "/name", "value": ...}`) and
 * draft 10 (`application/openstack-images-v2.1-json-patch`, RFC 6902 `{"op", "path", "value"}`).
 * Parsing and per-change validation mirror glance/api/v2/images.py `RequestDeserializer.update`.
 * @module
 */
import { ApiError } from '../../common/errors.js';
import { imageBaseProperties, validateImage } from './schemas.js';

export const PATCH_CONTENT_TYPES: Record<string, 4 | 10> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};

export type PatchOp = 'add' | 'remove' | 'replace';
const OPS: readonly PatchOp[] = ['add', 'remove', 'replace'];

export interface ImageChange {
  op: PatchOp;
  /** Decoded JSON pointer segments, e.g. ['name'] or ['locations', '-']. */
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

export const READONLY_PROPERTIES = [
  'created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file', 'schema',
  'id', 'os_hash_algo', 'os_hash_value',
];
export const RESERVED_PROPERTIES = ['location', 'deleted', 'deleted_at'];
/** glance.api.common.GLANCE_RESERVED_NS */
export const RESERVED_NAMESPACE = 'os_glance';

const PATH_DEPTH: Record<string, Partial<Record<PatchOp, number>>> = { locations: { add: 2, remove: 2, replace: 1 } };

const bad = (m: string) => new ApiError(400, m);

function validatePointer(pointer: string): void {
  if (!pointer.startsWith('/')) throw bad(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw bad(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw bad(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') throw bad(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw bad(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
}

export function decodePointer(pointer: string): string[] {
  validatePointer(pointer);
  return pointer.replace(/^\/+/, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

function opOf(raw: Record<string, unknown>, draft: 4 | 10): { op: PatchOp; pointer: unknown } {
  if (draft === 10) {
    const op = raw['op'];
    if (op === undefined || op === null) {
      throw bad(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${OPS.join(', ')}.`);
    }
    if (!OPS.includes(op as PatchOp)) {
      throw bad(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${OPS.join(', ')}.`);
    }
    if (!('path' in raw)) throw bad("Unable to find 'path' in JSON Schema change");
    return { op: op as PatchOp, pointer: raw['path'] };
  }
  let op: PatchOp | undefined;
  for (const k of OPS) {
    if (k in raw) {
      if (op !== undefined) throw bad('Operation objects must contain only one member named "add", "remove", or "replace".');
      op = k;
    }
  }
  if (op === undefined) throw bad('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op, pointer: raw[op] };
}

/** Checks one change against the read-only/reserved lists and the image schema. */
function validateChange(change: ImageChange): void {
  const root = change.path[0]!;
  if (READONLY_PROPERTIES.includes(root)) throw new ApiError(403, `Attribute '${root}' is read-only.`);
  if (RESERVED_PROPERTIES.includes(root) || root.startsWith(RESERVED_NAMESPACE)) {
    throw new ApiError(403, `Attribute '${root}' is reserved.`);
  }
  if (change.op === 'remove') return;
  const base = imageBaseProperties();
  if (change.path.length === 1) validateImage({ [root]: change.value });
  else if (base[root]?.['type'] === 'array') validateImage({ [root]: [change.value] });
}

/** Parses a PATCH body (already JSON-decoded) into validated changes. */
export function parseImagePatch(body: unknown, draft: 4 | 10): ImageChange[] {
  if (!Array.isArray(body)) throw bad('Request body must be a JSON array of operation objects.');
  const changes: ImageChange[] = [];
  for (const raw of body) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('Operations must be JSON objects.');
    const r = raw as Record<string, unknown>;
    const { op, pointer } = opOf(r, draft);
    if (typeof pointer !== 'string') throw bad(`Pointer \`${String(pointer)}\` does not start with "/".`);
    const path = decodePointer(pointer);
    const depth = PATH_DEPTH[path[0]!]?.[op] ?? 1;
    if (path.length !== depth) throw bad(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: ImageChange = { op, path, draft };
    if (op !== 'remove') {
      if (!('value' in r)) throw bad(`Operation "${op}" requires a member named "value".`);
      change.value = r['value'];
    }
    validateChange(change);
    changes.push(change);
  }
  return changes;
}
