import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APIVersion } from '../../common/http/microversion.js';
import { ApiError } from '../../common/errors.js';
import { normalizeMemberOfValue, normalizeResources, normalizeTraitsParams, requestGroups, requestWideParams } from './params.js';

const v = (s: string) => APIVersion.parse(s);
const err = (fn: () => unknown): ApiError => {
  try { fn(); } catch (e) { if (e instanceof ApiError) return e; throw e; }
  throw new Error('expected an ApiError');
};

void test('resources parameter', () => {
  assert.deepEqual([...normalizeResources('VCPU:2,MEMORY_MB:1024')], [['VCPU', 2], ['MEMORY_MB', 1024]]);
  assert.match(err(() => normalizeResources('VCPU')).message, /Badly formed resources parameter.*Got: VCPU\./);
  assert.match(err(() => normalizeResources('VCPU:x')).message, /expected positive integer amount. Got: x\./);
  assert.match(err(() => normalizeResources('VCPU:0')).message, /requires amount >= 1. Got: 0\./);
  assert.match(err(() => normalizeResources('')).message, /Got: empty string/);
});

void test('required traits: forbidden, any-of and repetition by microversion', () => {
  const e = normalizeTraitsParams(['in:A,B', 'C,!D'], v('1.39'));
  assert.deepEqual(e.required.map((s) => [...s]), [['A', 'B'], ['C']]);
  assert.deepEqual([...e.forbidden], ['D']);
  // Before 1.39 only the last value counts and in: is refused.
  assert.deepEqual(normalizeTraitsParams(['A', 'B'], v('1.38')).required.map((s) => [...s]), [['B']]);
  assert.equal(err(() => normalizeTraitsParams(['in:A,B'], v('1.38'))).status, 400);
  assert.equal(err(() => normalizeTraitsParams(['!A'], v('1.21'))).status, 400);
  assert.equal(err(() => normalizeTraitsParams(['A,,B'], v('1.39'))).status, 400);
});

void test('member_of values', () => {
  const a = '11111111-1111-1111-1111-111111111111';
  const b = '22222222-2222-2222-2222-222222222222';
  assert.deepEqual(normalizeMemberOfValue(`in:${a},${b}`).required.map((s) => [...s]), [[a, b]]);
  assert.deepEqual([...normalizeMemberOfValue(`!in:${a},${b}`).forbidden], [a, b]);
  assert.match(err(() => normalizeMemberOfValue(`${a},${b}`)).message, /must be prefixed with the 'in:' or '!in:'/);
  assert.match(err(() => normalizeMemberOfValue('nope')).message, /valid UUID/);
});

void test('request groups: suffixes, orphans, same_subtree checks', () => {
  const groups = requestGroups({ resources: ['VCPU:1'], resources_NET: ['SRIOV_NET_VF:1'], required_NET: ['CUSTOM_X'] }, v('1.36'), []);
  assert.deepEqual(groups.map((g) => [g.suffix, g.useSameProvider]), [['', false], ['_NET', true]]);
  assert.equal(err(() => requestGroups({ resources_NET: ['VCPU:1'] }, v('1.32'), [])).status, 400, 'string suffixes need 1.33');
  assert.match(err(() => requestGroups({ required1: ['A'] }, v('1.30'), [])).message, /orphaned traits keys: required1/);
  const e = err(() => requestGroups({ resources1: ['VCPU:1'], required2: ['A'] }, v('1.36'), []));
  assert.equal(e.errorCode, 'placement.query.bad_value');
  assert.equal(requestGroups({ resources1: ['VCPU:1'], required2: ['A'] }, v('1.36'), [new Set(['1', '2'])]).length, 2);
  assert.match(err(() => requestGroups({ resources: ['VCPU:1'], required: ['A,!A'] }, v('1.36'), [])).message, /Conflicting required and forbidden/);
});

void test('request-wide parameters', () => {
  const w = requestWideParams({ limit: ['5'], group_policy: ['isolate'], root_required: ['A,!B'], same_subtree: ['_1,_2'] }, v('1.36'));
  assert.equal(w.limit, 5);
  assert.deepEqual([...w.rootRequired!], ['A']);
  assert.deepEqual([...w.rootForbidden!], ['B']);
  assert.deepEqual(w.sameSubtrees.map((s) => [...s]), [['_1', '_2']]);
  assert.equal(err(() => requestWideParams({ root_required: ['A', 'B'] }, v('1.36'))).errorCode, 'placement.query.duplicate_key');
});
