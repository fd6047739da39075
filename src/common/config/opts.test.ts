import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BoolOpt, DictOpt, FloatOpt, IntOpt, ListOpt, MultiStrOpt, PortOpt, StrOpt, OptValueError, parseBool } from './opts.js';

void describe('typed options', () => {
  void test('BoolOpt accepts oslo truthy/falsy strings case-insensitively', () => {
    const o = new BoolOpt('debug');
    for (const t of ['true', 'TRUE', '1', 'on', 'Yes']) assert.equal(o.parse([t]), true);
    for (const f of ['false', 'False', '0', 'off', 'no']) assert.equal(o.parse([f]), false);
    assert.throws(() => o.parse(['maybe']), OptValueError);
    assert.throws(() => parseBool('y'), /Unexpected boolean value/);
  });

  void test('IntOpt parses integers and enforces bounds', () => {
    const o = new IntOpt('workers', { min: 1, max: 8 });
    assert.equal(o.parse([' 4 ']), 4);
    assert.throws(() => o.parse(['0']), /greater than or equal to 1/);
    assert.throws(() => o.parse(['9']), /less than or equal to 8/);
    assert.throws(() => o.parse(['1.5']), /Invalid integer/);
    assert.throws(() => o.parse(['']), /Invalid integer/);
  });

  void test('PortOpt is an integer in 0..65535', () => {
    const o = new PortOpt('bind_port');
    assert.equal(o.parse(['8774']), 8774);
    assert.throws(() => o.parse(['65536']), /less than or equal to 65535/);
    assert.throws(() => o.parse(['-1']), /greater than or equal to 0/);
  });

  void test('FloatOpt', () => {
    const o = new FloatOpt('ratio', { min: 0 });
    assert.equal(o.parse(['16.0']), 16);
    assert.equal(o.parse(['1.5']), 1.5);
    assert.throws(() => o.parse(['abc']), /Invalid float/);
    assert.throws(() => o.parse(['-1']), /greater than or equal to 0/);
  });

  void test('ListOpt splits on commas, trims, honours double quotes', () => {
    const o = new ListOpt('filters');
    assert.deepEqual(o.parse(['a, b ,c,']), ['a', 'b', 'c']);
    assert.deepEqual(o.parse(['']), []);
    assert.deepEqual(o.parse(['"x,y",z']), ['x,y', 'z']);
    assert.deepEqual(o.parse(['A,\nB']), ['A', 'B']);
    const c = new ListOpt('drivers', { choices: ['flat', 'vlan'] });
    assert.deepEqual(c.parse(['flat,vlan']), ['flat', 'vlan']);
    assert.throws(() => c.parse(['flat,gre']), /found "gre"/);
  });

  void test('MultiStrOpt keeps every value; others take the last', () => {
    assert.deepEqual(new MultiStrOpt('alias').parse(['a', 'b']), ['a', 'b']);
    assert.equal(new StrOpt('x').parse(['a', 'b']), 'b');
    assert.deepEqual(new MultiStrOpt('alias').default, []);
  });

  void test('DictOpt parses key:value pairs', () => {
    const o = new DictOpt('mappings');
    assert.deepEqual(o.parse(['physnet1:br-eth1, physnet2:br-ex']), { physnet1: 'br-eth1', physnet2: 'br-ex' });
    assert.deepEqual(o.parse(['url:http://x:80']), { url: 'http://x:80' });
    assert.throws(() => o.parse(['novalue']), /key:value/);
    assert.throws(() => o.parse(['a:1,a:2']), /Duplicate key/);
  });

  void test('choices are enforced on StrOpt', () => {
    const o = new StrOpt('driver', { choices: ['fake', 'qemu'], default: 'fake' });
    assert.equal(o.parse(['qemu']), 'qemu');
    assert.throws(() => o.parse(['xen']), /Valid values are \[fake, qemu\], but found "xen"/);
  });

  void test('typed values are type-checked', () => {
    assert.throws(() => new IntOpt('n').check('3' as unknown as number), /Expected integer value/);
    assert.throws(() => new BoolOpt('b').check(1 as unknown as boolean), /Expected boolean value/);
    new IntOpt('n').check(3);
  });
});
