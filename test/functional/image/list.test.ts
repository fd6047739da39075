import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PROJECT_A, startGlance, type Glance } from './helpers.js';

interface Img { id: string; name: string; size: number | null; [k: string]: unknown }

void describe('glance v2 image list', () => {
  let g: Glance;
  const created: Img[] = [];
  const get = async (url: string, tok = 'member-a') => g.app.inject({ method: 'GET', url, headers: { 'x-auth-token': tok } });
  const list = async (qs: string, tok = 'member-a') => (await get(`/v2/images${qs}`, tok)).json() as { images: Img[]; next?: string; first: string };

  before(async () => {
    g = await startGlance();
    // Like Tempest's ListUserImagesTest: container/disk format pairs, random sizes, two tags each.
    const pairs = [['bare', 'qcow2'], ['bare', 'raw'], ['bare', 'ami'], ['ami', 'qcow2'], ['ami', 'raw'], ['ami', 'ami']];
    for (const [i, [cf, df]] of pairs.entries()) {
      const img = (await g.app.inject({
        method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
        payload: JSON.stringify({ name: `list-${i}`, container_format: cf, disk_format: df, visibility: 'private', tags: [`tag-${i}`, 'common'], arch: i % 2 ? 'x86_64' : 'aarch64' }),
      })).json() as Img;
      await g.app.inject({
        method: 'PUT', url: `/v2/images/${img.id}/file`, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream' },
        payload: randomBytes(1024 + i * 300),
      });
      created.push(img);
    }
  });
  after(async () => g.close());

  void test('no params lists every image, newest first', async () => {
    const r = await list('');
    assert.deepEqual(r.images.map((i) => i.id), created.map((i) => i.id).reverse());
    assert.equal(r.first, '/v2/images');
  });

  void test('equality filters return only matching images', async () => {
    for (const [qs, key, value] of [
      ['?container_format=ami', 'container_format', 'ami'],
      ['?disk_format=raw', 'disk_format', 'raw'],
      ['?visibility=private', 'visibility', 'private'],
      ['?status=active', 'status', 'active'],
      [`?owner=${PROJECT_A}`, 'owner', PROJECT_A],
      ['?name=list-3', 'name', 'list-3'],
      ['?size=1324', 'size', 1324],
      ['?arch=x86_64', 'arch', 'x86_64'],
    ] as const) {
      const r = await list(qs);
      assert.ok(r.images.length > 0, qs);
      for (const i of r.images) assert.equal(i[key], value, qs);
    }
    assert.equal((await list('?arch=x86_64')).images.length, 3);
    assert.deepEqual((await list('?name=in:list-1,list-2')).images.map((i) => i.name).sort(), ['list-1', 'list-2']);
    assert.deepEqual((await list('?tag=tag-4')).images.map((i) => i.name), ['list-4']);
    assert.equal((await list('?tag=common&tag=tag-4')).images.length, 1);
    assert.equal((await list('?name=nothing-like-this')).images.length, 0);
  });

  void test('size_min and size_max bound the sizes', async () => {
    const r = await list('?size_min=1300&size_max=1950');
    assert.deepEqual(r.images.map((i) => i.size).sort(), [1324, 1624, 1924]);
  });

  void test('sorting by size both syntaxes', async () => {
    const sizes = (imgs: Img[]) => imgs.map((i) => i.size as number);
    const desc = sizes((await list('?sort=size:desc')).images);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    const desc2 = sizes((await list('?sort_key=size&sort_dir=desc')).images);
    assert.deepEqual(desc2, desc);
    const asc = sizes((await list('?sort=size:asc,name')).images);
    assert.deepEqual(asc, [...desc].reverse());
  });

  void test('limit and marker paginate with next links', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/v2/images?limit=2&sort_key=name&sort_dir=asc';
    while (url) {
      const r = (await get(url)).json() as { images: Img[]; next?: string };
      assert.ok(r.images.length <= 2);
      seen.push(...r.images.map((i) => i.name));
      url = r.next;
    }
    assert.deepEqual(seen, ['list-0', 'list-1', 'list-2', 'list-3', 'list-4', 'list-5']);
    assert.equal((await list('?limit=1')).images.length, 1);
  });

  void test('bad parameters are 400', async () => {
    for (const qs of ['?limit=-1', '?limit=abc', '?sort_key=bogus', '?sort_dir=up', '?sort=name&sort_key=size',
      '?visibility=everyone', '?member_status=maybe', '?os_hidden=maybe', '?size_min=abc', '?changes-since=2020-01-01', '?name=gt:x',
      '?marker=00000000-0000-0000-0000-000000000000']) {
      assert.equal((await get(`/v2/images${qs}`)).statusCode, 400, qs);
    }
  });

  void test('community images: listed only when asked for, visible by id to all', async () => {
    const c = await g.app.inject({
      method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'community-one', visibility: 'community' }),
    });
    assert.equal(c.statusCode, 201, c.body);
    const id = c.json().id as string;
    assert.ok((await list('')).images.some((i) => i.id === id), 'the owner sees its community image');
    assert.ok(!(await list('', 'member-b')).images.some((i) => i.id === id));
    assert.deepEqual((await list('?visibility=community', 'member-b')).images.map((i) => i.id), [id]);
    assert.equal((await get(`/v2/images/${id}`, 'member-b')).statusCode, 200);
    assert.equal((await g.app.inject({ method: 'DELETE', url: `/v2/images/${id}`, headers: { 'x-auth-token': 'member-b' } })).statusCode, 403);
    assert.equal((await g.app.inject({ method: 'DELETE', url: `/v2/images/${id}`, headers: { 'x-auth-token': 'member-a' } })).statusCode, 204);
  });

  void test('another project does not see private images; admin does', async () => {
    assert.equal((await list('', 'member-b')).images.length, 0);
    assert.equal((await list('', 'admin')).images.length, 6);
  });
});
