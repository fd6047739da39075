/**
 * Live migration with the fake driver (os-migrateLive): the server moves while ACTIVE, the
 * migration record goes accepted -> queued -> preparing -> running -> completed, Placement ends
 * with one allocation on the destination; force_complete (2.22) ends a long copy, abort (2.24)
 * rolls it back to the source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSpanSink, type Span } from '../../../../src/common/journey/span.js';
import { setFakeLiveMigrationDuration } from '../../../../src/compute/manager/migrate-live.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };
const MV = (v: string) => ({ 'X-OpenStack-Nova-API-Version': v });

async function boot(demo: Client, admin: Client, name: string): Promise<{ id: string; host: string }> {
  const { imageRef, networkId } = await bootArgs(demo);
  const r = await demo.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.server.id as string;
  await waitForStatus(demo, id, 'ACTIVE');
  return { id, host: (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] };
}

async function allocationsOf(admin: Client, consumer: string): Promise<string[]> {
  return Object.keys((await admin.call('GET', 'placement', `/allocations/${consumer}`, undefined, PLACEMENT)).body.allocations);
}

async function rpUuid(admin: Client, name: string): Promise<string> {
  return (await admin.call('GET', 'placement', `/resource_providers?name=${name}`, undefined, PLACEMENT)).body.resource_providers[0].uuid;
}

async function runningMigration(admin: Client, id: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const r = await admin.call('GET', 'compute', `/servers/${id}/migrations`, undefined, MV('2.24'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const m = r.body.migrations.find((x: any) => x.status === 'running');
    if (m) return m;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail('no running live migration showed up');
}

test('live migration: moves an ACTIVE server; errors; force_complete; abort', async () => {
  const notes: string[] = [];
  const remove = addSpanSink({ write: (x: Span) => { if (x.kind === 'notification') notes.push(x.name); } });
  try {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { id, host: source } = await boot(demo, admin, 'lm1');
    const dest = cloud.computeHosts.find((h) => h !== source)!;

    // refusals: not admin 403, unknown host 400, the current host 400, bad body 400.
    let r = await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, MV('2.25'));
    assert.equal(r.status, 403);
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: 'nohost', block_migration: 'auto' } }, MV('2.25'));
    assert.equal(r.status, 400);
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: source, block_migration: 'auto' } }, MV('2.25'));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    await waitForStatus(admin, id, 'ACTIVE');
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: null } }, MV('2.25'));
    assert.equal(r.status, 400);

    // 2.1 body: the scheduler picks the other host.
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], dest);
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    // The destination makes the server ACTIVE; the source then marks the migration completed.
    let migs: any[] = [];
    for (let i = 0; i < 100 && !migs.some((m) => m.status === 'completed'); i++) {
      migs = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`, undefined, MV('2.23'))).body.migrations;
      if (!migs.some((m) => m.status === 'completed')) await new Promise((res) => setTimeout(res, 50));
    }
    const done = migs.find((m: any) => m.status === 'completed');
    assert.equal(done.migration_type, 'live-migration');
    assert.equal(done.source_compute, source);
    assert.equal(done.dest_compute, dest);
    assert.equal(migs.filter((m: any) => m.status === 'error').length, 1, 'the refused move to the current host left an error record');
    assert.deepEqual(await allocationsOf(admin, id), [await rpUuid(admin, dest)]);
    const usage = (await admin.call('GET', 'placement', `/resource_providers/${await rpUuid(admin, source)}/usages`, undefined, PLACEMENT)).body.usages;
    assert.equal(usage.MEMORY_MB, 0);
    const ports = (await admin.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports;
    assert.equal(ports[0]['binding:host_id'], dest);
    const actions = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions`)).body.instanceActions;
    const lm = actions.find((a: any) => a.action === 'live-migration' && a.request_id === r.headers.get('x-compute-request-id'));
    const events = (await admin.call('GET', 'compute', `/servers/${id}/os-instance-actions/${lm.request_id}`)).body.instanceAction.events.map((e: any) => e.event).sort();
    for (const e of ['compute_check_can_live_migrate_destination', 'compute_check_can_live_migrate_source', 'compute_live_migration', 'compute_pre_live_migration', 'compute_post_live_migration_at_destination', 'conductor_migrate_server']) {
      assert.ok(events.includes(e), `${e} in ${events.join(',')}`);
    }

    // A slow copy ended by force_complete (back to the first host).
    setFakeLiveMigrationDuration(dest, 20_000);
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: source, block_migration: 'auto' } }, MV('2.25'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const running = await runningMigration(admin, id);
    assert.equal(running.server_uuid, id);
    assert.ok(running.memory_total_bytes > 0);
    assert.equal((await admin.call('GET', 'compute', `/servers/${id}`)).body.server.status, 'MIGRATING');
    r = await admin.call('POST', 'compute', `/servers/${id}/migrations/${running.id}/action`, { force_complete: null }, MV('2.22'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const back = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], source);

    // A slow copy aborted: the server stays where it was, the migration is cancelled.
    setFakeLiveMigrationDuration(source, 20_000);
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, MV('2.25'));
    assert.equal(r.status, 202);
    const run2 = await runningMigration(admin, id);
    r = await admin.call('DELETE', 'compute', `/servers/${id}/migrations/${run2.id}`, undefined, MV('2.24'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const stay = await waitForStatus(admin, id, 'ACTIVE');
    assert.equal(stay['OS-EXT-SRV-ATTR:host'], source);
    const cancelled = (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations.find((m: any) => m.id === run2.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await allocationsOf(admin, id), [await rpUuid(admin, source)]);
    const destUsage = (await admin.call('GET', 'placement', `/resource_providers/${await rpUuid(admin, dest)}/usages`, undefined, PLACEMENT)).body.usages;
    assert.equal(destUsage.MEMORY_MB, 0);
    // Aborting something finished is refused (the server is no longer `migrating`).
    r = await admin.call('DELETE', 'compute', `/servers/${id}/migrations/${run2.id}`, undefined, MV('2.24'));
    assert.equal(r.status, 409);
    setFakeLiveMigrationDuration(source, 0);
    setFakeLiveMigrationDuration(dest, 0);
    for (const n of ['instance.live_migration_pre.start', 'instance.live_migration_post.end', 'instance.live_migration_post_dest.end', 'instance.live_migration_force_complete.end',
      'instance.live_migration_abort.start', 'instance.live_migration_rollback.end', 'compute.instance.live_migration._post.end', 'compute.instance.live_migration.post.dest.end']) {
      assert.ok(notes.includes(n), n);
    }
  });
  } finally {
    remove();
  }
});
