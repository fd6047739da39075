/**
 * Cinder on SQLite, MariaDB and PostgreSQL: the same migrations and flows on each engine
 * (volumes with metadata filters and paging, snapshots, attachments, quotas and usage sums,
 * service heartbeats), and racing reservations of one volume where only the status
 * compare-and-swap picks the winner.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines } from '../../conformance/db/engines.js';
import { startCinder, PROJECT_A, ADMIN_PROJECT } from '../../functional/volume/helpers.js';

const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});
const A = `/v3/${PROJECT_A}`;

for (const engine of all) {
  void describe(`cinder on ${engine.name}`, { skip: engine.skip }, () => {
    void test('volumes, snapshots, attachments, quotas, services, racing reservations', async () => {
      const c = await startCinder({ withGlance: false, databaseUrl: await engine.create() });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await c.req('POST', `${A}/volumes`, { body: { volume: { size: i + 1, name: `e-${i}`, metadata: { k: i === 1 ? 'one' : 'other' } } } });
          assert.equal(r.status, 202, JSON.stringify(r.body));
          ids.push(r.body.volume.id);
        }
        for (const id of ids) await c.waitVolume(id, 'available');
        const meta = await c.req('GET', `${A}/volumes/detail?metadata=${encodeURIComponent('{"k": "one"}')}`);
        assert.deepEqual(meta.body.volumes.map((v: any) => v.id), [ids[1]]);
        const seen: string[] = [];
        let url: string | null = `${A}/volumes?limit=2&sort=size:asc`;
        while (url) {
          const r = await c.req('GET', url);
          seen.push(...r.body.volumes.map((v: any) => v.id));
          const next = r.body.volumes_links?.[0]?.href;
          url = next ? new URL(next).pathname + new URL(next).search : null;
        }
        assert.deepEqual(seen, ids);

        const usage = await c.req('GET', `${A}/os-quota-sets/${PROJECT_A}?usage=true`);
        assert.equal(usage.body.quota_set.gigabytes.in_use, 6);
        assert.equal(usage.body.quota_set.volumes.in_use, 3);

        const snap = await c.req('POST', `${A}/snapshots`, { body: { snapshot: { volume_id: ids[0], name: 's' } } });
        assert.equal(snap.status, 202);
        await c.waitSnapshot(snap.body.snapshot.id, 'available');
        assert.equal((await c.req('GET', `${A}/limits`)).body.limits.absolute.totalGigabytesUsed, 7);

        // Ten racing reservations of one volume: exactly one wins.
        const races = await Promise.all(Array.from({ length: 10 }, () => c.req('POST', `${A}/volumes/${ids[2]}/action`, { body: { 'os-reserve': null } })));
        assert.deepEqual(races.map((r) => r.status).sort(), [202, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
        await c.req('POST', `${A}/volumes/${ids[2]}/action`, { body: { 'os-unreserve': null } });

        const att = await c.req('POST', `${A}/attachments`, { version: '3.44', body: { attachment: { volume_uuid: ids[2], instance_uuid: '8d3f6f5e-2b56-4d3c-9a8f-2f8c1b7e6a01', connector: { host: 'h' } } } });
        assert.equal(att.status, 200, JSON.stringify(att.body));
        assert.equal((await c.req('POST', `${A}/attachments/${att.body.attachment.id}/action`, { version: '3.44', body: { 'os-complete': null } })).status, 204);
        assert.equal((await c.req('GET', `${A}/volumes/${ids[2]}`)).body.volume.status, 'in-use');
        assert.equal((await c.req('DELETE', `${A}/attachments/${att.body.attachment.id}`, { version: '3.44' })).status, 200);

        const svcs = await c.req('GET', `/v3/${ADMIN_PROJECT}/os-services`, { token: 'admin' });
        assert.deepEqual(svcs.body.services.map((s: any) => `${s.binary}:${s.state}`).sort(), ['cinder-scheduler:up', 'cinder-volume:up']);

        assert.equal((await c.req('DELETE', `${A}/volumes/${ids[0]}?cascade=true`)).status, 202);
        for (const id of ids.slice(1)) assert.equal((await c.req('DELETE', `${A}/volumes/${id}`)).status, 202);
        for (const id of ids) await c.waitGone(`${A}/volumes/${id}`);
        assert.equal((await c.req('GET', `${A}/os-quota-sets/${PROJECT_A}?usage=true`)).body.quota_set.gigabytes.in_use, 0);
      } finally {
        await c.close();
      }
    });
  });
}
