/**
 * Multiattach, Cinder side: a volume type with `multiattach="<is> True"` makes multiattach
 * volumes; such a volume holds attachments of several servers (attachments API and legacy
 * os-attach), stays `in-use` until its last attachment goes, and a non-multiattach volume in
 * use refuses a second server with Cinder's errors. Extending it in use tells Nova about every
 * server at compute 2.51.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCinder, startStandInNova, PROJECT_A, type Cinder } from './helpers.js';

const A = `/v3/${PROJECT_A}`;
const S1 = '8d3f6f5e-2b56-4d3c-9a8f-2f8c1b7e6a01';
const S2 = '9d3f6f5e-2b56-4d3c-9a8f-2f8c1b7e6a02';
const connector = (host: string) => ({ host, ip: '127.0.0.1', initiator: `iqn.1993-08.org.debian:01:${host}`, multipath: false, platform: 'x86_64', os_type: 'linux' });
let c: Cinder;
let multiType: string;

before(async () => {
  c = await startCinder({ withGlance: false });
  const t = await c.req('POST', '/v3/x/types', { token: 'admin', body: { volume_type: { name: 'multiattach', extra_specs: { multiattach: '<is> True' } } } });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  multiType = t.body.volume_type.id;
});
after(async () => {
  await c?.close();
});

async function newVolume(type?: string): Promise<any> {
  const r = await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1, ...(type ? { volume_type: type } : {}) } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return c.waitVolume(r.body.volume.id, 'available');
}
const show = async (id: string) => (await c.req('GET', `${A}/volumes/${id}`)).body.volume;
const v344 = { version: '3.44' };

/** Attachments API: create (reserved) -> update with a connector (attaching) -> complete (in-use). */
async function attachVia344(volumeId: string, server: string, host: string): Promise<string> {
  const created = await c.req('POST', `${A}/attachments`, { ...v344, body: { attachment: { volume_uuid: volumeId, instance_uuid: server } } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(created.body.attachment.status, 'reserved');
  const id = created.body.attachment.id as string;
  const upd = await c.req('PUT', `${A}/attachments/${id}`, { ...v344, body: { attachment: { connector: { ...connector(host), mountpoint: '/dev/vdb' } } } });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal(upd.body.attachment.status, 'attaching');
  assert.equal((await c.req('POST', `${A}/attachments/${id}/action`, { ...v344, body: { 'os-complete': null } })).status, 204);
  return id;
}

void test('a multiattach volume type makes multiattach volumes; the request flag is refused as Cinder does', async () => {
  const plain = await newVolume();
  assert.equal(plain.multiattach, false);
  const multi = await newVolume('multiattach');
  assert.equal(multi.multiattach, true);
  assert.equal(multi.volume_type, 'multiattach');
  // Users see the type's multiattach spec (a user-visible extra spec).
  const t = await c.req('GET', `${A}/types/${multiType}`);
  assert.deepEqual(t.body.volume_type.extra_specs, { multiattach: '<is> True' });

  const flag = await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1, multiattach: true } } });
  assert.equal(flag.status, 400);
  assert.match(flag.body.badRequest.message, /^multiattach parameter has been removed\. The default behavior is to use multiattach enabled volume types\./);
  assert.equal((await c.req('POST', `${A}/volumes`, { body: { volume: { size: 1, multiattach: 'maybe' } } })).status, 400);

  for (const v of [plain, multi]) await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('attachments API: two servers on a multiattach volume; in-use until the last detach', async () => {
  const v = await newVolume('multiattach');
  const a1 = await attachVia344(v.id, S1, 'compute1');
  assert.equal((await show(v.id)).status, 'in-use');
  const a2 = await attachVia344(v.id, S2, 'compute2');

  const both = await show(v.id);
  assert.equal(both.status, 'in-use');
  assert.deepEqual(both.attachments.map((a: any) => [a.server_id, a.attachment_id]).sort(), [[S1, a1], [S2, a2]].sort());
  const admin = (await c.req('GET', `/v3/x/volumes/${v.id}`, { token: 'admin' })).body.volume;
  assert.deepEqual(admin.attachments.map((a: any) => a.host_name).sort(), ['compute1', 'compute2']);
  const listed = await c.req('GET', `${A}/attachments?volume_id=${v.id}`, { version: '3.27' });
  assert.deepEqual(listed.body.attachments.map((a: any) => [a.instance, a.status]).sort(), [[S1, 'attached'], [S2, 'attached']]);
  // The volume cannot go while attached.
  assert.equal((await c.req('DELETE', `${A}/volumes/${v.id}`)).status, 400);

  const del1 = await c.req('DELETE', `${A}/attachments/${a1}`, v344);
  assert.equal(del1.status, 200);
  assert.deepEqual(del1.body.attachments.map((a: any) => a.id), [a2]);
  const one = await show(v.id);
  assert.equal(one.status, 'in-use', 'still in use by the second server');
  assert.deepEqual(one.attachments.map((a: any) => a.server_id), [S2]);
  assert.equal(one.metadata.attached_mode, 'rw');

  const del2 = await c.req('DELETE', `${A}/attachments/${a2}`, v344);
  assert.deepEqual(del2.body.attachments, []);
  const none = await show(v.id);
  assert.equal(none.status, 'available');
  assert.deepEqual(none.attachments, []);
  assert.equal(none.metadata.attached_mode, undefined);
  await c.req('DELETE', `${A}/volumes/${v.id}`);
  await c.waitGone(`${A}/volumes/${v.id}`);
});

void test('a non-multiattach volume in use refuses a second server with Cinder\'s errors (attachments API and legacy actions)', async () => {
  const v = await newVolume();
  const a1 = await attachVia344(v.id, S1, 'compute1');
  const second = await c.req('POST', `${A}/attachments`, { ...v344, body: { attachment: { volume_uuid: v.id, instance_uuid: S2 } } });
  assert.equal(second.status, 400);
  assert.deepEqual(second.body, {
    badRequest: { code: 400, message: `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is in-use.` },
  });
  const reserve = await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-reserve': null } });
  assert.equal(reserve.status, 400);
  assert.equal(reserve.body.badRequest.message, 'Invalid volume: Volume status must be available to reserve, but the status is in-use.');
  const attach = await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-attach': { instance_uuid: S2, mountpoint: '/dev/vdc', mode: 'rw' } } });
  assert.equal(attach.status, 400);
  assert.equal(attach.body.badRequest.message, 'Error attaching volume - InvalidVolume: Invalid volume: volume is already attached and multiple attachments are not enabled');
  // The server that holds it may attach it again (os-attach is then a no-op).
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-attach': { instance_uuid: S1, mountpoint: '/dev/vdb', mode: 'rw' } } })).status, 202);
  const still = await show(v.id);
  assert.equal(still.status, 'in-use');
  assert.deepEqual(still.attachments.map((a: any) => a.attachment_id), [a1]);
  // Retyping it to a multiattach type is only for an available volume.
  const retype = await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-retype': { new_type: 'multiattach' } } });
  assert.equal(retype.status, 400);
  assert.match(retype.body.badRequest.message, /retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: in-use\.$/);

  await c.req('DELETE', `${A}/attachments/${a1}`, v344);
  assert.equal((await show(v.id)).status, 'available');
  assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { body: { 'os-retype': { new_type: 'multiattach' } } })).status, 202);
  assert.equal((await show(v.id)).multiattach, true);
  await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('legacy actions on a multiattach volume: reserve and attach twice, detach needs the attachment id, in-use until the last', async () => {
  const v = await newVolume('multiattach');
  const act = (body: unknown) => c.req('POST', `${A}/volumes/${v.id}/action`, { body });
  assert.equal((await act({ 'os-reserve': null })).status, 202);
  assert.equal((await act({ 'os-attach': { instance_uuid: S1, mountpoint: '/dev/vdb', mode: 'rw' } })).status, 202);
  assert.equal((await show(v.id)).status, 'in-use');
  assert.equal((await act({ 'os-reserve': null })).status, 202, 'a multiattach volume in use may be reserved again');
  assert.equal((await show(v.id)).status, 'attaching');
  assert.equal((await act({ 'os-attach': { instance_uuid: S2, mountpoint: '/dev/vdb', mode: 'rw' } })).status, 202);
  const both = await show(v.id);
  assert.equal(both.status, 'in-use');
  assert.equal(both.attachments.length, 2);
  const idOf = (server: string) => both.attachments.find((a: any) => a.server_id === server).attachment_id as string;

  const vague = await act({ 'os-detach': {} });
  assert.equal(vague.status, 400);
  assert.equal(vague.body.badRequest.message, 'Error detaching volume - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');

  assert.equal((await act({ 'os-begin_detaching': null })).status, 202);
  assert.equal((await show(v.id)).status, 'detaching');
  assert.equal((await act({ 'os-detach': { attachment_id: idOf(S1) } })).status, 202);
  const one = await show(v.id);
  assert.equal(one.status, 'in-use');
  assert.deepEqual(one.attachments.map((a: any) => a.server_id), [S2]);
  assert.equal((await act({ 'os-detach': {} })).status, 202, 'the only attachment left needs no id');
  const none = await show(v.id);
  assert.equal(none.status, 'available');
  assert.deepEqual(none.attachments, []);
  await c.req('DELETE', `${A}/volumes/${v.id}`);
});

void test('extending an in-use multiattach volume (3.42) posts volume-extended for each server at compute 2.51; it ends in-use with the new size', async () => {
  const nova = await startStandInNova(c);
  const posts = nova.posts;
  try {
    const v = await nova.volumeOnVol2(() => newVolume('multiattach'));
    const a1 = await attachVia344(v.id, S1, 'compute1');
    const a2 = await attachVia344(v.id, S2, 'compute2');
    const below = await c.req('POST', `${A}/volumes/${v.id}/action`, { version: '3.41', body: { 'os-extend': { new_size: 2 } } });
    assert.equal(below.status, 400, 'extending an in-use volume needs 3.42');
    assert.equal(below.body.badRequest.message, `Invalid volume: Volume ${v.id} status must be '{'status': 'available'}' to extend, currently in-use.`);
    assert.equal((await c.req('POST', `${A}/volumes/${v.id}/action`, { version: '3.42', body: { 'os-extend': { new_size: 2 } } })).status, 202);
    for (let i = 0; i < 400 && !posts.length; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.url, '/v2.1/os-server-external-events');
    assert.equal(posts[0]!.headers['openstack-api-version'], 'compute 2.51');
    assert.equal(posts[0]!.headers['x-openstack-nova-api-version'], '2.51');
    assert.deepEqual(
      posts[0]!.body.events.sort((x: any, y: any) => x.server_uuid.localeCompare(y.server_uuid)),
      [{ name: 'volume-extended', server_uuid: S1, tag: v.id }, { name: 'volume-extended', server_uuid: S2, tag: v.id }],
    );
    const grown = await c.waitVolume(v.id, 'in-use');
    assert.equal(grown.size, 2);
    assert.equal(grown.attachments.length, 2);
    for (const a of [a1, a2]) await c.req('DELETE', `${A}/attachments/${a}`, v344);
    await c.req('DELETE', `${A}/volumes/${v.id}`);
    await c.waitGone(`${A}/volumes/${v.id}`);
  } finally {
    await nova.close();
  }
});
