/**
 * Cinder volumes end to end in one process: REST -> scheduler -> volume manager -> file driver.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { startCinder, PROJECT_A, ADMIN_PROJECT, type Cinder } from './helpers.js';

const A = `/v3/${PROJECT_A}`;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let c: Cinder;

before(async () => {
  c = await startCinder({ withGlance: false });
});
after(async () => {
  await c?.close();
});

async function createVolume(body: Record<string, unknown>, token?: string): Promise<any> {
  const r = await c.req('POST', `${A}/volumes`, { body: { volume: body }, ...(token ? { token } : {}) });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.volume;
}

void describe('versions and discovery', () => {
  void test('GET / is a 300 version list with v3.0 and the microversion range', async () => {
    const r = await c.app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 300);
    const v = JSON.parse(r.body).versions[0];
    assert.equal(v.id, 'v3.0');
    assert.equal(v.min_version, '3.0');
    assert.equal(v.version, '3.44');
    assert.equal(v.status, 'CURRENT');
    assert.ok(v['media-types'][0].type.includes('volume+json'));
  });

  void test('microversion above the maximum is refused with 406', async () => {
    const r = await c.req('GET', `${A}/volumes`, { version: '3.99' });
    assert.equal(r.status, 406);
  });

  void test('extensions, availability zones, limits', async () => {
    const ext = await c.req('GET', `${A}/extensions`);
    assert.equal(ext.status, 200);
    assert.ok(ext.body.extensions.some((e: any) => e.alias === 'os-volume-actions'));
    for (const e of ext.body.extensions) assert.deepEqual(Object.keys(e).sort(), ['alias', 'description', 'links', 'name', 'updated']);
    const az = await c.req('GET', `${A}/os-availability-zone`);
    assert.deepEqual(az.body, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
    const lim = await c.req('GET', `${A}/limits`);
    assert.equal(lim.body.limits.absolute.maxTotalVolumes, 10);
    assert.deepEqual(lim.body.limits.rate, []);
  });

  void test('services: cinder-scheduler and cinder-volume are up (admin only)', async () => {
    const r = await c.req('GET', `/v3/${ADMIN_PROJECT}/os-services`, { token: 'admin' });
    assert.equal(r.status, 200);
    const byBinary = Object.fromEntries(r.body.services.map((s: any) => [s.binary, s]));
    assert.equal(byBinary['cinder-volume'].host, 'vol1@lvmdriver-1');
    assert.equal(byBinary['cinder-volume'].state, 'up');
    assert.equal(byBinary['cinder-scheduler'].state, 'up');
    assert.equal((await c.req('GET', `${A}/os-services`)).status, 403);
    const pools = await c.req('GET', `/v3/${ADMIN_PROJECT}/scheduler-stats/get_pools?detail=true`, { token: 'admin' });
    assert.equal(pools.body.pools[0]?.name, 'vol1@lvmdriver-1#lvmdriver-1', JSON.stringify(pools.body));
    assert.equal(pools.body.pools[0].capabilities.volume_backend_name, 'lvmdriver-1');
    assert.ok(pools.body.pools[0].capabilities.total_capacity_gb > 0);
    const caps = await c.req('GET', `/v3/${ADMIN_PROJECT}/capabilities/vol1@lvmdriver-1`, { token: 'admin' });
    assert.equal(caps.body.namespace, 'OS::Storage::Capabilities::vol1@lvmdriver-1');
    assert.equal((await c.req('GET', `/v3/${ADMIN_PROJECT}/capabilities/nope`, { token: 'admin' })).status, 404);
    const off = await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-services/disable-log-reason`, { token: 'admin', body: { host: 'vol1@lvmdriver-1', binary: 'cinder-volume', disabled_reason: 'maintenance' } });
    assert.equal(off.status, 200);
    assert.equal(off.body.status, 'disabled');
    const listed = await c.req('GET', `/v3/${ADMIN_PROJECT}/os-services?binary=cinder-volume`, { token: 'admin' });
    assert.equal(listed.body.services[0].disabled_reason, 'maintenance');
    assert.equal((await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-services/disable-log-reason`, { token: 'admin', body: { host: 'vol1@lvmdriver-1', binary: 'cinder-volume', disabled_reason: null } })).status, 400);
    assert.equal((await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-services/enable`, { token: 'admin', body: { host: 'nope', binary: 'cinder-volume' } })).status, 404);
    assert.equal((await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-services/enable`, { token: 'admin', body: { host: 'vol1@lvmdriver-1', binary: 'cinder-volume' } })).body.status, 'enabled');
  });

  void test('volume types: the default type, admin create with extra specs, non-admin refused', async () => {
    const def = await c.req('GET', `${A}/types/default`);
    assert.equal(def.status, 200);
    assert.equal(def.body.volume_type.name, 'lvmdriver-1');
    const list = await c.req('GET', `${A}/types`);
    assert.deepEqual(list.body.volume_types.map((t: any) => t.name).sort(), ['__DEFAULT__', 'lvmdriver-1']);
    const created = await c.req('POST', `/v3/${ADMIN_PROJECT}/types`, { token: 'admin', body: { volume_type: { name: 'gold', extra_specs: { tier: 'gold' } } } });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body.volume_type.extra_specs, { tier: 'gold' });
    assert.equal(created.body.volume_type['os-volume-type-access:is_public'], true);
    const dup = await c.req('POST', `/v3/${ADMIN_PROJECT}/types`, { token: 'admin', body: { volume_type: { name: 'gold' } } });
    assert.equal(dup.status, 409);
    const denied = await c.req('POST', `${A}/types`, { body: { volume_type: { name: 'x' } } });
    assert.equal(denied.status, 403);
    assert.match(denied.body.forbidden.message, /types_manage/);
    const id = created.body.volume_type.id;
    // retype onto it (same backend, no migration), and a type pinned to a backend nobody has fails to schedule
    const rv = await createVolume({ size: 1 });
    await c.waitVolume(rv.id, 'available');
    assert.equal((await c.req('POST', `${A}/volumes/${rv.id}/action`, { body: { 'os-retype': { new_type: 'gold', migration_policy: 'never' } } })).status, 202);
    assert.equal((await c.req('GET', `${A}/volumes/${rv.id}`)).body.volume.volume_type, 'gold');
    await c.req('DELETE', `${A}/volumes/${rv.id}`);
    await c.waitGone(`${A}/volumes/${rv.id}`);
    const pinned = (await c.req('POST', `/v3/${ADMIN_PROJECT}/types`, { token: 'admin', body: { volume_type: { name: 'elsewhere', extra_specs: { volume_backend_name: 'no-such-backend' } } } })).body.volume_type;
    const pv = await createVolume({ size: 1, volume_type: 'elsewhere' });
    await c.waitVolume(pv.id, 'error');
    await c.req('DELETE', `${A}/volumes/${pv.id}`);
    await c.waitGone(`${A}/volumes/${pv.id}`);
    await c.req('DELETE', `/v3/${ADMIN_PROJECT}/types/${pinned.id}`, { token: 'admin' });
    const spec = await c.req('PUT', `/v3/${ADMIN_PROJECT}/types/${id}/extra_specs/tier`, { token: 'admin', body: { tier: 'silver' } });
    assert.deepEqual(spec.body, { tier: 'silver' });
    assert.equal((await c.req('POST', `/v3/${ADMIN_PROJECT}/types/${id}/extra_specs`, { token: 'admin', body: { extra_specs: ['invalid'] } })).status, 400);
    assert.equal((await c.req('DELETE', `/v3/${ADMIN_PROJECT}/types/${id}`, { token: 'admin' })).status, 202);

    // A private type is visible to the projects given access only.
    const priv = (await c.req('POST', `/v3/${ADMIN_PROJECT}/types`, { token: 'admin', body: { volume_type: { name: 'private', 'os-volume-type-access:is_public': false } } })).body.volume_type;
    assert.equal((await c.req('GET', `${A}/types/${priv.id}`)).status, 404);
    const add = await c.req('POST', `/v3/${ADMIN_PROJECT}/types/${priv.id}/action`, { token: 'admin', body: { addProjectAccess: { project: PROJECT_A } } });
    assert.equal(add.status, 202);
    assert.equal((await c.req('GET', `${A}/types/${priv.id}`)).status, 200);
    const access = await c.req('GET', `/v3/${ADMIN_PROJECT}/types/${priv.id}/os-volume-type-access`, { token: 'admin' });
    assert.deepEqual(access.body.volume_type_access, [{ volume_type_id: priv.id, project_id: PROJECT_A }]);
    await c.req('POST', `/v3/${ADMIN_PROJECT}/types/${priv.id}/action`, { token: 'admin', body: { removeProjectAccess: { project: PROJECT_A } } });
    assert.equal((await c.req('GET', `${A}/types/${priv.id}`)).status, 404);
    await c.req('DELETE', `/v3/${ADMIN_PROJECT}/types/${priv.id}`, { token: 'admin' });
    assert.equal((await c.req('GET', `/v3/${ADMIN_PROJECT}/types/${id}`, { token: 'admin' })).status, 404);
  });
});

void describe('volume lifecycle', () => {
  void test('create -> available with a sparse file of the real size; show, update, delete', async () => {
    const v = await createVolume({ size: 1, name: 'v1', description: 'first', metadata: { a: 'b' } });
    assert.equal(v.status, 'creating');
    assert.match(v.id, UUID_RE);
    assert.equal(v.volume_type, 'lvmdriver-1');
    assert.equal(v.bootable, 'false');
    assert.deepEqual(v.attachments, []);
    assert.equal(v['os-vol-tenant-attr:tenant_id'], undefined, 'create has no extension attributes');
    const shown = await c.waitVolume(v.id, 'available');
    assert.equal(shown.size, 1);
    assert.equal(shown.availability_zone, 'nova');
    assert.equal(shown['os-vol-tenant-attr:tenant_id'], PROJECT_A);
    assert.equal(shown['os-vol-host-attr:host'], undefined, 'host is admin-only');
    const admin = await c.req('GET', `/v3/${ADMIN_PROJECT}/volumes/${v.id}`, { token: 'admin' });
    assert.equal(admin.body.volume['os-vol-host-attr:host'], 'vol1@lvmdriver-1#lvmdriver-1');
    const file = path.join(c.stateDir, 'volumes', `volume-${v.id}`);
    const st = await stat(file);
    assert.equal(st.size, 1024 ** 3);
    assert.ok(st.blocks * 512 < 1024 * 1024, 'sparse');

    const upd = await c.req('PUT', `${A}/volumes/${v.id}`, { body: { volume: { name: 'v1-renamed', description: null } } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.volume.name, 'v1-renamed');
    assert.equal(upd.body.volume.description, null);

    const del = await c.req('DELETE', `${A}/volumes/${v.id}`);
    assert.equal(del.status, 202);
    await c.waitGone(`${A}/volumes/${v.id}`);
    await assert.rejects(stat(file));
  });

  void test('readers read, members write', async () => {
    const v = await createVolume({ size: 1, name: 'read-me' });
    assert.equal((await c.req('GET', `${A}/volumes/${v.id}`, { token: 'reader-a' })).status, 200);
    const denied = await c.req('POST', `${A}/volumes`, { token: 'reader-a', body: { volume: { size: 1 } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.forbidden.message, "Policy doesn't allow volume:create to be performed.");
    assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}`, { token: 'reader-a' })).status, 403);
    await c.waitVolume(v.id, 'available');
    assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}`)).status, 202);
  });

  void test('volume transfer to another project: create, wrong key, accept', async () => {
    const v = await createVolume({ size: 1, name: 'gift' });
    await c.waitVolume(v.id, 'available');
    const t = await c.req('POST', `${A}/os-volume-transfer`, { body: { transfer: { volume_id: v.id, name: 'to-b' } } });
    assert.equal(t.status, 202, JSON.stringify(t.body));
    assert.match(t.body.transfer.auth_key, /^[0-9a-f]{16}$/);
    assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).body.volume.status, 'awaiting-transfer');
    assert.deepEqual((await c.req('GET', `${A}/os-volume-transfer`)).body.transfers.map((x: any) => x.id), [t.body.transfer.id]);
    const B = `/v3/${'b0000000000000000000000000000002'}`;
    const wrong = await c.req('POST', `${B}/os-volume-transfer/${t.body.transfer.id}/accept`, { token: 'member-b', body: { accept: { auth_key: 'nope' } } });
    assert.equal(wrong.status, 400);
    const ok = await c.req('POST', `${B}/os-volume-transfer/${t.body.transfer.id}/accept`, { token: 'member-b', body: { accept: { auth_key: t.body.transfer.auth_key } } });
    assert.equal(ok.status, 202);
    assert.equal((await c.req('GET', `${A}/volumes/${v.id}`)).status, 404);
    const mine = await c.req('GET', `${B}/volumes/${v.id}`, { token: 'member-b' });
    assert.equal(mine.body.volume.status, 'available');
    assert.equal(mine.body.volume['os-vol-tenant-attr:tenant_id'], 'b0000000000000000000000000000002');
    assert.equal((await c.req('GET', `${A}/os-volume-transfer/${t.body.transfer.id}`)).status, 404);
    assert.equal((await c.req('DELETE', `${B}/volumes/${v.id}`, { token: 'member-b' })).status, 202);
    await c.waitGone(`${B}/volumes/${v.id}`, 'member-b');
  });

  void test('metadata CRUD', async () => {
    const v = await createVolume({ size: 1, metadata: { k1: 'v1', k2: 'v2' } });
    const url = `${A}/volumes/${v.id}/metadata`;
    assert.deepEqual((await c.req('GET', url)).body, { metadata: { k1: 'v1', k2: 'v2' } });
    assert.deepEqual((await c.req('POST', url, { body: { metadata: { k3: 'v3' } } })).body.metadata, { k1: 'v1', k2: 'v2', k3: 'v3' });
    assert.deepEqual((await c.req('PUT', url, { body: { metadata: { k9: 'v9' } } })).body, { metadata: { k9: 'v9' } });
    assert.deepEqual((await c.req('GET', `${url}/k9`)).body, { meta: { k9: 'v9' } });
    assert.deepEqual((await c.req('PUT', `${url}/k9`, { body: { meta: { k9: 'new' } } })).body, { meta: { k9: 'new' } });
    assert.equal((await c.req('PUT', `${url}/k9`, { body: { meta: { other: 'x' } } })).status, 400);
    assert.equal((await c.req('DELETE', `${url}/k9`)).status, 200);
    assert.equal((await c.req('GET', `${url}/k9`)).status, 404);
    await c.waitVolume(v.id, 'available');
    await c.req('DELETE', `${A}/volumes/${v.id}`);
  });

  void test('list, detail, filters, sorting and pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await createVolume({ size: 1, name: `page-${i}`, metadata: { group: i % 2 ? 'odd' : 'even' } })).id);
    for (const id of ids) await c.waitVolume(id, 'available');
    const list = await c.req('GET', `${A}/volumes`);
    assert.equal(list.status, 200);
    for (const v of list.body.volumes) assert.deepEqual(Object.keys(v).sort(), ['id', 'links', 'name']);
    const byName = await c.req('GET', `${A}/volumes/detail?name=page-2`);
    assert.deepEqual(byName.body.volumes.map((v: any) => v.id), [ids[2]]);
    const both = await c.req('GET', `${A}/volumes?name=page-2&status=available`);
    assert.equal(both.body.volumes.length, 1);
    const none = await c.req('GET', `${A}/volumes/detail?status=nonsense`);
    assert.deepEqual(none.body.volumes, []);
    const meta = await c.req('GET', `${A}/volumes/detail?metadata=${encodeURIComponent("{'group': 'odd'}")}`);
    assert.deepEqual(meta.body.volumes.map((v: any) => v.id).sort(), [ids[1], ids[3]].sort());
    const az = await c.req('GET', `${A}/volumes?availability_zone=nova`);
    assert.ok(az.body.volumes.length >= 4);
    const sorted = await c.req('GET', `${A}/volumes/detail?sort=name:asc&name=page-1`);
    assert.equal(sorted.body.volumes[0].name, 'page-1');
    const asc = await c.req('GET', `${A}/volumes/detail?sort=name:asc`);
    const names = asc.body.volumes.map((v: any) => v.name).filter((n: string) => n?.startsWith('page-'));
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3']);

    // Page through two at a time by following the next links.
    const seen: string[] = [];
    let url: string | null = `${A}/volumes?limit=2&sort=name:asc`;
    while (url) {
      const r = await c.req('GET', url);
      seen.push(...r.body.volumes.map((v: any) => v.id));
      const next = r.body.volumes_links?.find((l: any) => l.rel === 'next')?.href;
      url = next ? new URL(next).pathname + new URL(next).search : null;
    }
    assert.equal(new Set(seen).size, seen.length);
    for (const id of ids) assert.ok(seen.includes(id));
    const like = await c.req('GET', `${A}/volumes?name~=age-`, { version: '3.34' });
    assert.equal(like.body.volumes.length, 4);
    assert.equal((await c.req('GET', `${A}/volumes?name~=age-`)).status, 400, 'like filters need 3.34');
    const rf = await c.req('GET', `${A}/resource_filters?resource=volume`, { version: '3.33' });
    assert.deepEqual(rf.body.resource_filters[0].resource, 'volume');
    assert.ok(rf.body.resource_filters[0].filters.includes('metadata'));
    const sum = await c.req('GET', `${A}/volumes/summary`, { version: '3.36' });
    assert.equal(sum.body['volume-summary'].total_count, 4);
    assert.equal(sum.body['volume-summary'].total_size, 4);
    assert.deepEqual(sum.body['volume-summary'].metadata.group.sort(), ['even', 'odd']);
    assert.equal((await c.req('GET', `${A}/volumes/summary`)).status, 404, 'summary needs 3.12');
    const off = await c.req('GET', `${A}/volumes?sort=name:asc&offset=1&limit=1&name=page-1`);
    assert.deepEqual(off.body.volumes, []);
    assert.equal((await c.req('GET', `${A}/volumes?limit=-1`)).status, 400);
    assert.equal((await c.req('GET', `${A}/volumes?sort=bogus:asc`)).status, 400);
    assert.equal((await c.req('GET', `${A}/volumes?bogus_filter=1`)).status, 400);
    // Another project sees none of them.
    const other = await c.req('GET', `/v3/x/volumes`, { token: 'member-b' });
    assert.deepEqual(other.body.volumes, []);
    assert.equal((await c.req('GET', `${A}/volumes/${ids[0]}`, { token: 'member-b' })).status, 404);
    for (const id of ids) await c.req('DELETE', `${A}/volumes/${id}`);
  });

  void test('negative: sizes, missing references, bad ids, empty ids', async () => {
    const bad = async (body: Record<string, unknown>, status: number) => {
      const r = await c.req('POST', `${A}/volumes`, { body: { volume: body } });
      assert.equal(r.status, status, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await bad({ size: '#$%' }, 400);
    await bad({ size: 0 }, 400);
    await bad({ size: -1 }, 400);
    const noSize = await bad({ name: 'x' }, 400);
    assert.ok(noSize.badRequest.message);
    const t = await bad({ size: 1, volume_type: 'no-such-type' }, 404);
    assert.equal(t.itemNotFound.message, 'Volume type with name no-such-type could not be found.');
    await bad({ size: 1, snapshot_id: '2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11' }, 404);
    const src = await bad({ size: 1, source_volid: '2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11' }, 404);
    assert.equal(src.itemNotFound.message, 'Volume 2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11 could not be found.');
    await bad({ size: 1, availability_zone: 'nowhere' }, 400);
    assert.equal((await c.req('GET', `${A}/volumes/not-a-uuid`)).status, 404);
    assert.equal((await c.req('GET', `${A}/volumes/`)).status, 404);
    assert.equal((await c.req('DELETE', `${A}/volumes/`)).status, 404);
    assert.equal((await c.req('PUT', `${A}/volumes/`, { body: { volume: { name: 'x' } } })).status, 404);
    assert.equal((await c.req('PUT', `${A}/volumes/2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11`, { body: { volume: { name: 'x' } } })).status, 404);
    assert.equal((await c.req('DELETE', `${A}/volumes/2bd54e8b-5b8c-4b7f-90a4-8c7b4d5c6a11`)).status, 404);
  });

  void test('quotas: defaults, usage, admin update, over-quota 413', async () => {
    const q = await c.req('GET', `${A}/os-quota-sets/${PROJECT_A}`);
    assert.equal(q.body.quota_set.volumes, 10);
    assert.equal(q.body.quota_set.volumes_lvmdriver_1 ?? q.body.quota_set['volumes_lvmdriver-1'], -1);
    assert.equal((await c.req('PUT', `${A}/os-quota-sets/${PROJECT_A}`, { body: { quota_set: { volumes: 1 } } })).status, 403);
    const put = await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-quota-sets/${PROJECT_A}`, { token: 'admin', body: { quota_set: { volumes: 1 } } });
    assert.equal(put.body.quota_set.volumes, 1);
    const v = await createVolume({ size: 1 });
    const over = await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1 } } });
    assert.equal(over.status, 413);
    assert.match(over.body.overLimit.message, /Maximum number of volumes allowed \(1\) exceeded for quota 'volumes'/);
    const usage = await c.req('GET', `${A}/os-quota-sets/${PROJECT_A}?usage=true`);
    assert.deepEqual(usage.body.quota_set.volumes, { limit: 1, in_use: 1, reserved: 0, allocated: 0 });
    await c.req('DELETE', `/v3/${ADMIN_PROJECT}/os-quota-sets/${PROJECT_A}`, { token: 'admin' });
    await c.waitVolume(v.id, 'available');
    await c.req('DELETE', `${A}/volumes/${v.id}`);
    await c.waitGone(`${A}/volumes/${v.id}`);
  });

  void test('no valid backend: a volume too large for every backend goes to error and can be deleted', async () => {
    await c.req('PUT', `/v3/${ADMIN_PROJECT}/os-quota-sets/${PROJECT_A}`, { token: 'admin', body: { quota_set: { gigabytes: -1 } } });
    const v = await createVolume({ size: 5000 });
    const err = await c.waitVolume(v.id, 'error');
    assert.equal(err.status, 'error');
    // The user can read why (3.3 messages).
    assert.equal((await c.req('GET', `${A}/messages`)).status, 404, 'messages need 3.3');
    const msgs = await c.req('GET', `${A}/messages?resource_uuid=${v.id}`, { version: '3.5' });
    assert.equal(msgs.status, 200);
    assert.equal(msgs.body.messages.length, 1);
    const m = msgs.body.messages[0];
    assert.equal(m.user_message, 'schedule allocate volume: Could not find any available weighted backend.');
    assert.equal(m.event_id, 'VOLUME_VOLUME_001_003');
    assert.equal(m.resource_type, 'VOLUME');
    assert.equal(m.message_level, 'ERROR');
    assert.match(m.request_id, /^req-/);
    assert.equal((await c.req('GET', `${A}/messages/${m.id}`, { version: '3.3' })).body.message.id, m.id);
    assert.equal((await c.req('GET', `${A}/messages/${m.id}`, { version: '3.3', token: 'member-b' })).status, 404);
    assert.equal((await c.req('DELETE', `${A}/messages/${m.id}`, { version: '3.3' })).status, 204);
    assert.equal((await c.req('GET', `${A}/messages/${m.id}`, { version: '3.3' })).status, 404);
    assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}`)).status, 202);
    await c.waitGone(`${A}/volumes/${v.id}`);
    await c.req('DELETE', `/v3/${ADMIN_PROJECT}/os-quota-sets/${PROJECT_A}`, { token: 'admin' });
  });
});
