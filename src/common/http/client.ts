/**
 * A keystoneauth-like Session for service-to-service REST (Nova -> Glance/Neutron/Cinder/
 * Placement, every service -> Keystone). It gets and caches a token for its service user,
 * finds endpoints in the catalog, and on every request propagates the global request id
 * (`X-OpenStack-Request-ID`), sends the user's token plus our service token when acting for a
 * user, negotiates microversions, records an `http.out` journey span whose id travels in
 * `traceparent`, and turns error responses into ApiError with the remote status and message.
 * Requests go out through node:http(s) over keep-alive agents: per request that is a quarter of
 * the CPU of global fetch (undici and its web streams), measured on loopback.
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { currentContext, type CatalogEntry, type RequestContext } from '../context.js';
import { ApiError } from '../errors.js';
import { currentSpanOwner, withSpan } from '../journey/span.js';
import { formatTraceparent, JOURNEY_PARENT_HEADER } from './trace-header.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface SessionOptions {
  /** Keystone URL, with or without the trailing `/v3`. */
  authUrl?: string;
  username?: string;
  password?: string;
  /** Scope: a project by name (with its domain) or id; neither means a system-scoped token when `system` is set, else unscoped. */
  projectName?: string;
  projectId?: string;
  userDomainId?: string;
  userDomainName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  system?: 'all';
  /** A fixed token instead of a password (tests, or a user's own token). */
  token?: string;
  /** Defaults for endpoint lookup. */
  interface?: EndpointInterface;
  region?: string;
  /** Service-type -> base URL, bypassing the catalog (all-in-one wiring, tests). */
  endpointOverrides?: Record<string, string>;
  /** Who is calling, for journey spans (e.g. 'nova-api'); defaults to the service whose span is in progress, else the username. */
  service?: string;
  host?: string;
  timeoutMs?: number;
}

export interface RequestOptions {
  /** JSON body (serialized for you). */
  body?: unknown;
  /** A body sent as is (Glance image data). */
  rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | Array<string | number> | undefined | null>;
  /** e.g. '2.53'; sent as `OpenStack-API-Version: <service> 2.53` (and Nova's legacy header). */
  microversion?: string;
  /** Microversion service name when the service type does not say it ('compute', 'volume', 'placement'). */
  microversionService?: string;
  /** The request context; defaults to the one in progress. Its journey id becomes X-OpenStack-Request-ID. */
  ctx?: RequestContext;
  /** Act for a user: their token goes in X-Auth-Token and ours in X-Service-Token. */
  userToken?: string | null;
  /** false: send no token at all (version discovery, token requests). */
  authenticated?: boolean;
  interface?: EndpointInterface;
  region?: string;
  /** Statuses that are not errors besides 2xx (e.g. [404] to test for existence). */
  okStatuses?: number[];
  /** Retries on 503 and connection failures (keystoneauth's connect/status retries). */
  retries?: number;
  /** Retries on 409 (Placement's generation conflicts are retried by callers that know better). */
  conflictRetries?: number;
  responseType?: 'json' | 'text' | 'buffer' | 'stream';
  timeoutMs?: number;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  /** The callee's own request id (x-openstack-request-id / x-compute-request-id). */
  requestId: string | null;
  url: string;
}

/** An error answer from another service: its status and message, plus everything it sent. */
export class RemoteHttpError extends ApiError {
  readonly url: string;
  readonly method: string;
  readonly responseBody: unknown;
  readonly responseHeaders: Headers;

  constructor(method: string, url: string, status: number, body: unknown, headers: Headers) {
    const info = faultInfo(body);
    super(status, info.message ?? `${method} ${url} returned ${status}`, {
      ...(info.type !== undefined ? { type: info.type } : {}),
      ...(info.errorCode !== undefined ? { errorCode: info.errorCode } : {}),
      ...(info.detail !== undefined ? { detail: info.detail } : {}),
      ...(info.title !== undefined ? { title: info.title } : {}),
    });
    this.name = info.type ?? 'RemoteHttpError';
    this.url = url;
    this.method = method;
    this.responseBody = body;
    this.responseHeaders = headers;
  }
}

interface FaultInfo {
  message?: string;
  type?: string;
  errorCode?: string;
  detail?: string;
  title?: string;
}

/** Reads every OpenStack fault shape: Nova/Cinder, Neutron, Keystone, Placement, webob text. */
export function faultInfo(body: unknown): FaultInfo {
  if (typeof body === 'string') {
    const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
    // webob plain text: "404 Not Found\n\n<explanation>"
    const msg = lines.length > 1 ? lines.slice(1).join(' ') : lines[0];
    return msg ? { message: msg } : {};
  }
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  if (b['NeutronError'] && typeof b['NeutronError'] === 'object') {
    const n = b['NeutronError'] as Record<string, unknown>;
    return { message: str(n['message']), type: str(n['type']), detail: str(n['detail']) };
  }
  if (Array.isArray(b['errors']) && b['errors'].length > 0) {
    const e = b['errors'][0] as Record<string, unknown>;
    return { message: str(e['detail']), title: str(e['title']), errorCode: str(e['code']) };
  }
  if (b['error'] && typeof b['error'] === 'object') {
    const e = b['error'] as Record<string, unknown>;
    return { message: str(e['message']), title: str(e['title']) };
  }
  // webob's JSON body (Glance): the html of its template is still in the message.
  if (typeof b['message'] === 'string') return { message: stripWebob(b['message'] as string), title: str(b['title']) };
  const keys = Object.keys(b);
  if (keys.length === 1) {
    const inner = b[keys[0]!];
    if (inner && typeof inner === 'object' && typeof (inner as Record<string, unknown>)['message'] === 'string') {
      return { message: (inner as Record<string, unknown>)['message'] as string, type: keys[0] };
    }
  }
  return {};
}

function stripWebob(s: string): string {
  return s.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '').trim().replace(/\s*\n\s*/g, ' ');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Service types and the names they also go by in catalogs. */
const TYPE_ALIASES: Record<string, string[]> = {
  'block-storage': ['block-storage', 'volumev3', 'volume', 'volumev2'],
  volumev3: ['volumev3', 'block-storage', 'volume'],
  volume: ['volume', 'volumev3', 'block-storage'],
  compute: ['compute'],
  image: ['image'],
  network: ['network'],
  placement: ['placement'],
  identity: ['identity'],
};

const MICROVERSION_SERVICE: Record<string, string> = {
  compute: 'compute',
  'block-storage': 'volume',
  volumev3: 'volume',
  volume: 'volume',
  placement: 'placement',
};

const REAUTH_MARGIN_MS = 60_000;

export class Session {
  readonly opts: SessionOptions;
  private token: string | null;
  private expiresAt = Infinity;
  private catalog: CatalogEntry[] = [];
  private authenticating: Promise<string> | null = null;

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.token = opts.token ?? null;
  }

  /** The Keystone v3 base (`.../v3`). */
  get identityUrl(): string {
    if (!this.opts.authUrl) throw new Error('Session has no authUrl');
    const u = this.opts.authUrl.replace(/\/+$/, '');
    return /\/v3$/.test(u) ? u : `${u}/v3`;
  }

  /** Our service token, fetched on first use and again shortly before it expires. */
  async getToken(): Promise<string> {
    if (this.token && (this.opts.token || Date.now() < this.expiresAt - REAUTH_MARGIN_MS)) return this.token;
    if (!this.authenticating) {
      this.authenticating = this.authenticate().finally(() => {
        this.authenticating = null;
      });
    }
    return this.authenticating;
  }

  /** Forget the token (it was refused); the next request authenticates again. */
  invalidate(): void {
    if (this.opts.token) return;
    this.token = null;
    this.expiresAt = 0;
  }

  async getCatalog(): Promise<CatalogEntry[]> {
    if (this.catalog.length === 0 && this.opts.authUrl && this.opts.password !== undefined) await this.getToken();
    return this.catalog;
  }

  private async authenticate(): Promise<string> {
    const o = this.opts;
    if (o.username === undefined || o.password === undefined) throw new Error('Session needs username and password (or a token)');
    const user: Record<string, unknown> = { name: o.username, password: o.password };
    if (o.userDomainId) user['domain'] = { id: o.userDomainId };
    else if (o.userDomainName) user['domain'] = { name: o.userDomainName };
    else user['domain'] = { id: 'default' };
    let scope: Record<string, unknown> | undefined;
    if (o.projectId) scope = { project: { id: o.projectId } };
    else if (o.projectName) {
      const domain = o.projectDomainId ? { id: o.projectDomainId } : o.projectDomainName ? { name: o.projectDomainName } : { id: 'default' };
      scope = { project: { name: o.projectName, domain } };
    } else if (o.system) scope = { system: { all: true } };
    const res = await this.request<{ token: { expires_at?: string; catalog?: CatalogEntry[] } }>('POST', this.identityUrl, '/auth/tokens', {
      authenticated: false,
      body: { auth: { identity: { methods: ['password'], password: { user } }, ...(scope ? { scope } : {}) } },
    });
    const token = res.headers.get('x-subject-token');
    if (!token) throw new ApiError(401, 'Keystone returned no X-Subject-Token', { type: 'Unauthorized' });
    this.token = token;
    const exp = res.body.token.expires_at ? Date.parse(res.body.token.expires_at) : NaN;
    this.expiresAt = Number.isNaN(exp) ? Date.now() + 3600_000 : exp;
    this.catalog = res.body.token.catalog ?? [];
    return token;
  }

  /** The base URL of a service from the catalog (or an override). */
  async endpointFor(serviceType: string, iface: EndpointInterface = this.opts.interface ?? 'public', region = this.opts.region): Promise<string> {
    const override = this.opts.endpointOverrides?.[serviceType];
    if (override) return override.replace(/\/+$/, '');
    if (serviceType === 'identity' && this.opts.authUrl && this.catalog.length === 0 && this.opts.password === undefined) {
      return this.identityUrl;
    }
    const catalog = await this.getCatalog();
    const url = findEndpoint(catalog, serviceType, iface, region);
    if (!url) {
      throw new ApiError(503, `No ${iface} endpoint for service type ${serviceType}${region ? ` in region ${region}` : ''} in the catalog`, {
        type: 'EndpointNotFound',
      });
    }
    return url.replace(/\/+$/, '');
  }

  /**
   * One request. `target` is a service type ('compute', 'image', ...) resolved through the
   * catalog, or an absolute base URL.
   */
  async request<T = unknown>(method: string, target: string, path: string, ro: RequestOptions = {}): Promise<HttpResponse<T>> {
    const base = /^https?:\/\//.test(target) ? target.replace(/\/+$/, '') : await this.endpointFor(target, ro.interface, ro.region);
    const url = joinUrl(base, path, ro.query);
    const ctx = ro.ctx ?? currentContext();
    const serviceType = /^https?:\/\//.test(target) ? null : target;
    const retries = ro.retries ?? 0;
    const conflictRetries = ro.conflictRetries ?? 0;
    let reauthed = false;
    for (let attempt = 0, conflicts = 0; ; ) {
      const { res, body, usedOurToken } = await this.once<T>(method, url, serviceType, ro, ctx);
      if (res.status === 401 && usedOurToken && !reauthed && !this.opts.token) {
        reauthed = true;
        this.invalidate();
        continue;
      }
      if (res.status === 503 && attempt < retries) {
        attempt++;
        await sleep(Math.min(100 * 2 ** attempt, 2000));
        continue;
      }
      if (res.status === 409 && conflicts < conflictRetries) {
        conflicts++;
        continue;
      }
      const ok = (res.status >= 200 && res.status < 300) || (ro.okStatuses ?? []).includes(res.status);
      if (!ok) throw new RemoteHttpError(method, url, res.status, body, res.headers);
      return {
        status: res.status,
        headers: res.headers,
        body: body as T,
        requestId: res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id'),
        url,
      };
    }
  }

  private async once<T>(
    method: string,
    url: string,
    serviceType: string | null,
    ro: RequestOptions,
    ctx: RequestContext | undefined,
  ): Promise<{ res: RawResponse; body: T | string | Buffer | ReadableStream | null; usedOurToken: boolean }> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': `stratus-${this.opts.service ?? 'client'}` };
    let usedOurToken = false;
    if (ro.authenticated !== false && (this.opts.token || this.opts.password !== undefined || ro.userToken)) {
      if (ro.userToken) {
        headers['X-Auth-Token'] = ro.userToken;
        if (this.opts.token || this.opts.password !== undefined) {
          headers['X-Service-Token'] = await this.getToken();
          usedOurToken = true;
        }
      } else {
        headers['X-Auth-Token'] = await this.getToken();
        usedOurToken = true;
      }
    }
    if (ctx) headers['X-OpenStack-Request-ID'] = ctx.journeyId;
    if (ro.microversion) {
      const svc = ro.microversionService ?? (serviceType ? MICROVERSION_SERVICE[serviceType] : undefined);
      if (svc) {
        headers['OpenStack-API-Version'] = `${svc} ${ro.microversion}`;
        if (svc === 'compute') headers['X-OpenStack-Nova-API-Version'] = ro.microversion;
      }
    }
    let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
    if (ro.rawBody !== undefined) {
      body = ro.rawBody;
      headers['Content-Type'] = 'application/octet-stream';
    } else if (ro.body !== undefined) {
      body = JSON.stringify(ro.body);
      headers['Content-Type'] = 'application/json';
    }
    Object.assign(headers, ro.headers ?? {});

    const path = new URL(url).pathname;
    const scope = currentSpanOwner();
    return withSpan(
      {
        kind: 'http.out',
        name: `${method} ${serviceType ?? new URL(url).host}${path}`,
        service: this.opts.service ?? scope?.service ?? this.opts.username ?? 'client',
        host: this.opts.host ?? scope?.host ?? null,
        ...(ctx ? { ctx } : {}),
        attributes: { method, url, ...(serviceType ? { serviceType } : {}), ...(ro.microversion ? { microversion: ro.microversion } : {}) },
      },
      async (span) => {
        if (ctx) headers[JOURNEY_PARENT_HEADER] = formatTraceparent(ctx.journeyId, span.id);
        let res: RawResponse;
        try {
          res = await send(method, url, headers, body, ro.timeoutMs ?? this.opts.timeoutMs ?? 60_000, ro.responseType === 'stream');
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          throw new ApiError(503, `Unable to establish connection to ${url}: ${why}`, { type: 'ConnectFailure' });
        }
        span.attributes['status'] = res.status;
        const remoteId = res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id');
        if (remoteId) span.attributes['remoteRequestId'] = remoteId;
        const parsed = readBody<T>(res, method, ro.responseType ?? 'json');
        if (res.status >= 500) span.status = 'error';
        return { res, body: parsed, usedOurToken };
      },
    );
  }

  get<T = unknown>(target: string, path: string, ro?: RequestOptions) {
    return this.request<T>('GET', target, path, ro);
  }
  post<T = unknown>(target: string, path: string, ro?: RequestOptions) {
    return this.request<T>('POST', target, path, ro);
  }
  put<T = unknown>(target: string, path: string, ro?: RequestOptions) {
    return this.request<T>('PUT', target, path, ro);
  }
  patch<T = unknown>(target: string, path: string, ro?: RequestOptions) {
    return this.request<T>('PATCH', target, path, ro);
  }
  delete<T = unknown>(target: string, path: string, ro?: RequestOptions) {
    return this.request<T>('DELETE', target, path, ro);
  }
  head(target: string, path: string, ro?: RequestOptions) {
    return this.request<null>('HEAD', target, path, { ...ro, responseType: 'text' });
  }
}

/** A response read off the wire: the body is whole, unless a stream was asked for and it is a 2xx. */
interface RawResponse {
  status: number;
  headers: Headers;
  data: Buffer | null;
  stream: Readable | null;
}

// One keep-alive pool per protocol for the process (keystoneauth keeps one requests.Session).
// Idle sockets close after 4 s, before a Node server's 5 s keep-alive timeout would close them.
const AGENT_OPTS = { keepAlive: true, timeout: 4_000 };
const httpAgent = new http.Agent(AGENT_OPTS);
const httpsAgent = new https.Agent(AGENT_OPTS);

type OutBody = string | Uint8Array | ReadableStream<Uint8Array> | undefined;

/**
 * One HTTP exchange. A request that fails on a reused keep-alive socket before any answer (the
 * server closed it while idle) is sent again on a new one, as Node's documentation advises.
 */
async function send(method: string, url: string, headers: Record<string, string>, body: OutBody, timeoutMs: number, wantStream: boolean): Promise<RawResponse> {
  try {
    return await sendOnce(method, url, headers, body, timeoutMs, wantStream);
  } catch (e) {
    if (!(e instanceof StaleSocketError) || body instanceof ReadableStream) throw e instanceof StaleSocketError ? e.cause : e;
    return sendOnce(method, url, headers, body, timeoutMs, wantStream);
  }
}

class StaleSocketError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

const TIMEOUT_MESSAGE = 'The operation was aborted due to timeout';

function sendOnce(method: string, url: string, headers: Record<string, string>, body: OutBody, timeoutMs: number, wantStream: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => new Exchange(resolve, reject).start(method, url, headers, body, timeoutMs, wantStream));
}

/**
 * One request and its answer. A class, not closures: tsx keeps function names, which costs a
 * defineProperty for every named closure made per request.
 */
class Exchange {
  private settled = false;
  private answered = false;
  private timer: NodeJS.Timeout | null = null;
  private req: http.ClientRequest | null = null;
  private chunks: Buffer[] = [];

  constructor(private readonly resolve: (r: RawResponse) => void, private readonly reject: (e: Error) => void) {}

  start(method: string, url: string, headers: Record<string, string>, body: OutBody, timeoutMs: number, wantStream: boolean): void {
    const u = new URL(url);
    const tls = u.protocol === 'https:';
    const outHeaders: Record<string, string | number> = headers;
    if (typeof body === 'string') outHeaders['Content-Length'] = Buffer.byteLength(body);
    else if (body instanceof Uint8Array) outHeaders['Content-Length'] = body.byteLength;
    const req = (this.req = (tls ? https : http).request({
      protocol: u.protocol, hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || (tls ? 443 : 80), path: u.pathname + u.search,
      method, headers: outHeaders, agent: tls ? httpsAgent : httpAgent,
    }));
    this.timer = setTimeout(() => req.destroy(new Error(TIMEOUT_MESSAGE)), timeoutMs);
    req.on('error', (e) => this.fail(e));
    req.on('response', (res) => this.onResponse(res, wantStream));
    if (body instanceof ReadableStream) {
      const src = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
      src.on('error', (e) => req.destroy(e));
      src.pipe(req);
    } else req.end(body);
  }

  private onResponse(res: http.IncomingMessage, wantStream: boolean): void {
    this.answered = true;
    const status = res.statusCode ?? 0;
    const headers = new ResponseHeaders(res.headers);
    if (wantStream && status >= 200 && status < 300) {
      // The caller reads the body; the timeout covered getting the answer.
      this.settle();
      this.resolve({ status, headers, data: null, stream: res });
      return;
    }
    res.on('data', (c: Buffer) => this.chunks.push(c));
    res.on('error', (e) => this.fail(e));
    res.on('aborted', () => this.fail(new Error('the connection closed before the whole answer arrived')));
    res.on('end', () => {
      if (this.settled) return;
      this.settle();
      const c = this.chunks;
      this.resolve({ status, headers, data: c.length === 1 ? c[0]! : Buffer.concat(c), stream: null });
    });
  }

  private settle(): void {
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private fail(e: Error): void {
    if (this.settled) return;
    this.settle();
    const stale = !this.answered && this.req?.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET';
    this.reject(stale ? new StaleSocketError(e) : e);
  }
}

/** The response's headers behind the fetch `Headers` interface (what callers and RemoteHttpError hold). */
class ResponseHeaders implements Headers {
  constructor(private readonly h: http.IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.h[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.h[name.toLowerCase()] !== undefined;
  }
  getSetCookie(): string[] {
    return this.h['set-cookie'] ?? [];
  }
  forEach(cb: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this);
  }
  *entries(): ReturnType<Headers['entries']> {
    for (const k of Object.keys(this.h).sort()) yield [k, this.get(k)!];
  }
  *keys(): ReturnType<Headers['keys']> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): ReturnType<Headers['keys']> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): ReturnType<Headers['entries']> {
    return this.entries();
  }
  append(name: string, value: string): void {
    const k = name.toLowerCase();
    const v = this.h[k];
    this.h[k] = v === undefined ? value : `${Array.isArray(v) ? v.join(', ') : v}, ${value}`;
  }
  set(name: string, value: string): void {
    this.h[name.toLowerCase()] = value;
  }
  delete(name: string): void {
    delete this.h[name.toLowerCase()];
  }
}

function readBody<T>(res: RawResponse, method: string, type: NonNullable<RequestOptions['responseType']>): T | string | Buffer | ReadableStream | null {
  if (res.stream) return Readable.toWeb(res.stream) as unknown as ReadableStream;
  const ok = res.status >= 200 && res.status < 300;
  if (type === 'buffer' && ok) return res.data!;
  if (method === 'HEAD' || res.status === 204 || res.status === 304) return null;
  const text = res.data!.toString('utf8');
  if (text === '') return null;
  const ct = res.headers.get('content-type') ?? '';
  if (ct.includes('json') || (type === 'json' && /^\s*[[{]/.test(text))) {
    try {
      return JSON.parse(text) as T;
    } catch {
      return text;
    }
  }
  return text;
}

export function findEndpoint(catalog: CatalogEntry[], serviceType: string, iface: EndpointInterface, region?: string): string | null {
  const types = TYPE_ALIASES[serviceType] ?? [serviceType];
  for (const t of types) {
    for (const entry of catalog) {
      if (entry.type !== t) continue;
      const ep = entry.endpoints.find((e) => e.interface === iface && (!region || e.region === region || e.region_id === region));
      if (ep) return ep.url;
    }
  }
  return null;
}

export function joinUrl(base: string, path: string, query?: RequestOptions['query']): string {
  let url = path === '' ? base : `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) qs.append(k, String(x));
      else qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
