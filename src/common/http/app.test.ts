import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createApp, type AppOptions } from './app.js';
import { validateBody } from './validation.js';
import type { TokenValidator, ValidatedToken } from './auth-types.js';
import { ApiError } from '../errors.js';
import { currentContext } from '../context.js';
import { addSpanSink, currentSpanId } from '../journey/span.js';
import { MemorySpanSink } from '../journey/store.js';

const REQ_RE = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A validator that knows two tokens: a member's and an admin service user's. */
const tokens: Record<string, ValidatedToken> = {
  'user-token': {
    userId: 'u1', userName: 'alice', userDomainId: 'default', projectId: 'p1', projectName: 'demo',
    projectDomainId: 'default', roles: ['member', 'reader'], methods: ['password'], auditIds: ['a'],
    expiresAt: '2099-01-01T00:00:00Z', issuedAt: '2026-01-01T00:00:00Z',
    catalog: [{ type: 'image', name: 'glance', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://img' }] }],
  },
  'service-token': {
    userId: 'nova', userName: 'nova', userDomainId: 'default', projectId: 'svc', projectName: 'service',
    projectDomainId: 'default', roles: ['admin', 'member', 'reader', 'service'], methods: ['password'], auditIds: ['b'],
    expiresAt: '2099-01-01T00:00:00Z', issuedAt: '2026-01-01T00:00:00Z',
  },
};
const validator: TokenValidator = {
  async validate(token) {
    const t = tokens[token];
    if (!t) throw new ApiError(401, 'The request you have made requires authentication.');
    return t;
  },
};

const apps: FastifyInstance[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

function makeApp(opts: Partial<AppOptions> & Pick<AppOptions, 'faults'>): FastifyInstance {
  const app = createApp({ service: `test-${opts.faults}`, host: 'h1', ...opts });
  app.get('/v1/things/:id', async (req) => {
    const { id } = req.params as { id: string };
    if (id === 'missing') throw new ApiError(404, `Thing ${id} could not be found.`, { type: 'ThingNotFound' });
    if (id === 'crash') throw new Error('database password is hunter2');
    const ctx = currentContext();
    return {
      id,
      requestId: ctx?.requestId,
      global: ctx?.globalRequestId,
      user: ctx?.userId,
      project: ctx?.projectId,
      roles: ctx?.roles,
      isAdmin: ctx?.isAdmin,
      serviceUser: ctx?.serviceUserId,
      catalog: ctx?.serviceCatalog.length,
      mv: req.microversion?.toString() ?? null,
      span: currentSpanId(),
    };
  });
  app.post('/v1/things', async (req, reply) => {
    const body = validateBody<{ thing: Record<string, unknown> }>(req, [
      { schema: { type: 'object', properties: { thing: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } }, required: ['thing'] }, min: '2.1', max: '2.9' },
      { schema: { type: 'object', properties: { thing: { type: 'object', properties: { name: { type: 'string' }, size: { type: 'integer' } }, required: ['name', 'size'], additionalProperties: false } }, required: ['thing'] }, min: '2.10' },
    ]);
    reply.code(201);
    return body;
  });
  app.get('/', { config: { public: true } }, async () => ({ versions: [] }));
  apps.push(app);
  return app;
}

const nova = () =>
  makeApp({
    faults: 'nova',
    microversion: { service: 'compute', min: '2.1', max: '2.20', legacyHeader: 'X-OpenStack-Nova-API-Version' },
    requestIdHeaders: ['x-openstack-request-id', 'x-compute-request-id'],
  });

void describe('errors in each service format', () => {
  void test('nova: 404 from handler, unknown route, wrong method (404 as Nova routes it), malformed JSON, 500 without internals', async () => {
    const app = nova();
    let r = await app.inject({ method: 'GET', url: '/v1/things/missing' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'Thing missing could not be found.' } });

    r = await app.inject({ method: 'GET', url: '/v1/nothing/here' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'The resource could not be found.' } });

    r = await app.inject({ method: 'DELETE', url: '/v1/things' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'The resource could not be found.' } });

    r = await app.inject({ method: 'POST', url: '/v1/things', payload: '{"thing": ', headers: { 'content-type': 'application/json' } });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(r.json(), { badRequest: { code: 400, message: 'Malformed request body' } });

    r = await app.inject({ method: 'GET', url: '/v1/things/crash' });
    assert.equal(r.statusCode, 500);
    assert.deepEqual(r.json(), {
      computeFault: {
        code: 500,
        message: "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'Error'>",
      },
    });
    assert.doesNotMatch(r.body, /hunter2|at .*\.ts/);
  });

  void test('nova: unsupported content type is 415 badMediaType', async () => {
    const r = await nova().inject({ method: 'POST', url: '/v1/things', payload: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.statusCode, 415);
    assert.equal(r.json().badMediaType.code, 415);
  });

  void test('neutron', async () => {
    const app = makeApp({ faults: 'neutron' });
    let r = await app.inject({ method: 'GET', url: '/v1/things/missing' });
    assert.deepEqual(r.json(), { NeutronError: { type: 'ThingNotFound', message: 'Thing missing could not be found.', detail: '' } });
    r = await app.inject({ method: 'GET', url: '/nope' });
    assert.deepEqual(r.json(), { NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
    r = await app.inject({ method: 'POST', url: '/v1/things', payload: '[', headers: { 'content-type': 'application/json' } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().NeutronError.message, 'Body contains invalid data');
    r = await app.inject({ method: 'PUT', url: '/v1/things/1' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.json().NeutronError.type, 'HTTPMethodNotAllowed');
    r = await app.inject({ method: 'GET', url: '/v1/things/crash' });
    assert.deepEqual(r.json(), {
      NeutronError: { type: 'HTTPInternalServerError', message: 'Request Failed: internal server error while processing your request.', detail: '' },
    });
  });

  void test('keystone', async () => {
    const app = makeApp({ faults: 'keystone' });
    let r = await app.inject({ method: 'GET', url: '/v1/things/missing' });
    assert.deepEqual(r.json(), { error: { code: 404, message: 'Thing missing could not be found.', title: 'Not Found' } });
    r = await app.inject({ method: 'POST', url: '/v1/things', payload: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error.message, /^Expecting to find valid JSON in request body/);
    assert.equal(r.json().error.title, 'Bad Request');
  });

  void test('placement: errors list with request id; code from 1.23', async () => {
    const app = makeApp({ faults: 'placement', microversion: { service: 'placement', min: '1.0', max: '1.39' } });
    let r = await app.inject({ method: 'GET', url: '/v1/things/missing' });
    let err = r.json().errors[0];
    assert.equal(err.status, 404);
    assert.equal(err.title, 'Not Found');
    assert.equal(err.request_id, r.headers['x-openstack-request-id']);
    assert.equal(err.code, undefined);
    r = await app.inject({ method: 'GET', url: '/v1/things/missing', headers: { 'openstack-api-version': 'placement 1.23' } });
    err = r.json().errors[0];
    assert.equal(err.code, 'placement.undefined_code');
    assert.equal(err.detail, 'The resource could not be found.\n\n Thing missing could not be found.  ');
    r = await app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(r.json().errors[0].detail, 'The resource could not be found.\n\n   ');
    r = await app.inject({ method: 'DELETE', url: '/v1/things' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.json().errors[0].detail, 'The method DELETE is not allowed for this resource. \n\n The method specified is not allowed for this resource.');
    r = await app.inject({ method: 'POST', url: '/v1/things', payload: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.statusCode, 415);
    assert.match(r.json().errors[0].detail, /The media type text\/plain is not supported, use application\/json/);
  });

  void test('glance: webob text unless the client asks for JSON', async () => {
    const app = makeApp({ faults: 'glance' });
    let r = await app.inject({ method: 'GET', url: '/v1/things/missing' });
    assert.equal(r.statusCode, 404);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.equal(r.body, '404 Not Found\n\nThing missing could not be found.\n\n   ');
    r = await app.inject({ method: 'GET', url: '/v1/things/missing', headers: { accept: 'application/json' } });
    assert.equal(r.json().code, '404 Not Found');
  });
});

void describe('request ids', () => {
  void test('every response carries a fresh req-<uuid>, in each configured header', async () => {
    const app = nova();
    const r = await app.inject({ method: 'GET', url: '/v1/things/1' });
    const id = r.headers['x-openstack-request-id'] as string;
    assert.match(id, REQ_RE);
    assert.equal(r.headers['x-compute-request-id'], id);
    assert.equal(r.json().requestId, id);
    assert.equal(r.json().global, null);
    const r2 = await app.inject({ method: 'GET', url: '/v1/things/1' });
    assert.notEqual(r2.headers['x-openstack-request-id'], id);
  });

  void test('a valid incoming X-OpenStack-Request-ID becomes the global id; an invalid one is ignored', async () => {
    const app = makeApp({ faults: 'keystone' });
    const g = 'req-0a1b2c3d-0000-4000-8000-000000000001';
    let r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-openstack-request-id': g } });
    assert.equal(r.json().global, g);
    assert.notEqual(r.headers['x-openstack-request-id'], g);
    r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-openstack-request-id': 'not-an-id' } });
    assert.equal(r.json().global, null);
  });

  void test('errors carry request ids too', async () => {
    const r = await nova().inject({ method: 'GET', url: '/nope' });
    assert.match(r.headers['x-compute-request-id'] as string, REQ_RE);
  });
});

void describe('microversions', () => {
  void test('default is min, echoed with Vary', async () => {
    const r = await nova().inject({ method: 'GET', url: '/v1/things/1' });
    assert.equal(r.json().mv, '2.1');
    assert.equal(r.headers['openstack-api-version'], 'compute 2.1');
    assert.equal(r.headers['x-openstack-nova-api-version'], '2.1');
    assert.equal(r.headers['vary'], 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  });
  void test('latest, explicit and legacy header', async () => {
    const app = nova();
    let r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'openstack-api-version': 'compute latest' } });
    assert.equal(r.json().mv, '2.20');
    assert.equal(r.headers['openstack-api-version'], 'compute 2.20');
    r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-openstack-nova-api-version': '2.7' } });
    assert.equal(r.json().mv, '2.7');
    assert.equal(r.headers['openstack-api-version'], 'compute 2.7');
  });
  void test('406 outside the range, 400 for garbage, both in Nova format', async () => {
    const app = nova();
    let r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'openstack-api-version': 'compute 2.999' } });
    assert.equal(r.statusCode, 406);
    assert.deepEqual(r.json(), {
      computeFault: { code: 406, message: 'Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.20.' },
    });
    r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'openstack-api-version': 'compute two' } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, 'API Version String two is of invalid format. Must be of format MajorNum.MinorNum.');
  });
  void test('validation schema follows the microversion', async () => {
    const app = nova();
    const post = (payload: unknown, v?: string) =>
      app.inject({ method: 'POST', url: '/v1/things', payload: payload as object, headers: v ? { 'openstack-api-version': `compute ${v}` } : {} });
    let r = await post({ thing: { name: 'a' } });
    assert.equal(r.statusCode, 201);
    r = await post({ thing: { name: 'a', size: 1 } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, "Invalid input for field/attribute thing. Value: {'name': 'a', 'size': 1}. Additional properties are not allowed ('size' was unexpected)");
    r = await post({ thing: { name: 'a' } }, '2.10');
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, "Invalid input for field/attribute thing. Value: {'name': 'a'}. 'size' is a required property");
    r = await post({ thing: { name: 'a', size: 1 } }, '2.10');
    assert.equal(r.statusCode, 201);
    r = await app.inject({ method: 'POST', url: '/v1/things' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, "None is not of type 'object'");
  });
});

void describe('auth', () => {
  const authApp = () => makeApp({ faults: 'nova', validator, authUrl: 'http://keystone.example:5000' });

  void test('no token or a bad token: 401 with WWW-Authenticate', async () => {
    const app = authApp();
    for (const headers of [{}, { 'x-auth-token': 'bogus' }]) {
      const r = await app.inject({ method: 'GET', url: '/v1/things/1', headers });
      assert.equal(r.statusCode, 401);
      assert.equal(r.headers['www-authenticate'], 'Keystone uri="http://keystone.example:5000"');
      assert.deepEqual(r.json(), { unauthorized: { code: 401, message: 'The request you have made requires authentication.' } });
    }
  });

  void test('unknown routes need a token too (auth comes first)', async () => {
    const r = await authApp().inject({ method: 'GET', url: '/nope' });
    assert.equal(r.statusCode, 401);
  });

  void test('public routes need none', async () => {
    const r = await authApp().inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
  });

  void test('a valid token fills the context', async () => {
    const r = await authApp().inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-auth-token': 'user-token' } });
    assert.equal(r.statusCode, 200);
    const b = r.json();
    assert.equal(b.user, 'u1');
    assert.equal(b.project, 'p1');
    assert.deepEqual(b.roles, ['member', 'reader']);
    assert.equal(b.isAdmin, false);
    assert.equal(b.catalog, 1);
    assert.equal(b.serviceUser, null);
  });

  void test('a service token is validated and recorded; a bad one is 401', async () => {
    const app = authApp();
    let r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-auth-token': 'user-token', 'x-service-token': 'service-token' } });
    assert.equal(r.json().serviceUser, 'nova');
    assert.equal(r.json().isAdmin, false);
    r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-auth-token': 'user-token', 'x-service-token': 'bad' } });
    assert.equal(r.statusCode, 401);
  });

  void test('a validator that cannot reach keystone gives 503', async () => {
    const app = makeApp({ faults: 'nova', validator: { validate: async () => { throw new Error('ECONNREFUSED'); } } });
    const r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-auth-token': 'x' } });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().serviceUnavailable.code, 503);
  });
});

void describe('context in service hooks', () => {
  void test('preHandler hooks (app-level and route-level) see the request context, with and without a body', async () => {
    const app = createApp({ service: 'hooks', faults: 'nova' });
    apps.push(app);
    const seen: Array<string | undefined> = [];
    app.addHook('preHandler', async (req) => {
      seen.push(currentContext()?.requestId === req.ctx.requestId ? 'app' : undefined);
    });
    const routeHook = async (req: { ctx: { requestId: string } }) => {
      seen.push(currentContext()?.requestId === req.ctx.requestId ? 'route' : undefined);
    };
    app.post('/x', { preHandler: routeHook }, async () => ({ ok: currentContext() !== undefined }));
    app.get('/x', { preHandler: routeHook }, async () => ({ ok: currentContext() !== undefined }));
    let r = await app.inject({ method: 'POST', url: '/x', payload: { a: 1 } });
    assert.deepEqual(r.json(), { ok: true });
    r = await app.inject({ method: 'GET', url: '/x' });
    assert.deepEqual(r.json(), { ok: true });
    assert.deepEqual(seen, ['app', 'route', 'app', 'route']);
  });
});

void describe('journey spans', () => {
  void test('one http.in span per request; handler spans nest under it; traceparent sets its parent', async () => {
    const sink = new MemorySpanSink();
    const remove = addSpanSink(sink);
    try {
      const app = nova();
      const g = 'req-0a1b2c3d-0000-4000-8000-000000000002';
      const parent = '00-0a1b2c3d000040008000000000000002-1122334455667788-01';
      const r = await app.inject({ method: 'GET', url: '/v1/things/1', headers: { 'x-openstack-request-id': g, traceparent: parent } });
      const spans = sink.journey(g);
      assert.equal(spans.length, 1);
      const s = spans[0]!;
      assert.equal(s.kind, 'http.in');
      assert.equal(s.name, 'GET /v1/things/:id');
      assert.equal(s.service, 'test-nova');
      assert.equal(s.host, 'h1');
      assert.equal(s.parentId, '1122334455667788');
      assert.equal(s.requestId, r.headers['x-openstack-request-id']);
      assert.equal(s.attributes['status'], 200);
      assert.equal(r.json().span, s.id);
    } finally {
      remove();
    }
  });
});
