/**
 * Helpers every placement handler uses: the error helper with placement's codes, content-type
 * and Accept checks, body/query validation worded as placement words it, policy, and responses
 * with the last-modified / cache-control headers placement adds from 1.15.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors.js';
import { compileSchema, validationMessage, queryLists, type JsonSchema } from '../../common/http/validation.js';
import type { APIVersion } from '../../common/http/microversion.js';

/** placement/errors.py */
export const ErrorCodes = {
  DEFAULT: 'placement.undefined_code',
  INVENTORY_INUSE: 'placement.inventory.inuse',
  CONCURRENT_UPDATE: 'placement.concurrent_update',
  DUPLICATE_NAME: 'placement.duplicate_name',
  PROVIDER_IN_USE: 'placement.resource_provider.inuse',
  PROVIDER_CANNOT_DELETE_PARENT: 'placement.resource_provider.cannot_delete_parent',
  RESOURCE_PROVIDER_NOT_FOUND: 'placement.resource_provider.not_found',
  ILLEGAL_DUPLICATE_QUERYPARAM: 'placement.query.duplicate_key',
  QUERYPARAM_BAD_VALUE: 'placement.query.bad_value',
  QUERYPARAM_MISSING_VALUE: 'placement.query.missing_value',
} as const;

export function httpError(status: number, message: string, code?: string): ApiError {
  return new ApiError(status, message, code ? { errorCode: code } : {});
}

export function version(req: FastifyRequest): APIVersion {
  return req.microversion!;
}

export function atLeast(req: FastifyRequest, v: string): boolean {
  return req.microversion ? req.microversion.atLeast(v) : false;
}

/** `@microversion.version_handler(min)`: below it the route does not exist (404, or as given). */
export function requireVersion(req: FastifyRequest, min: string, max?: string, status = 404): void {
  if (!req.microversion || !req.microversion.matches(min, max ?? null)) {
    throw new ApiError(status, status === 405 ? 'The method specified is not allowed for this resource.' : 'The resource could not be found.');
  }
}

/** `@util.require_content('application/json')` */
export function requireJson(req: FastifyRequest): void {
  const raw = req.headers['content-type'];
  const ct = (raw ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/json') {
    throw httpError(415, `The media type ${raw ? ct : 'None'} is not supported, use application/json`);
  }
}

/** `@util.check_accept('application/json')` */
export function checkAccept(req: FastifyRequest): void {
  const accept = req.headers.accept;
  if (!accept) return;
  const ok = accept.split(',').some((part) => {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) return false;
    return range === 'application/json' || range === 'application/*' || range === '*/*';
  });
  if (!ok) throw httpError(406, 'Only application/json is provided');
}

/** `util.extract_json`: validates the parsed body; 400 "JSON does not validate: ...". */
export function extractJson<T>(req: FastifyRequest, schema: JsonSchema): T {
  const body = req.body === undefined ? null : req.body;
  const fn = compileSchema(schema);
  if (!fn(body)) throw httpError(400, `JSON does not validate: ${validationMessage(fn.errors ?? [], 'body')}`);
  return body as T;
}

/** Query parameters as webob's MultiDict: every key with all its values. */
export function queryOf(req: FastifyRequest): Record<string, string[]> {
  return queryLists(req.query);
}

/** `util.validate_query_params`: validates `dict(req.GET)` (last value of each key). */
export function validateQuery(q: Record<string, string[]>, schema: JsonSchema): void {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) flat[k] = v[v.length - 1]!;
  const fn = compileSchema(schema);
  if (!fn(flat)) throw httpError(400, `Invalid query string parameters: ${validationMessage(fn.errors ?? [], 'query')}`);
}

export function last(q: Record<string, string[]>, key: string): string | undefined {
  const v = q[key];
  return v && v.length ? v[v.length - 1] : undefined;
}

// ---- policy -------------------------------------------------------------------------------

/**
 * placement's default policies: admin (or the service role) for everything, plus project
 * readers for their own usages. Without a token validator (noauth) everything is allowed.
 */
export interface PolicyOptions { enforce: boolean }

export function authorize(req: FastifyRequest, policy: PolicyOptions, action: string, target?: { project_id?: string }): void {
  if (!policy.enforce) return;
  const ctx = req.ctx;
  const roles = ctx.roles;
  if (roles.includes('admin') || roles.includes('service')) return;
  if (target?.project_id && ctx.projectId === target.project_id && roles.some((r) => r === 'reader' || r === 'member')) return;
  throw httpError(403, `Policy does not allow ${action} to be performed.`);
}

// ---- responses ----------------------------------------------------------------------------

export function httpDate(d: Date | null | undefined): string {
  return (d ?? new Date()).toUTCString();
}

/** A JSON body, with last-modified / cache-control from 1.15 when asked to. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, body: unknown, opts: { status?: number; lastModified?: Date | null; cache?: boolean } = {}): FastifyReply {
  reply.code(opts.status ?? 200).type('application/json');
  if (opts.cache !== false && atLeast(req, '1.15')) {
    reply.header('cache-control', 'no-cache');
    reply.header('last-modified', httpDate(opts.lastModified));
  }
  return reply.send(JSON.stringify(body));
}

/** A body already serialized as JSON text. */
export function sendRawJson(req: FastifyRequest, reply: FastifyReply, text: string): FastifyReply {
  reply.code(200).type('application/json');
  if (atLeast(req, '1.15')) reply.header('cache-control', 'no-cache').header('last-modified', httpDate(null));
  return reply.send(text);
}

export function sendEmpty(reply: FastifyReply, status = 204): FastifyReply {
  reply.code(status);
  reply.removeHeader('content-type');
  return reply.send();
}

/** The latest of several timestamps (placement's `pick_last_modified`), or now. */
export function latest(dates: Array<string | Date | null | undefined>): Date {
  let out: Date | null = null;
  for (const d of dates) {
    if (!d) continue;
    const v = d instanceof Date ? d : new Date(d.includes('T') ? d : `${d.replace(' ', 'T')}Z`);
    if (!out || v > out) out = v;
  }
  return out ?? new Date();
}
