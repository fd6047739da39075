import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isUuidLike, pyRepr, schemaFor, validate } from './validation.js';
import { APIVersion } from './microversion.js';
import { ApiError } from '../errors.js';

const keypair = {
  type: 'object',
  properties: {
    keypair: {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'name', minLength: 1, maxLength: 255 },
        type: { type: 'string', enum: ['ssh', 'x509'] },
        count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        id: { type: 'string', format: 'uuid' },
        cidr: { type: 'string', format: 'cidr' },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['keypair'],
  additionalProperties: false,
};

function message(body: unknown, target: 'body' | 'query' = 'body'): string {
  try {
    validate(keypair, body, target);
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    return e.message;
  }
  return 'ok';
}

void describe('validation messages match jsonschema as Nova words them', () => {
  void test('required at top level and nested', () => {
    assert.equal(message({}), "'keypair' is a required property");
    assert.equal(message({ keypair: {} }), "Invalid input for field/attribute keypair. Value: {}. 'name' is a required property");
  });
  void test('type', () => {
    assert.equal(message({ keypair: { name: 1 } }), "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'");
    assert.equal(message(null), "None is not of type 'object'");
  });
  void test('additional properties', () => {
    assert.equal(
      message({ keypair: { name: 'a', foo: true } }),
      "Invalid input for field/attribute keypair. Value: {'name': 'a', 'foo': True}. Additional properties are not allowed ('foo' was unexpected)",
    );
  });
  void test('enum, length', () => {
    assert.equal(message({ keypair: { name: 'a', type: 'rsa' } }), "Invalid input for field/attribute type. Value: 'rsa'. 'rsa' is not one of ['ssh', 'x509']");
    assert.equal(message({ keypair: { name: '' } }), "Invalid input for field/attribute name. Value: ''. '' is too short");
  });
  void test('nova name format', () => {
    assert.equal(message({ keypair: { name: ' padded' } }), "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.");
    assert.equal(message({ keypair: { name: 'ok name' } }), 'ok');
  });
  void test('numeric strings meet minimum as numbers', () => {
    assert.equal(message({ keypair: { name: 'a', count: '0' } }), "Invalid input for field/attribute count. Value: '0'. 0 is less than the minimum of 1");
    assert.equal(message({ keypair: { name: 'a', count: '3' } }), 'ok');
    assert.equal(message({ keypair: { name: 'a', count: 3 } }), 'ok');
  });
  void test('uuid and cidr formats', () => {
    assert.equal(message({ keypair: { name: 'a', id: 'nope' } }), "Invalid input for field/attribute id. Value: 'nope'. 'nope' is not a 'uuid'");
    assert.equal(message({ keypair: { name: 'a', id: '9f1c0d0e-2d4b-4c55-8a8c-6f0e8b8f2a11' } }), 'ok');
    assert.equal(message({ keypair: { name: 'a', cidr: '10.0.0.0/24' } }), 'ok');
    assert.equal(message({ keypair: { name: 'a', cidr: '10.0.0.0' } }), "Invalid input for field/attribute cidr. Value: '10.0.0.0'. '10.0.0.0' is not a 'cidr'");
  });
  void test('query parameter wording', () => {
    const q = { type: 'object', properties: { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' }, maxItems: 1 } } };
    assert.throws(() => validate(q, { limit: ['x'] }, 'query'), {
      message: "Invalid input for query parameters limit. Value: 'x'. 'x' does not match '^[0-9]+$'",
    });
  });
  void test('keystone wording', () => {
    const s = { type: 'object', properties: { user: { type: 'object', properties: { name: { type: 'string' } } } } };
    assert.throws(() => validate(s, { user: { name: 5 } }, 'body', { messageStyle: 'keystone' }), {
      message: "Invalid input for field 'user/name': 5 is not of type 'string'",
    });
  });
  void test('oneOf reports the oneOf, not a branch', () => {
    const s = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
    assert.throws(() => validate(s, true), { message: 'True is not valid under any of the given schemas' });
  });
});

void describe('helpers', () => {
  void test('pyRepr', () => {
    assert.equal(pyRepr({ a: [1, 'x', null, false] }), "{'a': [1, 'x', None, False]}");
    assert.equal(pyRepr("it's"), '"it\'s"');
  });
  void test('uuid-like accepts what oslo accepts', () => {
    assert.ok(isUuidLike('9F1C0D0E2D4B4C558A8C6F0E8B8F2A11'));
    assert.ok(isUuidLike('{9f1c0d0e-2d4b-4c55-8a8c-6f0e8b8f2a11}'));
    assert.ok(!isUuidLike('9f1c0d0e'));
  });
  void test('schema chosen by microversion range', () => {
    const a = { type: 'object' };
    const b = { type: 'object', required: ['x'] };
    const list = [{ schema: a, min: '2.1', max: '2.18' }, { schema: b, min: '2.19' }];
    assert.equal(schemaFor(list, APIVersion.parse('2.1')), a);
    assert.equal(schemaFor(list, APIVersion.parse('2.18')), a);
    assert.equal(schemaFor(list, APIVersion.parse('2.19')), b);
    assert.equal(schemaFor([{ schema: a, min: '2.5', max: '2.6' }], APIVersion.parse('2.7')), null);
  });
});
