/**
 * The REST app factory every service uses: request ids and the global request id,
 * keystonemiddleware-style token checks, microversion negotiation, the service's own fault
 * format for every error (including no route, wrong method and malformed JSON), and one
 * `http.in` journey span per request. Handlers run inside the request's context.
 * @module
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { RequestContext, currentContext, isValidRequestId, newRequestId, runWithContext } from '../context.js';
import { ApiError, isApiError } from '../errors.js';
import { getLogger } from '../log.js';
import { currentSpanId, newSpanId, recordSpan, runUnderSpan } from '../journey/span.js';
import type { TokenValidator, ValidatedToken } from './auth-types.js';
import { formatFault, frameworkMessages, type FaultStyle, type FrameworkMessages } from './faults.js';
import { VersionNegotiator, type APIVersion, type MicroversionSpec } from './microversion.js';
import { JOURNEY_PARENT_HEADER, parseTraceparent } from './trace-header.js';

export type { FaultStyle } from './faults.js';
export type { MicroversionSpec } from './microversion.js';
export { APIVersion } from './microversion.js';

export interface AppOptions {
  /** Service name for logs and spans, e.g. 'nova-api'. */
  service: string;
  host?: string;
  faults: FaultStyle;
  microversion?: MicroversionSpec;
  /** When given, every route needs a valid X-Auth-Token unless its config says `public: true`. */
  validator?: TokenValidator;
  /** Keystone's public URL, for `WWW-Authenticate: Keystone uri="..."`. */
  authUrl?: string;
  /** Response headers carrying the request id; default ['x-openstack-request-id']. */
  requestIdHeaders?: string[];
  bodyLimit?: number;
}

/** Where this request's http.in span sits in the journey. */
export interface HttpSpanState {
  id: string;
  parentId: string | null;
  /** epoch ms */
  start: number;
  t0: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
    microversion: APIVersion | null;
    httpSpan: HttpSpanState;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export const OPENSTACK_REQUEST_ID_HEADER = 'x-openstack-request-id';
export const COMPUTE_REQUEST_ID_HEADER = 'x-compute-request-id';
export const AUTH_TOKEN_HEADER = 'x-auth-token';
export const SERVICE_TOKEN_HEADER = 'x-service-token';

export function createApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  const log = getLogger(opts.service, opts.host);
  const messages = frameworkMessages(opts.faults);
  const idHeaders = (opts.requestIdHeaders ?? [OPENSTACK_REQUEST_ID_HEADER]).map((h) => h.toLowerCase());
  const routes = new RouteTable();

  app.decorateRequest('ctx', null as unknown as RequestContext);
  app.decorateRequest('microversion', null);
  app.decorateRequest('httpSpan', null as unknown as HttpSpanState);

  installBodyParsers(app, messages);

  // Every handler runs inside its request's context and under its http.in span, so logs,
  // spans and outgoing calls made from it find both without threading them through.
  const owner = { service: opts.service, host: opts.host ?? null };
  /** True when the code running now is already inside the request's context and span. */
  const inside = (req: FastifyRequest): boolean => currentContext() === req.ctx && currentSpanId() === req.httpSpan.id;
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.add(route.method, route.url);
    const handler = route.handler;
    route.handler = function wrappedHandler(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      if (inside(req)) return handler.call(this, req, reply);
      return runWithContext(req.ctx, () => runUnderSpan(req.httpSpan.id, () => handler.call(this, req, reply), owner));
    };
  });

  // Callback-style hooks: an async hook costs promises on every request of every service.
  const negotiator = opts.microversion ? new VersionNegotiator(opts.microversion) : null;
  app.addHook('onRequest', (req, reply, done) => {
    const incoming = header(req, OPENSTACK_REQUEST_ID_HEADER);
    req.ctx = new RequestContext({
      requestId: newRequestId(),
      globalRequestId: isValidRequestId(incoming) ? incoming : null,
      remoteAddress: req.ip,
    });
    const t0 = performance.now();
    req.httpSpan = {
      id: newSpanId(),
      parentId: parseTraceparent(req.headers[JOURNEY_PARENT_HEADER]),
      start: performance.timeOrigin + t0,
      t0,
    };
    for (const h of idHeaders) reply.header(h, req.ctx.requestId);

    if (opts.validator && !req.routeOptions.config?.public) authenticate(req, opts.validator, (err) => afterAuth(req, reply, done, err));
    else afterAuth(req, reply, done, null);
  });
  // After the token (a bad token is a 401 whatever the version): the microversion, then the
  // rest of the request inside its context. Hooks the services add (policy checks in
  // preHandler, ...) see the context too. (Made once: a named closure per request costs.)
  function afterAuth(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, err: Error | null | undefined): void {
    if (err) return done(err);
    if (negotiator) {
      const { version, error } = negotiator.negotiate(req.headers);
      req.microversion = version;
      if (opts.faults !== 'placement' || !error) reply.headers(negotiator.responseHeaders(version));
      if (error) return done(error);
    }
    runWithContext(req.ctx, () => runUnderSpan(req.httpSpan.id, () => done(), owner));
  }

  // Body parsing happens in stream callbacks, which lose the context: enter it again.
  app.addHook('preValidation', (req, _reply, done) => {
    if (!req.ctx || inside(req)) return done();
    runWithContext(req.ctx, () => runUnderSpan(req.httpSpan.id, () => done(), owner));
  });

  app.addHook('onResponse', (req, reply, done) => {
    const span = req.httpSpan;
    if (!span || !req.ctx) return done();
    const durationMs = performance.now() - span.t0;
    const route = req.routeOptions.url ?? null;
    const status = reply.statusCode;
    const version = req.microversion ? req.microversion.toString() : null;
    recordSpan({
      id: span.id,
      parentId: span.parentId,
      ctx: req.ctx,
      kind: 'http.in',
      name: `${req.method} ${route ?? pathOf(req.url)}`,
      service: opts.service,
      host: opts.host ?? null,
      start: span.start,
      durationMs,
      status: status >= 500 ? 'error' : 'ok',
      attributes: version !== null
        ? { method: req.method, url: req.url, route, status, microversion: version }
        : { method: req.method, url: req.url, route, status },
    });
    if (log.isLevelEnabled('info')) {
      runWithContext(req.ctx, () =>
        log.info(
          { method: req.method, url: req.url, status, ms: Math.round(durationMs * 100) / 100 },
          `${req.ip} "${req.method} ${req.url}" status: ${status}` +
            `${version !== null ? ` microversion: ${version}` : ''} time: ${(durationMs / 1000).toFixed(4)}`,
        ),
      );
    }
    done();
  });

  app.setNotFoundHandler(async (req) => {
    const allowed = routes.methodsFor(pathOf(req.url));
    // Nova's router matches method and path together, so a wrong method is a plain 404 there
    // (Tempest's test_delete_security_group_without_passing_id expects it).
    if (allowed.length > 0 && !allowed.includes(req.method) && opts.faults !== 'nova') {
      throw new ApiError(405, messages.badMethod, {
        headers: { Allow: allowed.join(', ') },
        // Placement shows webob's 405 template, which names the method, before its own message.
        ...(opts.faults === 'placement'
          ? { detail: `The method ${req.method} is not allowed for this resource. \n\n ${messages.badMethod}` }
          : {}),
      });
    }
    throw new ApiError(404, messages.notFound);
  });

  app.setErrorHandler(async (err: FastifyError | Error, req, reply) => {
    const e = toApiError(err, messages, opts.faults);
    if (e.status >= 500 && !isApiError(err)) {
      runWithContext(req.ctx ?? new RequestContext(), () => log.error({ err }, `Unexpected error: ${err.message}`));
    }
    if (e.status === 401 && opts.authUrl && !reply.hasHeader('www-authenticate')) {
      reply.header('WWW-Authenticate', `Keystone uri="${opts.authUrl}"`);
    }
    const requestId = req.ctx?.requestId;
    // Placement: a version error happens before the request has a version, so it carries no
    // code but the supported range (clients negotiate with it), as placement's formatter does.
    const versionError = opts.faults === 'placement' && (e.type === 'InvalidGlobalAPIVersion' || e.type === 'InvalidAPIVersionString');
    const placementCode =
      opts.faults === 'placement' && !versionError && req.microversion?.atLeast('1.23') ? (e.errorCode ?? 'placement.undefined_code') : undefined;
    const fault = formatFault(opts.faults, {
      status: e.status,
      message: e.message,
      ...(e.type !== undefined && e.type !== 'ApiError' ? { type: e.type } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
      ...(e.title !== undefined ? { title: e.title } : {}),
      ...(placementCode !== undefined ? { errorCode: placementCode } : {}),
      ...(requestId ? { requestId } : {}),
      ...(typeof req.headers.accept === 'string' ? { accept: req.headers.accept } : {}),
      ...(e.headers['Retry-After'] ? { extra: { retryAfter: e.headers['Retry-After'] } } : {}),
      ...(versionError && e.status === 406 && opts.microversion
        ? { extra: { max_version: opts.microversion.max, min_version: opts.microversion.min } } : {}),
    });
    reply.code(e.status).headers(e.headers).type(fault.contentType);
    return fault.body;
  });

  return app;
}

/** keystonemiddleware's job on our side: token -> RequestContext, or 401. Calls `cb` once. */
function authenticate(req: FastifyRequest, validator: TokenValidator, cb: (err?: Error | null) => void): void {
  const token = header(req, AUTH_TOKEN_HEADER);
  if (!token) return cb(new ApiError(401, 'The request you have made requires authentication.', { type: 'Unauthorized' }));
  validateOr401(validator, token, (err, data) => {
    if (err) return cb(err);
    fillContext(req.ctx, data!, token);
    const serviceToken = header(req, SERVICE_TOKEN_HEADER);
    if (!serviceToken) return cb();
    validateOr401(validator, serviceToken, (err2, svc) => {
      if (err2) return cb(err2);
      req.ctx.serviceUserId = svc!.userId;
      req.ctx.serviceRoles = [...svc!.roles];
      cb();
    });
  });
}

function validateOr401(validator: TokenValidator, token: string, cb: (err: Error | null, data?: ValidatedToken) => void): void {
  let pending: Promise<ValidatedToken>;
  try {
    pending = Promise.resolve(validator.validate(token));
  } catch (e) {
    return cb(authError(e));
  }
  pending.then((data) => cb(null, data), (e: unknown) => cb(authError(e)));
}

function authError(e: unknown): Error {
  if (isApiError(e)) {
    if (e.status === 401 || e.status === 404) {
      return new ApiError(401, 'The request you have made requires authentication.', { type: 'Unauthorized' });
    }
    return e;
  }
  // keystonemiddleware answers 503 when it cannot reach Keystone.
  return new ApiError(503, 'The Keystone service is temporarily unavailable.', { type: 'ServiceUnavailable' });
}

function fillContext(ctx: RequestContext, t: ValidatedToken, token: string): void {
  ctx.userId = t.userId;
  ctx.userName = t.userName;
  ctx.userDomainId = t.userDomainId;
  ctx.projectId = t.projectId ?? null;
  ctx.projectName = t.projectName ?? null;
  ctx.projectDomainId = t.projectDomainId ?? null;
  ctx.domainId = t.domainId ?? null;
  ctx.systemScope = t.system ?? null;
  ctx.roles = [...t.roles];
  ctx.isAdmin = t.roles.includes('admin');
  ctx.authToken = token;
  ctx.serviceCatalog = t.catalog ?? [];
}

/** JSON bodies: empty means no body (Nova allows it), bad JSON is the service's 400. */
function installBodyParsers(app: FastifyInstance, messages: FrameworkMessages): void {
  const parseJson = (body: string): unknown => {
    if (body.trim() === '') return undefined;
    try {
      return JSON.parse(body);
    } catch {
      throw new ApiError(400, messages.malformedBody, { type: 'MalformedRequestBody' });
    }
  };
  const jsonParser = (_req: FastifyRequest, body: string | Buffer, done: ParserDone): void => {
    try {
      done(null, parseJson(body.toString()));
    } catch (e) {
      done(e as Error, undefined);
    }
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'string' }, jsonParser);
  // A body without Content-Type is read as JSON (Keystone and Nova do); other types are 415
  // unless a service registers a parser for them (Glance's octet-stream uploads).
  app.addContentTypeParser('*', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done: ParserDone) => {
    const ct = req.headers['content-type'];
    if (ct === undefined || ct.trim() === '') {
      try {
        done(null, parseJson(body.toString()));
      } catch (e) {
        done(e as Error, undefined);
      }
      return;
    }
    done(new ApiError(415, messages.unsupportedMediaType.replace('%(content_type)s', ct), { type: 'InvalidContentType' }), undefined);
  });
}

type ParserDone = (err: Error | null, body?: unknown) => void;

function toApiError(err: FastifyError | Error, messages: FrameworkMessages, style: FaultStyle): ApiError {
  if (isApiError(err)) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, messages.tooLarge);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, messages.unsupportedMediaType.replace('%(content_type)s ', ''));
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, messages.malformedBody);
  }
  if (fe.validation) return new ApiError(400, fe.message);
  const sc = fe.statusCode;
  if (typeof sc === 'number' && sc >= 400 && sc < 500) return new ApiError(sc, fe.message);
  // Never a stack trace in a body. Nova names the exception class, as upstream does.
  if (style === 'nova') return new ApiError(500, `${messages.internal}\n<class '${err.constructor?.name ?? 'Exception'}'>`);
  return new ApiError(500, messages.internal);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Registered route patterns, to tell "no such resource" (404) from "wrong method" (405). */
class RouteTable {
  private readonly entries: Array<{ re: RegExp; methods: Set<string> }> = [];

  add(method: string | string[], url: string): void {
    const methods = Array.isArray(method) ? method : [method];
    const re = patternToRegExp(url);
    const existing = this.entries.find((e) => e.re.source === re.source);
    if (existing) for (const m of methods) existing.methods.add(m);
    else this.entries.push({ re, methods: new Set(methods) });
  }

  methodsFor(path: string): string[] {
    const out = new Set<string>();
    const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
    for (const e of this.entries) if (e.re.test(trimmed)) for (const m of e.methods) out.add(m);
    return [...out].sort();
  }
}

function patternToRegExp(url: string): RegExp {
  const trimmed = url.length > 1 ? url.replace(/\/+$/, '') : url;
  const src = trimmed
    .split('/')
    .map((seg) => {
      if (seg === '*') return '.*';
      // ':id' and 'prefix:id' style params match one segment.
      return seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\\\*$|\*$/, '.*');
    })
    .join('/');
  return new RegExp(`^${src}$`);
}

export interface ListenOptions {
  host?: string;
  port?: number;
}

/** Starts the app; resolves to its base URL (`http://127.0.0.1:<port>`). */
export async function listen(app: FastifyInstance, lo: ListenOptions = {}): Promise<string> {
  const host = lo.host ?? '127.0.0.1';
  await app.listen({ host, port: lo.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : lo.port ?? 0;
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
