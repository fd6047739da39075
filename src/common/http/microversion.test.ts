import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { APIVersion, negotiateVersion, requestedVersion, versionResponseHeaders, type MicroversionSpec } from './microversion.js';

const compute: MicroversionSpec = { service: 'compute', min: '2.1', max: '2.96', legacyHeader: 'X-OpenStack-Nova-API-Version' };

void describe('APIVersion', () => {
  void test('compares numerically, not as strings', () => {
    assert.ok(APIVersion.parse('2.10').compare('2.9') > 0);
    assert.ok(APIVersion.parse('2.9').compare('2.10') < 0);
    assert.equal(APIVersion.parse('2.5').compare('2.5'), 0);
    assert.ok(APIVersion.parse('3.0').compare('2.99') > 0);
  });
  void test('matches with open bounds', () => {
    const v = APIVersion.parse('2.50');
    assert.ok(v.matches('2.1', '2.96'));
    assert.ok(v.matches('2.50', null));
    assert.ok(!v.matches('2.51'));
    assert.ok(!v.matches(null, '2.49'));
    assert.ok(v.atLeast('2.50'));
    assert.equal(v.toString(), '2.50');
  });
  void test('rejects non-versions', () => {
    assert.throws(() => APIVersion.parse('2'));
    assert.throws(() => APIVersion.parse('2.01'));
    assert.throws(() => APIVersion.parse('abc'));
  });
});

void describe('negotiation', () => {
  void test('default is the minimum', () => {
    assert.equal(negotiateVersion(compute, {}).version.toString(), '2.1');
  });
  void test('latest is the maximum', () => {
    assert.equal(negotiateVersion(compute, { 'openstack-api-version': 'compute latest' }).version.toString(), '2.96');
  });
  void test('the header names the service; other services are ignored', () => {
    assert.equal(requestedVersion({ 'openstack-api-version': 'volume 3.5, compute 2.20' }, 'compute'), '2.20');
    assert.equal(requestedVersion({ 'openstack-api-version': 'volume 3.5' }, 'compute'), null);
  });
  void test('legacy header is used when the new one is absent', () => {
    const r = negotiateVersion(compute, { 'x-openstack-nova-api-version': '2.11' });
    assert.equal(r.version.toString(), '2.11');
    const both = negotiateVersion(compute, { 'x-openstack-nova-api-version': '2.11', 'openstack-api-version': 'compute 2.12' });
    assert.equal(both.version.toString(), '2.12');
  });
  void test('out of range is 406 with Nova message', () => {
    const r = negotiateVersion(compute, { 'openstack-api-version': 'compute 2.999' });
    assert.equal(r.error?.status, 406);
    assert.equal(r.error?.message, 'Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.96.');
    assert.equal(negotiateVersion(compute, { 'openstack-api-version': 'compute 2.0' }).error?.status, 406);
  });
  void test('garbage is 400', () => {
    const r = negotiateVersion(compute, { 'openstack-api-version': 'compute 2.x' });
    assert.equal(r.error?.status, 400);
    assert.equal(r.error?.message, 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.');
  });
  void test('placement wording', () => {
    const p: MicroversionSpec = { service: 'placement', min: '1.0', max: '1.39' };
    assert.equal(negotiateVersion(p, {}).version.toString(), '1.0');
    assert.equal(negotiateVersion(p, { 'openstack-api-version': 'placement 1.99' }).error?.message, 'Unacceptable version header: 1.99');
  });
  void test('response headers echo and vary', () => {
    assert.deepEqual(versionResponseHeaders(compute, APIVersion.parse('2.5')), {
      'OpenStack-API-Version': 'compute 2.5',
      'X-OpenStack-Nova-API-Version': '2.5',
      Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    });
    assert.deepEqual(versionResponseHeaders({ service: 'volume', min: '3.0', max: '3.70' }, APIVersion.parse('3.0')), {
      'OpenStack-API-Version': 'volume 3.0',
      Vary: 'OpenStack-API-Version',
    });
  });
});
