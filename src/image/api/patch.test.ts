import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagePatch, decodePointer } from './patch.js';
import { ApiError } from '../../common/errors.js';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return { status: e.status, message: e.message };
  }
  assert.fail('expected an error');
};

void describe('image JSON patch', () => {
  void test('draft 4 and draft 10 forms parse to the same change', () => {
    const d4 = parseImagePatch([{ replace: '/name', value: 'x' }], 4);
    const d10 = parseImagePatch([{ op: 'replace', path: '/name', value: 'x' }], 10);
    assert.deepEqual(d4.map(({ op, path, value }) => ({ op, path, value })), [{ op: 'replace', path: ['name'], value: 'x' }]);
    assert.deepEqual(d10.map(({ op, path, value }) => ({ op, path, value })), [{ op: 'replace', path: ['name'], value: 'x' }]);
  });

  void test('pointer escapes decode', () => {
    assert.deepEqual(decodePointer('/a~1b~0c'), ['a/b~c']);
  });

  void test('read-only and reserved attributes are 403', () => {
    assert.deepEqual(status(() => parseImagePatch([{ op: 'replace', path: '/status', value: 'active' }], 10)), {
      status: 403, message: "Attribute 'status' is read-only.",
    });
    assert.equal(status(() => parseImagePatch([{ op: 'add', path: '/os_glance_foo', value: 'x' }], 10)).status, 403);
    assert.equal(status(() => parseImagePatch([{ op: 'add', path: '/deleted', value: 'x' }], 10)).status, 403);
  });

  void test('schema violations are 400 with jsonschema wording', () => {
    const r = status(() => parseImagePatch([{ op: 'replace', path: '/disk_format', value: 'wrong' }], 10));
    assert.equal(r.status, 400);
    assert.match(r.message, /^Provided object does not match schema 'image': 'wrong' is not one of \[None, 'ami'/);
    assert.match(status(() => parseImagePatch([{ op: 'add', path: '/foo', value: 1 }], 10)).message, /1 is not of type 'string'/);
  });

  void test('malformed operations are 400', () => {
    assert.equal(status(() => parseImagePatch({}, 10)).message, 'Request body must be a JSON array of operation objects.');
    assert.match(status(() => parseImagePatch([{ op: 'move', path: '/a' }], 10)).message, /^Invalid operation: `move`/);
    assert.match(status(() => parseImagePatch([{ op: 'add', path: '/a' }], 10)).message, /requires a member named "value"/);
    assert.match(status(() => parseImagePatch([{ op: 'add', path: 'a', value: 'x' }], 10)).message, /does not start with "\/"/);
    assert.match(status(() => parseImagePatch([{ op: 'add', path: '/a/b', value: 'x' }], 10)).message, /Invalid JSON pointer/);
    assert.match(status(() => parseImagePatch([{ add: '/a', replace: '/b', value: 'x' }], 4)).message, /only one member/);
  });

  void test('locations paths allow depth 2 for add', () => {
    const c = parseImagePatch([{ op: 'add', path: '/locations/-', value: { url: 'file:///x', metadata: {} } }], 10);
    assert.deepEqual(c[0]!.path, ['locations', '-']);
  });
});
