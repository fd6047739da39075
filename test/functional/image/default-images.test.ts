import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ADMIN_PROJECT, startGlance } from './helpers.js';
import { ensureDefaultImages } from '../../../src/image/service.js';

void test('stratus up registers two distinct active public images, once', async () => {
  const g = await startGlance();
  try {
    const dir = path.join(g.stateDir, 'images', 'defaults');
    const first = await ensureDefaultImages(g.app, { dir, owner: ADMIN_PROJECT });
    const again = await ensureDefaultImages(g.app, { dir, owner: ADMIN_PROJECT });
    assert.deepEqual(again.map((i) => i.id), first.map((i) => i.id));
    assert.notEqual(first[0]!.checksum, first[1]!.checksum);
    const r = await g.app.inject({ method: 'GET', url: '/v2/images?sort=name:asc', headers: { 'x-auth-token': 'member-b' } });
    const images = r.json().images as Array<Record<string, unknown>>;
    assert.deepEqual(images.map((i) => i['name']), ['cirros-0.6.2-x86_64-disk', 'stratus-alt-disk']);
    for (const i of images) {
      assert.equal(i['status'], 'active');
      assert.equal(i['visibility'], 'public');
      assert.equal(i['owner'], ADMIN_PROJECT);
      assert.equal(i['disk_format'], 'raw');
      assert.equal(i['size'], 8 * 1024 * 1024);
    }
    // Any project can boot from it: the data downloads, MBR signature at 510.
    const d = await g.app.inject({ method: 'GET', url: `/v2/images/${first[0]!.id}/file`, headers: { 'x-auth-token': 'member-b', range: 'bytes=510-511' } });
    assert.equal(d.statusCode, 206);
    assert.deepEqual([...d.rawPayload], [0x55, 0xaa]);
  } finally {
    await g.close();
  }
});
