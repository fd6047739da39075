import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeBootableDiskImage } from './default-image.js';

void test('the default disk is a sparse raw image with a valid MBR', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'glance-disk-'));
  try {
    const file = path.join(dir, 'disk.img');
    await writeBootableDiskImage(file, { sizeMiB: 4, banner: 'hello' });
    const st = await stat(file);
    assert.equal(st.size, 4 * 1024 * 1024);
    assert.ok(st.blocks * 512 < st.size, 'sparse');
    const fh = await open(file);
    const mbr = Buffer.alloc(512);
    await fh.read(mbr, 0, 512, 0);
    await fh.close();
    assert.equal(mbr[510], 0x55);
    assert.equal(mbr[511], 0xaa);
    assert.equal(mbr[446], 0x80, 'bootable flag');
    assert.equal(mbr[450], 0x83, 'Linux partition');
    assert.equal(mbr.readUInt32LE(454), 2048);
    assert.equal(mbr.readUInt32LE(458), 4 * 2048 - 2048);
    assert.ok(mbr.includes(Buffer.from('hello')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
