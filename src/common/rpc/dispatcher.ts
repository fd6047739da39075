/**
 * Server-side dispatch (oslo `RPCDispatcher`): pick the endpoint whose namespace matches and
 * whose version is compatible, then call `method(ctx, args)`.
 * @module
 */
import type { RequestContext } from '../context.js';
import { NoSuchMethod, UnsupportedVersion } from './exceptions.js';
import { noopSerializer, type Serializer } from './serializer.js';
import { versionIsCompatible } from './target.js';

/** An endpoint is any object; `target` declares the namespace and version it implements. */
export interface RpcEndpoint {
  target?: { namespace?: string | null; version: string };
}

type Method = (ctx: RequestContext, args: Record<string, unknown>) => unknown;

// Names every object has; never callable over RPC.
const RESERVED = new Set(['constructor', 'target', ...Object.getOwnPropertyNames(Object.prototype)]);

/** The method `name` of an endpoint, if it may be called remotely (not private, not built in). */
function findMethod(endpoint: object, name: string): Method | undefined {
  if (name.startsWith('_') || RESERVED.has(name)) return undefined;
  const fn = (endpoint as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn as Method) : undefined;
}

export interface IncomingCall {
  method: string;
  args: Record<string, unknown>;
  namespace: string | null;
  version: string;
}

export class RpcDispatcher {
  constructor(
    private readonly endpoints: object[],
    private readonly serializer: Serializer = noopSerializer,
  ) {}

  /**
   * Runs the call; throws NoSuchMethod / UnsupportedVersion as oslo does. Returns what the
   * endpoint method returns (a value or a promise; no extra promise per request when there is
   * no serializer); the caller maps undefined to null.
   */
  dispatch(ctx: RequestContext, call: IncomingCall): unknown {
    let foundCompatible = false;
    for (const ep of this.endpoints) {
      const target = (ep as RpcEndpoint).target;
      const ns = target?.namespace ?? null;
      if (ns !== call.namespace) continue;
      if (!versionIsCompatible(target?.version ?? '1.0', call.version)) continue;
      const fn = findMethod(ep, call.method);
      if (fn) {
        const ser = this.serializer;
        if (ser === noopSerializer) return fn.call(ep, ctx, call.args);
        return this.withSerializer(ser, ep, fn, ctx, call.args);
      }
      foundCompatible = true;
    }
    if (foundCompatible) throw new NoSuchMethod(`Endpoint does not support RPC method ${call.method}`);
    throw new UnsupportedVersion(`Endpoint does not support RPC version ${call.version}. Attempted method: ${call.method}`);
  }

  private async withSerializer(ser: Serializer, ep: object, fn: Method, ctx: RequestContext, raw: Record<string, unknown>): Promise<unknown> {
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) args[k] = ser.deserializeEntity(ctx, v);
    const result = (await fn.call(ep, ctx, args)) ?? null;
    return ser.serializeEntity(ctx, result);
  }
}
