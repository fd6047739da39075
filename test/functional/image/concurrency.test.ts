import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../../src/common/errors.js';
import { startGlance } from './helpers.js';

void test('a stale save after a concurrent status change is a 409, never a torn record', async () => {
  const g = await startGlance();
  try {
    const created = await g.app.inject({
      method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'cas', disk_format: 'raw', container_format: 'bare' }),
    });
    const id = created.json().id as string;
    const repo = g.app.imageApi.repo;
    const stale = (await repo.get(id))!;
    // Meanwhile an upload completes.
    const up = await g.app.inject({
      method: 'PUT', url: `/v2/images/${id}/file`, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream' }, payload: Buffer.from('data'),
    });
    assert.equal(up.statusCode, 204);
    stale.name = 'renamed from a stale read';
    await assert.rejects(repo.save(stale), (e: unknown) => e instanceof ApiError && e.status === 409);
    const now = (await repo.get(id))!;
    assert.equal(now.status, 'active');
    assert.equal(now.name, 'cas');
    assert.equal(now.size, 4);
    await repo.markDeleted(now);
    await assert.rejects(repo.save(now), (e: unknown) => e instanceof ApiError && e.status === 404);
  } finally {
    await g.close();
  }
});
