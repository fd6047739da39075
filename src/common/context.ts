/**
 * RequestContext: who is asking and under which request ids, carried through every
 * HTTP hop and every RPC message (as oslo.messaging's flattened `_context_*` keys).
 *
 * Field names in `toDict()` are oslo.context's, so a Python peer reads them unchanged.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export type ReadDeleted = 'no' | 'yes' | 'only';

export interface CatalogEndpoint {
  id?: string;
  interface: string;
  region: string;
  region_id?: string;
  url: string;
}
export interface CatalogEntry {
  id?: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

export interface RequestContextInit {
  userId?: string | null;
  userName?: string | null;
  projectId?: string | null;
  projectName?: string | null;
  domainId?: string | null;
  userDomainId?: string | null;
  projectDomainId?: string | null;
  systemScope?: string | null;
  roles?: string[];
  isAdmin?: boolean;
  requestId?: string;
  globalRequestId?: string | null;
  readDeleted?: ReadDeleted;
  authToken?: string | null;
  serviceCatalog?: CatalogEntry[];
  /** Service token user (keystonemiddleware X-Service-* headers), when a service called on a user's behalf. */
  serviceUserId?: string | null;
  serviceRoles?: string[];
  remoteAddress?: string | null;
}

/** `req-<uuid>`, the form every OpenStack service uses for request ids. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

const REQUEST_ID_RE = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** oslo.middleware accepts an inbound X-OpenStack-Request-ID only in the `req-<uuid>` form. */
export function isValidRequestId(value: string | undefined | null): value is string {
  return typeof value === 'string' && REQUEST_ID_RE.test(value);
}

export class RequestContext {
  userId: string | null;
  userName: string | null;
  projectId: string | null;
  projectName: string | null;
  domainId: string | null;
  userDomainId: string | null;
  projectDomainId: string | null;
  systemScope: string | null;
  roles: string[];
  isAdmin: boolean;
  requestId: string;
  globalRequestId: string | null;
  readDeleted: ReadDeleted;
  authToken: string | null;
  serviceCatalog: CatalogEntry[];
  serviceUserId: string | null;
  serviceRoles: string[];
  remoteAddress: string | null;

  constructor(init: RequestContextInit = {}) {
    this.userId = init.userId ?? null;
    this.userName = init.userName ?? null;
    this.projectId = init.projectId ?? null;
    this.projectName = init.projectName ?? null;
    this.domainId = init.domainId ?? null;
    this.userDomainId = init.userDomainId ?? null;
    this.projectDomainId = init.projectDomainId ?? null;
    this.systemScope = init.systemScope ?? null;
    this.roles = init.roles ?? [];
    this.isAdmin = init.isAdmin ?? this.roles.includes('admin');
    this.requestId = init.requestId ?? newRequestId();
    this.globalRequestId = init.globalRequestId ?? null;
    this.readDeleted = init.readDeleted ?? 'no';
    this.authToken = init.authToken ?? null;
    this.serviceCatalog = init.serviceCatalog ?? [];
    this.serviceUserId = init.serviceUserId ?? null;
    this.serviceRoles = init.serviceRoles ?? [];
    this.remoteAddress = init.remoteAddress ?? null;
  }

  /** The id that ties every hop of one user request together. */
  get journeyId(): string {
    return this.globalRequestId ?? this.requestId;
  }

  /** A context for internal work (periodic tasks, service-to-service admin calls). */
  static admin(init: RequestContextInit = {}): RequestContext {
    return new RequestContext({ roles: ['admin'], isAdmin: true, ...init });
  }

  /** Same identity, admin rights (Nova's `context.elevated()`). */
  elevated(readDeleted?: ReadDeleted): RequestContext {
    const c = this.clone();
    c.isAdmin = true;
    if (!c.roles.includes('admin')) c.roles = [...c.roles, 'admin'];
    if (readDeleted) c.readDeleted = readDeleted;
    return c;
  }

  clone(overrides: RequestContextInit = {}): RequestContext {
    return new RequestContext({ ...this.toInit(), ...overrides });
  }

  /** A fresh request id for a new internal request that keeps the same journey. */
  child(): RequestContext {
    return this.clone({ requestId: newRequestId(), globalRequestId: this.journeyId });
  }

  private toInit(): RequestContextInit {
    return {
      userId: this.userId, userName: this.userName, projectId: this.projectId,
      projectName: this.projectName, domainId: this.domainId, userDomainId: this.userDomainId,
      projectDomainId: this.projectDomainId, systemScope: this.systemScope, roles: [...this.roles],
      isAdmin: this.isAdmin, requestId: this.requestId, globalRequestId: this.globalRequestId,
      readDeleted: this.readDeleted, authToken: this.authToken, serviceCatalog: this.serviceCatalog,
      serviceUserId: this.serviceUserId, serviceRoles: [...this.serviceRoles],
      remoteAddress: this.remoteAddress,
    };
  }

  /** oslo.context `to_dict()` keys (nova's RequestContext adds a few of its own). */
  toDict(): Record<string, unknown> {
    return {
      user: this.userId,
      user_id: this.userId,
      user_name: this.userName,
      tenant: this.projectId,
      project_id: this.projectId,
      project_name: this.projectName,
      domain: this.domainId,
      user_domain: this.userDomainId,
      project_domain: this.projectDomainId,
      system_scope: this.systemScope,
      roles: this.roles,
      is_admin: this.isAdmin,
      request_id: this.requestId,
      global_request_id: this.globalRequestId,
      read_deleted: this.readDeleted,
      auth_token: this.authToken,
      service_catalog: this.serviceCatalog,
      service_user_id: this.serviceUserId,
      service_roles: this.serviceRoles,
      remote_address: this.remoteAddress,
      read_only: false,
      show_deleted: this.readDeleted !== 'no',
      is_admin_project: true,
      resource_uuid: null,
    };
  }

  /** Inverse of `toDict()`; accepts what a Python oslo.context peer sends too. */
  static fromDict(d: Record<string, unknown>): RequestContext {
    const roles = stringList(d['roles']);
    const rd = stringField(d, 'read_deleted');
    return new RequestContext({
      userId: stringField(d, 'user_id') ?? stringField(d, 'user'),
      userName: stringField(d, 'user_name'),
      projectId: stringField(d, 'project_id') ?? stringField(d, 'tenant'),
      projectName: stringField(d, 'project_name'),
      domainId: stringField(d, 'domain'),
      userDomainId: stringField(d, 'user_domain'),
      projectDomainId: stringField(d, 'project_domain'),
      systemScope: stringField(d, 'system_scope'),
      roles,
      isAdmin: typeof d['is_admin'] === 'boolean' ? (d['is_admin'] as boolean) : roles.includes('admin'),
      requestId: stringField(d, 'request_id') ?? newRequestId(),
      globalRequestId: stringField(d, 'global_request_id'),
      readDeleted: rd === 'yes' || rd === 'only' ? rd : 'no',
      authToken: stringField(d, 'auth_token'),
      serviceCatalog: Array.isArray(d['service_catalog']) ? (d['service_catalog'] as CatalogEntry[]) : [],
      serviceUserId: stringField(d, 'service_user_id'),
      serviceRoles: stringList(d['service_roles']),
      remoteAddress: stringField(d, 'remote_address'),
    });
  }

  /** Fields every log line and span carries. */
  logFields(): Record<string, string | null> {
    return {
      request_id: this.requestId,
      global_request_id: this.globalRequestId,
      user_id: this.userId,
      project_id: this.projectId,
    };
  }
}

/**
 * What the work in progress runs under: its request context (so logs and spans find it without
 * threading it through) and the journey span it belongs to (src/common/journey/span.ts).
 * One AsyncLocalStorage holds both: on Node 20 every store adds its own cost to every promise.
 */
export interface AmbientScope {
  ctx: RequestContext | undefined;
  spanId: string | null;
  /** The service and host whose span is in progress. */
  spanService: string | null;
  spanHost: string | null;
}
export const ambient = new AsyncLocalStorage<AmbientScope>();

export function currentContext(): RequestContext | undefined {
  return ambient.getStore()?.ctx;
}

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  const s = ambient.getStore();
  return ambient.run({ ctx, spanId: s?.spanId ?? null, spanService: s?.spanService ?? null, spanHost: s?.spanHost ?? null }, fn);
}

function stringField(d: Record<string, unknown>, k: string): string | null {
  const v = d[k];
  return typeof v === 'string' ? v : null;
}

/** A list of strings from the wire (Python peers may send other scalars). */
function stringList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  for (const x of v) if (typeof x !== 'string') return v.map(String);
  return (v as string[]).slice();
}
