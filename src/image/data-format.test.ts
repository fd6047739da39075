import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, virtualSize } from './data-format.js';
import { ApiError } from '../common/errors.js';

const statusOf = (fn: () => unknown): number => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return e.status;
  }
  return 0;
};

void describe('download ranges (webob Range semantics)', () => {
  void test('start-end, open end, suffix', () => {
    assert.deepEqual(parseRange(100, 'bytes=0-9'), { start: 0, end: 9 });
    assert.deepEqual(parseRange(100, 'bytes=90-'), { start: 90, end: 99 });
    assert.deepEqual(parseRange(100, 'bytes=90-500'), { start: 90, end: 99 });
    assert.deepEqual(parseRange(100, 'bytes=-10'), { start: 90, end: 99 });
    assert.deepEqual(parseRange(100, 'bytes=-500'), { start: 0, end: 99 });
    assert.equal(parseRange(100), undefined);
  });
  void test('unsatisfiable is 416, several ranges 400', () => {
    assert.equal(statusOf(() => parseRange(100, 'bytes=100-')), 416);
    assert.equal(statusOf(() => parseRange(100, 'bytes=9-3')), 416);
    assert.equal(statusOf(() => parseRange(100, 'items=1-2')), 416);
    assert.equal(statusOf(() => parseRange(100, 'bytes=0-1,5-6')), 400);
  });
  void test('legacy Content-Range requests', () => {
    assert.deepEqual(parseRange(100, undefined, 'bytes 10-19/100'), { start: 10, end: 19 });
    assert.equal(statusOf(() => parseRange(100, undefined, 'bytes 10-200/*')), 416);
  });
});

void describe('virtual size', () => {
  void test('raw is the data size, qcow2 comes from the header', () => {
    assert.equal(virtualSize('raw', 1234, Buffer.alloc(0)), 1234);
    const q = Buffer.alloc(64);
    q.writeUInt32BE(0x514649fb, 0);
    q.writeBigUInt64BE(10n * 1024n ** 3n, 24);
    assert.equal(virtualSize('qcow2', 500, q), 10 * 1024 ** 3);
    assert.equal(virtualSize('qcow2', 500, Buffer.alloc(64)), null);
    assert.equal(virtualSize('vmdk', 500, q), null);
  });
});
