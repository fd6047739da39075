import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eui64, formatIp, generatePools, normalizeIp, parseCidr, parseIp, cidrsOverlap } from './ipaddr.js';

void test('IPv6 text form matches Python ipaddress', () => {
  assert.equal(normalizeIp('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(normalizeIp('2001:db8:2:0:ffff:ffff:ffff:ffff'), '2001:db8:2:0:ffff:ffff:ffff:ffff');
  assert.equal(normalizeIp('::'), '::');
  assert.equal(normalizeIp('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(normalizeIp('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(normalizeIp('1::2::3'), null);
  assert.equal(normalizeIp('10.0.0.256'), null);
  assert.equal(normalizeIp('192.168.1.'), null);
});

void test('CIDRs: host bits, prefix bounds, overlap', () => {
  const c = parseCidr('10.0.0.5/24')!;
  assert.equal(formatIp(4, c.network), '10.0.0.0');
  assert.equal(parseCidr('192.168.1.1/33'), null);
  assert.equal(parseCidr('bad_prefix'), null);
  assert.ok(cidrsOverlap(parseCidr('10.0.0.0/24')!, parseCidr('10.0.0.128/25')!));
  assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/24')!, parseCidr('10.0.1.0/24')!));
});

void test('default allocation pools leave out network, broadcast and gateway', () => {
  const v4 = generatePools(parseCidr('10.0.0.0/24')!, parseIp('10.0.0.1')!.value);
  assert.deepEqual(v4.map((r) => [formatIp(4, r.first), formatIp(4, r.last)]), [['10.0.0.2', '10.0.0.254']]);
  const mid = generatePools(parseCidr('10.0.0.0/28')!, parseIp('10.0.0.5')!.value);
  assert.deepEqual(mid.map((r) => [formatIp(4, r.first), formatIp(4, r.last)]), [['10.0.0.1', '10.0.0.4'], ['10.0.0.6', '10.0.0.14']]);
  const v6 = generatePools(parseCidr('2001:db8::/64')!, parseIp('2001:db8::1')!.value);
  assert.deepEqual(v6.map((r) => [formatIp(6, r.first), formatIp(6, r.last)]), [['2001:db8::2', '2001:db8::ffff:ffff:ffff:ffff']]);
});

void test('EUI-64 from a MAC (oslo netutils.get_ipv6_addr_by_EUI64)', () => {
  assert.equal(formatIp(6, eui64(parseCidr('2001:db8::/64')!, '00:16:3e:33:44:55')), '2001:db8::216:3eff:fe33:4455');
  assert.equal(formatIp(6, eui64(parseCidr('2001:db8:1::/64')!, 'fa:16:3e:12:34:56')), '2001:db8:1:0:f816:3eff:fe12:3456');
});
