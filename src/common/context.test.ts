import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext, isValidRequestId, newRequestId, runWithContext, currentContext } from './context.js';

test('toDict/fromDict round-trips every field with oslo.context key names', () => {
  const c = new RequestContext({
    userId: 'u1', userName: 'alice', projectId: 'p1', projectName: 'demo', roles: ['member', 'reader'],
    globalRequestId: newRequestId(), authToken: 'tok', readDeleted: 'yes', serviceRoles: ['service'],
  });
  const d = c.toDict();
  assert.equal(d['user'], 'u1');
  assert.equal(d['tenant'], 'p1');
  assert.equal(d['is_admin'], false);
  assert.equal(d['show_deleted'], true);
  const back = RequestContext.fromDict(JSON.parse(JSON.stringify(d)) as Record<string, unknown>);
  assert.deepEqual(back.toDict(), d);
});

test('fromDict accepts a Python peer that only sends the legacy keys', () => {
  const c = RequestContext.fromDict({ user: 'u', tenant: 'p', roles: ['admin'], request_id: 'req-x' });
  assert.equal(c.userId, 'u');
  assert.equal(c.projectId, 'p');
  assert.equal(c.isAdmin, true);
  assert.equal(c.requestId, 'req-x');
});

test('elevated() keeps identity and adds admin; child() keeps the journey', () => {
  const c = new RequestContext({ userId: 'u', roles: ['reader'] });
  const e = c.elevated('yes');
  assert.equal(e.isAdmin, true);
  assert.equal(e.userId, 'u');
  assert.equal(e.readDeleted, 'yes');
  assert.equal(c.isAdmin, false, 'the original is untouched');
  const ch = c.child();
  assert.notEqual(ch.requestId, c.requestId);
  assert.equal(ch.journeyId, c.requestId);
});

test('request ids are validated in the req-<uuid> form', () => {
  assert.ok(isValidRequestId(newRequestId()));
  assert.equal(isValidRequestId('req-123'), false);
  assert.equal(isValidRequestId('abc'), false);
});

test('the context in progress is found through async hops', async () => {
  const c = new RequestContext({ userId: 'u9' });
  await runWithContext(c, async () => {
    await new Promise((r) => setImmediate(r));
    assert.equal(currentContext()?.userId, 'u9');
  });
  assert.equal(currentContext(), undefined);
});
