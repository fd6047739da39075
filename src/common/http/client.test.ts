import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, listen } from './app.js';
import { faultInfo, findEndpoint, joinUrl, Session } from './client.js';
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
