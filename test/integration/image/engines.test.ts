/**
 * Glance on SQLite, MariaDB and PostgreSQL: the same migrations and API flows on each engine
 * (booleans, timestamps, bigint sizes, NULL-safe sorting and marker paging, members, soft delete),
 * and racing uploads to one image where only the status compare-and-swap picks the winner.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { engines } from '../../conformance/db/engines.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createImageApp } from '../../../src/image/service.js';
import { PROJECT_A, PROJECT_B, testValidator } from '../../functional/image/helpers.js';

setLogDestination('/dev/null');
const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});

for (const engine of all) {
  void describe(`glance on ${engine.name}`, { skip: engine.skip }, () => {
    void test('images, data, list filters and paging, members, delete, racing uploads', async () => {
      const stateDir = await mkdtemp(path.join(tmpdir(), 'glance-engines-'));
      const database = await openDatabase(await engine.create(), { service: 'glance', poolSize: 8 });
      const app = await createImageApp({ database, stateDir, validator: testValidator });
      try {
        const call = async (method: string, url: string, body?: unknown, tok = 'member-a', ct?: string) => {
          const r = await app.inject({
            method: method as 'GET', url,
            headers: { 'x-auth-token': tok, ...(body !== undefined ? { 'content-type': ct ?? 'application/json' } : {}) },
            ...(body !== undefined ? { payload: Buffer.isBuffer(body) ? body : JSON.stringify(body) } : {}),
          });
          return { status: r.statusCode, body: r.body && r.headers['content-type']?.toString().includes('json') ? r.json() : r.body };
        };
        // A second app on the same database finds the schema in place.
        await (await createImageApp({ database, stateDir, validator: testValidator })).close();

        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const c = await call('POST', '/v2/images', { name: i === 2 ? null : `e-${i}`, container_format: 'bare', disk_format: 'raw', tags: [`t${i}`], idx: String(i), protected: i === 4 });
          assert.equal(c.status, 201, JSON.stringify(c.body));
          assert.equal(c.body.protected, i === 4);
          ids.push(c.body.id);
          if (i % 2 === 0) {
            const up = await call('PUT', `/v2/images/${c.body.id}/file`, randomBytes(100 * (i + 1)), 'member-a', 'application/octet-stream');
            assert.equal(up.status, 204);
          }
        }
        const img0 = (await call('GET', `/v2/images/${ids[0]}`)).body;
        assert.equal(img0.size, 100);
        assert.equal(typeof img0.size, 'number');
        assert.equal(img0.os_hidden, false);
        assert.match(img0.created_at, /Z$/);

        // NULL names and sizes sort like '' and 0; marker paging visits every image once, in order.
        for (const sort of ['name:asc', 'name:desc', 'size:asc', 'size:desc', 'created_at:asc']) {
          const seen: string[] = [];
          let url: string | undefined = `/v2/images?limit=2&sort=${sort}`;
          while (url) {
            const r = await call('GET', url);
            assert.equal(r.status, 200);
            seen.push(...r.body.images.map((x: { id: string }) => x.id));
            url = r.body.next;
          }
          assert.equal(seen.length, 5, sort);
          assert.equal(new Set(seen).size, 5, sort);
        }
        assert.equal((await call('GET', '/v2/images?size_min=200&status=active')).body.images.length, 2);
        assert.equal((await call('GET', '/v2/images?idx=3')).body.images[0].id, ids[3]);
        assert.equal((await call('GET', '/v2/images?tag=t1')).body.images[0].id, ids[1]);
        assert.equal((await call('GET', '/v2/images?protected=true')).body.images[0].id, ids[4]);
        assert.equal((await call('GET', `/v2/images?created_at=gte:2000-01-01T00:00:00Z`)).body.images.length, 5);

        // Share with B, B accepts, B lists it.
        assert.equal((await call('POST', `/v2/images/${ids[1]}/members`, { member: PROJECT_B })).status, 200);
        assert.equal((await call('PUT', `/v2/images/${ids[1]}/members/${PROJECT_B}`, { status: 'accepted' }, 'member-b')).status, 200);
        assert.deepEqual((await call('GET', '/v2/images', undefined, 'member-b')).body.images.map((x: { id: string }) => x.id), [ids[1]]);

        // Two uploads race for one queued image: exactly one wins, the other is a 409.
        const racer = (await call('POST', '/v2/images', { name: 'race', container_format: 'bare', disk_format: 'raw' })).body.id;
        const results = await Promise.all([1, 2, 3].map(() => call('PUT', `/v2/images/${racer}/file`, randomBytes(2048), 'member-a', 'application/octet-stream')));
        assert.deepEqual(results.map((r) => r.status).sort(), [204, 409, 409]);
        assert.equal((await call('GET', `/v2/images/${racer}`)).body.status, 'active');

        // Soft delete: gone from API, row kept with deleted set.
        assert.equal((await call('DELETE', `/v2/images/${ids[0]}`)).status, 204);
        assert.equal((await call('GET', `/v2/images/${ids[0]}`)).status, 404);
        const row = await database.db.selectFrom('images').select(['status', 'deleted']).where('id', '=', ids[0]).executeTakeFirst();
        assert.deepEqual(row, { status: 'deleted', deleted: true });
        assert.equal((await call('GET', '/v2/images', undefined, 'admin')).body.images.every((x: { owner: string }) => x.owner === PROJECT_A), true);
      } finally {
        await app.close();
        await database.close();
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  });
}
