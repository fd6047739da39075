/**
 * Volumes from Glance images and upload-to-image: the bytes go through Glance for real
 * (a 1 GiB upload, the slowest functional test here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { readAt, startCinder, PROJECT_A, type Cinder } from './helpers.js';

const A = `/v3/${PROJECT_A}`;
let c: Cinder;

before(async () => {
  c = await startCinder();
});
after(async () => {
  await c?.close();
});

const volFile = (id: string) => c.volumeFile(id);

async function glance(method: string, url: string, body?: unknown, raw?: Buffer): Promise<any> {
  const res = await fetch(`${c.glanceUrl}${url}`, {
    method,
    headers: { 'x-auth-token': 'member-a', 'content-type': raw ? 'application/octet-stream' : 'application/json' },
    ...(raw ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (() => { try { return JSON.parse(text); } catch { return text; } })() : null };
}

void test('volume from a Glance image is bootable with its bytes and image metadata; upload-to-image makes an active image', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const img = await glance('POST', '/v2/images', { name: 'src-img', disk_format: 'raw', container_format: 'bare', hw_disk_bus: 'virtio' });
  assert.equal(img.status, 201, JSON.stringify(img.body));
  assert.equal((await glance('PUT', `/v2/images/${img.body.id}/file`, undefined, data)).status, 204);

  const bad = await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1, imageRef: '2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11' } } });
  assert.equal(bad.status, 400);

  const v = await c.createVolume({ size: 1, imageRef: img.body.id, name: 'from-image' });
  assert.equal(v.bootable, 'true');
  assert.equal(v.volume_image_metadata.image_id, img.body.id);
  assert.equal(v.volume_image_metadata.image_name, 'src-img');
  assert.equal(v.volume_image_metadata.hw_disk_bus, 'virtio');
  assert.deepEqual(await readAt(volFile(v.id), 0, data.length), data);
  assert.equal((await stat(volFile(v.id))).size, 1024 ** 3);

  const up = await c.req('POST', `${A}/volumes/${v.id}/action`, {
    body: { 'os-volume_upload_image': { image_name: 'from-volume', disk_format: 'raw', container_format: 'bare' } },
  });
  assert.equal(up.status, 202, JSON.stringify(up.body));
  const u = up.body['os-volume_upload_image'];
  assert.equal(u.status, 'uploading');
  assert.equal(u.image_name, 'from-volume');
  await c.waitVolume(v.id, 'available');
  let image: any;
  for (let i = 0; i < 400; i++) {
    image = (await glance('GET', `/v2/images/${u.image_id}`)).body;
    if (image.status === 'active') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(image.status, 'active');
  assert.equal(image.size, 1024 ** 3);
  const head = await fetch(`${c.glanceUrl}/v2/images/${u.image_id}/file`, { headers: { 'x-auth-token': 'member-a', range: `bytes=0-${data.length - 1}` } });
  assert.deepEqual(Buffer.from(await head.arrayBuffer()), data);

  await c.req('DELETE', `${A}/volumes/${v.id}`);
  await c.waitGone(`${A}/volumes/${v.id}`);
});
