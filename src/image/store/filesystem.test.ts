import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemStore } from './filesystem.js';
import { ApiError } from '../../common/errors.js';

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

void describe('FilesystemStore', () => {
  let dir: string;
  let store: FilesystemStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'glance-store-'));
    store = new FilesystemStore(path.join(dir, 'images'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  void test('add hashes on the fly and reads back whole and by range', async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const chunks = [data.subarray(0, 100_000), data.subarray(100_000, 250_000), data.subarray(250_000)];
    const id = '11111111-2222-3333-4444-555555555555';
    const s = await store.add(id, Readable.from(chunks));
    assert.equal(s.size, data.length);
    assert.equal(s.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(s.hashAlgo, 'sha512');
    assert.equal(s.hashValue, createHash('sha512').update(data).digest('hex'));
    assert.ok(s.url.startsWith('file:///'));
    assert.deepEqual(await collect(store.open(s.url)), data);
    assert.deepEqual(await collect(store.open(s.url, { start: 10, end: 19 })), data.subarray(10, 20));
    await store.delete(s.url);
    assert.equal(await store.exists(s.url), false);
  });

  void test('over the size cap is 413 and leaves no file', async () => {
    const id = '21111111-2222-3333-4444-555555555555';
    await assert.rejects(store.add(id, Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxSize: 15 }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 413);
      return true;
    });
    assert.deepEqual(await readdir(path.join(dir, 'images')), []);
  });

  void test('refuses locations outside the store', () => {
    assert.throws(() => store.open('file:///etc/passwd'), ApiError);
    assert.throws(() => store.open('http://example.com/x'), ApiError);
  });
});
