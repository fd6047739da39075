/**
 * Errors that carry an HTTP status. Each service's REST layer turns them into its own
 * fault body (Nova `{"itemNotFound": {...}}`, Neutron `{"NeutronError": {...}}`, ...).
 * `type` names the OpenStack exception class where a service shows it (Neutron, Placement codes).
 * @module
 */
export interface ApiErrorOptions {
  /** OpenStack exception class name, e.g. `NetworkNotFound`, `InstanceInvalidState`. */
  type?: string;
  /** Placement-style error code, e.g. `placement.concurrent_update`. */
  errorCode?: string;
  detail?: string;
  headers?: Record<string, string>;
  /** Title override (Keystone's `title`). */
  title?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly errorCode: string | undefined;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly title: string | undefined;

  constructor(status: number, message: string, opts: ApiErrorOptions = {}) {
    super(message);
    this.name = opts.type ?? 'ApiError';
    this.status = status;
    this.type = opts.type;
    this.errorCode = opts.errorCode;
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
    this.title = opts.title;
  }
}

export const badRequest = (message: string, opts?: ApiErrorOptions) => new ApiError(400, message, opts);
export const unauthorized = (message = 'The request you have made requires authentication.', opts?: ApiErrorOptions) =>
  new ApiError(401, message, opts);
export const forbidden = (message: string, opts?: ApiErrorOptions) => new ApiError(403, message, opts);
export const notFound = (message: string, opts?: ApiErrorOptions) => new ApiError(404, message, opts);
export const conflict = (message: string, opts?: ApiErrorOptions) => new ApiError(409, message, opts);

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
