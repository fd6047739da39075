import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PROJECT_A, PROJECT_B, PROJECT_C, startGlance, type Glance } from './helpers.js';

void describe('glance v2 images', () => {
  let g: Glance;
  before(async () => {
    g = await startGlance();
  });
  after(async () => g.close());

  const req = (tok: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    g.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-auth-token': tok, ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { payload: Buffer.isBuffer(body) ? body : JSON.stringify(body) } : {}),
    });
  const patch = (tok: string, id: string, ops: unknown, draft = '2.1') =>
    g.app.inject({
      method: 'PATCH',
      url: `/v2/images/${id}`,
      headers: { 'x-auth-token': tok, 'content-type': `application/openstack-images-v${draft}-json-patch` },
      payload: JSON.stringify(ops),
    });

  void test('versions document is public and lists v2.7 CURRENT', async () => {
    const r = await g.app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 300);
    const cur = r.json().versions.find((v: { status: string }) => v.status === 'CURRENT');
    assert.equal(cur.id, 'v2.7');
  });

  void test('no token is 401 with WWW-Authenticate', async () => {
    const r = await g.app.inject({ method: 'GET', url: '/v2/images' });
    assert.equal(r.statusCode, 401);
    assert.match(String(r.headers['www-authenticate']), /Keystone uri=/);
  });

  void test('create, upload, show, download with hashes, range and Content-MD5', async () => {
    const c = await req('member-a', 'POST', '/v2/images', {
      name: 'img1', disk_format: 'raw', container_format: 'bare', visibility: 'private', ramdisk_id: '00000000-1111-2222-3333-444455556666',
    });
    assert.equal(c.statusCode, 201);
    const img = c.json();
    assert.equal(img.status, 'queued');
    assert.equal(img.owner, PROJECT_A);
    assert.equal(img.ramdisk_id, '00000000-1111-2222-3333-444455556666');
    assert.equal(c.headers['location'], `/v2/images/${img.id}`);
    assert.equal(img.self, `/v2/images/${img.id}`);
    assert.match(img.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const empty = await req('member-a', 'GET', `/v2/images/${img.id}/file`);
    assert.equal(empty.statusCode, 204);
    assert.equal(empty.body, '');

    const data = randomBytes(1024);
    const up = await req('member-a', 'PUT', `/v2/images/${img.id}/file`, data, { 'content-type': 'application/octet-stream' });
    assert.equal(up.statusCode, 204, up.body);
    const shown = (await req('reader-a', 'GET', `/v2/images/${img.id}`)).json();
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, 1024);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.virtual_size, 1024);
    assert.equal(shown.os_hash_value, createHash('sha512').update(data).digest('hex'));

    const dl = await req('member-a', 'GET', `/v2/images/${img.id}/file`);
    assert.equal(dl.statusCode, 200);
    assert.deepEqual(dl.rawPayload, data);
    assert.equal(dl.headers['content-length'], '1024');
    assert.equal(dl.headers['content-md5'], shown.checksum);
    assert.equal(dl.headers['content-type'], 'application/octet-stream');

    const part = await req('member-a', 'GET', `/v2/images/${img.id}/file`, undefined, { range: 'bytes=10-19' });
    assert.equal(part.statusCode, 206);
    assert.deepEqual(part.rawPayload, data.subarray(10, 20));
    assert.equal(part.headers['content-range'], 'bytes 10-19/1024');
    const tail = await req('member-a', 'GET', `/v2/images/${img.id}/file`, undefined, { range: 'bytes=-4' });
    assert.deepEqual(tail.rawPayload, data.subarray(1020));
    const bad = await req('member-a', 'GET', `/v2/images/${img.id}/file`, undefined, { range: 'bytes=5000-' });
    assert.equal(bad.statusCode, 416);

    // A second upload to an active image is a state conflict.
    const again = await req('member-a', 'PUT', `/v2/images/${img.id}/file`, data, { 'content-type': 'application/octet-stream' });
    assert.equal(again.statusCode, 409);
    // Another project cannot see a private image.
    assert.equal((await req('member-b', 'GET', `/v2/images/${img.id}`)).statusCode, 404);
  });

  void test('upload needs both formats and octet-stream', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'noformat' })).json();
    const r = await req('member-a', 'PUT', `/v2/images/${img.id}/file`, Buffer.from('x'), { 'content-type': 'application/octet-stream' });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /Properties disk_format, container_format must be set prior to saving data/);
    const r2 = await req('member-a', 'PUT', `/v2/images/${img.id}/file`, Buffer.from('x'), { 'content-type': 'text/plain' });
    assert.equal(r2.statusCode, 415);
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}`)).json().status, 'queued');
  });

  void test('bad formats and read-only or reserved attributes on create', async () => {
    const a = await req('member-a', 'POST', '/v2/images', { name: 't', container_format: 'wrong', disk_format: 'vhd' }, { accept: 'application/json' });
    assert.equal(a.statusCode, 400);
    assert.match(a.json().message, /Provided object does not match schema 'image': 'wrong' is not one of/);
    assert.equal((await req('member-a', 'POST', '/v2/images', { name: 't', container_format: 'bare', disk_format: 'wrong' })).statusCode, 400);
    assert.equal((await req('member-a', 'POST', '/v2/images', { name: 't', status: 'active' })).statusCode, 403);
    assert.equal((await req('member-a', 'POST', '/v2/images', { name: 't', os_glance_foo: 'bar' })).statusCode, 403);
    assert.equal((await req('member-a', 'POST', '/v2/images', { name: 't', foo: 5 })).statusCode, 400);
    assert.equal((await req('member-a', 'POST', '/v2/images', { name: 't', visibility: 'public' })).statusCode, 403);
    assert.equal((await req('reader-a', 'POST', '/v2/images', { name: 't' })).statusCode, 403);
  });

  void test('404s: missing, empty id, deleted', async () => {
    const missing = '6fe40f1c-57bd-4918-89cc-8500f850f3de';
    assert.equal((await req('member-a', 'GET', `/v2/images/${missing}`)).statusCode, 404);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${missing}`)).statusCode, 404);
    assert.equal((await req('member-a', 'GET', '/v2/images/')).statusCode, 404);
    assert.equal((await req('member-a', 'DELETE', '/v2/images/')).statusCode, 404);
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'gone', container_format: 'bare', disk_format: 'raw' })).json();
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}`)).statusCode, 204);
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}`)).statusCode, 404);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}`)).statusCode, 404);
    const ids = (await req('member-a', 'GET', '/v2/images')).json().images.map((i: { id: string }) => i.id);
    assert.ok(!ids.includes(img.id));
  });

  void test('protected images cannot be deleted', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'p', protected: true })).json();
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}`)).statusCode, 403);
    assert.equal((await patch('member-a', img.id, [{ op: 'replace', path: '/protected', value: false }])).statusCode, 200);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}`)).statusCode, 204);
  });

  void test('json-patch updates: both dialects, properties, errors', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'old', container_format: 'bare', disk_format: 'raw' })).json();
    let r = await patch('member-a', img.id, [{ replace: '/name', value: 'new' }], '2.0');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().name, 'new');
    r = await patch('member-a', img.id, [
      { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
      { op: 'add', path: '/os_hidden', value: true },
      { op: 'replace', path: '/min_ram', value: 512 },
    ]);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().hw_disk_bus, 'virtio');
    assert.equal(r.json().min_ram, 512);
    // Hidden images leave the default list.
    const listed = (await req('member-a', 'GET', '/v2/images')).json().images.map((i: { id: string }) => i.id);
    assert.ok(!listed.includes(img.id));
    r = await patch('member-a', img.id, [{ op: 'remove', path: '/hw_disk_bus' }]);
    assert.equal(r.json().hw_disk_bus, undefined);
    assert.equal((await patch('member-a', img.id, [{ op: 'remove', path: '/nope' }])).statusCode, 409);
    assert.equal((await patch('member-a', img.id, [{ op: 'replace', path: '/nope', value: 'x' }])).statusCode, 409);
    assert.equal((await patch('member-a', img.id, [{ op: 'remove', path: '/name' }])).statusCode, 403);
    assert.equal((await patch('member-a', img.id, [{ op: 'replace', path: '/status', value: 'active' }])).statusCode, 403);
    assert.equal((await patch('member-a', img.id, [{ op: 'replace', path: '/visibility', value: 'public' }])).statusCode, 403);
    assert.equal((await patch('member-b', img.id, [{ op: 'replace', path: '/name', value: 'x' }])).statusCode, 404);
    const wrongType = await g.app.inject({
      method: 'PATCH', url: `/v2/images/${img.id}`, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' }, payload: '[]',
    });
    assert.equal(wrongType.statusCode, 415);
    assert.match(String(wrongType.headers['accept-patch']), /openstack-images-v2.1-json-patch/);
  });

  void test('tags add and delete, missing tag and image 404', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'tagged', tags: ['one'] })).json();
    assert.deepEqual(img.tags, ['one']);
    assert.equal((await req('member-a', 'PUT', `/v2/images/${img.id}/tags/two`)).statusCode, 204);
    assert.deepEqual((await req('member-a', 'GET', `/v2/images/${img.id}`)).json().tags.sort(), ['one', 'two']);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}/tags/one`)).statusCode, 204);
    assert.deepEqual((await req('member-a', 'GET', `/v2/images/${img.id}`)).json().tags, ['two']);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}/tags/nope`)).statusCode, 404);
    assert.equal((await req('member-a', 'PUT', '/v2/images/8cd30f82-6f9a-4c6e-8034-c1b51fba43d9/tags/x')).statusCode, 404);
  });

  void test('deactivate forbids download for non-admins; reactivate restores it', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'd', container_format: 'bare', disk_format: 'raw' })).json();
    await req('member-a', 'PUT', `/v2/images/${img.id}/file`, Buffer.from('abc'), { 'content-type': 'application/octet-stream' });
    assert.equal((await req('member-a', 'POST', `/v2/images/${img.id}/actions/deactivate`)).statusCode, 204);
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}`)).json().status, 'deactivated');
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}/file`)).statusCode, 403);
    assert.equal((await req('admin', 'GET', `/v2/images/${img.id}/file`)).statusCode, 200);
    assert.equal((await req('member-a', 'POST', `/v2/images/${img.id}/actions/reactivate`)).statusCode, 204);
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}/file`)).body, 'abc');
  });

  void test('members: share, list as member with member_status, accept', async () => {
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'shared-one', container_format: 'bare', disk_format: 'raw' })).json();
    assert.equal(img.visibility, 'shared');
    const m = await req('member-a', 'POST', `/v2/images/${img.id}/members`, { member: PROJECT_B });
    assert.equal(m.statusCode, 200, m.body);
    assert.equal(m.json().status, 'pending');
    assert.equal(m.json().schema, '/v2/schemas/member');
    assert.equal((await req('member-a', 'POST', `/v2/images/${img.id}/members`, { member: PROJECT_B })).statusCode, 409);
    // Pending: not in B's default list, but in member_status=pending&visibility=shared.
    let ids = (await req('member-b', 'GET', '/v2/images')).json().images.map((i: { id: string }) => i.id);
    assert.ok(!ids.includes(img.id));
    const pending = (await req('member-b', 'GET', '/v2/images?member_status=pending&visibility=shared')).json().images;
    assert.deepEqual(pending.map((i: { id: string }) => i.id), [img.id]);
    // B can see it and accept; A cannot change B's status.
    assert.equal((await req('member-b', 'GET', `/v2/images/${img.id}`)).statusCode, 200);
    assert.equal((await req('member-a', 'PUT', `/v2/images/${img.id}/members/${PROJECT_B}`, { status: 'accepted' })).statusCode, 403);
    const acc = await req('member-b', 'PUT', `/v2/images/${img.id}/members/${PROJECT_B}`, { status: 'accepted' });
    assert.equal(acc.statusCode, 200, acc.body);
    ids = (await req('member-b', 'GET', '/v2/images')).json().images.map((i: { id: string }) => i.id);
    assert.ok(ids.includes(img.id));
    const list = (await req('member-a', 'GET', `/v2/images/${img.id}/members`)).json();
    assert.equal(list.schema, '/v2/schemas/members');
    assert.deepEqual(list.members.map((x: { member_id: string; status: string }) => [x.member_id, x.status]), [[PROJECT_B, 'accepted']]);
    // A member sees only its own membership; the owner sees all.
    assert.equal((await req('member-a', 'POST', `/v2/images/${img.id}/members`, { member: PROJECT_C })).statusCode, 200);
    const asB = (await req('member-b', 'GET', `/v2/images/${img.id}/members`)).json().members;
    assert.deepEqual(asB.map((x: { member_id: string }) => x.member_id), [PROJECT_B]);
    assert.equal((await req('member-b', 'GET', `/v2/images/${img.id}/members/${PROJECT_C}`)).statusCode, 404);
    assert.equal((await req('member-b', 'GET', `/v2/images/${img.id}/members/${PROJECT_B}`)).json().status, 'accepted');
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}/members`)).json().members.length, 2);
    assert.equal((await req('member-b', 'DELETE', `/v2/images/${img.id}/members/${PROJECT_B}`)).statusCode, 403);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}/members/${PROJECT_C}`)).statusCode, 204);
    assert.equal((await req('member-a', 'DELETE', `/v2/images/${img.id}/members/${PROJECT_B}`)).statusCode, 204);
    assert.equal((await req('member-b', 'GET', `/v2/images/${img.id}`)).statusCode, 404);
    // Private images have no members.
    const priv = (await req('member-a', 'POST', '/v2/images', { name: 'priv', visibility: 'private' })).json();
    assert.equal((await req('member-a', 'POST', `/v2/images/${priv.id}/members`, { member: PROJECT_B })).statusCode, 403);
  });

  void test('schemas', async () => {
    const s = (await req('reader-a', 'GET', '/v2/schemas/image')).json();
    assert.equal(s.name, 'image');
    assert.deepEqual(s.additionalProperties, { type: 'string' });
    assert.ok(s.properties.disk_format.enum.includes('raw'));
    assert.equal((await req('reader-a', 'GET', '/v2/schemas/images')).json().name, 'images');
    assert.equal((await req('reader-a', 'GET', '/v2/schemas/member')).json().name, 'member');
    assert.equal((await req('reader-a', 'GET', '/v2/schemas/members')).json().name, 'members');
    assert.equal((await req('reader-a', 'GET', '/v2/schemas/task')).statusCode, 404);
  });

  void test('glance-direct import: stage then import to active', async () => {
    const info = (await req('member-a', 'GET', '/v2/info/import')).json();
    assert.ok(info['import-methods'].value.includes('glance-direct'));
    const img = (await req('member-a', 'POST', '/v2/images', { name: 'imp', container_format: 'bare', disk_format: 'raw' })).json();
    const data = randomBytes(4096);
    assert.equal((await req('member-a', 'PUT', `/v2/images/${img.id}/stage`, data, { 'content-type': 'application/octet-stream' })).statusCode, 204);
    assert.equal((await req('member-a', 'GET', `/v2/images/${img.id}`)).json().status, 'uploading');
    const r = await req('member-a', 'POST', `/v2/images/${img.id}/import`, { method: { name: 'glance-direct' } });
    assert.equal(r.statusCode, 202, r.body);
    let status = '';
    for (let i = 0; i < 100 && status !== 'active'; i++) {
      status = (await req('member-a', 'GET', `/v2/images/${img.id}`)).json().status;
      if (status !== 'active') await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(status, 'active');
    assert.deepEqual((await req('member-a', 'GET', `/v2/images/${img.id}/file`)).rawPayload, data);
    assert.equal((await req('member-a', 'POST', `/v2/images/${img.id}/import`, { method: { name: 'web-download' } })).statusCode, 400);
  });
});
