/**
 * Shared bits of the Nova REST layer: the request's base URL for links, microversion checks,
 * admin checks, and turning Nova exceptions into the API's faults.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { ApiError, isApiError } from '../../common/errors.js';
import { RemoteHttpError } from '../../common/http/client.js';
import { InstanceInvalidState, InstanceNotFound, NovaException, UnexpectedTaskStateError } from '../exception.js';

/** Highest microversion implemented completely (advertised in the version documents). */
export const MAX_MICROVERSION = '2.92';
export const MIN_MICROVERSION = '2.1';

// STRATUS_DEV_NOVA_MAX_MICROVERSION: a developer's knob while versions above MAX are being built.
let ceiling = process.env['STRATUS_DEV_NOVA_MAX_MICROVERSION'] ?? MAX_MICROVERSION;
/**
 * The microversion ceiling nova-api apps created from now on negotiate up to: MAX_MICROVERSION,
 * unless a test of a microversion still being built raised it for its own process.
 */
export function maxMicroversion(): string {
  return ceiling;
}
/** Test-only: lets a test drive microversions above MAX_MICROVERSION before they are advertised. */
export function raiseMicroversionCeilingForTests(v: string): void {
  ceiling = v;
}

const mvCache = new WeakMap<FastifyRequest, Map<string, boolean>>();
/** req's microversion >= v (memoized per request: list views ask thousands of times). */
export function mv(req: FastifyRequest, v: string): boolean {
  let m = mvCache.get(req);
  if (!m) mvCache.set(req, (m = new Map()));
  let r = m.get(v);
  if (r === undefined) {
    r = req.microversion ? req.microversion.atLeast(v) : v === '2.1';
    m.set(v, r);
  }
  return r;
}

/** `http://host:port/v2.1` (+ `/{project_id}` when the request came in that way). */
const baseCache = new WeakMap<FastifyRequest, string>();
export function baseUrl(req: FastifyRequest): string {
  const hit = baseCache.get(req);
  if (hit) return hit;
  const url = computeBaseUrl(req);
  baseCache.set(req, url);
  return url;
}
function computeBaseUrl(req: FastifyRequest): string {
  const proto = (req.headers['x-forwarded-proto'] as string) ?? 'http';
  const host = req.headers['host'] ?? 'localhost';
  const m = /^(\/v2(?:\.1)?)(\/[0-9a-f-]{32,36})?(?=\/|$)/.exec(req.url);
  return `${proto}://${host}${m ? m[1] + (m[2] ?? '') : '/v2.1'}`;
}
const bookmarkCache = new WeakMap<FastifyRequest, string>();
export function bookmarkUrl(req: FastifyRequest): string {
  let url = bookmarkCache.get(req);
  if (url === undefined) bookmarkCache.set(req, (url = baseUrl(req).replace(/\/v2(\.1)?/, '')));
  return url;
}

export function requireAdmin(req: FastifyRequest, rule: string): void {
  if (!req.ctx.isAdmin) throw new ApiError(403, `Policy doesn't allow ${rule} to be performed.`, { type: 'PolicyNotAuthorized' });
}

export function requireProject(req: FastifyRequest): string {
  const p = req.ctx.projectId;
  if (!p) throw new ApiError(403, 'A project-scoped token is required.', { type: 'Forbidden' });
  return p;
}

/** Nova exceptions -> the controller's faults (409 for invalid state with Nova's wording). */
export function toApiError(e: unknown, action: string, serverId: string): unknown {
  if (isApiError(e)) {
    if (e instanceof RemoteHttpError && e.status >= 500) return new ApiError(503, e.message);
    return e;
  }
  if (e instanceof InstanceInvalidState) {
    const { attr, state } = e.kwargs as { attr?: string; state?: unknown };
    if (attr && state !== undefined) return new ApiError(409, `Cannot '${action}' instance ${serverId} while it is in ${attr} ${state === null ? 'None' : state}`, { type: 'InstanceInvalidState' });
    return new ApiError(409, `Instance ${serverId} is in an invalid state for '${action}'`);
  }
  if (e instanceof UnexpectedTaskStateError) {
    const actual = (e.kwargs as { actual?: unknown }).actual;
    return new ApiError(409, `Cannot '${action}' instance ${serverId} while it is in task_state ${actual ?? 'None'}`, { type: 'InstanceInvalidState' });
  }
  if (e instanceof InstanceNotFound) return new ApiError(404, e.message, { type: 'InstanceNotFound' });
  if (e instanceof NovaException) return new ApiError(e.code >= 400 && e.code < 600 ? e.code : 500, e.message, { type: e.name });
  return e;
}

/** Runs `fn`, mapping Nova exceptions to faults. */
export async function mapErrors<T>(action: string, serverId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApiError(e, action, serverId);
  }
}

export function boolParam(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw new ApiError(400, `Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
}
