import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseListQuery } from './list-query.js';
import { ApiError } from '../../common/errors.js';

void describe('image list query', () => {
  void test('defaults: 25 newest first, accepted members, hidden images out', () => {
    const q = parseListQuery({});
    assert.equal(q.limit, 25);
    assert.deepEqual(q.sortKeys, ['created_at']);
    assert.deepEqual(q.sortDirs, ['desc']);
    assert.equal(q.memberStatus, 'accepted');
    assert.deepEqual(q.conditions, [{ column: 'os_hidden', op: '=', value: false }]);
  });
  void test('both sort syntaxes, limit capped at 1000', () => {
    assert.deepEqual(parseListQuery({ sort: 'name:asc,size' }).sortDirs, ['asc', 'desc']);
    const q = parseListQuery({ sort_key: ['name', 'size'], sort_dir: 'asc', limit: '5000' });
    assert.deepEqual(q.sortKeys, ['name', 'size']);
    assert.deepEqual(q.sortDirs, ['asc']);
    assert.equal(q.limit, 1000);
  });
  void test('operators, ranges and property filters', () => {
    const q = parseListQuery({ name: 'in:a,"b,c"', size_min: '10', status: 'eq:active', hw_disk_bus: 'virtio', tag: ['x', 'y'] });
    assert.deepEqual(q.conditions.slice(1), [
      { column: 'name', op: 'in', value: ['a', 'b,c'] },
      { column: 'size', op: '>=', value: 10 },
      { column: 'status', op: '=', value: 'active' },
    ]);
    assert.deepEqual(q.properties, { hw_disk_bus: 'virtio' });
    assert.deepEqual(q.tags, ['x', 'y']);
  });
  void test('bad values are 400 with glance wording', () => {
    const msg = (query: Record<string, string>) => {
      try {
        parseListQuery(query);
      } catch (e) {
        assert.ok(e instanceof ApiError && e.status === 400);
        return e.message;
      }
      return '';
    };
    assert.equal(msg({ limit: '-1' }), 'limit param must be positive');
    assert.equal(msg({ limit: 'x' }), 'limit param must be an integer');
    assert.match(msg({ sort_key: 'foo' }), /^Invalid sort key: foo\. It must be one of the following: name, status/);
    assert.equal(msg({ sort_dir: 'up' }), 'Invalid sort direction: up');
    assert.equal(msg({ member_status: 'x' }), 'Invalid status: x');
    assert.equal(msg({ visibility: 'x' }), 'Invalid visibility value: x');
    assert.equal(msg({ name: 'gt:x' }), "Unable to filter by unknown operator 'gt'.");
  });
});
