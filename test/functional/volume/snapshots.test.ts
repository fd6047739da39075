/**
 * Snapshots, clones, revert, extend, readonly and bootable: every copy is a real copy of the
 * bytes, checked on disk. (Images: images.test.ts.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { readAt, startCinder, PROJECT_A, type Cinder } from './helpers.js';

const A = `/v3/${PROJECT_A}`;
let c: Cinder;

before(async () => {
  c = await startCinder({ withGlance: false });
});
after(async () => {
  await c?.close();
});

const volFile = (id: string) => c.volumeFile(id);

async function writeAt(id: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(volFile(id), 'r+');
  await fh.write(data, 0, data.length, offset);
  await fh.close();
}

void test('snapshot create/list/update/delete, metadata, and a volume from the snapshot with the same bytes', async () => {
  const v = await c.createVolume({ size: 1, name: 'src' });
  const marker = randomBytes(4096);
  await writeAt(v.id, 5 * 1024 * 1024, marker);

  const r = await c.req('POST', `${A}/snapshots`, { body: { snapshot: { volume_id: v.id, name: 'snap1', metadata: { a: '1' } } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.snapshot.status, 'creating');
  assert.deepEqual(Object.keys(r.body.snapshot).sort(), ['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id']);
  const snap = await c.waitSnapshot(r.body.snapshot.id, 'available');
  assert.equal(snap['os-extended-snapshot-attributes:progress'], '100%');
  assert.equal(snap['os-extended-snapshot-attributes:project_id'], PROJECT_A);
  assert.equal(snap.size, 1);

  // Writes after the snapshot do not reach it.
  await writeAt(v.id, 5 * 1024 * 1024, Buffer.alloc(4096, 7));

  const list = await c.req('GET', `${A}/snapshots?name=snap1`);
  assert.deepEqual(list.body.snapshots.map((s: any) => s.id), [snap.id]);
  const detail = await c.req('GET', `${A}/snapshots/detail?volume_id=${v.id}`);
  assert.equal(detail.body.snapshots[0]['os-extended-snapshot-attributes:progress'], '100%');
  const upd = await c.req('PUT', `${A}/snapshots/${snap.id}`, { body: { snapshot: { name: 'snap1b', description: 'd' } } });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.snapshot.name, 'snap1b');
  const murl = `${A}/snapshots/${snap.id}/metadata`;
  assert.deepEqual((await c.req('POST', murl, { body: { metadata: { b: '2' } } })).body.metadata, { a: '1', b: '2' });
  assert.deepEqual((await c.req('PUT', `${murl}/b`, { body: { meta: { b: '3' } } })).body, { meta: { b: '3' } });
  assert.equal((await c.req('DELETE', `${murl}/a`)).status, 200);
  assert.deepEqual((await c.req('GET', murl)).body, { metadata: { b: '3' } });

  // A volume with snapshots cannot be deleted.
  const refused = await c.req('DELETE', `${A}/volumes/${v.id}`);
  assert.equal(refused.status, 400);
  assert.match(refused.body.badRequest.message, /^Invalid volume: Volume status must be available/);

  const fromSnap = await c.createVolume({ snapshot_id: snap.id, name: 'from-snap' });
  assert.equal(fromSnap.snapshot_id, snap.id);
  assert.equal(fromSnap.size, 1);
  assert.deepEqual(await readAt(volFile(fromSnap.id), 5 * 1024 * 1024, 4096), marker);
  const small = await c.req('POST', `${A}/volumes`, { body: { volume: { snapshot_id: snap.id, size: 0 } } });
  assert.equal(small.status, 400);

  // 3.40: revert the volume to its latest snapshot; the bytes come back.
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { revert: { snapshot_id: snap.id } } })).status, 400, 'revert needs 3.40');
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { version: '3.40', body: { revert: { snapshot_id: snap.id } } })).status, 202);
  await c.waitVolume(v.id, 'available');
  await c.waitSnapshot(snap.id, 'available');
  assert.deepEqual(await readAt(volFile(v.id), 5 * 1024 * 1024, 4096), marker);

  assert.equal((await c.req('DELETE', `${A}/snapshots/${snap.id}`)).status, 202);
  await c.waitGone(`${A}/snapshots/${snap.id}`);
  for (const id of [fromSnap.id, v.id]) {
    assert.equal((await c.req('DELETE', `${A}/volumes/${id}`)).status, 202);
    await c.waitGone(`${A}/volumes/${id}`);
  }
});

void test('snapshot list: limit, offset, marker and sort', async () => {
  const v = await c.createVolume({ size: 1 });
  const ids: string[] = [];
  for (const name of ['b', 'a', 'c']) {
    const r = await c.req('POST', `${A}/snapshots`, { body: { snapshot: { volume_id: v.id, name } } });
    ids.push(r.body.snapshot.id);
    await c.waitSnapshot(r.body.snapshot.id, 'available');
  }
  const byName = await c.req('GET', `${A}/snapshots?sort=name:asc`);
  assert.deepEqual(byName.body.snapshots.map((s: any) => s.name), ['a', 'b', 'c']);
  const desc = await c.req('GET', `${A}/snapshots?sort_key=name&sort_dir=desc`);
  assert.deepEqual(desc.body.snapshots.map((s: any) => s.name), ['c', 'b', 'a']);
  assert.equal((await c.req('GET', `${A}/snapshots?limit=1`)).body.snapshots.length, 1);
  assert.equal((await c.req('GET', `${A}/snapshots?limit=0`)).body.snapshots.length, 0);
  assert.equal((await c.req('GET', `${A}/snapshots?limit=100000`)).body.snapshots.length, 3);
  const first = (await c.req('GET', `${A}/snapshots?sort=name:asc&limit=1`)).body;
  assert.ok(first.snapshots_links[0].href.includes(`marker=${first.snapshots[0].id}`));
  const after = await c.req('GET', `${A}/snapshots?sort=name:asc&marker=${first.snapshots[0].id}`);
  assert.deepEqual(after.body.snapshots.map((s: any) => s.name), ['b', 'c']);
  const off = await c.req('GET', `${A}/snapshots?sort=name:asc&offset=2`);
  assert.deepEqual(off.body.snapshots.map((s: any) => s.name), ['c']);
  const byId = await c.req('GET', `${A}/snapshots?sort=id:asc`);
  assert.deepEqual(byId.body.snapshots.map((s: any) => s.id), [...ids].sort());
  assert.equal((await c.req('POST', `${A}/snapshots`, { body: { snapshot: { volume_id: '2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11' } } })).status, 404);
  assert.equal((await c.req('POST', `${A}/snapshots`, { body: { snapshot: { name: 'x' } } })).status, 400);
  assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}?cascade=true`)).status, 202);
  await c.waitGone(`${A}/volumes/${v.id}`);
  for (const id of ids) assert.equal((await c.req('GET', `${A}/snapshots/${id}`)).status, 404);
});

void test('clone copies the bytes; extend grows the file; readonly and bootable flags', async () => {
  const v = await c.createVolume({ size: 1 });
  const marker = randomBytes(1024);
  await writeAt(v.id, 0, marker);
  const clone = await c.createVolume({ source_volid: v.id, name: 'clone' });
  assert.equal(clone.source_volid, v.id);
  assert.deepEqual(await readAt(volFile(clone.id), 0, 1024), marker);

  const ext = await c.req('POST', `${A}/volumes/${clone.id}/action`, { body: { 'os-extend': { new_size: 2 } } });
  assert.equal(ext.status, 202);
  for (let i = 0; i < 200; i++) {
    const cur = (await c.req('GET', `${A}/volumes/${clone.id}`)).body.volume;
    if (cur.size === 2 && cur.status === 'available') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal((await stat(volFile(clone.id))).size, 2 * 1024 ** 3);
  const shrink = await c.req('POST', `${A}/volumes/${clone.id}/action`, { body: { 'os-extend': { new_size: 1 } } });
  assert.equal(shrink.status, 400);
  assert.equal((await c.req('POST', `${A}/volumes/${clone.id}/action`, { body: { 'os-extend': { new_size: null } } })).status, 400);

  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-update_readonly_flag': { readonly: true } } })).status, 202);
  assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).body.volume.metadata.readonly, 'True');
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-update_readonly_flag': { readonly: false } } })).status, 202);
  assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).body.volume.metadata.readonly, 'False');

  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-set_bootable': { bootable: true } } })).status, 200);
  assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).body.volume.bootable, 'true');
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-set_bootable': { bootable: false } } })).status, 200);
  assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).body.volume.bootable, 'false');
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-no-such': {} } })).status, 400);

  for (const id of [clone.id, v.id]) {
    await c.req('DELETE', `${A}/volumes/${id}`);
    await c.waitGone(`${A}/volumes/${id}`);
  }
});
