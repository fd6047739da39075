import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../src/common/db/index.js';
import { createImageApp } from '../../../src/image/service.js';
import { testValidator } from './helpers.js';

void test('a restart finishes interrupted imports and requeues interrupted uploads', async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'glance-recovery-'));
  const url = `sqlite:///${path.join(stateDir, 'glance.db')}`;
  try {
    let database = await openDatabase(url, { service: 'glance' });
    let app = await createImageApp({ database, stateDir, validator: testValidator });
    const create = async (name: string) =>
      (await app.inject({
        method: 'POST', url: '/v2/images', headers: { 'x-auth-token': 'member-a', 'content-type': 'application/json' },
        payload: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
      })).json().id as string;
    const saving = await create('was-saving');
    const importing = await create('was-importing');
    const lost = await create('import-lost-its-data');
    // What a crash mid-upload / mid-import leaves behind.
    await database.db.updateTable('images').set({ status: 'saving' }).where('id', '=', saving).execute();
    await database.db.updateTable('images').set({ status: 'importing', size: 5 }).where('id', 'in', [importing, lost]).execute();
    await mkdir(path.join(stateDir, 'images', 'staging'), { recursive: true });
    await writeFile(path.join(stateDir, 'images', 'staging', importing), 'hello');
    await app.close();
    await database.close();

    database = await openDatabase(url, { service: 'glance' });
    app = await createImageApp({ database, stateDir, validator: testValidator });
    const show = async (id: string) => (await app.inject({ method: 'GET', url: `/v2/images/${id}`, headers: { 'x-auth-token': 'member-a' } })).json();
    let status = '';
    for (let i = 0; i < 100 && status !== 'active'; i++) {
      status = (await show(importing)).status;
      if (status !== 'active') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'active');
    assert.equal((await show(importing)).size, 5);
    assert.equal((await show(saving)).status, 'queued');
    assert.equal((await show(lost)).status, 'queued');
    await app.close();
    await database.close();
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
