import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, listen } from './app.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { faultInfo, findEndpoint, joinUrl, RemoteHttpError, Session } from './client.js';
import type { ApiError } from '../errors.js';
import { RequestContext } from '../context.js';
import type { CatalogEntry } from '../context.js';

void describe('faultInfo reads every service fault shape', () => {
  void test('nova/cinder', () => {
    assert.deepEqual(faultInfo({ itemNotFound: { code: 404, message: 'gone' } }), { message: 'gone', type: 'itemNotFound' });
  });
  void test('neutron', () => {
    assert.deepEqual(faultInfo({ NeutronError: { type: 'NetworkNotFound', message: 'Network x could not be found.', detail: '' } }), {
      message: 'Network x could not be found.', type: 'NetworkNotFound', detail: '',
    });
  });
  void test('keystone', () => {
    assert.deepEqual(faultInfo({ error: { code: 401, message: 'nope', title: 'Unauthorized' } }), { message: 'nope', title: 'Unauthorized' });
  });
  void test('placement', () => {
    const f = faultInfo({ errors: [{ status: 409, title: 'Conflict', detail: 'generation mismatch', code: 'placement.concurrent_update' }] });
    assert.equal(f.errorCode, 'placement.concurrent_update');
    assert.equal(f.message, 'generation mismatch');
  });
  void test('webob json and text', () => {
    assert.equal(faultInfo({ message: 'No image found with ID x<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' }).message, 'No image found with ID x');
    assert.equal(faultInfo('404 Not Found\n\nNo image found with ID x\n\n   ').message, 'No image found with ID x');
  });
});

void describe('catalog and urls', () => {
  const catalog: CatalogEntry[] = [
    { type: 'volumev3', name: 'cinderv3', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://c/v3/p' }] },
    { type: 'compute', name: 'nova', endpoints: [
      { interface: 'public', region: 'RegionOne', url: 'http://n1/v2.1' },
      { interface: 'internal', region: 'RegionOne', url: 'http://n-int/v2.1' },
      { interface: 'public', region: 'RegionTwo', url: 'http://n2/v2.1' },
    ] },
  ];
  void test('type aliases, interface and region', () => {
    assert.equal(findEndpoint(catalog, 'block-storage', 'public'), 'http://c/v3/p');
    assert.equal(findEndpoint(catalog, 'compute', 'internal'), 'http://n-int/v2.1');
    assert.equal(findEndpoint(catalog, 'compute', 'public', 'RegionTwo'), 'http://n2/v2.1');
    assert.equal(findEndpoint(catalog, 'image', 'public'), null);
  });
  void test('joinUrl', () => {
    assert.equal(joinUrl('http://h/v2.1/', '/servers'), 'http://h/v2.1/servers');
    assert.equal(joinUrl('http://h/v2.1', 'servers', { limit: 2, name: undefined, id: ['a', 'b'] }), 'http://h/v2.1/servers?limit=2&id=a&id=b');
  });
});

void describe('request headers', () => {
  const app = createApp({ service: 'echo', faults: 'nova' });
  app.get('/echo', async (req) => req.headers);
  app.get('/empty', async (_req, reply) => reply.code(204).send());
  after(() => app.close());

  void test('request id, microversion per service type, service token and traceparent', async () => {
    const url = await listen(app);
    const s = new Session({ token: 'svc', endpointOverrides: { volume: url, placement: url, compute: url } });
    const ctx = new RequestContext({ globalRequestId: 'req-00000000-0000-4000-8000-00000000000a' });
    let h = (await s.get<Record<string, string>>('volume', '/echo', { ctx, microversion: '3.59', userToken: 'user' })).body;
    assert.equal(h['x-openstack-request-id'], 'req-00000000-0000-4000-8000-00000000000a');
    assert.equal(h['openstack-api-version'], 'volume 3.59');
    assert.equal(h['x-openstack-nova-api-version'], undefined);
    assert.equal(h['x-auth-token'], 'user');
    assert.equal(h['x-service-token'], 'svc');
    assert.match(h['traceparent']!, /^00-0000000000004000800000000000000a-[0-9a-f]{16}-01$/);
    h = (await s.get<Record<string, string>>('compute', '/echo', { ctx, microversion: '2.79' })).body;
    assert.equal(h['openstack-api-version'], 'compute 2.79');
    assert.equal(h['x-openstack-nova-api-version'], '2.79');
    assert.equal(h['x-auth-token'], 'svc');
    assert.equal(h['x-service-token'], undefined);
    h = (await s.get<Record<string, string>>('placement', '/echo', { microversion: '1.36', authenticated: false })).body;
    assert.equal(h['openstack-api-version'], 'placement 1.36');
    assert.equal(h['x-auth-token'], undefined);
    const r = await s.get('compute', '/empty');
    assert.equal(r.status, 204);
    assert.equal(r.body, null);
  });
});

void describe('transport', () => {
  const app = createApp({ service: 'echo', faults: 'nova' });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.put('/upload', async (req) => ({ bytes: (req.body as Buffer).length, type: req.headers['content-type'] }));
  app.get('/data', async (_req, reply) => reply.header('content-type', 'application/octet-stream').send(Buffer.alloc(100_000, 7)));
  app.get('/slow', async () => new Promise((r) => setTimeout(() => r({ late: true }), 2_000)));
  app.get('/missing', async (_req, reply) => reply.code(404).send({ itemNotFound: { code: 404, message: 'no such thing' } }));
  after(() => app.close());
  let listening: Promise<string> | null = null;
  const appUrl = () => (listening ??= listen(app));

  void test('bodies: raw bytes and a stream up, a buffer and a stream down; errors keep status, message and headers', async () => {
    const url = await appUrl();
    const s = new Session({ token: 't', endpointOverrides: { image: url } });
    assert.deepEqual((await s.put('image', '/upload', { rawBody: new Uint8Array(1234) })).body, { bytes: 1234, type: 'application/octet-stream' });
    const stream = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array(10)); c.enqueue(new Uint8Array(20)); c.close(); } });
    assert.deepEqual((await s.put('image', '/upload', { rawBody: stream })).body, { bytes: 30, type: 'application/octet-stream' });
    const buf = (await s.get<Buffer>('image', '/data', { responseType: 'buffer' })).body;
    assert.equal(buf.length, 100_000);
    const down = (await s.get<ReadableStream<Uint8Array>>('image', '/data', { responseType: 'stream' })).body;
    let n = 0;
    for await (const chunk of down as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
    assert.equal(n, 100_000);
    const err = await s.get('image', '/missing').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof RemoteHttpError);
    assert.equal(err.status, 404);
    assert.equal(err.message, 'no such thing');
    assert.equal(err.responseHeaders.get('Content-Type'), 'application/json; charset=utf-8');
  });

  void test('a refused connection and a timeout are 503 ConnectFailure', async () => {
    const url = await appUrl();
    const s = new Session({ token: 't' });
    const closed = await new Promise<string>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    await assert.rejects(s.get(closed, '/x'), (e: ApiError) => e.status === 503 && e.type === 'ConnectFailure' && /ECONNREFUSED/.test(e.message));
    await assert.rejects(s.get(url, '/slow', { timeoutMs: 100 }), (e: ApiError) => e.status === 503 && /aborted due to timeout/.test(e.message));
  });

  void test('a keep-alive socket the server closed while idle is replaced, not an error', async () => {
    let sockets = 0;
    const srv = createServer((req, res) => { req.resume(); res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
    srv.on('connection', () => sockets++);
    srv.keepAliveTimeout = 50;
    const url = await new Promise<string>((resolve) => srv.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)));
    try {
      const s = new Session({ token: 't' });
      assert.deepEqual((await s.post(url, '/a', { body: {} })).body, { ok: true });
      assert.deepEqual((await s.post(url, '/b', { body: {} })).body, { ok: true });
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual((await s.post(url, '/c', { body: {} })).body, { ok: true });
      assert.ok(sockets >= 2);
    } finally {
      srv.close();
    }
  });
});
