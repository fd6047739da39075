import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Enforcer, parseRule, PolicySyntaxError } from './index.js';
import { RequestContext } from '../context.js';
import { ApiError } from '../errors.js';

const defaults = [
  { name: 'admin_required', checkStr: 'role:admin or is_admin:1' },
  { name: 'owner', checkStr: 'user_id:%(user_id)s' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner' },
  { name: 'project_member', checkStr: 'role:member and project_id:%(project_id)s' },
  { name: 'get_user', checkStr: '(role:reader and system_scope:all) or user_id:%(target.user.id)s' },
  { name: 'always', checkStr: '@' },
  { name: 'never', checkStr: '!' },
  { name: 'empty', checkStr: '' },
  { name: 'not_admin', checkStr: 'not role:admin' },
  { name: 'is_admin_true', checkStr: 'is_admin:True' },
  { name: 'literal', checkStr: "'member':%(role.name)s" },
  { name: 'loop', checkStr: 'rule:loop' },
  { name: 'dangling', checkStr: 'rule:nope or !' },
  { name: 'precedence', checkStr: 'role:a or role:b and role:c' },
  { name: 'nested', checkStr: '((role:a or role:b) and not (role:c))' },
  { name: 'role_from_target', checkStr: 'role:%(target.role.name)s' },
];
const e = new Enforcer(defaults);
const member = new RequestContext({ userId: 'u1', projectId: 'p1', roles: ['member', 'reader'] });
const admin = new RequestContext({ userId: 'a', projectId: 'p0', roles: ['Admin'], isAdmin: true });

void describe('policy engine', () => {
  void test('roles (case-insensitive) and generic checks', () => {
    assert.equal(e.enforce('admin_required', {}, member), false);
    assert.equal(e.enforce('admin_required', {}, admin), true);
    assert.equal(e.enforce('project_member', { project_id: 'p1' }, member), true);
    assert.equal(e.enforce('project_member', { project_id: 'p2' }, member), false);
    assert.equal(e.enforce('project_member', {}, member), false, 'missing target key denies');
  });
  void test('rule references, @, !, empty, not', () => {
    assert.equal(e.enforce('admin_or_owner', { user_id: 'u1' }, member), true);
    assert.equal(e.enforce('admin_or_owner', { user_id: 'u2' }, member), false);
    assert.equal(e.enforce('always', {}, member), true);
    assert.equal(e.enforce('never', {}, admin), false);
    assert.equal(e.enforce('empty', {}, member), true);
    assert.equal(e.enforce('not_admin', {}, member), true);
    assert.equal(e.enforce('not_admin', {}, admin), false);
  });
  void test('dotted targets, flat or nested; system scope', () => {
    assert.equal(e.enforce('get_user', { 'target.user.id': 'u1' }, member), true);
    assert.equal(e.enforce('get_user', { target: { user: { id: 'u1' } } }, member), true);
    assert.equal(e.enforce('get_user', { target: { user: { id: 'x' } } }, member), false);
    const sys = new RequestContext({ userId: 'r', roles: ['reader'], systemScope: 'all' });
    assert.equal(e.enforce('get_user', { target: { user: { id: 'x' } } }, sys), true);
    assert.equal(e.enforce('role_from_target', { target: { role: { name: 'MEMBER' } } }, member), true);
  });
  void test('is_admin:True, literals, recursion and missing rules deny', () => {
    assert.equal(e.enforce('is_admin_true', {}, admin), true);
    assert.equal(e.enforce('is_admin_true', {}, member), false);
    assert.equal(e.enforce('literal', { role: { name: 'member' } }, member), true);
    assert.equal(e.enforce('literal', { role: { name: 'admin' } }, member), false);
    assert.equal(e.enforce('loop', {}, admin), false);
    assert.equal(e.enforce('dangling', {}, admin), false);
  });
  void test('precedence: and binds tighter than or; parentheses and not', () => {
    const a = { roles: ['a'] };
    const bc = { roles: ['b', 'c'] };
    const b = { roles: ['b'] };
    assert.equal(e.enforce('precedence', {}, a), true);
    assert.equal(e.enforce('precedence', {}, bc), true);
    assert.equal(e.enforce('precedence', {}, b), false);
    assert.equal(e.enforce('nested', {}, b), true);
    assert.equal(e.enforce('nested', {}, bc), false);
  });
  void test('overrides replace defaults; authorize throws 403', () => {
    const o = new Enforcer(defaults, { never: '@' });
    assert.equal(o.enforce('never', {}, member), true);
    assert.throws(() => e.authorize('never', {}, member), (err: unknown) => err instanceof ApiError && err.status === 403);
    assert.throws(() => e.enforce('unregistered', {}, member));
  });
  void test('syntax errors', () => {
    assert.throws(() => parseRule('(role:a'), PolicySyntaxError);
    assert.throws(() => parseRule('role:a and'), PolicySyntaxError);
    assert.throws(() => parseRule('nonsense'), PolicySyntaxError);
    assert.deepEqual(parseRule('(role:a)'), { kind: 'role', match: 'a' });
  });
});

void describe('policy files', () => {
  void test('JSON and flat YAML, quoted keys with colons, comments', async () => {
    const { parsePolicyText, PolicyFileError } = await import('./file.js');
    assert.deepEqual(parsePolicyText('{"a:b": "role:admin"}'), { 'a:b': 'role:admin' });
    const yaml = [
      '# overrides',
      '"identity:get_user": "role:admin or user_id:%(target.user.id)s"',
      "'identity:list_users': ''",
      'plain_rule: rule:admin_required   # trailing comment',
      '',
    ].join('\n');
    assert.deepEqual(parsePolicyText(yaml), {
      'identity:get_user': 'role:admin or user_id:%(target.user.id)s',
      'identity:list_users': '',
      plain_rule: 'rule:admin_required',
    });
    assert.throws(() => parsePolicyText('a:\n  nested: x'), PolicyFileError);
    const o = new Enforcer(defaults, parsePolicyText('"never": "@"'));
    assert.equal(o.enforce('never', {}, member), true);
  });
});
