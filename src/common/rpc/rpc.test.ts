import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../context.js';
import { decodeMessage, encodeMessage, osloTimestamp, packContext, unpackContext, DuplicateCache } from './envelope.js';
import { deserializeRemoteException, serializeRemoteException, registerRemoteException, RemoteError, NoSuchMethod } from './exceptions.js';
import { versionIsCompatible, routingKey } from './target.js';
import { parseTransportUrl } from './url.js';

void test('versionIsCompatible follows oslo (same major, minor and revision not above)', () => {
  assert.equal(versionIsCompatible('5.1', '5.0'), true);
  assert.equal(versionIsCompatible('5.1', '5.1'), true);
  assert.equal(versionIsCompatible('5.1', '5.2'), false);
  assert.equal(versionIsCompatible('5.1', '4.0'), false);
  assert.equal(versionIsCompatible('5.1', '5.1.1'), false);
  assert.equal(versionIsCompatible('5.1.2', '5.1.1'), true);
  assert.equal(versionIsCompatible(undefined, '9.9'), true);
  assert.equal(versionIsCompatible('1.0', undefined), false);
});

void test('routing keys', () => {
  assert.equal(routingKey({ topic: 'compute' }), 'compute');
  assert.equal(routingKey({ topic: 'compute', server: 'cmp1' }), 'compute.cmp1');
});

void test('envelope round trip and 1.0 messages', () => {
  const b = encodeMessage({ method: 'm', args: { a: [1, 'x'] } });
  const outer = JSON.parse(b.toString()) as Record<string, unknown>;
  assert.equal(outer['oslo.version'], '2.0');
  assert.deepEqual(JSON.parse(String(outer['oslo.message'])), { method: 'm', args: { a: [1, 'x'] } });
  assert.deepEqual(decodeMessage(b), { method: 'm', args: { a: [1, 'x'] } });
  assert.deepEqual(decodeMessage('{"method":"legacy"}'), { method: 'legacy' });
  assert.throws(() => decodeMessage(JSON.stringify({ 'oslo.version': '3.0', 'oslo.message': '{}' })), /not supported/);
  assert.throws(() => decodeMessage(Buffer.from('[1]')), /not a JSON object/);
});

void test('context packs to _context_* keys and back', () => {
  const ctx = new RequestContext({ userId: 'u', projectId: 'p', roles: ['admin'], globalRequestId: 'req-g' });
  const m: Record<string, unknown> = {};
  packContext(m, ctx, 'abcd');
  assert.equal(m['_context_user_id'], 'u');
  assert.equal(m['_context_tenant'], 'p');
  assert.equal(m['_context_journey_parent'], 'abcd');
  const { ctx: back, journeyParent } = unpackContext(JSON.parse(JSON.stringify(m)) as Record<string, unknown>);
  assert.equal(back.userId, 'u');
  assert.equal(back.requestId, ctx.requestId);
  assert.equal(back.globalRequestId, 'req-g');
  assert.equal(back.isAdmin, true);
  assert.equal(journeyParent, 'abcd');
  const n: Record<string, unknown> = {};
  packContext(n, new RequestContext({ authToken: 't' }), null, true);
  assert.ok(!('_context_auth_token' in n));
});

void test('oslo timestamps always carry microseconds', () => {
  assert.equal(osloTimestamp(new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 0))), '2026-01-01 12:00:00.000000');
  assert.equal(osloTimestamp(new Date(Date.UTC(2026, 10, 5, 3, 4, 5, 67))), '2026-11-05 03:04:05.067000');
});

void test('failure JSON: registered classes come back by name, others as RemoteError', () => {
  class FlavorNotFound extends Error {}
  registerRemoteException('FlavorNotFound', FlavorNotFound);
  const e = deserializeRemoteException(serializeRemoteException(new FlavorNotFound('Flavor 7 could not be found.')));
  assert.ok(e instanceof FlavorNotFound);
  assert.equal(e.message, 'Flavor 7 could not be found.');
  const py = JSON.stringify({ class: 'InstanceNotFound_Remote', module: 'nova.exception_Remote', message: 'gone', tb: ['Traceback\n', 'x\n'], args: [], kwargs: { code: 404 } });
  const r = deserializeRemoteException(py);
  assert.ok(r instanceof RemoteError);
  assert.equal(r.excType, 'InstanceNotFound');
  assert.equal(r.value, 'gone');
  assert.equal(r.traceback, 'Traceback\nx\n');
  const d = JSON.parse(serializeRemoteException(new NoSuchMethod('Endpoint does not support RPC method x'))) as Record<string, unknown>;
  assert.equal(d['module'], 'oslo_messaging.rpc.dispatcher');
  assert.equal(d['class'], 'NoSuchMethod');
  const withMeta = Object.assign(new Error('q'), { remoteModule: 'nova.exception', kwargs: { code: 413 } });
  const w = JSON.parse(serializeRemoteException(withMeta)) as Record<string, unknown>;
  assert.equal(w['module'], 'nova.exception');
  assert.deepEqual(w['kwargs'], { code: 413 });
});

void test('transport URLs', () => {
  assert.deepEqual(parseTransportUrl('inproc://'), { driver: 'inproc', name: '' });
  assert.deepEqual(parseTransportUrl('fake://cell1'), { driver: 'inproc', name: 'cell1' });
  const r = parseTransportUrl('rabbit://stackrabbit:s%40cret@10.0.0.1:5673,10.0.0.2/nova_cell1?heartbeat=30');
  assert.equal(r.driver, 'rabbit');
  if (r.driver !== 'rabbit') return;
  assert.deepEqual(r.hosts, [
    { hostname: '10.0.0.1', port: 5673, username: 'stackrabbit', password: 's@cret' },
    { hostname: '10.0.0.2', port: 5672, username: 'stackrabbit', password: 's@cret' },
  ]);
  assert.equal(r.vhost, 'nova_cell1');
  assert.equal(r.query.get('heartbeat'), '30');
  const d = parseTransportUrl('rabbit://guest:guest@127.0.0.1:5672/');
  assert.equal(d.driver === 'rabbit' && d.vhost, '/');
  assert.throws(() => parseTransportUrl('kafka://x'), /Unsupported/);
  assert.throws(() => parseTransportUrl('nonsense'), /Invalid/);
});

void test('duplicate cache remembers the last 16 ids', () => {
  const c = new DuplicateCache();
  assert.equal(c.seen('a'), false);
  assert.equal(c.seen('a'), true);
  for (let i = 0; i < 16; i++) c.seen(`x${i}`);
  assert.equal(c.seen('a'), false);
});
