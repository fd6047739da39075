/**
 * The encoder writes oslo.message in one pass; these cases pin its bytes to the plain
 * definition (the message's JSON, JSON-encoded as a string, inside the 2.0 envelope) on
 * awkward inputs, and check that ids keep uuid4's hex form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../context.js';
import { decodeMessage, encodeMessage, encodeWithContext, packContext, unpackContext, uuidHex, type WireMessage } from './envelope.js';

/** The definition of the wire bytes. */
function reference(msg: WireMessage): string {
  return JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(msg) });
}

const awkward: Array<[string, WireMessage]> = [
  ['empty', {}],
  ['plain call', { method: 'echo', args: { a: 1 }, version: '5.0', _msg_id: 'ab', _reply_q: 'reply_x', _timeout: null, _unique_id: 'cd' }],
  ['quotes and backslashes', { 'we"ird\\key': 'a "quoted" \\ value', method: 'x"y' }],
  ['control characters', { s: 'tab\there\nnew\u0001\u001f\r\b\f', k: '\u0000' }],
  ['unicode', { s: 'héllo wörld ✓ 日本', emoji: '😀', key_é: 'ü' }],
  ['lone surrogates', { a: '\ud800', b: 'x\udfffy', c: ['\ud83d'] }],
  ['numbers', { i: 42, f: 1.5, neg: -0, big: 1e21, small: 1e-7, nan: NaN, inf: -Infinity, max: Number.MAX_VALUE }],
  ['skipped values', { u: undefined, f: () => 1, s: Symbol('x'), kept: true, alsoKept: false }],
  ['nested', { args: { list: [1, 'two', null, { three: [3] }], u: undefined, deep: { a: { b: { c: '"' } } } } }],
  ['arrays', { roles: ['admin', 'member'], empty: [], mixed: ['a', 1], holes: ['a', undefined, 'b'], quoted: ['x"y'], fns: [() => 1] }],
  ['toJSON with key', { when: new Date(0), custom: { toJSON: (k: string) => `key:${k}` }, gone: { toJSON: () => undefined } }],
  ['boxed primitives', { s: new String('boxed'), n: new Number(3), b: new Boolean(false) }],
  ['integer-like keys come first', { b: 1, 2: 'two', a: 3, 1: 'one' }],
  ['plain data inside plain data', { args: { instance: { 'nova_object.data': { uuid: 'u', vcpus: 2, flag: true, none: null, meta: { 'k"q': 'v\\' }, list: [[1, [2]], {}, []] } } } }],
  ['null-prototype objects', { args: Object.assign(Object.create(null) as object, { a: 1, nested: Object.assign(Object.create(null) as object, { b: 'c' }) }) }],
  ['non-plain values deep inside', { args: { deep: { when: new Date(0), map: new Map([[1, 2]]), set: new Set([1]), buf: Buffer.from('x'), cls: new (class K { x = 1; })() } } }],
  ['toJSON deep inside', { args: { a: [{ b: { toJSON: (k: string) => `key:${k}` } }] } }],
  ['skipped values deep inside', { args: { o: { u: undefined, f: () => 1 }, l: [undefined, () => 1, Symbol('s')], sparse: [1, , 3] } }],
  ['own __proto__ key from JSON', { args: JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as object }],
  ['deep nesting', { args: JSON.parse('['.repeat(40) + '1' + ']'.repeat(40)) as unknown[] }],
];

for (const [name, msg] of awkward) {
  void test(`encodeMessage gives the reference bytes: ${name}`, () => {
    assert.equal(encodeMessage(msg).toString('utf8'), reference(msg));
  });
}

void test('bigint fails as JSON.stringify does', () => {
  assert.throws(() => encodeMessage({ n: 1n }), TypeError);
  assert.throws(() => encodeMessage({ args: { deep: [{ n: 1n }] } }), TypeError);
});

void test('cyclic data fails as JSON.stringify does', () => {
  const a: Record<string, unknown> = { x: 1 };
  a['self'] = { a };
  assert.throws(() => encodeMessage({ args: a }), TypeError);
});

void test('encodeWithContext gives the bytes of packContext + encodeMessage', () => {
  const ctxs = [
    new RequestContext(),
    new RequestContext({
      userId: 'u"1',
      projectId: 'p\\1',
      roles: ['admin', 'rôle'],
      globalRequestId: 'req-00000000-0000-0000-0000-000000000001',
      authToken: 'gAAAA-token',
      serviceCatalog: [{ type: 'compute', name: 'nova', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://h:8774/v2.1' }] }],
      remoteAddress: '127.0.0.1',
    }),
  ];
  const bodies: WireMessage[] = [
    { method: 'build', args: { instance: { uuid: 'x', name: 'vm "1"' } }, namespace: 'compute_task', version: '1.17', _msg_id: 'a', _reply_q: 'reply_b', _timeout: 60, _unique_id: 'c' },
    { method: 'cast_me', args: {}, _unique_id: 'd' },
    {},
  ];
  for (const ctx of ctxs) {
    for (const fields of bodies) {
      for (const parent of [null, '0123456789abcdef']) {
        for (const sanitize of [false, true]) {
          const flat: WireMessage = { ...fields };
          packContext(flat, ctx, parent, sanitize);
          assert.equal(encodeWithContext(fields, ctx, parent, sanitize).toString('utf8'), reference(flat));
        }
      }
    }
  }
});

void test('a context survives the wire unchanged', () => {
  const ctx = new RequestContext({ userId: 'u1', projectId: 'p1', roles: ['reader'], isAdmin: false, readDeleted: 'yes', globalRequestId: 'req-00000000-0000-0000-0000-000000000002' });
  const { ctx: back, journeyParent } = unpackContext(decodeMessage(encodeWithContext({ method: 'm' }, ctx, 'feedfacefeedface')));
  assert.deepEqual(back.toDict(), ctx.toDict());
  assert.equal(journeyParent, 'feedfacefeedface');
});

void test('uuidHex: 32 hex digits, uuid version 4 and RFC 4122 variant, no repeats', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = uuidHex();
    assert.match(id, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});
