/**
 * Two services over loopback, as in `stratus up`: "nova-api" calls "glance-api" through the
 * Session client. Checks the global request id, service tokens, microversion headers, error
 * propagation, token caching and re-authentication against a small Keystone stand-in, and
 * the journey the three hops leave in the state directory.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApp, listen } from '../../../src/common/http/app.js';
import { Session, RemoteHttpError } from '../../../src/common/http/client.js';
import type { TokenValidator, ValidatedToken } from '../../../src/common/http/auth-types.js';
import { ApiError } from '../../../src/common/errors.js';
import { currentContext } from '../../../src/common/context.js';
import { addSpanSink } from '../../../src/common/journey/span.js';
import { JsonlSpanSink, lastJourneyId, readJourney } from '../../../src/common/journey/store.js';
import { formatJourney, journeyTree } from '../../../src/common/journey/format.js';
import { journeyCommand } from '../../../src/common/journey/command.js';

const GLOBAL = 'req-11111111-2222-4333-8444-555555555555';

/** Tokens Keystone has issued; the stand-in validator and token endpoint share them. */
const issued = new Map<string, ValidatedToken>();
let authCalls = 0;
function token(id: string, userId: string, roles: string[]): ValidatedToken {
  const t: ValidatedToken = {
    userId, userName: userId, userDomainId: 'default', projectId: `${userId}-project`, projectName: 'p',
    projectDomainId: 'default', roles, methods: ['password'], auditIds: [id], expiresAt: '2099-01-01T00:00:00Z',
    issuedAt: '2026-01-01T00:00:00Z',
  };
  issued.set(id, t);
  return t;
}
token('user-token', 'alice', ['member', 'reader']);
const validator: TokenValidator = {
  async validate(t) {
    const v = issued.get(t);
    if (!v) throw new ApiError(401, 'The request you have made requires authentication.');
    return v;
  },
};

let stateDir: string;
let sink: JsonlSpanSink;
let removeSink: () => void;
let keystone: FastifyInstance;
let glance: FastifyInstance;
let nova: FastifyInstance;
let keystoneUrl: string;
let glanceUrl: string;
let novaUrl: string;
/** What glance saw on its last request. */
let seen: Record<string, unknown> = {};

before(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'stratus-http-'));
  sink = new JsonlSpanSink(stateDir, { flushIntervalMs: 10 });
  removeSink = addSpanSink(sink);

  keystone = createApp({ service: 'keystone', host: 'ctl1', faults: 'keystone' });
  keystone.post('/v3/auth/tokens', async (req, reply) => {
    const body = req.body as { auth: { identity: { password: { user: { name: string; password: string } } } } };
    const user = body.auth.identity.password.user;
    if (user.password !== 'secret') throw new ApiError(401, 'The request you have made requires authentication.');
    authCalls++;
    const id = `svc-token-${authCalls}`;
    token(id, user.name, ['admin', 'member', 'reader', 'service']);
    reply.code(201).header('X-Subject-Token', id);
    return {
      token: {
        expires_at: '2099-01-01T00:00:00.000000Z',
        catalog: [
          { type: 'image', name: 'glance', endpoints: [{ interface: 'public', region: 'RegionOne', url: glanceUrl }, { interface: 'internal', region: 'RegionOne', url: `${glanceUrl}/internal` }] },
        ],
      },
    };
  });
  keystoneUrl = await listen(keystone);

  glance = createApp({ service: 'glance-api', host: 'ctl1', faults: 'glance', validator, authUrl: keystoneUrl });
  glance.get('/v2/images/:id', async (req) => {
    const ctx = currentContext()!;
    seen = {
      global: ctx.globalRequestId,
      user: ctx.userId,
      serviceUser: ctx.serviceUserId,
      version: req.headers['openstack-api-version'],
      legacy: req.headers['x-openstack-nova-api-version'],
    };
    const { id } = req.params as { id: string };
    if (id === 'missing') throw new ApiError(404, `No image found with ID ${id}`);
    return { id, status: 'active' };
  });
  glance.get('/internal/v2/images/:id', async (req) => ({ id: (req.params as { id: string }).id, via: 'internal' }));
  glanceUrl = await listen(glance);

  const session = new Session({
    authUrl: `${keystoneUrl}/v3`, username: 'nova', password: 'secret', projectName: 'service',
    userDomainId: 'default', projectDomainId: 'default', service: 'nova-api', host: 'ctl1',
  });
  nova = createApp({
    service: 'nova-api', host: 'ctl1', faults: 'nova', validator, authUrl: keystoneUrl,
    microversion: { service: 'compute', min: '2.1', max: '2.96', legacyHeader: 'X-OpenStack-Nova-API-Version' },
    requestIdHeaders: ['x-openstack-request-id', 'x-compute-request-id'],
  });
  nova.get('/v2.1/servers/:id', async (req) => {
    const { id } = req.params as { id: string };
    const ctx = currentContext()!;
    try {
      // On the user's behalf: their token plus our service token.
      const image = await session.get<{ id: string }>('image', `/v2/images/${id}`, { userToken: ctx.authToken, microversion: '2.5', microversionService: 'compute' });
      return { server: { id, image: image.body, glanceRequestId: image.requestId } };
    } catch (e) {
      if (e instanceof RemoteHttpError && e.status === 404) throw new ApiError(400, `Image ${id} could not be found.`);
      throw e;
    }
  });
  nova.get('/v2.1/admin-images/:id', async (req) => {
    const { id } = req.params as { id: string };
    const image = await session.get('image', `/v2/images/${id}`, { interface: 'internal' });
    return image.body;
  });
  novaUrl = await listen(nova);
});

after(async () => {
  await nova?.close();
  await glance?.close();
  await keystone?.close();
  removeSink?.();
  await sink?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function callNova(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${novaUrl}${url}`, { headers: { 'X-Auth-Token': 'user-token', ...headers } });
}

void describe('service to service over loopback', () => {
  void test('the global request id, user and service tokens and microversion reach the callee', async () => {
    const res = await callNova('/v2.1/servers/img-1', { 'X-OpenStack-Request-ID': GLOBAL });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { server: { image: { id: string }; glanceRequestId: string } };
    assert.equal(body.server.image.id, 'img-1');
    assert.match(body.server.glanceRequestId, /^req-/);
    assert.equal(seen['global'], GLOBAL);
    assert.equal(seen['user'], 'alice');
    assert.equal(seen['serviceUser'], 'nova');
    assert.equal(seen['version'], 'compute 2.5');
    assert.equal(seen['legacy'], '2.5');
  });

  void test("without an incoming global id, the caller's own request id becomes the callee's global id", async () => {
    const res = await callNova('/v2.1/servers/img-2');
    const novaId = res.headers.get('x-openstack-request-id');
    assert.match(novaId ?? '', /^req-/);
    assert.equal(seen['global'], novaId);
  });

  void test('the service token is fetched once, from the catalog endpoint, and reused', async () => {
    const before = authCalls;
    await callNova('/v2.1/admin-images/img-3');
    const res = await callNova('/v2.1/admin-images/img-4');
    assert.deepEqual(await res.json(), { id: 'img-4', via: 'internal' });
    assert.ok(authCalls - before <= 1);
  });

  void test('a revoked service token is replaced after a 401', async () => {
    for (const k of [...issued.keys()]) if (k.startsWith('svc-token-')) issued.delete(k);
    const before = authCalls;
    const res = await callNova('/v2.1/admin-images/img-5');
    assert.equal(res.status, 200);
    assert.equal(authCalls, before + 1);
  });

  void test("remote errors arrive as RemoteHttpError with the callee's status and message", async () => {
    const res = await callNova('/v2.1/servers/missing');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { badRequest: { code: 400, message: 'Image missing could not be found.' } });
    const s = new Session({ token: 'user-token', endpointOverrides: { image: glanceUrl } });
    await assert.rejects(s.get('image', '/v2/images/missing'), (e: unknown) => {
      assert.ok(e instanceof RemoteHttpError);
      assert.equal(e.status, 404);
      assert.equal(e.message, 'No image found with ID missing');
      return true;
    });
  });

  void test('an unreachable service is a 503 ConnectFailure', async () => {
    const s = new Session({ token: 't', endpointOverrides: { image: 'http://127.0.0.1:9' } });
    await assert.rejects(s.get('image', '/v2/images'), (e: unknown) => e instanceof ApiError && e.status === 503 && e.type === 'ConnectFailure');
  });
});

void describe('the journey of a two-service request', () => {
  void test('three hops nested by cause, found from any hop', async () => {
    const g = 'req-99999999-2222-4333-8444-555555555555';
    const res = await callNova('/v2.1/servers/img-9', { 'X-OpenStack-Request-ID': g });
    const body = (await res.json()) as { server: { glanceRequestId: string } };
    sink.flush();

    const spans = readJourney(stateDir, g);
    const kinds = spans.map((s) => `${s.service}:${s.kind}`);
    assert.deepEqual(kinds, ['nova-api:http.in', 'nova-api:http.out', 'glance-api:http.in']);
    const [novaIn, out, glanceIn] = spans;
    assert.equal(out!.parentId, novaIn!.id);
    assert.equal(glanceIn!.parentId, out!.id);
    assert.ok(spans.every((s) => s.journeyId === g));

    // Either service's own request id finds the whole journey.
    assert.equal(readJourney(stateDir, body.server.glanceRequestId).length, 3);
    assert.equal(readJourney(stateDir, res.headers.get('x-compute-request-id')!).length, 3);

    const tree = journeyTree(spans);
    assert.equal(tree.length, 1);
    assert.equal(tree[0]!.children[0]!.children[0]!.span.id, glanceIn!.id);

    const text = formatJourney(spans);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^Journey ${g}  3 hops, 2 services, `));
    assert.match(lines[1]!, /\+0\.0 ms .*http\.in +GET \/v2\.1\/servers\/:id -> 200 +nova-api@ctl1/);
    assert.match(lines[2]!, /└─ http\.out +GET image\/v2\/images\/img-9 -> 200 +nova-api@ctl1/);
    assert.match(lines[3]!, / {3}└─ http\.in +GET \/v2\/images\/:id -> 200 +glance-api@ctl1/);

    assert.equal(lastJourneyId(stateDir), g);
    let printed = '';
    const io = { out: (s: string) => void (printed += s), err: (s: string) => void (printed += s) };
    assert.equal(await journeyCommand(stateDir, ['--last'], io), 0);
    assert.equal(printed, text);
    printed = '';
    assert.equal(await journeyCommand(stateDir, [body.server.glanceRequestId], io), 0);
    assert.equal(printed, text);
    printed = '';
    assert.equal(await journeyCommand(stateDir, ['req-00000000-0000-4000-8000-000000000000'], io), 1);
    assert.match(printed, /No journey found/);
  });
});
