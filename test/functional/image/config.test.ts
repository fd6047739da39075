import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigOpts } from '../../../src/common/config/index.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { createImageApp } from '../../../src/image/service.js';
import { testValidator } from './helpers.js';

void test('glance-api.conf sets the store directory, size cap and public endpoint', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'glance-conf-'));
  const datadir = path.join(dir, 'store');
  const file = path.join(dir, 'glance-api.conf');
  await writeFile(file, `[DEFAULT]\nimage_size_cap = 10\npublic_endpoint = http://glance.example:9292\n\n[glance_store]\nfilesystem_store_datadir = ${datadir}\n`);
  const conf = new ConfigOpts({});
  conf.load({ configFiles: [file] });
  const database = await openDatabase('sqlite://', { service: 'glance' });
  const app = await createImageApp({ database, stateDir: path.join(dir, 'state'), validator: testValidator, config: conf });
  try {
    const v = await app.inject({ method: 'GET', url: '/versions' });
    assert.equal(v.json().versions[0].links[0].href, 'http://glance.example:9292/v2/');
    const id = (await app.inject({
      method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'c', disk_format: 'raw', container_format: 'bare' }),
    })).json().id as string;
    const put = (n: number) => app.inject({
      method: 'PUT', url: `/v2/images/${id}/file`, headers: { 'x-auth-token': 'member-a', 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(n, 1),
    });
    assert.equal((await put(11)).statusCode, 413);
    assert.equal((await put(10)).statusCode, 204);
    assert.ok((await readdir(datadir)).includes(id));
  } finally {
    await app.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
