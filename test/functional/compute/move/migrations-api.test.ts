/**
 * The move API's microversions 2.56 .. 2.80: cold migrate to a named host (2.56), GET
 * /os-migrations paging by uuid marker with next links, changes-since (2.59), changes-before
 * (2.66), user_id / project_id fields and filters (2.80), and the 400 for unknown query
 * parameters from 2.59. Every list validates against Tempest's schema for its version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const MV = (v: string) => ({ 'X-OpenStack-Nova-API-Version': v });

async function boot(demo: Client, name: string): Promise<string> {
  const { imageRef, networkId } = await bootArgs(demo);
  const r = await demo.call('POST', 'compute', '/servers', { server: { name, imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitForStatus(demo, r.body.server.id, 'ACTIVE');
  return r.body.server.id;
}

async function hostOf(admin: Client, id: string): Promise<string> {
  return (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
}

/** Cold-migrates `id` (body as given, at version v) and confirms; returns the new host. */
async function migrateAndConfirm(admin: Client, id: string, body: unknown, v: string): Promise<string> {
  const r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: body }, MV(v));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitForStatus(admin, id, 'VERIFY_RESIZE');
  const c = await admin.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null });
  assert.equal(c.status, 204, JSON.stringify(c.body));
  await waitForStatus(admin, id, 'ACTIVE');
  return hostOf(admin, id);
}

test('migrate with host (2.56), os-migrations paging (2.59), changes-before (2.66), user/project (2.80)', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const id = await boot(demo, 'mv1');
    const source = await hostOf(admin, id);
    const other = cloud.computeHosts.find((h) => h !== source)!;

    // 2.56: a host is a requested destination; the current host and unknown hosts are 400s.
    let r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: { host: source } }, MV('2.56'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Cannot migrate to the host where the server exists.');
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: { host: 'nosuchhost' } }, MV('2.56'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Compute host nosuchhost could not be found.');
    r = await admin.call('POST', 'compute', `/servers/${id}/action`, { migrate: { host: other, force: true } }, MV('2.56'));
    assert.equal(r.status, 400, 'no other properties');
    r = await demo.call('POST', 'compute', `/servers/${id}/action`, { migrate: { host: other } }, MV('2.56'));
    assert.equal(r.status, 403);
    assert.equal(await migrateAndConfirm(admin, id, { host: other }, '2.56'), other);
    // host null: the scheduler chooses (the only other host).
    assert.equal(await migrateAndConfirm(admin, id, { host: null }, '2.56'), source);
    // Before 2.56 the body is not validated nor read ({} is what Tempest sends).
    assert.equal(await migrateAndConfirm(admin, id, {}, '2.1'), other);

    // Versions of the list, each against Tempest's schema.
    for (const [v, key] of [['2.1', 'v2_1'], ['2.23', 'v2_23'], ['2.59', 'v2_59'], ['2.80', 'v2_80']] as const) {
      r = await admin.call('GET', 'compute', '/os-migrations', undefined, MV(v));
      assertTempest(`${key}/migrations.list_migrations`, r);
      assert.equal(r.body.migrations.length, 3);
      assert.equal('uuid' in r.body.migrations[0], v >= '2.59');
      assert.equal('user_id' in r.body.migrations[0], v === '2.80');
    }
    const all = r.body.migrations;
    // Newest first (created_at desc, id desc).
    assert.deepEqual(all.map((m: any) => m.dest_compute), [other, source, other]);
    const adminProject = (await admin.call('GET', 'identity', '/auth/projects')).body.projects.find((p: any) => p.name === 'admin').id;
    assert.ok(all.every((m: any) => m.project_id === adminProject && typeof m.user_id === 'string'));

    // 2.59 paging: limit + next link carrying the other query parameters, marker = last uuid.
    r = await admin.call('GET', 'compute', `/os-migrations?limit=2&instance_uuid=${id}`, undefined, MV('2.59'));
    // Tempest's schema has no migrations_links (its tests never page); Nova's own schema does.
    assertTempest('v2_59/migrations.list_migrations', { status: r.status, body: { migrations: r.body.migrations } });
    assert.deepEqual(r.body.migrations.map((m: any) => m.uuid), [all[0].uuid, all[1].uuid]);
    const next = new URL(r.body.migrations_links[0].href);
    assert.equal(r.body.migrations_links[0].rel, 'next');
    assert.equal(next.pathname.endsWith('/os-migrations'), true);
    assert.equal(next.searchParams.get('marker'), all[1].uuid);
    assert.equal(next.searchParams.get('limit'), '2');
    assert.equal(next.searchParams.get('instance_uuid'), id);
    r = await admin.call('GET', 'compute', `/os-migrations${next.search}`, undefined, MV('2.59'));
    assert.deepEqual(r.body.migrations.map((m: any) => m.uuid), [all[2].uuid]);
    assert.equal(r.body.migrations_links, undefined, 'a page that is not full has no next link');
    r = await admin.call('GET', 'compute', `/os-migrations?marker=${all[2].uuid}`, undefined, MV('2.59'));
    assert.deepEqual(r.body.migrations, []);
    r = await admin.call('GET', 'compute', '/os-migrations?limit=0', undefined, MV('2.59'));
    assert.deepEqual(r.body.migrations, []);
    // A marker that is no migration: 400 (MarkerNotFound); bad limits and unknown params: 400.
    r = await admin.call('GET', 'compute', '/os-migrations?marker=00000000-0000-0000-0000-000000000000', undefined, MV('2.59'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Marker 00000000-0000-0000-0000-000000000000 could not be found.');
    for (const bad of ['limit=-1', 'limit=x', 'limit=1&limit=2', 'foo=bar', 'changes-since=notadate', 'changes-before=2020-01-01T00:00:00Z', 'user_id=x']) {
      r = await admin.call('GET', 'compute', `/os-migrations?${bad}`, undefined, MV('2.59'));
      assert.equal(r.status, 400, `${bad} at 2.59`);
    }
    r = await admin.call('GET', 'compute', '/os-migrations?foo=bar', undefined, MV('2.58'));
    assert.equal(r.status, 200, 'unknown parameters are ignored before 2.59');

    // changes-since (2.59) / changes-before (2.66) on updated_at.
    const mid = all[1].updated_at;
    r = await admin.call('GET', 'compute', `/os-migrations?changes-since=${mid}Z`, undefined, MV('2.59'));
    assert.deepEqual(r.body.migrations.map((m: any) => m.uuid), [all[0].uuid, all[1].uuid]);
    r = await admin.call('GET', 'compute', `/os-migrations?changes-before=${mid}Z`, undefined, MV('2.66'));
    assertTempest('v2_59/migrations.list_migrations', r);
    assert.deepEqual(r.body.migrations.map((m: any) => m.uuid), [all[1].uuid, all[2].uuid]);
    r = await admin.call('GET', 'compute', `/os-migrations?changes-since=${mid}Z&changes-before=2000-01-01T00:00:00Z`, undefined, MV('2.66'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'The value of changes-since must be less than or equal to changes-before.');

    // 2.80 filters.
    r = await admin.call('GET', 'compute', `/os-migrations?project_id=${adminProject}`, undefined, MV('2.80'));
    assert.equal(r.body.migrations.length, 3);
    r = await admin.call('GET', 'compute', '/os-migrations?project_id=nobody', undefined, MV('2.80'));
    assert.deepEqual(r.body.migrations, []);
    r = await admin.call('GET', 'compute', `/os-migrations?user_id=${all[0].user_id}`, undefined, MV('2.80'));
    assertTempest('v2_80/migrations.list_migrations', r);
    assert.equal(r.body.migrations.length, 3);
    r = await admin.call('GET', 'compute', '/os-migrations?user_id=nobody', undefined, MV('2.80'));
    assert.deepEqual(r.body.migrations, []);
  });
});
