/**
 * RPC exceptions and oslo.messaging's failure JSON, so errors cross the wire both ways:
 * a Stratus server's error reaches a Python caller as `RemoteError` (or the real class when
 * its module is allowed there), and a Python server's error reaches us as a registered class
 * or as `RemoteError` with `excType`.
 * @module
 */

/** The caller waited longer than its timeout (oslo `MessagingTimeout`). */
export class MessagingTimeout extends Error {
  override name = 'MessagingTimeout';
}

/** A remote method raised an exception whose class the caller has not registered. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  excType: string;
  value: string;
  traceback: string;
  constructor(excType: string, value: string, traceback = '') {
    super(`Remote error: ${excType} ${value}`);
    this.excType = excType;
    this.value = value;
    this.traceback = traceback;
  }
}

/** No endpoint of the server accepts the requested namespace and version. */
export class UnsupportedVersion extends Error {
  override name = 'UnsupportedVersion';
}

/** A compatible endpoint exists but has no such method. */
export class NoSuchMethod extends Error {
  override name = 'NoSuchMethod';
}

/** The client tried to send a version above its version cap (oslo `RPCVersionCapError`). */
export class RpcVersionCapError extends Error {
  override name = 'RPCVersionCapError';
}

/** Bad target for the operation (oslo `InvalidTarget`), e.g. a call with fanout. */
export class InvalidTarget extends Error {
  override name = 'InvalidTarget';
}

/** oslo.messaging's failure JSON (`serialize_remote_exception`). */
export interface FailureData {
  class: string;
  module: string;
  message: string;
  tb: string[];
  args: unknown[];
  kwargs: Record<string, unknown>;
}

// oslo's dispatcher errors live in this Python module; a Python caller that allows it
// rebuilds the real class.
const DISPATCHER_MODULE = 'oslo_messaging.rpc.dispatcher';
const DEFAULT_MODULE = 'stratus.exception';
const REMOTE_POSTFIX = '_Remote';

const registry = new Map<string, new (message: string) => Error>();

/** Re-raise remote exceptions of this class name as `ctor` instead of `RemoteError`. */
export function registerRemoteException(className: string, ctor: new (message: string) => Error): void {
  registry.set(className, ctor);
}
registerRemoteException('NoSuchMethod', NoSuchMethod);
registerRemoteException('UnsupportedVersion', UnsupportedVersion);
registerRemoteException('MessagingTimeout', MessagingTimeout);

function className(err: unknown): string {
  if (err instanceof RemoteError) return err.excType;
  if (err instanceof Error) {
    const ctorName = err.constructor?.name;
    return ctorName && ctorName !== 'Error' ? ctorName : err.name || 'Error';
  }
  return 'Exception';
}

/** Builds the failure JSON string a reply carries. */
export function serializeRemoteException(err: unknown): string {
  const cls = className(err);
  const message = err instanceof RemoteError ? err.value : err instanceof Error ? err.message : String(err);
  const withMeta = err as { remoteModule?: unknown; kwargs?: unknown } | null;
  let module = DEFAULT_MODULE;
  if (err instanceof NoSuchMethod || err instanceof UnsupportedVersion) module = DISPATCHER_MODULE;
  else if (withMeta && typeof withMeta.remoteModule === 'string') module = withMeta.remoteModule;
  const kwargs =
    withMeta && withMeta.kwargs && typeof withMeta.kwargs === 'object' && !Array.isArray(withMeta.kwargs)
      ? (withMeta.kwargs as Record<string, unknown>)
      : {};
  const stack = err instanceof Error && err.stack ? err.stack : `${cls}: ${message}`;
  const data: FailureData = {
    class: cls,
    module,
    message,
    tb: stack.split('\n').map((l) => `${l}\n`),
    args: [message],
    kwargs,
  };
  return JSON.stringify(data);
}

/** Rebuilds the caller-side error from a reply's failure JSON. */
export function deserializeRemoteException(failure: unknown): Error {
  let data: Partial<FailureData>;
  try {
    data = (typeof failure === 'string' ? JSON.parse(failure) : failure) as Partial<FailureData>;
  } catch {
    return new RemoteError('Exception', String(failure));
  }
  if (!data || typeof data !== 'object') return new RemoteError('Exception', String(failure));
  let cls = typeof data.class === 'string' ? data.class : 'Exception';
  if (cls.endsWith(REMOTE_POSTFIX)) cls = cls.slice(0, -REMOTE_POSTFIX.length);
  const message = typeof data.message === 'string' ? data.message : '';
  const tb = Array.isArray(data.tb) ? data.tb.map(String).join('') : '';
  const ctor = registry.get(cls);
  if (!ctor) return new RemoteError(cls, message, tb);
  const err = new ctor(message);
  Object.assign(err, { remoteTraceback: tb, kwargs: data.kwargs ?? {} });
  return err;
}
