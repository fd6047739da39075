import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactIpv6 } from './access-ip.js';

// Expected values printed by python3-netaddr 0.8.0: str(netaddr.IPAddress(input)).
const NETADDR: [string, string][] = [
  ['0000:0000:0000:0000:0000:babe:220.12.22.2', '::babe:dc0c:1602'],
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
  ['::1.2.3.4', '::1.2.3.4'],
  ['::1', '::1'],
  ['::', '::'],
  ['2001:DB8::1', '2001:db8::1'],
  ['::ffff', '::ffff'],
  ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
  ['0:0:0:0:1::', '::1:0:0:0'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['::1:2', '::0.1.0.2'],
  ['::ffff:0:1', '::ffff:0.0.0.1'],
  ['::0.0.1.0', '::100'],
  ['1::ffff:1.2.3.4', '1::ffff:102:304'],
  ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['1::', '1::'],
];

test('compactIpv6 prints addresses as netaddr (glibc inet_ntop) does', () => {
  for (const [input, want] of NETADDR) assert.equal(compactIpv6(input), want, input);
});

test('compactIpv6 leaves what is not an IPv6 address alone', () => {
  assert.equal(compactIpv6('1.2.3.4'), '1.2.3.4');
  assert.equal(compactIpv6('nope'), 'nope');
});
