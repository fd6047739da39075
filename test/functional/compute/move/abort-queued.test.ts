/**
 * 2.65: a live migration still `queued` on its source (behind another one: Nova's
 * `max_concurrent_live_migrations` is 1) can be aborted; before 2.65 only `running` ones can.
 * The aborted one is `cancelled`, its server stays ACTIVE on the source with its allocation
 * back; the running one goes on to complete. 2.68: no `force` in os-migrateLive / evacuate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { setFakeLiveMigrationDuration } from '../../../../src/compute/manager/migrate-live.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';

raiseMicroversionCeilingForTests('2.92');
const MV = (v: string) => ({ 'X-OpenStack-Nova-API-Version': v });
const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };

async function migrationIn(admin: Client, id: string, status: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const r = await admin.call('GET', 'compute', `/servers/${id}/migrations`, undefined, MV('2.80'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const m = r.body.migrations.find((x: any) => x.status === status);
    if (m) return m;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`no ${status} live migration of ${id}`);
}

test('abort a queued live migration (2.65), not before', async () => {
  await withCloud(2, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const [source, dest] = cloud.computeHosts as [string, string];
    const { imageRef, networkId } = await bootArgs(admin);
    const ids: string[] = [];
    for (const name of ['q1', 'q2']) {
      const r = await admin.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }], availability_zone: `nova:${source}` } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.server.id);
    }
    for (const id of ids) await waitForStatus(admin, id, 'ACTIVE');
    const [first, second] = ids as [string, string];

    // 2.68 removed `force` from os-migrateLive and evacuate (a 400 now, refused before anything moves).
    for (const body of [{ 'os-migrateLive': { host: dest, block_migration: 'auto', force: false } }, { evacuate: { host: dest, force: false } }]) {
      const r = await admin.call('POST', 'compute', `/servers/${first}/action`, body, MV('2.68'));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.badRequest.message, /Additional properties are not allowed \('force' was unexpected\)/);
    }
    const ok = await admin.call('POST', 'compute', `/servers/${first}/action`, { evacuate: { host: dest, force: false } }, MV('2.67'));
    assert.equal(ok.status, 400, 'at 2.67 force is accepted; the source being up is what is refused');
    assert.match(ok.body.badRequest.message, /is still in use/);

    setFakeLiveMigrationDuration(source, 20_000);
    try {
      for (const id of ids) {
        const r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: dest, block_migration: 'auto' } }, MV('2.68'));
        assert.equal(r.status, 202, JSON.stringify(r.body));
      }
      const running = await migrationIn(admin, first, 'running');
      const queued = await migrationIn(admin, second, 'queued');
      assert.equal(queued.dest_compute, dest);
      assert.equal(typeof queued.uuid, 'string');

      // Before 2.65 a queued migration cannot be aborted.
      let r = await admin.call('DELETE', 'compute', `/servers/${second}/migrations/${queued.id}`, undefined, MV('2.64'));
      assert.equal(r.status, 400);
      assert.equal(r.body.badRequest.message, `Migration ${queued.id} state of instance ${second} is queued. Cannot abort live migration while the migration is in this state.`);
      r = await admin.call('DELETE', 'compute', `/servers/${second}/migrations/${queued.id}`, undefined, MV('2.65'));
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const back = await waitForStatus(admin, second, 'ACTIVE');
      assert.equal(back['OS-EXT-SRV-ATTR:host'], source);
      const mig = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${second}`, undefined, MV('2.59'))).body.migrations[0];
      assert.equal(mig.uuid, queued.uuid);
      assert.equal(mig.status, 'cancelled');
      const allocs = (await admin.call('GET', 'placement', `/allocations/${second}`, undefined, PLACEMENT)).body.allocations;
      const sourceRp = (await admin.call('GET', 'placement', `/resource_providers?name=${source}`, undefined, PLACEMENT)).body.resource_providers[0].uuid;
      assert.deepEqual(Object.keys(allocs), [sourceRp]);
      assert.deepEqual((await admin.call('GET', 'placement', `/allocations/${mig.uuid}`, undefined, PLACEMENT)).body.allocations, {});
      // Aborting it again: the server is no longer migrating (409).
      r = await admin.call('DELETE', 'compute', `/servers/${second}/migrations/${queued.id}`, undefined, MV('2.65'));
      assert.equal(r.status, 409);

      // The running one still moves (force it to complete).
      r = await admin.call('POST', 'compute', `/servers/${first}/migrations/${running.id}/action`, { force_complete: null }, MV('2.22'));
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const moved = await waitForStatus(admin, first, 'ACTIVE');
      assert.equal(moved['OS-EXT-SRV-ATTR:host'], dest);
    } finally {
      setFakeLiveMigrationDuration(source, 0);
    }
  });
});
